"""Scenario street metrics on the whole Almaty grid, 6 profiles, before and after.

Run: ``pytest benchmarks/test_scenario_speed.py --benchmark-only -p no:cacheprovider``.
The scenario is ``scenarios/audible-signals-near-metro.yaml`` (its edits change costs for
every profile, so all 12 before/after runs are done); the grid is the default 1 km grid
over the graph's bounds (the number of cells is printed and stored in ``extra_info``).

- ``local_2_processes`` vs ``in_process`` (the peer: the same batches in this process);
- ``dask_2_workers`` vs ``dask_1_worker`` (a ``distributed.LocalCluster``, one thread per
  worker): the scaling from 1 to 2 Dask workers;
- ``patched_costs`` (re-costing only the edited edges, per profile) vs ``full_costs``
  (the cost model on every edge).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.cost import CostModel, get_profile
from routing.network import StreetNetwork
from routing.scenario import ScenarioData, load_scenario, run_scenario
from routing.scenario.edits import SiteIndex, apply_street_edits, patched_costs

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "audible-signals-near-metro.yaml"


@pytest.fixture(scope="module")
def almaty_data(almaty_graph, shared_data):
    return ScenarioData.from_files(
        almaty_graph, osm=shared_data / "almaty/osm/almaty-2012.osm.pbf",
        stations=shared_data / "almaty/metro/stations.json",
        network=StreetNetwork(almaty_graph),
    )  # fmt: skip


def _run(benchmark, data, **how):
    scenario = load_scenario(SCENARIO)
    result = benchmark.pedantic(lambda: run_scenario(scenario, data=data, **how),
                                rounds=2, iterations=1)  # fmt: skip
    grid = result.data["grid"]
    benchmark.extra_info.update(cells=grid["cells"], od_pairs=grid["od_pairs"],
                                profiles=len(result.data["profiles"]),
                                rerun_after=len(result.data["profiles_changed"]))  # fmt: skip
    print(f"\n{grid['cells']} cells, {grid['od_pairs']} OD pairs, "
          f"{len(result.data['profiles'])} profiles, "
          f"{len(result.data['profiles_changed'])} re-run after the edits")
    return result


@pytest.mark.benchmark(group="scenario-local")
def test_in_process(benchmark, almaty_data):
    _run(benchmark, almaty_data, workers=1)


@pytest.mark.benchmark(group="scenario-local")
def test_local_2_processes(benchmark, almaty_data):
    _run(benchmark, almaty_data, workers=2)


@pytest.fixture(scope="module")
def results():
    return {}


@pytest.mark.benchmark(group="scenario-dask")
@pytest.mark.parametrize("workers", [1, 2], ids=["dask_1_worker", "dask_2_workers"])
def test_dask(benchmark, almaty_data, workers, results):
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:  # fmt: skip
        result = _run(benchmark, almaty_data, scheduler=cluster.scheduler_address)
    results[workers] = result.to_json()
    if len(results) == 2:  # the same figures whatever the number of workers
        assert results[1] == results[2]


@pytest.mark.benchmark(group="scenario-costs")
@pytest.mark.parametrize("way", ["patched_costs", "full_costs"])
def test_recost(benchmark, almaty_data, way):
    graph = almaty_data.graph
    sites = SiteIndex(graph, stations=almaty_data.station_points)
    edited = apply_street_edits(graph, load_scenario(SCENARIO).street, sites=sites)
    base = {p: CostModel(get_profile(p)).evaluate(graph) for p in ("walk", "blind")}

    def patched():
        return [patched_costs(base[p], edited.graph, get_profile(p), edited.changed_edges)
                for p in base]  # fmt: skip

    def full():
        return [CostModel(get_profile(p)).evaluate(edited.graph) for p in base]

    benchmark(patched if way == "patched_costs" else full)
