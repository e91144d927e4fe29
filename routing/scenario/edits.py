"""Street edits applied to a copy of the compiled graph, costed only where they change it.

A scenario never touches the base graph or its cache on disk. :func:`apply_street_edits`
copies only the attribute arrays an edit writes, records which edges change (the edited
edges and every edge entering or leaving an edited node, since node facts are charged to
those edges), and :class:`EditedNetwork` re-evaluates the cost model on those edges alone,
patching the base network's per-profile costs (no rebuild, no full cost evaluation).

Sites. An edit's ``where`` resolves to *sites* of the kind its feature applies to:

crossings
    A connected group of crossing pieces (``kind == crossing`` edges; both directions and
    every piece of one crossing form one site), or a crossing node on a walkway.
steps
    The pieces of one OSM steps way (both directions).
elevators
    The pieces of one OSM elevator way, and elevator nodes.
ways
    The pieces of one OSM way (any kind).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from routing.cost.model import CostModel, EdgeCosts
from routing.cost.profiles import Profile
from routing.errors import ScenarioError
from routing.geo import LocalProjection
from routing.graph import attributes as at
from routing.graph.compiled import CompiledGraph
from routing.network import StreetNetwork
from routing.scenario.spec import StreetEdit
from routing.search import ProfileGraph
from routing.tristate import NO, YES

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

LatLon = tuple[float, float]

#: Which kind of site each feature applies to.
FEATURE_SITES = {
    "tactile_paving": "crossings",
    "audible_signal": "crossings",
    "signals": "crossings",
    "lowered_kerb": "crossings",
    "ramp": "steps",
    "elevator": "steps",  # add: an elevator beside (instead of) a flight of steps
    "way": "ways",
    "surface": "ways",
}
LOWERED_KERB_HEIGHT_M = 0.02  # a lowered kerb as built: 2 cm (kerb:height of OSM practice)


@dataclass(frozen=True)
class Site:
    """A place an edit applies to: its edges and nodes, a label and a representative point."""

    kind: str
    edges: np.ndarray
    nodes: np.ndarray
    lat: float
    lon: float
    label: str
    signalled: bool = False
    road_class: int = 0

    def to_dict(self) -> dict:
        return {"kind": self.kind, "label": self.label, "lat": round(self.lat, 6),
                "lon": round(self.lon, 6), "edges": len(self.edges)}  # fmt: skip


class SiteIndex:
    """Every site of a graph by kind, with look-ups by OSM id, coordinate and selector."""

    def __init__(self, graph: CompiledGraph, *, stations: list[LatLon] | None = None) -> None:
        self.graph = graph
        self.stations = list(stations or [])
        self.projection = LocalProjection(float(np.mean(graph.node_lat)),
                                          float(np.mean(graph.node_lon)))  # fmt: skip

    def sites(self, kind: str) -> list[Site]:
        return self._all[kind]

    @cached_property
    def _all(self) -> dict[str, list[Site]]:
        g = self.graph
        kind = g.edge["kind"]
        return {
            "crossings": self._crossings(),
            "steps": self._by_way(np.flatnonzero(kind == at.WAY_KIND["steps"]), "steps"),
            "elevators": self._by_way(np.flatnonzero(kind == at.WAY_KIND["elevator"]), "elevators")
            + [self._node_site(int(n), "elevators") for n in np.flatnonzero(g.node["elevator"])],
            "ways": self._by_way(np.arange(g.n_edges), "ways"),
        }

    def _node_site(self, node: int, kind: str) -> Site:
        g = self.graph
        osm = int(g.node_osmid[node])
        return Site(kind, np.zeros(0, dtype=np.int64), np.array([node]), float(g.node_lat[node]),
                    float(g.node_lon[node]), f"node/{osm}",
                    signalled=int(g.node["crossing_kind"][node]) == at.CROSSING_SIGNALS,
                    road_class=int(g.node["crossing_road_class"][node]))  # fmt: skip

    def _site(self, kind: str, edges: np.ndarray, label: str) -> Site:
        g = self.graph
        nodes = np.unique(np.concatenate([g.edge_u[edges], g.edge_v[edges]])).astype(np.int64)
        ck = g.edge["crossing_kind"][edges]
        return Site(kind, np.sort(edges).astype(np.int64), nodes,
                    float(np.mean(g.node_lat[nodes])), float(np.mean(g.node_lon[nodes])), label,
                    signalled=bool(len(ck)) and int(ck.max()) == at.CROSSING_SIGNALS,
                    road_class=int(g.edge["crossing_road_class"][edges].max(initial=0)),
                    )  # fmt: skip

    def _by_way(self, edges: np.ndarray, kind: str) -> list[Site]:
        osm = self.graph.edge["osmid"][edges]
        order = np.argsort(osm, kind="stable")
        edges, osm = edges[order], osm[order]
        cuts = np.flatnonzero(np.diff(osm)) + 1
        return [self._site(kind, part, f"way/{int(osm[c])}")
                for part, c in zip(np.split(edges, cuts), np.concatenate([[0], cuts]),
                                   strict=True) if len(part)]  # fmt: skip

    def _crossings(self) -> list[Site]:
        # scipy's graph and spatial modules on first use: the CLI that starts a server
        # imports this module, and a route-only server needs neither (~20 MB).
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        g = self.graph
        edges = np.flatnonzero(g.edge["kind"] == at.WAY_KIND["crossing"])
        out: list[Site] = []
        if len(edges):
            n = g.n_nodes
            ends = (g.edge_u[edges], g.edge_v[edges])
            adj = coo_matrix((np.ones(len(edges)), ends), shape=(n, n))
            _, label = connected_components(adj, directed=False)
            comp = label[g.edge_u[edges]]
            order = np.argsort(comp, kind="stable")
            cuts = np.flatnonzero(np.diff(comp[order])) + 1
            for part in np.split(edges[order], cuts):
                # Its end nodes are part of it (crossing nodes among them are edited too).
                out.append(self._site("crossings", part, f"way/{int(g.edge['osmid'][part[0]])}"))
        on_edges = np.zeros(g.n_nodes, dtype=bool)
        on_edges[g.edge_u[edges]] = on_edges[g.edge_v[edges]] = True
        lone = np.flatnonzero((g.node["crossing_kind"] > at.CROSSING_NONE) & ~on_edges)
        out += [self._node_site(int(x), "crossings") for x in lone]
        return out

    @cached_property
    def _trees(self) -> dict[str, tuple[cKDTree, np.ndarray]]:
        """Per kind, a KD-tree over every node of every site (and the node's site number)."""
        from scipy.spatial import cKDTree

        out = {}
        for kind, sites in self._all.items():
            owner = np.concatenate([np.full(len(s.nodes), i) for i, s in enumerate(sites)]
                                   or [np.zeros(0, dtype=np.int64)]).astype(np.int64)  # fmt: skip
            nodes = np.concatenate([s.nodes for s in sites] or [np.zeros(0, dtype=np.int64)])
            xy = self.projection.forward(self.graph.node_lat[nodes], self.graph.node_lon[nodes])
            out[kind] = (cKDTree(xy) if len(nodes) else None, owner)
        return out

    # -- resolving an edit's where --------------------------------------------------------
    def resolve(self, edit: StreetEdit, source: str = "<scenario>") -> list[Site]:
        """The sites an edit applies to (never empty: a miss raises ScenarioError)."""
        service = edit.feature == "elevator" and edit.action in ("out_of_service", "in_service")
        kind = "elevators" if service else FEATURE_SITES[edit.feature]
        w = edit.where

        def fail(message: str, sub: str) -> ScenarioError:
            path = f"{edit.json_path}.where{sub}"
            return ScenarioError(f"{source}: {path}: {message}", path=source, json_path=path,
                                 field=sub.rsplit(".", 1)[-1] or "where")  # fmt: skip

        sites = self.sites(kind)
        if w.osm is not None:
            element, number = w.osm.split("/")
            ident = int(number)
            if element == "way":
                found = [s for s in sites if s.label == f"way/{ident}"]
                if not found and kind == "crossings":  # a road: the crossings built over it
                    edges = set(np.flatnonzero(self.graph.edge["osmid"] == ident).tolist())
                    found = [s for s in sites if edges & set(s.edges.tolist())]
            else:
                nodes = np.flatnonzero(self.graph.node_osmid == ident)
                found = [s for s in sites if len(nodes) and np.isin(s.nodes, nodes).any()]
            if not found:
                raise fail(f"{w.osm} is not a {kind[:-1]} of the graph ({edit.feature} edits "
                           f"apply to {kind})", ".osm")  # fmt: skip
            return found
        if w.at is not None:
            tree, owner = self._trees[kind]
            xy = self.projection.forward(w.at[0], w.at[1])
            if tree is not None:
                d, i = tree.query(xy)
                if np.isfinite(d) and d <= w.within_m:
                    return [sites[int(owner[i])]]
            raise fail(f"no {kind[:-1]} within {w.within_m:g} m of {w.at[0]:.6f},{w.at[1]:.6f}",
                       ".at")  # fmt: skip
        return self._select(kind, dict(w.select or {}), fail)

    def _select(self, kind: str, sel: dict, fail) -> list[Site]:
        if sel["what"] != kind:
            raise fail(f"selects {sel['what']}, but this edit applies to {kind}", ".select.what")
        sites = list(self.sites(kind))
        if "signalled" in sel:
            sites = [s for s in sites if s.signalled == bool(sel["signalled"])]
        if "road_class_min" in sel:
            sites = [s for s in sites if s.road_class >= int(sel["road_class_min"])]
        if "polygon" in sel:
            from matplotlib.path import Path as PolyPath

            ring = PolyPath(np.array([[p[1], p[0]] for p in sel["polygon"]], dtype=float))
            inside = ring.contains_points(np.array([[s.lon, s.lat] for s in sites]).reshape(-1, 2))
            sites = [s for s, ok in zip(sites, inside, strict=True) if ok]
        if "nearest_to" in sel and sites:
            points = sel["nearest_to"]
            if points == "metro_stations":
                if not self.stations:
                    raise fail("no metro stations are loaded (give the metro data)",
                               ".select.nearest_to")  # fmt: skip
                points = self.stations
            pxy = self.projection.forward([p[0] for p in points], [p[1] for p in points])
            sxy = self.projection.forward([s.lat for s in sites], [s.lon for s in sites])
            dist = np.linalg.norm(sxy[:, None, :] - pxy[None, :, :], axis=2)  # sites x points
            limit = float(sel.get("within_m", np.inf))
            count = int(sel.get("count", len(sites)))
            if sel.get("per_point"):
                keep: list[int] = []
                for j in range(len(points)):
                    order = [i for i in np.argsort(dist[:, j], kind="stable")
                             if dist[i, j] <= limit][:count]  # fmt: skip
                    keep += [i for i in order if i not in keep]
            else:
                best = dist.min(axis=1)
                keep = [int(i) for i in np.argsort(best, kind="stable") if best[i] <= limit][:count]
            sites = [sites[i] for i in keep]
        elif "count" in sel:
            sites = sites[: int(sel["count"])]
        if not sites:
            raise fail(f"the selector matches no {kind[:-1]} of the graph", ".select")
        return sites


@dataclass
class EditLog:
    """What one edit matched and changed (for the report: nothing silently dropped)."""

    edit: str
    json_path: str
    sites: int
    edges: int
    nodes: int
    sample: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"edit": self.edit, "json_path": self.json_path, "sites": self.sites,
                "edges_changed": self.edges, "nodes_changed": self.nodes,
                "sample_sites": self.sample}  # fmt: skip


