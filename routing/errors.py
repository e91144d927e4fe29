"""The engine's errors, one module for all of them (as in osmnx's ``_errors``).

Each error carries a stable machine-readable ``code`` and the HTTP status the API maps it
to, so that the server never has to guess and never answers 500 for a client's input.
"""

from __future__ import annotations

from typing import Any


class RoutingError(Exception):
    """Base class of every error the engine raises on purpose."""

    code = "routing_error"
    http_status = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        body.update({k: v for k, v in self.details.items() if v is not None})
        return body


class InvalidInputError(RoutingError):
    """A request value is missing or malformed; ``field`` names it."""

    code = "invalid_input"
    http_status = 400

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message, field=field, **details)
        self.field = field


class InvalidParameterError(InvalidInputError):
    """A profile parameter override is unknown or outside its allowed range."""

    code = "invalid_parameter"


class OutsideAreaError(InvalidInputError):
    """A requested point lies outside the area the loaded graph covers."""

    code = "outside_area"


class NoRouteError(RoutingError):
    """No route exists for the profile; ``details`` say what blocks it."""

    code = "no_route"
    http_status = 422


class OutsideServiceError(NoRouteError):
    """The requested date lies outside the dates a transit feed's calendar covers."""

    code = "outside_feed_calendar"


class DataError(RoutingError):
    """An input data file (OSM, DEM, overlay, GTFS) is missing or broken.

    The message names the file and, where it applies, the line/row and field.
    """

    code = "data_error"
    http_status = 500

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, path=path, line=line, field=field, **details)
        self.path = path
        self.line = line
        self.field = field


class OverlayError(DataError):
    """A row of an accessibility overlay file is invalid."""

    code = "overlay_error"


class GtfsError(DataError):
    """A GTFS feed is broken; names file, row and field."""

    code = "gtfs_error"


class DeadlineExceededError(RoutingError):
    """A computation ran past its time limit (see :mod:`routing.deadline`).

    The server answers 503 with ``Retry-After``: the request may succeed when the machine
    is less busy, or with a smaller request.
    """

    code = "deadline_exceeded"
    http_status = 503


class ScenarioError(InvalidInputError):
    """A planner's scenario file is invalid: names the file, the JSON path and the field."""

    code = "invalid_scenario"

    def __init__(self, message: str, *, path: str | None = None, json_path: str | None = None,
                 field: str | None = None, **details: Any) -> None:  # fmt: skip
        super().__init__(message, field=field, path=path, json_path=json_path, **details)
        self.path = path
        self.json_path = json_path
