"""Request parsing shared by the HTTP endpoints (``/route``, ``/plan``) and the CLI.

Everything a client sends is checked here, strictly, and turned into an
:class:`~routing.errors.InvalidInputError` (HTTP 400) that names the offending field.
Nothing a client sends may reach the generic 500 handler.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Request

from routing.cost.profiles import PARAMETERS, PROFILE_NAMES, PROFILES, Profile, get_profile
from routing.errors import InvalidInputError, InvalidParameterError
from routing.transit.planner import parse_departure

LatLon = tuple[float, float]

#: A plain decimal number (no ``nan``, ``inf``, ``1_000`` or hex, which ``float`` accepts).
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

#: The keys of a ``/route`` request that are not profile parameters.
ROUTE_KEYS = ("from", "to", "profile", "format", "lang")

#: The keys of a ``/plan`` request that are not profile parameters.
PLAN_KEYS = ("from", "to", "profile", "time", "arrive_by", "window", "num_itineraries",
             "max_transfers", "lang")  # fmt: skip

#: Allowed ``window`` (minutes of departure moments searched) of a ``/plan`` request.
WINDOW_RANGE = (0, 180)

#: Allowed ``num_itineraries`` of a ``/plan`` request.
NUM_ITINERARIES_RANGE = (1, 12)

#: Longest parameter name (and ``time`` text) accepted; longer ones are refused, not echoed.
MAX_KEY_LENGTH = 64

#: Allowed ``max_transfers`` (vehicle changes) of a ``/plan`` request.
MAX_TRANSFERS_RANGE = (0, 6)

#: Years a ``/plan`` time may fall in (guards date arithmetic near year 1 and 9999).
TIME_YEARS = (1900, 2199)

_JSON_TYPES = ("application/json",)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class InvalidJSONError(InvalidInputError):
    """The request body is not a valid JSON object."""

    code = "invalid_json"


class UnknownOptionError(InvalidInputError):
    """A request key that is neither an option of the endpoint nor a profile parameter."""

    code = "unknown_option"


# -- the request ------------------------------------------------------------------------
def request_values(request: Request) -> dict[str, Any]:
    """The request's parameters: the query string, then the body (JSON object or form).

    Parameters
    ----------
    request
        The Flask request.

    Returns
    -------
    dict
        One value per key. Body keys override query-string keys.

    Raises
    ------
    InvalidInputError
        A key is given more than once in the query string or form.
    InvalidJSONError
        The body is not valid JSON, or is JSON but not an object.
    """
    values: dict[str, Any] = _single_values(request.args, "query string")
    if request.method in ("POST", "PUT", "PATCH"):
        if request.mimetype in _FORM_TYPES:
            values.update(_single_values(request.form, "form"))
        else:
            raw = request.get_data(cache=True)
            if raw.strip() or request.mimetype in _JSON_TYPES:
                values.update(parse_json_object(raw))
    for key in values:
        if len(key) > MAX_KEY_LENGTH:  # no parameter name is this long; don't echo it whole
            raise InvalidInputError(f"unknown parameter {_show(key)}", field=clip(key))
    return values


def parse_json_object(raw: bytes | str) -> dict[str, Any]:
    """Decode a request body that must be one JSON object.

    Raises
    ------
    InvalidJSONError
        Empty, undecodable, not JSON, or JSON that is not an object.
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        body = json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise InvalidJSONError("request body is not UTF-8 text", field="body") from None
    except RecursionError:  # arrays or objects nested about a thousand levels deep
        raise InvalidJSONError("request body is nested too deeply", field="body") from None
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise InvalidJSONError(f"request body is not valid JSON: {exc}", field="body") from None
    if not isinstance(body, dict):
        raise InvalidJSONError(
            f"request body must be a JSON object, got {type(body).__name__}", field="body"
        )
    return body


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in JSON")


