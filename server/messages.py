"""Every text the API gives a person, in the request's language, rendered in one place.

The engine (``routing/``) writes English sentences and, beside them, what they are about:
a step's ``maneuver``, ``kind``, ``name`` and ``distance_m``; a warning's ``code`` and its
figures; an error's ``code`` and ``field``. This module renders those into Russian or
Kazakh through the gettext catalogues (:mod:`server.i18n`), so a translator corrects a
``.po`` file and no code. Where a text carries facts only inside its English sentence
(crossing details, transit stop names), they are read back with the patterns below; a text
this module cannot render stays English and is marked so (``instruction_lang`` /
``message_lang`` ``"en"``), so a screen reader reads it in an English voice instead of
mangling it. English answers are left exactly as the engine wrote them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from routing.instructions import render
from server.i18n import DEFAULT_LANG, gettext


#: Message ids, listed for extraction (``_N`` marks them without translating them here).
def _N(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    return message


# -- steps ----------------------------------------------------------------------------------
_ALONG = {
    "footway": _N("along the footway"),
    "sidewalk": _N("along the sidewalk"),
    "crossing": _N("along the crossing"),
    "steps": _N("along the steps"),
    "path": _N("along the path"),
    "pedestrian street": _N("along the pedestrian street"),
    "street": _N("along the street"),
    "elevator": _N("in the elevator"),
    "platform": _N("along the platform"),
    "corridor": _N("along the corridor"),
}
_NAMED = {
    "depart": _N("Start on %(name)s and go %(distance)s."),
    "continue": _N("Continue onto %(name)s for %(distance)s."),
    "turn left": _N("Turn left onto %(name)s and go %(distance)s."),
    "turn right": _N("Turn right onto %(name)s and go %(distance)s."),
    "slight left": _N("Bear left onto %(name)s and go %(distance)s."),
    "slight right": _N("Bear right onto %(name)s and go %(distance)s."),
    "turn around": _N("Turn around onto %(name)s and go %(distance)s."),
}
_UNNAMED = {
    "depart": _N("Start %(along)s and go %(distance)s."),
    "continue": _N("Continue %(along)s for %(distance)s."),
    "turn left": _N("Turn left and go %(along)s for %(distance)s."),
    "turn right": _N("Turn right and go %(along)s for %(distance)s."),
    "slight left": _N("Bear left and go %(along)s for %(distance)s."),
    "slight right": _N("Bear right and go %(along)s for %(distance)s."),
    "turn around": _N("Turn around and go %(along)s for %(distance)s."),
}
_STEPS = re.compile(r"^Take (?:(?P<count>\d+) steps|the steps)(?P<dir> up| down)?"
                    r"(?P<rail>, handrail present|, no handrail)?(?P<ramp>, ramp beside them)?"
                    r"(?: for \d+ m)?\.")  # fmt: skip
_STEEP = re.compile(r"Steep (uphill|downhill) stretch \((?:up to )?(\d+)%\)\.")
_KERB = {f"{k.capitalize()} ahead.": k for k in
         ("flush kerb", "lowered kerb", "rolled kerb", "raised kerb")}  # fmt: skip
_KERB_TEXT = {
    "flush kerb": _N("Flush kerb ahead."),
    "lowered kerb": _N("Lowered kerb ahead."),
    "rolled kerb": _N("Rolled kerb ahead."),
    "raised kerb": _N("Raised kerb ahead."),
}
_UNKNOWN = {
    "kerb height at a crossing is not mapped": _N("kerb height at a crossing is not mapped"),
    "surface is not mapped": _N("surface is not mapped"),
    "grade is unknown (no elevation data)": _N("grade is unknown (no elevation data)"),
    "whether the signal is audible is not mapped":
        _N("whether the signal is audible is not mapped"),
    "tactile paving at a crossing is not mapped":
        _N("tactile paving at a crossing is not mapped"),
    "type of crossing is not mapped": _N("type of crossing is not mapped"),
    "street lighting is not mapped": _N("street lighting is not mapped"),
    "number of steps is not mapped": _N("number of steps is not mapped"),
    "whether the road has a sidewalk is not mapped":
        _N("whether the road has a sidewalk is not mapped"),
}  # fmt: skip
_ARRIVED = _N("You have arrived.")
_ELEVATOR = _N("Take the elevator.")


_SIDES = {
    "north": _N("on the north side"),
    "east": _N("on the east side"),
    "south": _N("on the south side"),
    "west": _N("on the west side"),
}
_WALK_SIDE = {
    "continue": _N("Continue along %(road)s %(side)s for %(distance)s."),
    "turn left": _N("Turn left and go along %(road)s %(side)s for %(distance)s."),
    "turn right": _N("Turn right and go along %(road)s %(side)s for %(distance)s."),
    "slight left": _N("Bear left and go along %(road)s %(side)s for %(distance)s."),
    "slight right": _N("Bear right and go along %(road)s %(side)s for %(distance)s."),
    "turn around": _N("Turn around and go along %(road)s %(side)s for %(distance)s."),
}
_ROAD_CLASSES = {
    "path": _N("path"),
    "service road": _N("service road"),
    "street": _N("street"),
    "tertiary road": _N("tertiary road"),
    "secondary road": _N("secondary road"),
    "major road": _N("major road"),
    "tram or railway tracks": _N("tram or railway tracks"),
}
_CONTROLS = {
    "traffic_signals": _N("at traffic lights"),
    "marked": _N("at a marked crossing without signals"),
    "unmarked": _N("at an unmarked crossing"),
    "unknown": _N("where no crossing is mapped (control not known)"),
}
_AUDIBLE = {"yes": _N("with an audible signal"), "no": _N("without an audible signal")}
_TACTILE_PAVING = {"yes": _N("tactile paving present"), "no": _N("no tactile paving")}
_KERBS = {"flush": _N("flush kerbs"), "lowered": _N("lowered kerbs"),
          "rolled": _N("rolled kerbs"), "raised": _N("raised kerbs")}  # fmt: skip


def _crossing(lang: str, params: dict[str, Any]) -> str | None:
    """A crossing step from its ``params`` (see ``routing.instructions.crossing_params``)."""
    what = params.get("road_class")
    if params.get("rails") and what == "path":
        what = "tram or railway tracks"
    if (what is not None and what not in _ROAD_CLASSES) or params.get("control") not in _CONTROLS:
        return None
    detail = [gettext(lang, _ROAD_CLASSES[what])] if what else []
    if params.get("lanes"):
        detail.append(gettext(lang, _N("%(n)s lanes"), n=params["lanes"]))
    road = params.get("road") or ""
    if road and what:
        head = gettext(lang, _N("Cross %(road)s (%(what)s)"), road=road, what=", ".join(detail))
    elif road:  # a crossing mapped as its own way: the road's class is not known
        head = gettext(lang, _N("Cross %(road)s"), road=road)
    elif detail:
        head = gettext(lang, _N("Cross the road (%(what)s)"), what=", ".join(detail))
    else:
        head = gettext(lang, _N("Cross the road"))
    parts = [head + " " + gettext(lang, _CONTROLS[params["control"]])]
    if params.get("audible") is not None:
        parts.append(gettext(lang, _AUDIBLE.get(params["audible"],
                                                _N("audible signal not known"))))
    if params.get("island"):
        parts.append(gettext(lang, _N("with a refuge island")))
    if params.get("rails") and what != "tram or railway tracks":
        parts.append(gettext(lang, _N("rails in the road")))
    parts.append(gettext(lang, _TACTILE_PAVING.get(params.get("tactile"),
                                            _N("tactile paving not known"))))
    kerb = params.get("kerb", "unknown")
    parts.append(gettext(lang, _KERBS[kerb]) if kerb in _KERBS
                 else gettext(lang, _N("kerb height not known")))  # fmt: skip
    return "; ".join(parts) + "."


def _distance(lang: str, metres: float) -> str:
    if metres >= 1000:
        km = f"{metres / 1000:.1f}"
        return gettext(lang, "%(km)s km", km=km if lang == DEFAULT_LANG else km.replace(".", ","))
    return gettext(lang, "%(m)s m", m=f"{metres:.0f}")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


_LANDMARKS = {"bus_stop": _N("Landmark: the bus stop %(name)s, %(distance)s m away."),
              "tram_stop": _N("Landmark: the tram stop %(name)s, %(distance)s m away."),
              "metro_entrance": _N("Landmark: the metro entrance %(name)s, %(distance)s m away.")}
_LANDMARKS_UNNAMED = {"bus_stop": _N("Landmark: a bus stop, %(distance)s m away."),
                      "tram_stop": _N("Landmark: a tram stop, %(distance)s m away."),
                      "metro_entrance": _N("Landmark: a metro entrance, %(distance)s m away.")}


def _notes(lang: str, text: str, params: dict[str, Any]) -> list[str] | None:
    """The notes after a step's main sentence, translated; None if one is not known."""
    out = []
    rest = text.strip()
    landmark = params.get("landmark") or {}
    try:
        landmark_en = render("landmark", landmark) if landmark else None
    except (KeyError, TypeError):
        landmark_en = None
    while rest:
        if landmark_en and rest.startswith(landmark_en) and landmark.get("kind") in _LANDMARKS:
            kind, name = landmark["kind"], landmark.get("name") or ""
            msg = _LANDMARKS[kind] if name else _LANDMARKS_UNNAMED[kind]
            out.append(gettext(lang, msg, name=name,
                               distance=f"{float(landmark.get('distance_m', 0)):.0f}"))
            rest = rest[len(landmark_en):].strip()
            continue
        if m := _STEEP.match(rest):
            msg = (_N("Steep uphill stretch (up to %(percent)s%%).") if m.group(1) == "uphill"
                   else _N("Steep downhill stretch (up to %(percent)s%%)."))  # fmt: skip
            out.append(gettext(lang, msg, percent=m.group(2)))
        elif kerb := next((k for k in _KERB if rest.startswith(k)), None):
            out.append(gettext(lang, _KERB_TEXT[_KERB[kerb]]))
            m = re.match(re.escape(kerb), rest)
        elif m := re.match(r"Note: (.+?)\.(?=\s|$)", rest):
            what = _UNKNOWN.get(m.group(1))
            if what is None:
                return None
            out.append(gettext(lang, "Note: %(what)s.", what=gettext(lang, what)))
        else:
            return None
        rest = rest[m.end():].strip()
    return out


