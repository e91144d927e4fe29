"""``/scenarios``: planners' scenario jobs over HTTP.

- ``POST /scenarios`` with a scenario document (JSON, the schema of
  ``routing/scenario/scenario.schema.json``; at most ``SCENARIO_MAX_BYTES``, default 256 KiB)
  validates it (400 naming the field, as ``$.street[3].where``), stores a job and answers 202
  with its ``id`` and ``Location: /scenarios/<id>``;
- ``GET /scenarios/<id>``: ``status`` (``queued``, ``running``, ``done``, ``failed``),
  ``progress`` (``done`` of ``total`` batches), ``error``, times, links to the reports;
- ``GET /scenarios/<id>/report.json`` and ``GET /scenarios/<id>/report.html``: the reports
  once the job is ``done`` (409 before; the ``failed`` job's error in ``GET /scenarios/<id>``).

Jobs run one at a time in a background thread of the server process, on the app's graph
and transit feed (with their own caches), batches in this process. The metro stations
(``PLACE_STATIONS``) and the opportunities of the ``OSM`` extract are read once, on the
first job, exactly as the CLI reads them: the HTTP report equals the CLI's. They are kept with
their reports in a database (:class:`routing.jobs.JobStore`): ``SCENARIO_DB`` (a SQLAlchemy
URL; PostgreSQL works too), by default ``sqlite:///<CACHE_DIR>/../scenarios.sqlite`` when
``CACHE_DIR`` is set, else an in-memory database. A restart loses nothing: on a server
process's first request, jobs left ``running`` by a server that stopped (no heartbeat for
:data:`routing.jobs.LEASE_SECONDS`) are **re-queued** and run again from the start, as
are jobs still ``queued`` (not when the app is made: gunicorn forks its workers from
that process, which must have no job thread then). The job machinery (SQLAlchemy, ~18 MB
per process) is imported when a store is opened: a SQLite store with no queued or running
job is not opened before the first ``/scenarios`` request.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from routing.errors import InvalidInputError, RoutingError
from server.background import job_state
from server.openapi import errors, json_body, ref

if TYPE_CHECKING:
    from routing.jobs import JobStore

log = logging.getLogger(__name__)

bp = Blueprint("scenarios", __name__)

EXTENSION = "inclusive_routing_scenarios"
DEFAULT_MAX_BYTES = 256 * 1024


class PayloadTooLargeError(RoutingError):
    code = "payload_too_large"
    http_status = 413


def _state() -> dict[str, Any]:
    return job_state(EXTENSION, open_store=_open_store, queued=lambda store: store.queued(),
                     submit=_submit, extra=lambda: {"data_lock": threading.Lock()})  # fmt: skip


@bp.before_app_request
def _resume_jobs() -> None:
    """Open the store on a process's first request, so that left-over jobs resume then.

    Not when the app is made: gunicorn forks its workers from the process that made the
    app, which would then run the jobs itself and be forked with a job thread running.
    A SQLite store with nothing to resume stays closed until a scenario request.
    """
    app = current_app
    if app.extensions.get(EXTENSION + "_idle_pid") == os.getpid():
        return
    state = app.extensions.get(EXTENSION)
    opened = state is not None and state["pid"] == os.getpid()
    if not opened and _nothing_to_resume(_store_url(app.config)):
        app.extensions[EXTENSION + "_idle_pid"] = os.getpid()
        return
    _state()


def scenario_store() -> JobStore:
    """The current app's scenario job store (opened on first use)."""
    return _state()["store"]


def _store_url(config: Any) -> str:
    url = config.get("SCENARIO_DB")
    if not url and config.get("CACHE_DIR"):
        url = f"sqlite:///{Path(config['CACHE_DIR']).resolve().parent / 'scenarios.sqlite'}"
    return url or "sqlite://"


def _open_store(config: Any) -> JobStore:
    from routing.jobs import JobStore

    return JobStore(_store_url(config), "scenario")


def _nothing_to_resume(url: str) -> bool:
    """True when the store at ``url`` is sure to hold no queued or running scenario job.

    Read with the standard library's sqlite3 (read-only), so that a process serving routes
    never imports SQLAlchemy. A database that is not SQLite, or that cannot be read as
    :class:`routing.jobs.JobStore` writes it (table ``jobs``), counts as maybe holding some.
    """
    if url in ("sqlite://", "sqlite:///:memory:"):
        return True  # a new in-memory database per process
    if not url.startswith("sqlite:///"):
        return False
    path = Path(url.removeprefix("sqlite:///"))
    if not path.is_file():
        return True
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT 1 FROM jobs WHERE kind = 'scenario' AND status IN "
                             "('queued', 'running') LIMIT 1").fetchone()  # fmt: skip
    except sqlite3.Error:
        return False
    return row is None


