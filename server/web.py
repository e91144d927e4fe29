"""``GET /``: the accessible web page, in Russian, Kazakh or English.

The page is one template rendered in the request's language (``lang``, else
``Accept-Language``); its script gets the same catalogue as JSON for the texts it writes.
Leaflet is served from ``static/vendor`` (copied from npm by ``make web``); nothing comes
from the internet.
"""

from __future__ import annotations

import json

from babel.numbers import format_decimal
from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from routing.clock import format_hhmm
from routing.cost.profiles import PROFILES
from routing.errors import InvalidInputError
from server.dispatch import dispatch_store
from server.i18n import N_, catalogue, gettext, request_lang
from server.openapi import errors, profile_names

bp = Blueprint("web", __name__, template_folder="templates")

#: The profiles' labels, marked for the catalogues (they are data in routing.cost.profiles).
PROFILE_LABELS = (N_("Walking"), N_("Manual wheelchair"), N_("Electric wheelchair"),
                  N_("Blind (cane or guide dog)"), N_("Low vision"),
                  N_("Reduced mobility (cane, walker)"))  # fmt: skip

#: The language switcher, each name in its own language.
LANGUAGE_LABELS = (("kk", "Қазақша"), ("ru", "Русский"), ("en", "English"))


@bp.get("/")
def index() -> ResponseReturnValue:
    """The trip planner page; its script talks to ``/places``, ``/route``, ``/plan``..."""
    lang = request_lang()
    names = profile_names()
    body = render_template(
        "index.html",
        lang=lang,
        _=lambda message: gettext(lang, message),
        languages=LANGUAGE_LABELS,
        profiles=[(n, gettext(lang, PROFILES[n].label)) for n in names],
        # "</" cannot end the script element early once escaped
        catalogue_json=json.dumps({"lang": lang, "messages": catalogue(lang)},
                                  ensure_ascii=False).replace("</", "<\\/"),
    )  # fmt: skip
    return body, 200, {"Cache-Control": "no-cache", "Content-Language": lang,
                       "Vary": "Accept-Language"}  # fmt: skip


#: Why a booking is left out (the solver's reason codes), for the dispatcher's page.
UNSERVED_REASONS = {
    "no_vehicle_with_places": N_("No vehicle has the places this booking needs"),
    "ride_limit": N_("The direct trip is longer than the longest ride allowed"),
    "too_late": N_("Its pickup window closed before the re-planning time"),
    "outside_shifts": N_("No vehicle is on shift in its time window"),
    "fleet_busy": N_("Every vehicle that could take it is busy then"),
}  # fmt: skip

#: Line patterns of the vehicles on the map and in the legend, in turn (never colour alone).
#: (name, SVG/Leaflet dash array); the page's legend hands the arrays to its script.
VEHICLE_PATTERNS = ((N_("solid line"), ""), (N_("long dashes"), "16 8"), (N_("dotted line"), "1 9"),
                    (N_("dash and dot"), "14 6 2 6"), (N_("short dashes"), "5 7"),
                    (N_("long and short dashes"), "18 5 5 5"))  # fmt: skip


@bp.get("/dispatcher")
def dispatcher() -> ResponseReturnValue:
    """The dispatcher's page: stored plans; for one plan its KPIs, a timeline per vehicle
    (a table of stops and a drawn timeline), unserved bookings and the map of the day."""
    lang = request_lang()
    store = dispatch_store()
    plans = store.plans()
    chosen = None
    raw = request.args.get("plan")
    if raw not in (None, ""):
        if not raw.isdigit():
            raise InvalidInputError("plan must be a plan number", field="plan")
        chosen = store.plan(int(raw))
    elif plans:
        done = [p for p in plans if p["status"] == "done"]
        chosen = store.plan(done[-1]["id"]) if done else None
    _ = lambda message, **params: gettext(lang, message, **params)  # noqa: E731
    body = render_template(
        "dispatch.html",
        lang=lang,
        _=_,
        languages=LANGUAGE_LABELS,
        plans=plans,
        plan=chosen,
        view=_plan_view(chosen) if chosen and chosen["result"] else None,
        reasons={k: _(v) for k, v in UNSERVED_REASONS.items()},
        patterns=[(_(name), dash) for name, dash in VEHICLE_PATTERNS],
        num=lambda value, digits: format_decimal(value, "#,##0." + "0" * digits, locale=lang),
        catalogue_json=json.dumps({"lang": lang, "messages": catalogue(lang)},
                                  ensure_ascii=False).replace("</", "<\\/"),
    )  # fmt: skip
    return body, 200, {"Cache-Control": "no-cache", "Content-Language": lang,
                       "Vary": "Accept-Language"}  # fmt: skip


def _plan_view(row: dict) -> dict:
    """What the page draws of a finished plan: per used vehicle its stops with their places
    in the drawn timeline (per cent of the day from the first departure to the last return)."""
    result = row["result"]
    routes = [r for r in result["plan"]["routes"] if r["stops"]]
    first = min((r["start_time"] for r in routes), default=0.0)
    last = max((r["end_time"] for r in routes), default=first + 1.0)
    span = max(last - first, 1.0)
    hours = range(int(first // 3600) + 1, int(last // 3600) + 1)
    vehicles = []
    for index, route in enumerate(routes):
        vehicles.append({
            "id": route["vehicle_id"], "pattern": index % len(VEHICLE_PATTERNS),
            "start": format_hhmm(route["start_time"]), "end": format_hhmm(route["end_time"]),
            "km": route["distance"] / 1000,
            "x0": 100 * (route["start_time"] - first) / span,
            "x1": 100 * (route["end_time"] - first) / span,
            "stops": [dict(s, x=100 * (s["start"] - first) / span,
                           onboard=sum(s["load"].values())) for s in route["stops"]],
        })  # fmt: skip
    ticks = [{"label": f"{h:02d}:00", "x": 100 * (h * 3600 - first) / span} for h in hours]
    return {"kpis": result["kpis"], "vehicles": vehicles, "ticks": ticks,
            "unserved": result["plan"]["unserved"], "violations": result.get("violations", []),
            "first": format_hhmm(first), "last": format_hhmm(last)}  # fmt: skip


OPENAPI = {
    "paths": {
        "/": {"get": {
            "summary": "The accessible route planner web page", "operationId": "getIndex",
            "tags": ["meta"],
            "responses": {"200": {"description": "HTML page",
                                  "content": {"text/html": {"schema": {"type": "string"}}}},
                          **errors()}}},
        "/dispatcher": {"get": {
            "summary": "The dispatcher's page: stored plans, timelines and the map of the day",
            "operationId": "getDispatcherPage", "tags": ["meta"],
            "parameters": [{"name": "plan", "in": "query", "schema": {"type": "string"},
                            "description": "Plan number (default: the newest finished plan)"}],
            "responses": {"200": {"description": "HTML page",
                                  "content": {"text/html": {"schema": {"type": "string"}}}},
                          **errors(400, 404)}}},
    }
}  # fmt: skip