def _main_and_notes(step: dict[str, Any]) -> tuple[str, str]:
    """The step's own sentence and the notes appended to it."""
    text = step.get("instruction", "")
    distance = step.get("distance_m") or 0
    if step.get("code") in ("cross", "walk_side"):
        # the engine's own sentence may hold ". " inside a name ("ул. Абая"): skip past it
        try:
            head = render(step["code"], step.get("params") or {})
        except (KeyError, TypeError):
            head = ""
        if head and text.startswith(head):
            cut = text.find(".", len(head))
            if cut >= 0:
                return text[: cut + 1], text[cut + 1:]
    if distance > 0 and step.get("maneuver") != "cross":
        marker = f" for {distance:.0f} m."
        cut = text.find(marker)
        if cut >= 0:
            return text[: cut + len(marker)], text[cut + len(marker):]
    cut = text.find(". ")
    return (text, "") if cut < 0 else (text[: cut + 1], text[cut + 2:])


def render_step(step: dict[str, Any], lang: str) -> tuple[str, str]:
    """``(instruction, language)`` of one step in ``lang``, or its English when unknown."""
    english = step.get("instruction", "")
    if lang == DEFAULT_LANG:
        return english, DEFAULT_LANG
    main_en, notes_en = _main_and_notes(step)
    maneuver, name, kind = step.get("maneuver"), step.get("name") or "", step.get("kind") or ""
    distance = _distance(lang, float(step.get("distance_m") or 0))
    main: str | None = None
    code, params = step.get("code"), step.get("params") or {}
    if code == "cross":
        main = _crossing(lang, params)
    elif code == "walk_side" and params.get("maneuver") in _WALK_SIDE and params.get(
            "side") in _SIDES:  # fmt: skip
        main = gettext(lang, _WALK_SIDE[params["maneuver"]], road=params.get("road", ""),
                       side=gettext(lang, _SIDES[params["side"]]), distance=distance)  # fmt: skip
    elif maneuver == "arrive":
        main = gettext(lang, _ARRIVED)
    elif maneuver == "elevator" and params.get("levels"):
        main = gettext(lang, _N("Take the elevator (levels %(levels)s)."),
                       levels=str(params["levels"]).replace(";", ", "))
    elif maneuver == "elevator":
        main = gettext(lang, _ELEVATOR)
    elif maneuver == "steps" and (m := _STEPS.match(main_en)):
        count = m.group("count")
        direction = (m.group("dir") or "").strip()
        msg = {("up", True): _N("Go up %(count)s steps"),
               ("down", True): _N("Go down %(count)s steps"),
               ("", True): _N("Take %(count)s steps"), ("up", False): _N("Go up the steps"),
               ("down", False): _N("Go down the steps"), ("", False): _N("Take the steps")}[
            (direction, count is not None)]  # fmt: skip
        parts = [gettext(lang, msg, count=count or "")]
        if m.group("rail"):
            parts.append(gettext(lang, _N("handrail present") if "present" in m.group("rail")
                                 else _N("no handrail")))  # fmt: skip
        if m.group("ramp"):
            parts.append(gettext(lang, _N("ramp beside them")))
        main = ", ".join(parts) + "."
    elif maneuver in _NAMED and name:
        main = gettext(lang, _NAMED[maneuver], name=name, distance=distance)
    elif maneuver in _UNNAMED and kind in _ALONG:
        main = gettext(lang, _UNNAMED[maneuver], along=gettext(lang, _ALONG[kind]),
                       distance=distance)  # fmt: skip
    notes = _notes(lang, notes_en, params) if notes_en else []
    if main is None or notes is None:
        return english, DEFAULT_LANG
    return " ".join([main, *notes]), lang


