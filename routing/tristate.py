"""Three-valued accessibility facts: one encoding for the whole engine.

A fact such as "this crossing has an audible signal", "this stop has step-free boarding" or
"this vehicle has a ramp" is :data:`YES`, :data:`NO` or :data:`UNKNOWN`. The compiled street
graph (int8 arrays), the cost models, the timetable, the journey planner and the scenarios
all hold these codes. Unknown is never read as accessible: cost models price it and routes
and journeys report it.

Files keep their own numbers and are converted where they are read or written: GTFS's
``wheelchair_boarding`` / ``wheelchair_accessible`` (0 unknown, 1 yes, 2 no) in
:mod:`routing.transit.gtfs`; OSM tag values in :mod:`routing.graph.attributes`.
"""

from __future__ import annotations

from types import MappingProxyType

UNKNOWN, NO, YES = -1, 0, 1

#: The word for each code, as the API and reports write it.
WORDS = MappingProxyType({YES: "yes", NO: "no", UNKNOWN: "unknown"})

#: The code of each word in :data:`WORDS`.
CODES = MappingProxyType({word: code for code, word in WORDS.items()})