class _Writer:
    """Copy-on-write access to a graph's attribute arrays, recording what changes."""

    def __init__(self, graph: CompiledGraph) -> None:
        self.graph = graph
        self.edge = dict(graph.edge)
        self.node = dict(graph.node)
        self._copied: set[tuple[str, str]] = set()
        self.edges: set[int] = set()
        self.nodes: set[int] = set()
        self.touched_edges: set[int] = set()  # by the current edit (for its log entry)
        self.touched_nodes: set[int] = set()

    def _array(self, table: str, name: str) -> np.ndarray:
        arrays = self.edge if table == "edge" else self.node
        if (table, name) not in self._copied:
            arrays[name] = arrays[name].copy()
            self._copied.add((table, name))
        return arrays[name]

    def set_edges(self, name: str, edges: np.ndarray, value) -> int:
        if not len(edges):
            return 0
        arr = self._array("edge", name)
        differs = edges[~_same(arr[edges], value)]
        arr[edges] = value
        self.edges.update(differs.tolist())
        self.touched_edges.update(differs.tolist())
        return len(differs)

    def set_nodes(self, name: str, nodes: np.ndarray, value) -> int:
        if not len(nodes):
            return 0
        arr = self._array("node", name)
        differs = nodes[~_same(arr[nodes], value)]
        arr[nodes] = value
        self.nodes.update(differs.tolist())
        self.touched_nodes.update(differs.tolist())
        return len(differs)

    def result(self) -> tuple[CompiledGraph, np.ndarray]:
        g = self.graph
        edited = replace(g, edge=self.edge, node=self.node, meta={**g.meta, "scenario": True})
        edges = np.array(sorted(self.edges), dtype=np.int64)
        if self.nodes:
            nodes = np.zeros(g.n_nodes, dtype=bool)
            nodes[list(self.nodes)] = True
            edges = np.union1d(edges, np.flatnonzero(nodes[g.edge_u] | nodes[g.edge_v]))
        return edited, edges