# -- warnings -------------------------------------------------------------------------------
_STEEP_WARNING = re.compile(r"(\d+) steep stretch\(es\), up to (\d+)%")
_LIMITED = re.compile(r"(\d+) way\(s\) are marked wheelchair=limited")
_VEHICLE = re.compile(r"Whether the (.+) vehicle has a ramp or low floor is not known\.")
_STOP = re.compile(r"Step-free boarding at (.+) is not known\.")
_TACTILE = re.compile(r"Tactile guidance at (.+) is not known\.")


def _warning_text(warning: dict[str, Any], lang: str) -> str | None:
    code, message = warning.get("code", ""), warning.get("message", "")
    if code.startswith("unknown_") and "count" in warning and "length_m" in warning:
        what = next((v for k, v in _UNKNOWN.items() if message.lower().startswith(k)), None)
        if what is None:
            return None
        return gettext(lang, _N("%(what)s on %(count)s way(s) of this route (%(length)s m); "
                                "it may not be accessible."),
                       what=_cap(gettext(lang, what)), count=warning["count"],
                       length=f"{warning['length_m']:.0f}")  # fmt: skip
    patterns: dict[str, tuple[re.Pattern, Callable[[re.Match], str]]] = {
        "steep": (_STEEP_WARNING, lambda m: gettext(lang, _N(
            "%(count)s steep stretch(es), up to %(percent)s%% (grades from 90 m elevation data "
            "are approximate)."), count=m.group(1), percent=m.group(2))),
        "wheelchair_limited": (_LIMITED, lambda m: gettext(lang, _N(
            "%(count)s way(s) are marked wheelchair=limited."), count=m.group(1))),
        "unknown_vehicle_accessibility": (_VEHICLE, lambda m: gettext(lang, _N(
            "Whether the %(route)s vehicle has a ramp or low floor is not known."),
            route=m.group(1))),
        "unknown_stop_accessibility": (_STOP, lambda m: gettext(lang, _N(
            "Step-free boarding at %(stop)s is not known."), stop=m.group(1))),
        "unknown_tactile_guidance": (_TACTILE, lambda m: gettext(lang, _N(
            "Tactile guidance at %(stop)s is not known."), stop=m.group(1))),
    }  # fmt: skip
    if code not in patterns:
        return None
    pattern, render = patterns[code]
    m = pattern.search(message)
    return render(m) if m else None


