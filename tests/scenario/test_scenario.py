"""Planners' scenarios: files, edits, metrics before/after, ranking, report, execution."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from routing.cost import CostModel, get_profile
from routing.cost.profiles import PROFILES
from routing.errors import ScenarioError
from routing.graph import attributes as at
from routing.network import StreetNetwork
from routing.scenario import ScenarioData, load_scenario, parse_scenario, run_scenario
from routing.scenario.edits import EditedNetwork, SiteIndex, apply_street_edits
from routing.scenario.spec import scenario_schema, transit_supported
from routing.tristate import YES

REPO = Path(__file__).resolve().parents[2]
SMALL = {"cell_m": 250, "trip_radius_m": 800}  # Helsinki centre: ~30 origins


def _scenario(street=(), **options):
    return parse_scenario({"name": "t", "street": list(street), "options": {**SMALL, **options}})


@pytest.fixture(scope="module")
def helsinki(helsinki_graph):
    return ScenarioData(graph=helsinki_graph, network=StreetNetwork(helsinki_graph))


def _figures(result) -> dict:
    """Everything measured, per profile and area, with the scenario's own text left out."""
    doc = json.loads(result.to_json())
    return {"profiles": doc["profiles"], "gaps": doc["gaps"], "areas": doc["areas"]}


def _before_after_equal(result) -> bool:
    doc = result.data
    same = all(e["before"] == e["after"] for e in doc["profiles"].values())
    return same and all(a["profiles"][p]["before"] == a["profiles"][p]["after"]
                        for a in doc["areas"] for p in a["profiles"])  # fmt: skip


# -- the scenario file --------------------------------------------------------------------
def test_schema_errors_name_file_path_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstreet:\n  - feature: ramp\n    action: close\n"
                   "    where: {select: {what: steps}}\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    assert err.value.path == str(bad)
    assert err.value.json_path == "$.street[0].action"
    assert err.value.field == "action"
    assert str(bad) in err.value.message and "$.street[0].action" in err.value.message

    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps({"name": "x", "street": [{"feature": "way", "action": "close"}]}))
    with pytest.raises(ScenarioError) as err:
        load_scenario(missing)
    assert (err.value.json_path, err.value.field) == ("$.street[0]", "where")

    both = tmp_path / "both.json"
    both.write_text(json.dumps({"name": "x", "street": [{"feature": "way", "action": "close",
                                "where": {"osm": "way/1", "at": [43.2, 76.9]}}]}))  # fmt: skip
    with pytest.raises(ScenarioError, match="Exactly one of osm, at, select") as err:
        load_scenario(both)
    assert (err.value.json_path, err.value.field) == ("$.street[0].where", "where")

    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid YAML") as err:
        load_scenario(broken)
    assert err.value.path == str(broken)


def test_unknown_osm_id_is_named_with_its_path(helsinki_graph):
    sc = parse_scenario({"name": "x", "street": [
        {"feature": "way", "action": "close", "where": {"osm": "way/1"}}]}, source="f.yaml")
    with pytest.raises(ScenarioError) as err:
        apply_street_edits(helsinki_graph, sc.street, sites=SiteIndex(helsinki_graph),
                           source="f.yaml")  # fmt: skip
    assert err.value.json_path == "$.street[0].where.osm" and err.value.field == "osm"
    assert "way/1" in err.value.message


def test_transit_edits_without_a_feed_are_a_clear_error(helsinki):
    assert transit_supported()
    sc = parse_scenario({"name": "x", "transit": [
        {"type": "low_floor_share", "routes": ["*"], "share": 1}]}, source="f.yaml")  # fmt: skip
    with pytest.raises(ScenarioError, match="transit feed") as err:
        run_scenario(sc, data=helsinki, workers=1)
    assert err.value.json_path == "$.transit" and err.value.path == "f.yaml"


