"""Transit isochrones: walking plus the buses and metro a profile can use, within minutes.

One-to-all range RAPTOR (:func:`~routing.transit.raptor.stop_arrivals_by_departure`) gives
the earliest arrival at every stop when leaving the origin at ``when``, under the journey
planner's rules for the profile (its access walks, and for wheelchair profiles no trip or
stop known to be inaccessible). Every stop reached within the limit then starts a walk of
its own, with the time already spent: one street search from the origin and all those
stops (:meth:`~routing.network.StreetNetwork.tree` with ``start_s``) gives each node its
earliest time, and the polygons are built from the reached edges as for walking
(:mod:`routing.isochrone`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from routing.cost.profiles import Profile
from routing.deadline import accepts_deadline, checkpoint
from routing.isochrone import Isochrone, contours_from_cells, reach_tree, reached_cells
from routing.transit.planner import TransitPlanner, _localize
from routing.transit.raptor import UNREACHED, stop_arrivals_by_departure


@accepts_deadline
def transit_isochrone(
    planner: TransitPlanner,
    origin: tuple[float, float],
    when: dt.datetime,
    profile: Profile,
    minutes: Sequence[float],
) -> Isochrone:
    """The area reached within each of ``minutes`` leaving ``origin`` at ``when``."""
    network = planner.network
    limit_s = max(minutes) * 60.0
    local = _localize(when, planner.tz)
    date = local.date()
    planner._check_calendar(date, False)
    midnight = dt.datetime.combine(date, dt.time(), tzinfo=local.tzinfo)
    moment = round((local - midnight).total_seconds())
    src = network.snap(origin, profile, "from", leavable=True)
    view = planner._prepared(date, profile)
    checkpoint("the service view")
    acc_s, acc_c = planner._access(src, profile, view.links, reverse=False)
    checkpoint("the access walks")
    access = {int(i): int(round(acc_s[i])) for i in np.flatnonzero(np.isfinite(acc_c))}
    (_, options), *_ = planner._searches(view, profile, planner.options)
    arrival = stop_arrivals_by_departure(view.timetable, access, [moment], options)[0]
    checkpoint("the stop arrivals")
    elapsed = arrival - moment
    stops = [
        s for s in np.flatnonzero((arrival < UNREACHED) & (elapsed < limit_s)).tolist()
        if view.links.snaps[s] is not None
    ]  # fmt: skip
    sources = [src] + [view.links.snaps[s] for s in stops]
    start = [0.0] + [float(elapsed[s]) for s in stops]
    tree = reach_tree(network, sources, profile, limit_s, start_s=start)
    checkpoint("the walks from the stops")
    cells, t = reached_cells(network, tree, limit_s)
    return Isochrone(profile, src, "transit", contours_from_cells(network, cells, t, minutes))