def render_warning(warning: dict[str, Any], lang: str) -> dict[str, Any]:
    """A copy of ``warning`` with its ``message`` in ``lang`` and ``message_lang``."""
    out = dict(warning)
    text = None if lang == DEFAULT_LANG else _warning_text(warning, lang)
    out["message"] = text or warning.get("message", "")
    out["message_lang"] = lang if text or lang == DEFAULT_LANG else DEFAULT_LANG
    return out


# -- whole answers ----------------------------------------------------------------------------
def localize_route(body: dict[str, Any], lang: str) -> dict[str, Any]:
    """A ``/route`` body (or a no-route error's walking route) with its texts in ``lang``.

    Steps and warnings get ``instruction_lang`` / ``message_lang``, the body ``lang``.
    """
    out = dict(body)
    steps = []
    for step in body.get("steps") or []:
        text, text_lang = render_step(step, lang)
        steps.append(dict(step, instruction=text, instruction_lang=text_lang))
    out["steps"] = steps
    out["warnings"] = [render_warning(w, lang) for w in body.get("warnings") or []]
    out["lang"] = lang
    return out


def localize_plan(body: dict[str, Any], lang: str) -> dict[str, Any]:
    """A ``/plan`` body with every leg's steps and warnings in ``lang``."""
    out = dict(body, lang=lang)
    itineraries = []
    for itinerary in body.get("itineraries") or []:
        legs = [localize_route(leg, lang) if leg.get("steps") is not None
                else dict(leg, warnings=[render_warning(w, lang)
                                         for w in leg.get("warnings") or []])
                for leg in itinerary.get("legs") or []]  # fmt: skip
        itineraries.append(dict(itinerary, legs=legs, warnings=[
            render_warning(w, lang) for w in itinerary.get("warnings") or []]))  # fmt: skip
    out["itineraries"] = itineraries
    return out