def _same(values: np.ndarray, value) -> np.ndarray:
    if isinstance(value, float) and np.isnan(value):
        return np.isnan(values)
    return values == value


def _apply_one(w: _Writer, edit: StreetEdit, site: Site) -> int:
    """Write one edit at one site; returns how many values changed."""
    g, f, a = w.graph, edit.feature, edit.action
    e, n = site.edges, site.nodes
    crossing_edges = e[g.edge["kind"][e] == at.WAY_KIND["crossing"]] if len(e) else e
    crossing_nodes = n[g.node["crossing_kind"][n] > at.CROSSING_NONE]
    changed = 0
    if f == "tactile_paving":
        v = YES if a == "add" else NO
        changed += w.set_edges("crossing_tactile", crossing_edges, v)
        changed += w.set_nodes("crossing_tactile", crossing_nodes, v)
    elif f in ("audible_signal", "signals"):
        if a == "add":
            changed += w.set_edges("crossing_kind", crossing_edges, at.CROSSING_SIGNALS)
            changed += w.set_nodes("crossing_kind", crossing_nodes, at.CROSSING_SIGNALS)
            if f == "audible_signal":
                changed += w.set_edges("crossing_sound", crossing_edges, YES)
                changed += w.set_nodes("crossing_sound", crossing_nodes, YES)
        elif f == "audible_signal":  # the lights stay, silent
            changed += w.set_edges("crossing_sound", crossing_edges, NO)
            changed += w.set_nodes("crossing_sound", crossing_nodes, NO)
        else:  # no signals: a marked crossing, and no sound either
            for name, v in (("crossing_kind", at.CROSSING_MARKED), ("crossing_sound", NO)):
                changed += w.set_edges(name, crossing_edges, v)
                changed += w.set_nodes(name, crossing_nodes, v)
    elif f == "lowered_kerb":
        kerb, height = ((at.KERB_LOWERED, LOWERED_KERB_HEIGHT_M) if a == "add"
                        else (at.KERB_RAISED, float("nan")))  # fmt: skip
        changed += w.set_edges("crossing_kerb", crossing_edges, kerb)
        changed += w.set_edges("crossing_kerb_height", crossing_edges, height)
        kerbs = n[g.node["has_kerb"][n] | (g.node["crossing_kind"][n] > at.CROSSING_NONE)]
        changed += w.set_nodes("kerb", kerbs, kerb)
        changed += w.set_nodes("kerb_height", kerbs, height)
    elif f == "ramp":
        changed += w.set_edges("ramp", e, YES if a == "add" else NO)
    elif f == "elevator" and a == "add":
        changed += w.set_edges("kind", e, at.WAY_KIND["elevator"])
        changed += w.set_edges("step_count", e, 0)
    elif f == "elevator":
        out = a == "out_of_service"
        lifts = e[g.edge["kind"][e] == at.WAY_KIND["elevator"]] if len(e) else e
        changed += w.set_edges("closed", lifts, out)
        changed += w.set_nodes("out_of_service", n[g.node["elevator"][n]], out)
    elif f == "way":
        changed += w.set_edges("closed", e, a == "close")
    elif f == "surface":
        changed += w.set_edges("surface", e, at.surface_code(edit.value))
    return changed


