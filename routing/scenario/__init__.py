"""Planners' scenarios: edits to the street network (and transit), measured before and after.

Public entry points: :func:`load_scenario` (a YAML/JSON file, checked against the published
JSON Schema), :func:`run_scenario` (before/after metrics per profile, in local processes or
on Dask), :class:`ScenarioResult` (``to_json``, ``to_html``), :func:`rank_sites` (where to
build next) and :func:`scenario_schema`. Definitions of every figure: docs/scenarios.md.
"""

from routing.scenario.run import ScenarioData, ScenarioResult, run_scenario
from routing.scenario.spec import Scenario, load_scenario, parse_scenario, scenario_schema

__all__ = [
    "Scenario",
    "ScenarioData",
    "ScenarioResult",
    "load_scenario",
    "parse_scenario",
    "run_scenario",
    "scenario_schema",
]
