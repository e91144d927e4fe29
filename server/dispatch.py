"""``/dispatch/*``: bookings, vehicles and plan jobs for Invataxi dispatchers.

- ``GET|POST /dispatch/bookings``, ``DELETE /dispatch/bookings/<id>`` (cancel),
  ``POST /dispatch/bookings/<id>/lock`` (``{"locked": true|false}``: keep on its vehicle);
- ``GET|POST /dispatch/vehicles``, ``DELETE /dispatch/vehicles/<id>``;
- ``POST /dispatch/plan`` starts a plan job (``{"time_limit": s, "replan": bool, "now":
  "HH:MM"}``) and answers 202 with its id; ``?wait=true`` waits for it (small days);
- ``GET /dispatch/plans``, ``GET /dispatch/plans/<id>`` (status, plan, KPIs, violations),
  ``GET /dispatch/plans/<id>/geojson``.

Config: ``DISPATCH_DB`` (SQLAlchemy URL; default ``sqlite:///<CACHE_DIR>/../dispatch.sqlite``
when ``CACHE_DIR`` is set, else an in-memory database that a restart loses) and
``DISPATCH_OSM`` (OSM file of the car network; default ``OSM``). Without an OSM file the
planning endpoints answer 503.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from routing.errors import InvalidInputError, RoutingError
from server.background import job_state
from server.openapi import errors, json_body, ref

# The dispatch engine (OR-Tools, SQLAlchemy, osmium: ~50 MB per process) is imported on the
# first dispatch request, so that a server that only routes does not hold it.
if TYPE_CHECKING:
    from routing.dispatch.carnet import CarNetwork
    from routing.dispatch.storage import DispatchStore

bp = Blueprint("dispatch", __name__)

EXTENSION = "inclusive_routing_dispatch"
MAX_TIME_LIMIT_S = 600.0


class DispatchUnavailableError(RoutingError):
    code = "dispatch_unavailable"
    http_status = 503


def _state() -> dict[str, Any]:
    return job_state(EXTENSION, open_store=_open_store, queued=lambda store: store.queued_plans(),
                     submit=_submit,
                     extra=lambda: {"network": None, "network_lock": threading.Lock()})  # fmt: skip


def dispatch_store() -> DispatchStore:
    """The current app's dispatch store (opened on first use; for the dispatcher's page)."""
    return _state()["store"]


def _open_store(config: Any) -> DispatchStore:
    from routing.dispatch.storage import DispatchStore

    url = config.get("DISPATCH_DB")
    if url:
        return DispatchStore(url)
    if config.get("CACHE_DIR"):
        path = Path(config["CACHE_DIR"]).resolve().parent / "dispatch.sqlite"
        return DispatchStore(f"sqlite:///{path}")
    return DispatchStore("sqlite://")  # in memory: nothing to keep without a data folder


def _network(app: Any, state: dict[str, Any]) -> CarNetwork:
    osm = app.config.get("DISPATCH_OSM") or app.config.get("OSM")
    if not osm:
        raise DispatchUnavailableError("dispatch planning is not configured (no OSM file for "
                                       "the car network)")  # fmt: skip
    from routing.dispatch.carnet import load_car_network

    with state["network_lock"]:
        if state["network"] is None:
            state["network"] = load_car_network(osm, cache_dir=app.config.get("CACHE_DIR"))
        return state["network"]


def _submit(app: Any, state: dict[str, Any], plan_id: int):
    from routing.dispatch.service import run_plan_job, worker_name

    def job() -> None:
        with app.app_context():
            try:
                network = _network(app, state)
            except RoutingError as exc:
                if state["store"].claim_plan(plan_id, worker_name()):
                    state["store"].update_plan(plan_id, status="failed", error=exc.message)
                return
            run_plan_job(state["store"], network, plan_id)

    return state["executor"].submit(job)


def _body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidInputError("the body must be JSON", field="body")
    return body


# -- bookings and vehicles --------------------------------------------------------------
@bp.get("/dispatch/bookings")
def list_bookings() -> ResponseReturnValue:
    return jsonify({"bookings": _state()["store"].bookings()})


@bp.post("/dispatch/bookings")
def add_bookings() -> ResponseReturnValue:
    body = _body()
    rows = body.get("bookings") if isinstance(body, dict) and "bookings" in body else [body]
    if not isinstance(rows, list) or not rows:
        raise InvalidInputError("bookings must be a non-empty list", field="bookings")
    from routing.dispatch.city import check_booking

    checked = [check_booking(row) for row in rows]
    store = _state()["store"]
    return jsonify({"bookings": [store.put_booking(row) for row in checked]}), 201


@bp.delete("/dispatch/bookings/<booking_id>")
def cancel_booking(booking_id: str) -> ResponseReturnValue:
    _state()["store"].cancel_booking(booking_id)
    return jsonify({"id": booking_id, "cancelled": True})


@bp.post("/dispatch/bookings/<booking_id>/lock")
def lock_booking(booking_id: str) -> ResponseReturnValue:
    body = request.get_json(silent=True) or {}
    locked = body.get("locked", True) if isinstance(body, dict) else True
    if not isinstance(locked, bool):
        raise InvalidInputError("locked must be true or false", field="locked")
    _state()["store"].lock_booking(booking_id, locked)
    return jsonify({"id": booking_id, "locked": locked})


@bp.get("/dispatch/vehicles")
def list_vehicles() -> ResponseReturnValue:
    return jsonify({"vehicles": _state()["store"].vehicles()})


@bp.post("/dispatch/vehicles")
def add_vehicles() -> ResponseReturnValue:
    body = _body()
    rows = body.get("vehicles") if isinstance(body, dict) and "vehicles" in body else [body]
    if not isinstance(rows, list) or not rows:
        raise InvalidInputError("vehicles must be a non-empty list", field="vehicles")
    from routing.dispatch.city import check_vehicle

    checked = [check_vehicle(row) for row in rows]
    store = _state()["store"]
    return jsonify({"vehicles": [store.put_vehicle(row) for row in checked]}), 201


@bp.delete("/dispatch/vehicles/<vehicle_id>")
def delete_vehicle(vehicle_id: str) -> ResponseReturnValue:
    _state()["store"].delete_vehicle(vehicle_id)
    return jsonify({"id": vehicle_id, "deleted": True})


# -- plans ----------------------------------------------------------------------------------
@bp.post("/dispatch/plan")
def start_plan() -> ResponseReturnValue:
    body = request.get_json(silent=True)
    body = {} if body is None else body
    if not isinstance(body, dict):
        raise InvalidInputError("the body must be a JSON object", field="body")
    time_limit = body.get("time_limit", 30)
    if (
        isinstance(time_limit, bool)
        or not isinstance(time_limit, int | float)
        or not (0 < time_limit <= MAX_TIME_LIMIT_S)
    ):
        raise InvalidInputError(f"time_limit must be seconds in (0, {MAX_TIME_LIMIT_S:g}]",
                                field="time_limit")  # fmt: skip
    replan = body.get("replan", False)
    if not isinstance(replan, bool):
        raise InvalidInputError("replan must be true or false", field="replan")
    from routing.dispatch.city import parse_clock
    from routing.jobs import ConflictError

    params: dict[str, Any] = {"time_limit": float(time_limit)}
    state = _state()
    _network(current_app, state)  # 503 now rather than a failed job later
    store = state["store"]
    parent_id = None
    if replan:
        if "now" not in body:
            raise InvalidInputError("re-planning needs now (HH:MM)", field="now")
        params["now"] = parse_clock(body["now"], "now")
        parent = store.latest_done_plan()
        if parent is None:
            raise ConflictError("there is no finished plan to re-plan")
        parent_id = parent["id"]
    elif "now" in body:
        params["now"] = parse_clock(body["now"], "now")
    if not store.vehicles():
        raise InvalidInputError("add vehicles before planning", field="vehicles")
    plan_id = store.new_plan(params, parent_id)
    future = _submit(current_app._get_current_object(), state, plan_id)
    if request.args.get("wait") in ("1", "true"):
        future.result()
        return jsonify(store.plan(plan_id)), 200
    return jsonify({"id": plan_id, "status": "queued", "url": f"/dispatch/plans/{plan_id}"}), 202


@bp.get("/dispatch/plans")
def list_plans() -> ResponseReturnValue:
    return jsonify({"plans": _state()["store"].plans()})


def _plan_row(plan_id: int) -> dict[str, Any]:
    return _state()["store"].plan(plan_id)


@bp.get("/dispatch/plans/<int:plan_id>")
def get_plan(plan_id: int) -> ResponseReturnValue:
    row = _plan_row(plan_id)
    if row["result"]:
        row["result"] = {k: v for k, v in row["result"].items() if k != "geojson"}
    return jsonify(row)


@bp.get("/dispatch/plans/<int:plan_id>/geojson")
def get_plan_geojson(plan_id: int) -> ResponseReturnValue:
    from routing.jobs import NotFoundError

    row = _plan_row(plan_id)
    if not row["result"]:
        raise NotFoundError(f"plan {plan_id} has no result yet (status {row['status']})")
    response = jsonify(row["result"]["geojson"])
    response.mimetype = "application/geo+json"
    return response


# -- OpenAPI ----------------------------------------------------------------------------------
_ID = {"type": "string", "minLength": 1, "maxLength": 64}
_CLOCK = {"type": "string", "pattern": r"^\d{1,2}:\d{2}(:\d{2})?$", "examples": ["09:30"]}
_POINT = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
          "description": "[lat, lon]"}  # fmt: skip
_OBJ = {"type": "object"}
_PATH_ID = {"name": "booking_id", "in": "path", "required": True, "schema": _ID}

OPENAPI = {
    "paths": {
        "/dispatch/bookings": {
            "get": {"summary": "Active bookings", "operationId": "listBookings",
                    "tags": ["dispatch"],
                    "responses": {"200": json_body(_OBJ, "The bookings"), **errors()}},
            "post": {"summary": "Add or replace bookings (one, or {\"bookings\": [...]})",
                     "operationId": "addBookings", "tags": ["dispatch"],
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"oneOf": [ref("Booking"), {
                             "type": "object", "required": ["bookings"],
                             "properties": {"bookings": {"type": "array",
                                                         "items": ref("Booking")}}}]}}}},
                     "responses": {"201": json_body(_OBJ, "The stored bookings"),
                                   **errors(400, 413)}},
        },
        "/dispatch/bookings/{booking_id}": {
            "delete": {"summary": "Cancel a booking", "operationId": "cancelBooking",
                       "tags": ["dispatch"], "parameters": [_PATH_ID],
                       "responses": {"200": json_body(_OBJ, "Cancelled"), **errors(404)}},
        },
        "/dispatch/bookings/{booking_id}/lock": {
            "post": {"summary": "Lock a booking to its vehicle (or unlock it)",
                     "operationId": "lockBooking", "tags": ["dispatch"],
                     "parameters": [_PATH_ID],
                     "requestBody": {"required": False, "content": {"application/json": {
                         "schema": {"type": "object",
                                    "properties": {"locked": {"type": "boolean"}}}}}},
                     "responses": {"200": json_body(_OBJ, "Locked"), **errors(400, 404)}},
        },
        "/dispatch/vehicles": {
            "get": {"summary": "The fleet", "operationId": "listVehicles", "tags": ["dispatch"],
                    "responses": {"200": json_body(_OBJ, "The vehicles"), **errors()}},
            "post": {"summary": "Add or replace vehicles (one, or {\"vehicles\": [...]})",
                     "operationId": "addVehicles", "tags": ["dispatch"],
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"oneOf": [ref("DispatchVehicle"), {
                             "type": "object", "required": ["vehicles"],
                             "properties": {"vehicles": {"type": "array",
                                                         "items": ref("DispatchVehicle")}}}]}}}},
                     "responses": {"201": json_body(_OBJ, "The stored vehicles"),
                                   **errors(400, 413)}},
        },
        "/dispatch/vehicles/{vehicle_id}": {
            "delete": {"summary": "Remove a vehicle", "operationId": "deleteVehicle",
                       "tags": ["dispatch"],
                       "parameters": [{"name": "vehicle_id", "in": "path", "required": True,
                                       "schema": _ID}],
                       "responses": {"200": json_body(_OBJ, "Removed"), **errors(404)}},
        },
        "/dispatch/plan": {
            "post": {"summary": "Start a plan job for the stored day (or re-plan it)",
                     "operationId": "startDispatchPlan", "tags": ["dispatch"],
                     "parameters": [{"name": "wait", "in": "query", "required": False,
                                     "schema": {"type": "string", "enum": ["true", "false"]}}],
                     "requestBody": {"required": False, "content": {"application/json": {
                         "schema": {"type": "object", "properties": {
                             "time_limit": {"type": "number", "exclusiveMinimum": 0,
                                            "maximum": MAX_TIME_LIMIT_S},
                             "replan": {"type": "boolean"}, "now": _CLOCK}}}}},
                     "responses": {"202": json_body(_OBJ, "The job was queued"),
                                   "200": json_body(ref("DispatchPlanJob"), "The finished job"),
                                   **errors(400, 409, 413)}},
        },
        "/dispatch/plans": {
            "get": {"summary": "Plan versions (without their results)",
                    "operationId": "listDispatchPlans", "tags": ["dispatch"],
                    "responses": {"200": json_body(_OBJ, "The plans"), **errors()}},
        },
        "/dispatch/plans/{plan_id}": {
            "get": {"summary": "A plan job: status, plan (per vehicle the ordered stops with "
                               "times and loads), unserved bookings with reasons, KPIs",
                    "operationId": "getDispatchPlan", "tags": ["dispatch"],
                    "parameters": [{"name": "plan_id", "in": "path", "required": True,
                                    "schema": {"type": "integer"}}],
                    "responses": {"200": json_body(ref("DispatchPlanJob"), "The plan job"),
                                  **errors(404)}},
        },
        "/dispatch/plans/{plan_id}/geojson": {
            "get": {"summary": "A finished plan as GeoJSON (routes and stops)",
                    "operationId": "getDispatchPlanGeojson", "tags": ["dispatch"],
                    "parameters": [{"name": "plan_id", "in": "path", "required": True,
                                    "schema": {"type": "integer"}}],
                    "responses": {"200": {"description": "A FeatureCollection", "content": {
                        "application/geo+json": {"schema": _OBJ}}}, **errors(404)}},
        },
    },
    "components": {"schemas": {
        "Booking": {
            "type": "object", "required": ["id", "pickup", "dropoff", "passengers"],
            "properties": {
                "id": _ID, "pickup": _POINT, "dropoff": _POINT,
                "earliest_pickup": _CLOCK, "latest_arrival": _CLOCK,
                "passengers": {"type": "object", "additionalProperties": {
                    "type": "integer", "minimum": 0},
                    "description": "counts of wheelchair, ambulant, escort"},
                "priority": {"type": "integer", "minimum": 1},
                "max_ride_s": {"type": "number"}, "profile": {"type": "string"},
            },
        },
        "DispatchVehicle": {
            "type": "object", "required": ["id", "depot", "shift"],
            "properties": {
                "id": _ID, "depot": _POINT,
                "shift": {"type": "array", "items": _CLOCK, "minItems": 2, "maxItems": 2},
                "wheelchair_places": {"type": "integer", "minimum": 0},
                "seats": {"type": "integer", "minimum": 0},
                "breaks": {"type": "array", "description": "driver breaks", "items": {
                    "type": "object", "required": ["earliest", "latest", "minutes"],
                    "properties": {"earliest": _CLOCK, "latest": _CLOCK,
                                   "minutes": {"type": "number", "exclusiveMinimum": 0,
                                               "maximum": 720}}}},
            },
        },
        "DispatchPlanJob": {
            "type": "object", "required": ["id", "status"],
            "properties": {
                "id": {"type": "integer"}, "version": {"type": "integer"},
                "parent_id": {"type": ["integer", "null"]},
                "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
                "params": _OBJ, "day": {"type": ["object", "null"]},
                "result": {"type": ["object", "null"]}, "error": {"type": ["string", "null"]},
                "created_at": {"type": ["string", "null"]},
                "finished_at": {"type": ["string", "null"]},
            },
        },
    }},
}  # fmt: skip