@dataclass(frozen=True)
class StreetEditResult:
    graph: CompiledGraph
    changed_edges: np.ndarray
    log: list[EditLog]


def apply_street_edits(graph: CompiledGraph, edits, *, sites: SiteIndex,
                       source: str = "<scenario>") -> StreetEditResult:  # fmt: skip
    """Apply edits in order to a copy of ``graph``'s attribute arrays (``graph`` unchanged).

    Later edits see earlier ones (close then open a way: back to the original). Sites are
    resolved on the base graph, so a selector means the same sites whatever came before.
    """
    w = _Writer(graph)
    log = []
    for edit in edits:
        found = sites.resolve(edit, source)
        w.touched_edges, w.touched_nodes = set(), set()
        for site in found:
            _apply_one(w, edit, site)
        log.append(EditLog(edit.describe(), edit.json_path, len(found), len(w.touched_edges),
                           len(w.touched_nodes), [s.label for s in found[:5]]))  # fmt: skip
    edited, changed = w.result()
    return StreetEditResult(edited, changed, log)


def apply_at_sites(graph: CompiledGraph, feature: str, action: str,
                   sites: list[Site]) -> tuple[CompiledGraph, np.ndarray]:  # fmt: skip
    """One feature/action at given sites (for ranking): the edited copy and changed edges."""
    from routing.scenario.spec import Where

    w = _Writer(graph)
    edit = StreetEdit(feature=feature, action=action, where=Where(osm="node/0"))
    for site in sites:
        _apply_one(w, edit, site)
    return w.result()