def _submit(app: Any, state: dict[str, Any], job_id: str):
    from routing.jobs import LEASE_SECONDS, run_with_heartbeat, worker_name

    def job() -> None:
        with app.app_context():
            store = state["store"]
            worker = worker_name()
            if not store.claim(job_id, worker):
                return
            run_with_heartbeat(lambda: store.heartbeat(job_id, worker),
                               lambda: _run(app, store, job_id),
                               lease_seconds=LEASE_SECONDS, name=f"scenario-{job_id}")  # fmt: skip

    return state["executor"].submit(job)


def _run(app: Any, store: JobStore, job_id: str) -> None:
    started = time.perf_counter()
    try:
        params = store.get(job_id, with_result=True)["params"]
        def progress(done: int, total: int) -> None:
            store.progress(job_id, done, total)

        result = run_scenario_document(app, params["scenario"], progress=progress)
        store.finish(job_id, result=result.data, document=result.to_html(),
                     seconds=time.perf_counter() - started)  # fmt: skip
    except RoutingError as exc:
        store.finish(job_id, error=f"{exc.code}: {exc.message}",
                     seconds=time.perf_counter() - started)  # fmt: skip
    except Exception as exc:  # a job must end; the traceback goes to the log
        log.error("scenario job %s crashed:\n%s", job_id, traceback.format_exc())
        store.finish(job_id, error=f"internal error: {exc}", seconds=time.perf_counter() - started)


def _parse(doc: Any, source: str):
    from routing.scenario.spec import parse_scenario

    return parse_scenario(doc, source=source)


def _check(scenario: Any) -> None:
    """Transit edits must name what the server's feed has (checked on a copy, cheaply)."""
    if not scenario.transit:
        return
    from routing.scenario.transit import apply_transit_edits
    from server.state import get_planner

    planner = get_planner()
    if planner is None:
        raise InvalidInputError("transit edits need a transit feed, and this server has none "
                                "(GTFS is not configured)", field="transit")  # fmt: skip
    apply_transit_edits(planner, scenario.transit)


def run_scenario_document(app: Any, doc: Any, *, progress=None):
    """Run a scenario document on the app's graph and transit feed (batches in-process).

    The job gets its own street network, router and planner over the app's graph and feed:
    their per-profile caches are not safe to fill from two threads, and requests go on
    using the app's while the job runs.
    """
    from routing.network import StreetNetwork
    from routing.router import StreetRouter
    from routing.scenario.run import run_scenario
    from routing.transit.planner import TransitPlanner
    from server.state import EXTENSION as SERVICES

    services = app.extensions[SERVICES]
    graph = services["router"].graph
    scenario = _parse(doc, "request body")
    router = StreetRouter(StreetNetwork(graph))
    base = services.get("planner")
    planner = None if base is None else TransitPlanner(
        router, base.feed, accessibility=base.accessibility, stop_extras=base.stop_extras,
        tz=base.tz, options=base.options)  # fmt: skip
    data = replace(_scenario_data(app, graph), network=router.network, transit=planner)
    return run_scenario(scenario, data=data, workers=1, progress=progress)


def _scenario_data(app: Any, graph: Any):
    """Metro stations and opportunities, as the CLI reads them; built once per app.

    From the app's ``OSM`` extract (hospitals, clinics, schools, ... ) and its metro station
    lists ``PLACE_STATIONS`` (the files ``/places`` reads), so that a job over HTTP gives
    the report ``inclusive-routing scenario run`` gives on the same data.
    """
    from routing.scenario.run import ScenarioData

    state = app.extensions[EXTENSION]
    with state["data_lock"]:
        if state.get("data") is None:
            osm = app.config.get("OSM")
            state["data"] = ScenarioData.from_files(
                graph, osm=osm or None, stations=list(app.config.get("PLACE_STATIONS") or ()))
        return state["data"]