def test_published_schema_is_valid_and_examples_pass_it():
    import jsonschema

    schema = json.loads((REPO / "routing/scenario/scenario.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert scenario_schema()["$defs"]["street_edit"] == schema["$defs"]["street_edit"]
    files = sorted((REPO / "scenarios").glob("*.yaml"))
    assert len(files) >= 2
    for path in files:
        assert load_scenario(path).street or load_scenario(path).transit


def test_examples_are_grounded_in_the_almaty_data(almaty_graph, shared_data):
    stations = json.loads((shared_data / "almaty/metro/stations.json").read_text())
    sites = SiteIndex(almaty_graph, stations=[(s["lat"], s["lon"]) for s in stations])
    for path in sorted((REPO / "scenarios").glob("*.yaml")):
        sc = load_scenario(path)
        if not sc.street:
            continue
        result = apply_street_edits(almaty_graph, sc.street, sites=sites, source=str(path))
        assert all(entry.sites > 0 for entry in result.log), path
        assert len(result.changed_edges) > 0, path


# -- edits: a copy, costed only where changed ---------------------------------------------
def test_edits_leave_the_base_graph_alone_and_match_a_full_cost_evaluation(helsinki_graph):
    g = helsinki_graph
    before = {k: v.copy() for k, v in g.edge.items()}
    sc = _scenario([
        {"feature": "audible_signal", "action": "add",
         "where": {"select": {"what": "crossings", "signalled": True}}},
        {"feature": "ramp", "action": "add", "where": {"select": {"what": "steps"}}},
        {"feature": "lowered_kerb", "action": "add", "where": {"select": {"what": "crossings"}}},
        {"feature": "elevator", "action": "out_of_service",
         "where": {"select": {"what": "elevators"}}},
        {"feature": "surface", "action": "set", "value": "sett",
         "where": {"select": {"what": "ways", "count": 50}}},
    ])  # fmt: skip
    edited = apply_street_edits(g, sc.street, sites=SiteIndex(g))
    assert all(np.array_equal(before[k], g.edge[k], equal_nan=True) for k in before)
    assert 0 < len(edited.changed_edges) < g.n_edges
    base = StreetNetwork(g)
    net = EditedNetwork(base, edited.graph, edited.changed_edges)
    for name in ("walk", "wheelchair_manual", "blind", "reduced_mobility"):
        profile = get_profile(name)
        full = CostModel(profile).evaluate(edited.graph)  # the oracle: every edge again
        patched = net.costs(profile).costs
        assert np.array_equal(full.cost, patched.cost)
        assert np.array_equal(full.seconds, patched.seconds)
        assert np.array_equal(full.node_usable, patched.node_usable)
    wc = get_profile("wheelchair_manual")
    assert np.isfinite(net.costs(wc).costs.cost).sum() != np.isfinite(
        base.costs(wc).costs.cost).sum()  # fmt: skip


def test_an_audible_signal_at_a_crossing_a_blind_route_uses_lowers_its_cost(helsinki_graph):
    g = helsinki_graph
    base = StreetNetwork(g)
    blind = get_profile("blind")
    e = g.edge
    silent = np.flatnonzero((e["kind"] == at.WAY_KIND["crossing"])
                            & (e["crossing_kind"] == at.CROSSING_SIGNALS)
                            & (e["crossing_sound"] != YES))  # fmt: skip
    # A blind route over a silent signalled crossing: from one end of it to 150 m beyond.
    route = None
    for edge in silent[:: max(len(silent) // 40, 1)]:
        u, v = int(g.edge_u[edge]), int(g.edge_v[edge])
        a, b = base.at_node(u), base.at_node(v)
        path = base.path(a, b, blind)
        if path is not None and edge in path.edges:
            route = (a, b, path, int(edge))
            break
    assert route is not None, "no blind route over a silent signalled crossing found"
    a, b, path, edge = route
    osm = int(g.edge["osmid"][edge])
    sc = _scenario([{"feature": "audible_signal", "action": "add",
                     "where": {"osm": f"way/{osm}"}}])  # fmt: skip
    edited = apply_street_edits(g, sc.street, sites=SiteIndex(g))
    after = EditedNetwork(base, edited.graph, edited.changed_edges).path(a, b, blind)
    assert after is not None and after.cost < path.cost


# -- metrics before/after -----------------------------------------------------------------
def test_empty_scenario_changes_no_metric(helsinki):
    result = run_scenario(_scenario(), data=helsinki, workers=1)
    doc = result.data
    assert doc["grid"]["cells"] >= 10 and doc["grid"]["od_pairs"] > 50
    assert _before_after_equal(result)
    assert doc["profiles_changed"] == [] and doc["edges_recosted"] == 0
    walk = doc["profiles"]["walk"]["before"]
    assert walk["usable_share"] > 0.5 and walk["travel_time_s"]["p50"] > 0
    assert set(doc["profiles"]) == {"walk", "wheelchair_manual", "wheelchair_electric", "blind",
                                    "low_vision", "reduced_mobility"}  # fmt: skip
    assert doc["profiles"]["blind"]["before"]["unsignalled_major_crossings_per_trip"] is not None
    counted = {p for p, e in doc["profiles"].items()
               if "unsignalled_major_crossings_per_trip" in e["before"]}  # fmt: skip
    assert counted == {p.name for p in PROFILES.values() if p.counts_unsignalled_crossings}
    assert counted == {"blind"}
    assert "Unsignalled major-road crossings per trip" in result.to_html()
    assert set(doc["gaps"]) >= {"wheelchair_manual", "blind"}


def test_removing_then_restoring_a_barrier_gives_the_original_figures(helsinki):
    g = helsinki.graph
    box = [[60.1695, 24.9400], [60.1695, 24.9480], [60.1740, 24.9480], [60.1740, 24.9400]]
    where = {"select": {"what": "ways", "polygon": box}}
    assert not g.edge["closed"][SiteIndex(g).resolve(
        _scenario([{"feature": "way", "action": "close", "where": where}]).street[0])[0].edges
    ].any()  # fmt: skip
    closed = run_scenario(_scenario([{"feature": "way", "action": "close", "where": where}]),
                          data=helsinki, workers=1)  # fmt: skip
    assert not _before_after_equal(closed)  # the closure matters...
    restored = run_scenario(_scenario([{"feature": "way", "action": "close", "where": where},
                                       {"feature": "way", "action": "open", "where": where}]),
                            data=helsinki, workers=1)  # fmt: skip
    assert restored.data["edges_recosted"] > 0  # ...was really re-costed...
    assert _before_after_equal(restored)  # ...and gives the original figures back
    assert restored.data["profiles"]["walk"]["before"] == closed.data["profiles"]["walk"]["before"]


def test_ramps_beside_all_steps_never_make_a_wheelchair_metric_worse(helsinki):
    sc = load_scenario(REPO / "scenarios/ramps-beside-all-steps.yaml")
    sc = parse_scenario({**sc.to_dict(), "options": SMALL})
    doc = run_scenario(sc, data=helsinki, workers=1).data
    assert doc["edits"][0]["sites"] > 0 and doc["edits"][0]["edges_changed"] > 0
    for p in ("wheelchair_manual", "wheelchair_electric"):
        b, a = doc["profiles"][p]["before"], doc["profiles"][p]["after"]
        assert a["usable_share"] >= b["usable_share"]
        for area in doc["areas"]:
            ab = area["profiles"][p]
            assert (ab["after"]["usable_share"] or 0) >= (ab["before"]["usable_share"] or 0)
    # Pair by pair: between points beside the steps, no wheelchair trip costs more after,
    # and some cost less (the flights became usable).
    g, base = helsinki.graph, helsinki.network
    edited = apply_street_edits(g, sc.street, sites=SiteIndex(g))
    after = EditedNetwork(base, edited.graph, edited.changed_edges)
    steps = np.flatnonzero(g.edge["kind"] == at.WAY_KIND["steps"])[::4]
    points = [(float(g.node_lat[g.edge_u[e]]), float(g.node_lon[g.edge_u[e]])) for e in steps]
    for p in ("wheelchair_manual", "wheelchair_electric"):
        profile = get_profile(p)
        # The same snapped points on both (usable before, so usable after).
        snaps = [s for s in base.snap_many(points, profile, max_distance_m=150) if s]
        c0 = base.matrix(snaps, snaps, profile).cost
        c1 = after.matrix(snaps, snaps, profile).cost
        assert len(snaps) > 10
        assert np.all((c1 <= c0 + 1e-6) | ~np.isfinite(c0))
        assert (c1 < c0 - 1e-6).any()


# -- execution ------------------------------------------------------------------------------
def test_local_processes_and_dask_give_identical_json(helsinki):
    from distributed import LocalCluster

    sc = _scenario([{"feature": "audible_signal", "action": "add",
                     "where": {"select": {"what": "crossings", "signalled": True}}}],
                   profiles=["walk", "blind", "wheelchair_manual"])  # fmt: skip
    here = run_scenario(sc, data=helsinki, workers=1)
    assert not _before_after_equal(here)
    procs = run_scenario(sc, data=helsinki, workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:  # fmt: skip
        seen = []
        dask = run_scenario(sc, data=helsinki, scheduler=cluster.scheduler_address,
                            progress=lambda d, n: seen.append((d, n)))  # fmt: skip
    assert here.to_json() == procs.to_json() == dask.to_json()
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] > 1


# -- report -----------------------------------------------------------------------------------
def test_html_report_is_self_contained_and_states_every_figure(helsinki):
    sc = _scenario([{"feature": "ramp", "action": "add", "where": {"select": {"what": "steps"}}}],
                   profiles=["walk", "wheelchair_manual"])  # fmt: skip
    result = run_scenario(sc, data=helsinki, workers=1)
    page = result.to_html()
    assert page.startswith("<!doctype html>") and '<html lang="en">' in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    imgs = page.count("<img ")
    assert imgs >= 3 and page.count('alt="') == imgs and 'alt=""' not in page
    assert page.count("data:image/png;base64,") == imgs
    assert "<caption>" in page and 'scope="col"' in page
    walk = result.data["profiles"]["walk"]["before"]
    assert f"{100 * walk['usable_share']:.1f} %" in page  # numbers are in tables too


def test_rank_orders_sites_by_gain_and_names_blocking_barriers(helsinki):
    from routing.scenario.rank import rank_sites

    found = rank_sites(helsinki, feature="audible_signal", budget=3, candidates=8,
                       cell_m=250, max_origins=25, workers=1)  # fmt: skip
    ranked = found["ranked"]
    assert 0 < len(ranked) <= 3 and found["candidates"] == 8
    assert all(s["gain"] > 0 for s in ranked)
    assert [s["cumulative"] for s in ranked] == sorted(s["cumulative"] for s in ranked)
    assert "greedy" in found["objective"]
    for b in found["barriers"]:
        assert b["pairs_blocked"] >= 1 and b["reason"]
    from routing.scenario.report import render_rank_page

    page = render_rank_page(found)
    assert ranked[0]["label"] in page and "<caption>" in page and "greedy" in page


def test_cli_validate_prints_the_schema_and_checks_files(capsys):
    from server.cli import main

    assert main(["scenario", "validate", "--schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "Planner's scenario"
    files = [str(p) for p in sorted((REPO / "scenarios").glob("*.yaml"))]
    assert main(["scenario", "validate", *files]) == 0
    assert capsys.readouterr().out.count(": valid") == len(files)