def _subgraph(graph: CompiledGraph, edges: np.ndarray) -> CompiledGraph:
    """A graph of only ``edges`` (all nodes kept): what the cost model reads of them."""
    return replace(
        graph, edge_u=graph.edge_u[edges], edge_v=graph.edge_v[edges],
        edge_name=graph.edge_name[edges], edge={k: v[edges] for k, v in graph.edge.items()},
        geometry_offsets=np.zeros(len(edges) + 1, dtype=np.int64),
        geometry=np.zeros((0, 2)),
    )  # fmt: skip


def patched_costs(base: EdgeCosts, graph: CompiledGraph, profile: Profile,
                  edges: np.ndarray) -> EdgeCosts:  # fmt: skip
    """``base`` with the cost model re-evaluated on ``edges`` of the edited ``graph`` only."""
    if not len(edges):
        return base
    part = CostModel(profile).evaluate(_subgraph(graph, edges))
    seconds, cost = base.seconds.copy(), base.cost.copy()
    blocked, unknown = base.blocked.copy(), base.unknown.copy()
    seconds[edges], cost[edges] = part.seconds, part.cost
    blocked[edges], unknown[edges] = part.blocked, part.unknown
    allowed = np.isfinite(cost)
    has_out = np.zeros(graph.n_nodes, dtype=bool)
    has_out[graph.edge_u[allowed]] = True
    has_in = np.zeros(graph.n_nodes, dtype=bool)
    has_in[graph.edge_v[allowed]] = True
    return EdgeCosts(seconds=seconds, cost=cost, blocked=blocked, unknown=unknown,
                     node_usable=has_out & has_in)  # fmt: skip