@bp.post("/scenarios")
def start_scenario() -> ResponseReturnValue:
    limit = int(current_app.config.get("SCENARIO_MAX_BYTES") or DEFAULT_MAX_BYTES)
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(f"a scenario is at most {limit} bytes", field="body")
    raw = request.get_data(cache=False)
    if len(raw) > limit:
        raise PayloadTooLargeError(f"a scenario is at most {limit} bytes", field="body")
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInputError("the body must be a JSON scenario document",
                                field="body") from None  # fmt: skip
    if not isinstance(doc, dict):
        raise InvalidInputError("the body must be a JSON object", field="body")
    _check(_parse(doc, "request body"))  # 400 naming the field, before anything is stored
    state = _state()
    job_id = state["store"].new({"scenario": doc})
    _submit(current_app._get_current_object(), state, job_id)
    body = {"id": job_id, "status": "queued", "url": f"/scenarios/{job_id}"}
    return jsonify(body), 202, {"Location": f"/scenarios/{job_id}"}


def _links(job_id: str) -> dict[str, str]:
    return {"self": f"/scenarios/{job_id}", "report_json": f"/scenarios/{job_id}/report.json",
            "report_html": f"/scenarios/{job_id}/report.html"}  # fmt: skip


@bp.get("/scenarios/<job_id>")
def get_scenario(job_id: str) -> ResponseReturnValue:
    job = _state()["store"].get(job_id)
    job["links"] = _links(job_id)
    return jsonify(job)


def _finished(job_id: str) -> dict[str, Any]:
    from routing.jobs import ConflictError

    job = _state()["store"].get(job_id, with_result=True)
    if job["status"] != "done":
        raise ConflictError(f"scenario job {job_id} has no report: it is {job['status']}"
                            + (f" ({job['error']})" if job["error"] else ""))  # fmt: skip
    return job


@bp.get("/scenarios/<job_id>/report.json")
def get_report_json(job_id: str) -> ResponseReturnValue:
    return jsonify(_finished(job_id)["result"])


@bp.get("/scenarios/<job_id>/report.html")
def get_report_html(job_id: str) -> ResponseReturnValue:
    return Response(_finished(job_id)["document"], mimetype="text/html")


# -- OpenAPI ----------------------------------------------------------------------------
_JOB_ID = {"name": "job_id", "in": "path", "required": True,
           "schema": {"type": "string", "minLength": 1, "maxLength": 32}}  # fmt: skip
_OBJ = {"type": "object"}

OPENAPI: dict[str, Any] = {
    "paths": {
        "/scenarios": {
            "post": {"summary": "Start a scenario job (before/after figures of a planner's edits)",
                     "operationId": "startScenario", "tags": ["scenarios"],
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"type": "object", "description": "A scenario document "
                                    "(routing/scenario/scenario.schema.json)"}}}},
                     "responses": {"202": json_body(ref("ScenarioJobStarted"), "Job queued"),
                                   **errors(400, 413)}},
        },
        "/scenarios/{job_id}": {
            "get": {"summary": "A scenario job: status and progress",
                    "operationId": "getScenario", "tags": ["scenarios"],
                    "parameters": [_JOB_ID],
                    "responses": {"200": json_body(ref("ScenarioJob"), "The job"),
                                  **errors(404)}},
        },
        "/scenarios/{job_id}/report.json": {
            "get": {"summary": "The finished job's report as JSON",
                    "operationId": "getScenarioReportJson", "tags": ["scenarios"],
                    "parameters": [_JOB_ID],
                    "responses": {"200": json_body(_OBJ, "The report"), **errors(404, 409)}},
        },
        "/scenarios/{job_id}/report.html": {
            "get": {"summary": "The finished job's report as an HTML page",
                    "operationId": "getScenarioReportHtml", "tags": ["scenarios"],
                    "parameters": [_JOB_ID],
                    "responses": {"200": {"description": "HTML report", "content": {
                        "text/html": {"schema": {"type": "string"}}}}, **errors(404, 409)}},
        },
    },
    "components": {"schemas": {
        "ScenarioJobStarted": {
            "type": "object", "required": ["id", "status", "url"],
            "properties": {"id": {"type": "string"}, "status": {"const": "queued"},
                           "url": {"type": "string"}},
        },
        "ScenarioJob": {
            "type": "object", "required": ["id", "status", "progress", "links"],
            "properties": {
                "id": {"type": "string"},
                "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
                "progress": {"type": "object", "required": ["done", "total"], "properties": {
                    "done": {"type": "integer"}, "total": {"type": "integer"},
                    "share": {"type": ["number", "null"]}}},
                "error": {"type": ["string", "null"]},
                "created_at": {"type": ["string", "null"]},
                "started_at": {"type": ["string", "null"]},
                "finished_at": {"type": ["string", "null"]},
                "seconds": {"type": ["number", "null"]},
                "links": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
    }},
}  # fmt: skip