_ERRORS = {
    "outside_area": _N("This point is outside the area the service covers."),
    "transit_unavailable": _N("Public transport planning is not available on this server."),
}
_BLOCK_REASONS = {
    "steps without a ramp": _N("steps without a ramp"),
    "uphill grade over the limit": _N("uphill grade over the limit"),
    "downhill grade over the limit": _N("downhill grade over the limit"),
    "raised kerb": _N("raised kerb"),
    "unsuitable surface": _N("unsuitable surface"),
    "way narrower than the minimum width": _N("way narrower than the minimum width"),
    "marked not wheelchair accessible": _N("marked not wheelchair accessible"),
    "barrier (turnstile, stile or similar)": _N("barrier (turnstile, stile or similar)"),
    "closed way": _N("closed way"),
    "elevator out of service": _N("elevator out of service"),
    "long flight of steps": _N("long flight of steps"),
    "escalator": _N("escalator"),
}


def _no_route_summary(error: dict[str, Any], lang: str) -> str:
    """What a person needs to know about a no-route answer, from its structure."""
    barriers = error.get("barriers") or []
    field = error.get("field")
    if barriers:
        return gettext(lang, _N("The walking route is blocked for this traveller in %(count)s "
                                "place(s), listed below."), count=len(barriers))  # fmt: skip
    if field == "from":
        return gettext(lang, _N("There is no way this traveller can use near the start."))
    if field == "to":
        return gettext(lang, _N("There is no way this traveller can use near the destination."))
    if error.get("walking_route"):
        return gettext(lang, _N("Every way out of the area around the start or the destination "
                                "is blocked for this traveller."))  # fmt: skip
    return gettext(lang, _N("The start and the destination are not connected in the map's "
                            "walking network (different parts of the map, or a gap in the map "
                            "data)."))  # fmt: skip


def _barrier(barrier: dict[str, Any], lang: str) -> dict[str, Any]:
    reasons = [_BLOCK_REASONS.get(r) for r in barrier.get("reasons") or []]
    if lang == DEFAULT_LANG or None in reasons or not reasons:
        return dict(barrier, message=barrier.get("description", ""), message_lang=DEFAULT_LANG)
    what = ", ".join(gettext(lang, r) for r in reasons if r)
    where = barrier.get("name") or ""
    text = (gettext(lang, _N("%(what)s at %(where)s"), what=_cap(what), where=where) if where
            else _cap(what))  # fmt: skip
    return dict(barrier, message=text, message_lang=lang)


def localize_error(error: dict[str, Any], lang: str) -> dict[str, Any]:
    """An error body with its texts in ``lang`` where known, marked with ``message_lang``.

    A known ``code`` gets a plain ``message`` (the engine's English kept as ``detail``);
    a ``no_route`` error also gets a ``summary`` in every language (English included) said
    from its structure, its barriers a ``message`` each, and its walking route localized.
    """
    out = dict(error)
    if error.get("walking_route"):
        out["walking_route"] = localize_route(error["walking_route"], lang)
    if error.get("code") == "no_route":
        out["summary"] = _no_route_summary(error, lang)
        out["barriers"] = [_barrier(b, lang) for b in error.get("barriers") or []]
    if error.get("code") in _ERRORS:
        out["detail"] = error.get("message", "")
        out["message"] = gettext(lang, _ERRORS[error["code"]])
        out["message_lang"] = lang
    else:
        out["message_lang"] = DEFAULT_LANG
    return out