def _single_values(multi: Any, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, items in multi.lists():
        if len(items) > 1:
            raise InvalidInputError(f"{_show(key)} is given {len(items)} times in the {where}",
                                    field=clip(key))  # fmt: skip
        out[key] = items[0]
    return out


# -- values ---------------------------------------------------------------------------
def parse_number(raw: Any, field: str) -> float:
    """A finite number from a JSON number or a decimal string; booleans are refused."""
    if isinstance(raw, bool) or raw is None:
        raise InvalidInputError(f"'{field}' must be a number, got {json.dumps(raw)}", field=field)
    if isinstance(raw, int | float):
        try:
            value = float(raw)
        except OverflowError:  # a JSON integer of hundreds of digits
            value = math.inf
    elif isinstance(raw, str) and _NUMBER.fullmatch(raw.strip()):
        value = float(raw.strip())
    else:
        raise InvalidInputError(f"'{field}' must be a number, got {_show(raw)}", field=field)
    if not math.isfinite(value):
        raise InvalidInputError(f"'{field}' must be a finite number", field=field)
    return value


def parse_point(raw: Any, field: str) -> LatLon:
    """A WGS84 ``(lat, lon)`` from ``"lat,lon"``, ``[lat, lon]`` or ``{"lat":..,"lon":..}``.

    Parameters
    ----------
    raw
        The value as sent; ``None`` or ``""`` means missing.
    field
        The field name, used in error messages (``from``, ``to``...).

    Raises
    ------
    InvalidInputError
        Missing, malformed, or latitude/longitude outside [-90, 90] / [-180, 180].
    """
    hint = f"give '{field}' as lat,lon in decimal degrees, e.g. 43.2383,76.9453"
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidInputError(f"missing '{field}': {hint}", field=field)
    if isinstance(raw, str):
        parts = raw.split(",")
    elif isinstance(raw, list | tuple):
        parts = list(raw)
    elif isinstance(raw, Mapping):
        if set(raw) != {"lat", "lon"}:
            raise InvalidInputError(
                f"'{field}' as an object must have exactly the keys 'lat' and 'lon', "
                f"got {sorted(map(str, raw))}", field=field)  # fmt: skip
        parts = [raw["lat"], raw["lon"]]
    else:
        raise InvalidInputError(f"malformed '{field}' {_show(raw)}: {hint}", field=field)
    if len(parts) != 2:
        raise InvalidInputError(
            f"malformed '{field}' {_show(raw)}: expected 2 numbers, got {len(parts)}; {hint}",
            field=field,
        )
    try:
        lat, lon = (parse_number(p, field) for p in parts)
    except InvalidInputError:
        raise InvalidInputError(f"malformed '{field}' {_show(raw)}: {hint}", field=field) from None
    if not -90.0 <= lat <= 90.0:
        swapped = " (latitude comes first: did you swap lat and lon?)" if abs(lon) <= 90 else ""
        raise InvalidInputError(
            f"'{field}' latitude {lat:g} is outside [-90, 90]{swapped}", field=field
        )
    if not -180.0 <= lon <= 180.0:
        raise InvalidInputError(f"'{field}' longitude {lon:g} is outside [-180, 180]", field=field)
    return lat, lon


def parse_choice(raw: Any, field: str, choices: Collection[str], default: str) -> str:
    """One of ``choices``; ``None``/``""`` gives ``default``."""
    if raw is None or raw == "":
        return default
    if not isinstance(raw, str) or raw not in choices:
        raise InvalidInputError(
            f"'{field}' must be one of {', '.join(choices)}, got {_show(raw)}", field=field
        )
    return raw


def parse_profile(values: Mapping[str, Any], reserved: Collection[str]) -> Profile:
    """The requested profile; every key not in ``reserved`` is a parameter override.

    Parameters
    ----------
    values
        The request's parameters (see :func:`request_values`).
    reserved
        Keys the endpoint reads itself (``from``, ``to``, ``profile``...).

    Raises
    ------
    InvalidInputError
        Missing or unknown profile; an override that is unknown, malformed or out of range
        (an :class:`~routing.errors.InvalidParameterError` naming the parameter).
    """
    name = values.get("profile")
    if name is not None and not isinstance(name, str):
        raise InvalidInputError(f"'profile' must be a profile name, got {_show(name)}",
                                field="profile")  # fmt: skip
    name = name.strip() if name else name
    if name and name not in PROFILES:
        raise InvalidInputError(f"unknown profile '{clip(name)}' (one of: "
                                f"{', '.join(PROFILE_NAMES)})", field="profile")  # fmt: skip
    base = get_profile(name)  # missing profile
    overrides = {k: v for k, v in values.items() if k not in reserved}
    for key in overrides:
        if key not in PARAMETERS:
            raise UnknownOptionError(
                f"unknown option '{key}': it is neither an option of this request "
                f"({', '.join(reserved)}) nor a profile parameter (see /profiles)",
                field=key,
            )
    for key, value in overrides.items():
        if key not in base.parameters:
            continue  # get_profile names it as unknown for this profile
        if isinstance(value, dict | list):  # Parameter.parse expects a scalar
            raise InvalidParameterError(
                f"parameter '{key}' must be a number or true/false, got {_show(value)}",
                field=key,
            )
        if PARAMETERS[key].kind is not bool:
            # Parameter.parse uses float(), which also takes true, "nan" and "1_000".
            try:
                parse_number(value, key)
            except InvalidInputError:
                raise InvalidParameterError(
                    f"parameter '{key}' must be a number, got {_show(value)}", field=key
                ) from None
    return _profile(name, tuple(overrides.items()))


@functools.lru_cache(maxsize=512)
def _profile(name: str | None, overrides: tuple[tuple[str, Any], ...]) -> Profile:
    """The profile with its overrides, validated once per distinct request (profiles are
    immutable values): a repeated override costs a look-up, not a validation, and the same
    object keys the engine's per-profile caches."""
    return get_profile(name, dict(overrides))


def parse_route_request(values: Mapping[str, Any]) -> tuple[LatLon, LatLon, Profile, str]:
    """``(origin, destination, profile, format)`` of a ``/route`` request.

    Fields are checked in the order from, to, profile, format, so the first problem is
    reported.
    """
    origin = parse_point(values.get("from"), "from")
    destination = parse_point(values.get("to"), "to")
    profile = parse_profile(values, ROUTE_KEYS)
    fmt = parse_choice(values.get("format"), "format", ("json", "geojson"), "json")
    return origin, destination, profile, fmt


def parse_integer(raw: Any, field: str, minimum: int, maximum: int) -> int:
    """An integer in ``[minimum, maximum]`` from a JSON integer or a decimal string.

    Raises
    ------
    InvalidInputError
        Not an integer (booleans, fractions and other text are refused) or out of range.
    """
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise InvalidInputError(f"'{field}' must be a whole number from {minimum} to {maximum}, "
                                f"got {_show(raw)}", field=field)  # fmt: skip
    if isinstance(raw, str):
        if not re.fullmatch(r"[+-]?\d{1,9}", raw.strip()):
            raise InvalidInputError(f"'{field}' must be a whole number from {minimum} to "
                                    f"{maximum}, got {_show(raw)}", field=field)  # fmt: skip
        raw = int(raw.strip())
    if not minimum <= raw <= maximum:
        raise InvalidInputError(f"'{field}' {raw} is outside the allowed range {minimum} to "
                                f"{maximum}", field=field)  # fmt: skip
    return raw


def parse_time(raw: Any, field: str = "time") -> dt.datetime:
    """A departure time: ISO 8601, the feed's local time when it has no offset; missing is now.

    Parameters
    ----------
    raw
        The value as sent; ``None`` or ``""`` means now.
    field
        The field name used in error messages.

    Returns
    -------
    datetime
        An aware time, or a naive one (no offset was given) that the planner reads as
        local time of its feed (``agency_timezone``).

    Raises
    ------
    InvalidInputError
        Not a string, not ISO 8601, or outside the years :data:`TIME_YEARS`.
    """
    if raw is None or raw == "":
        return parse_departure(None, tz=None)
    if not isinstance(raw, str):
        raise InvalidInputError(f"'{field}' must be an ISO 8601 date-time string such as "
                                f"2026-12-07T08:00, got {_show(raw)}", field=field)  # fmt: skip
    first, last = TIME_YEARS
    if len(raw) > MAX_KEY_LENGTH:  # no ISO 8601 time is this long; don't echo it whole
        raise InvalidInputError(f"'{field}' {_show(raw)} is not an ISO 8601 date-time",
                                field=field)  # fmt: skip
    try:
        when = parse_departure(raw, tz=None)  # naive: the feed's local time
    except OverflowError:  # an offset that pushes year 1 or 9999 out of range
        when = None
    if when is None or not first <= when.year <= last:
        raise InvalidInputError(f"'{field}' {_show(raw)} is outside the years {first} to {last}",
                                field=field)  # fmt: skip
    return when


@dataclass(frozen=True)
class PlanRequest:
    """A checked ``/plan`` request.

    Attributes
    ----------
    origin, destination
        ``(lat, lon)`` of the start and the destination.
    profile
        The traveller's profile, overrides applied.
    when
        The departure time, or the latest arrival when ``arrive_by`` (aware; naive means
        local time of the feed).
    max_transfers
        Vehicle changes allowed; None for the planner's default.
    arrive_by
        ``when`` is the latest arrival.
    window_s
        Seconds of departure moments to search (0: one moment).
    num_itineraries
        How many itineraries to return; None for the planner's default.
    """

    origin: LatLon
    destination: LatLon
    profile: Profile
    when: dt.datetime
    max_transfers: int | None
    arrive_by: bool = False
    window_s: int = 0
    num_itineraries: int | None = None


def parse_plan_request(values: Mapping[str, Any]) -> PlanRequest:
    """The checked fields of a ``/plan`` request.

    Fields are checked in the order from, to, profile (with its overrides), time,
    max_transfers, arrive_by, window, num_itineraries, so the first problem is reported.

    Raises
    ------
    InvalidInputError
        A field is missing or malformed; ``field`` names it.
    """
    origin = parse_point(values.get("from"), "from")
    destination = parse_point(values.get("to"), "to")
    profile = parse_profile(values, PLAN_KEYS)
    when = parse_time(values.get("time"))
    raw = values.get("max_transfers")
    low, high = MAX_TRANSFERS_RANGE
    max_transfers = None if raw is None or raw == "" else parse_integer(raw, "max_transfers",
                                                                         low, high)  # fmt: skip
    arrive_by = parse_bool(values.get("arrive_by"), "arrive_by")
    raw = values.get("window")
    window = 0 if raw is None or raw == "" else parse_integer(raw, "window", *WINDOW_RANGE)
    raw = values.get("num_itineraries")
    count = None if raw is None or raw == "" else parse_integer(raw, "num_itineraries",
                                                                *NUM_ITINERARIES_RANGE)  # fmt: skip
    return PlanRequest(origin, destination, profile, when, max_transfers, arrive_by,
                       window * 60, count)  # fmt: skip


def parse_bool(raw: Any, field: str) -> bool:
    """``true``/``false`` (JSON booleans, or ``true``, ``false``, ``1``, ``0`` as text);
    missing is false."""
    if raw is None or raw == "":
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "1", "false", "0"):
        return raw.strip().lower() in ("true", "1")
    raise InvalidInputError(f"'{field}' must be true or false, got {_show(raw)}", field=field)