class EditedNetwork(StreetNetwork):
    """A :class:`StreetNetwork` over an edited copy of the base graph (same topology).

    The snapping index, reverse-edge table and the like depend on geometry and topology
    only, which street edits never change, so they are shared with ``base`` rather than
    rebuilt. Per profile, :meth:`costs` takes the base network's costs and re-evaluates
    the changed edges only.
    """

    def __init__(self, base: StreetNetwork, graph: CompiledGraph, changed_edges: np.ndarray,
                 *, cache_size: int = 16) -> None:  # fmt: skip
        if graph.n_edges != base.graph.n_edges or graph.n_nodes != base.graph.n_nodes:
            raise ValueError("an edited graph must keep the base graph's nodes and edges")
        self.__dict__.update(base.__dict__)  # shared, read-only: topology and snapping
        self._prepared = OrderedDict()  # never the base's cached costs
        self._allowed, self._leavable = {}, {}  # per profile of this graph, like _prepared
        self.graph = graph
        self.base = base
        self.changed_edges = np.asarray(changed_edges, dtype=np.int64)
        self._edited: OrderedDict[Profile, tuple[ProfileGraph, np.ndarray]] = OrderedDict()
        self._edited_size = cache_size

    def _edited_costs(self, profile: Profile) -> tuple[ProfileGraph, np.ndarray]:
        hit = self._edited.get(profile)
        if hit is not None:
            self._edited.move_to_end(profile)
            return hit
        if not len(self.changed_edges):
            pg, usable = self.base.costs(profile), self.base.usable_edges(profile)
        else:
            costs = patched_costs(self.base.costs(profile).costs, self.graph, profile,
                                  self.changed_edges)  # fmt: skip
            pg = ProfileGraph.from_costs(self.graph, profile, costs)
            allowed = np.isfinite(costs.cost)
            rev = self.reverse_edge
            usable = allowed | np.where(rev >= 0, allowed[np.maximum(rev, 0)], False)
            usable &= ~self.unsnappable
        self._edited[profile] = (pg, usable)
        while len(self._edited) > self._edited_size:
            self._edited.popitem(last=False)
        return pg, usable

    def costs(self, profile: Profile) -> ProfileGraph:
        return self._edited_costs(profile)[0]

    def usable_edges(self, profile: Profile) -> np.ndarray:
        return self._edited_costs(profile)[1]


def stable_snaps(base: StreetNetwork, edited: StreetNetwork, points, profile: Profile, *,
                 max_distance_m: float) -> list:  # fmt: skip
    """Points snapped as on ``base`` where that way stays usable on ``edited``, else afresh.

    A before/after comparison then starts and ends each trip at the same place unless the
    edit closed its way: a new ramp never moves a point onto the steps it makes usable.
    """
    before = base.snap_many(points, profile, max_distance_m=max_distance_m)
    usable = edited.usable_edges(profile)
    out = []
    for point, snap in zip(points, before, strict=True):
        if snap is not None and usable[snap.edge]:
            out.append(snap)
        else:
            out.append(edited.snap_many([point], profile, max_distance_m=max_distance_m)[0])
    return out
