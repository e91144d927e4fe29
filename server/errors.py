"""JSON error responses: ``{"error": {"code": ..., "message": ...}}`` for every failure.

- :class:`~routing.errors.RoutingError` -> its own ``http_status`` and ``to_dict()``
  (400 for bad input, 422 for no route, 500 for a server-side data problem);
- HTTP errors raised by Flask/werkzeug (404 unknown path, 405 wrong method, 400...) -> their
  status, with a snake_case ``code`` such as ``not_found`` or ``method_not_allowed``;
- anything else -> 500 ``internal_error``, logged with its traceback. Client input must never
  get here: :mod:`server.params` turns every bad value into a 400 first.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from routing.errors import DeadlineExceededError, RoutingError
from server.i18n import language_asked, request_lang
from server.messages import localize_error
from server.overload import OverloadedError

log = logging.getLogger(__name__)

#: Longest error message and field name an answer carries (client input is clipped).
MAX_MESSAGE_LENGTH = 2000
MAX_FIELD_LENGTH = 100


def error_response(status: int, code: str, message: str, **details: object) -> Response:
    """A JSON error response with the API's error shape."""
    body = {"code": code, "message": message}
    body.update({k: v for k, v in details.items() if v is not None})
    response = jsonify({"error": body})
    response.status_code = status
    return response


def handle_routing_error(err: RoutingError) -> Response:
    """A deliberate engine error: its status and its ``to_dict()``."""
    if err.http_status >= 500 and not isinstance(err, OverloadedError | DeadlineExceededError):
        # (those two are logged once per overload episode, by server.overload)
        log.error("%s %s failed: %s", request.method, request.path, err.message)
    body = err.to_dict()
    if language_asked():
        body = localize_error(body, request_lang(strict=False))
    # A backstop: client input echoed in a message or field name never makes a big answer.
    for key, limit in (("message", MAX_MESSAGE_LENGTH), ("detail", MAX_MESSAGE_LENGTH),
                       ("field", MAX_FIELD_LENGTH)):
        text = body.get(key)
        if isinstance(text, str) and len(text) > limit:
            body[key] = text[: limit - 3] + "..."
    response = jsonify({"error": body})
    response.status_code = err.http_status
    retry_after = getattr(err, "retry_after_s", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def handle_http_exception(err: HTTPException) -> Response:
    """404, 405 and the other HTTP errors, as JSON (keeping headers such as ``Allow``)."""
    status = err.code or 500
    code = _snake(err.name) if err.name else "http_error"
    message = err.description or err.name or "HTTP error"
    if status == 404:
        message = f"no such endpoint: {request.method} {request.path}"
    details: dict[str, object] = {}
    if status == 405:
        allowed = sorted(m for m in (getattr(err, "valid_methods", None) or [])
                         if m not in ("HEAD", "OPTIONS"))  # fmt: skip
        message = f"{request.method} is not allowed on {request.path}"
        if allowed:
            message += f"; use {' or '.join(allowed)}"
            details["allowed"] = allowed
    response = error_response(status, code, message, **details)
    for name, value in err.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_unexpected(err: Exception) -> Response:
    """Any other exception: log it, answer a 500 without internals."""
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(
        500, "internal_error", "internal server error; the details are in the server log"
    )


def register_error_handlers(app: Flask) -> None:
    """Install the JSON error handlers on ``app``."""
    app.register_error_handler(RoutingError, handle_routing_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