def parse_key_value(text: str, field: str = "param") -> tuple[str, str]:
    """``KEY=VALUE`` (for ``--param``) as ``(key, value)``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InvalidInputError(f"'{field}' must look like KEY=VALUE, got {text!r}", field=field)
    return key.strip(), value.strip()


def clip(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters (ending in ``...`` when cut)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(raw: Any) -> str:
    """A short JSON rendering of a client's value for an error message (at most 80 chars)."""
    if isinstance(raw, str):
        raw = clip(raw, 200)  # don't encode megabytes only to cut them
    try:
        text = json.dumps(raw, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = type(raw).__name__
    return clip(text)


#: Bounds of a ``POST /plan/distribution`` request (its answer grows with their product).
DISTRIBUTION_KEYS = ("from", "targets", "profile", "time", "window", "step", "percentiles",
                     "max_transfers")  # fmt: skip
MAX_TARGETS = 50
DISTRIBUTION_WINDOW_RANGE = (0, 180)
STEP_RANGE = (1, 60)


@dataclass(frozen=True)
class DistributionRequest:
    """A checked ``/plan/distribution`` request (times in seconds)."""

    origin: LatLon
    targets: list[LatLon]
    profile: Profile
    when: dt.datetime
    window_s: int
    step_s: int
    percentiles: tuple[int, ...]
    max_transfers: int | None


def parse_distribution_request(values: Mapping[str, Any]) -> DistributionRequest:
    """The checked fields of a ``/plan/distribution`` request.

    ``targets`` is a list of 1 to :data:`MAX_TARGETS` points; ``window`` minutes (default
    120), ``step`` minutes (default 5), ``percentiles`` a list of up to 9 whole numbers from
    1 to 99 (default ``[10, 50, 90]``).
    """
    origin = parse_point(values.get("from"), "from")
    raw = values.get("targets")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_TARGETS:
        raise InvalidInputError(f"'targets' must be a list of 1 to {MAX_TARGETS} points "
                                f"([lat, lon] or {{\"lat\", \"lon\"}}), got {_show(raw)}",
                                field="targets")  # fmt: skip
    targets = [parse_point(p, f"targets[{i}]") for i, p in enumerate(raw)]
    profile = parse_profile(values, DISTRIBUTION_KEYS)
    when = parse_time(values.get("time"))
    raw = values.get("window")
    window = 120 if raw is None or raw == "" else parse_integer(raw, "window",
                                                                 *DISTRIBUTION_WINDOW_RANGE)
    raw = values.get("step")
    step = 5 if raw is None or raw == "" else parse_integer(raw, "step", *STEP_RANGE)
    raw = values.get("percentiles")
    if raw is None:
        percentiles: tuple[int, ...] = (10, 50, 90)
    elif not isinstance(raw, list) or not 1 <= len(raw) <= 9:
        raise InvalidInputError(f"'percentiles' must be a list of 1 to 9 whole numbers from 1 "
                                f"to 99, got {_show(raw)}", field="percentiles")  # fmt: skip
    else:
        percentiles = tuple(parse_integer(q, "percentiles", 1, 99) for q in raw)
    raw = values.get("max_transfers")
    low, high = MAX_TRANSFERS_RANGE
    max_transfers = None if raw is None or raw == "" else parse_integer(raw, "max_transfers",
                                                                         low, high)  # fmt: skip
    return DistributionRequest(origin, targets, profile, when, window * 60, step * 60,
                               percentiles, max_transfers)  # fmt: skip
