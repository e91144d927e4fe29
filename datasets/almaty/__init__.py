"""Build a GTFS feed of Almaty's metro and buses from the real public data.

Inputs (``<data>/almaty/``, see ``PROVENANCE.md``): the metro's stations, per-station
timetable and holidays, the OSM bus stops (raw Overpass JSON) and the bus routes' lines.
The metro has a real timetable; the buses have lines only, so their stops are matched to
the lines and their service is modelled from the editable assumptions in
``datasets/almaty/service.json`` (:mod:`datasets.almaty.service`).

Modules, one job each: :mod:`~datasets.almaty.service` (the editable service assumptions),
:mod:`~datasets.almaty.metro` (metro trips from the per-station timetable, holidays),
:mod:`~datasets.almaty.bus_stops` (OSM stops and their accessibility tags),
:mod:`~datasets.almaty.bus_lines` (stops matched to route lines, modelled bus service),
:mod:`~datasets.almaty.feed` (assembly, the feed clean-up and the GTFS zip),
:mod:`~datasets.almaty.cache` (the default feed cached by a hash of its inputs) and
:mod:`~datasets.almaty.command` (the command line). The engine (``routing``) never
imports this package: the server wires the default feed.
"""
