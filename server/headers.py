"""Response headers for every answer: caching, CORS (off unless configured) and security.

Config keys (see :data:`server.DEFAULT_CONFIG`):

``CORS_ORIGINS``
    Origins allowed to call the API from a browser page on another site: a list of
    ``scheme://host[:port]`` strings, or ``["*"]`` for any. Empty (the default): no CORS
    headers, so browsers keep other sites' pages from reading the answers.
``CONTENT_SECURITY_POLICY``
    The ``Content-Security-Policy`` of every answer (the pages load nothing from elsewhere).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

#: Endpoints whose answers change only when the server restarts with other data.
CACHEABLE_ENDPOINTS = frozenset({"profiles.list_profiles", "openapi.openapi_document"})

#: How long browsers and proxies may keep a cacheable answer.
CACHEABLE_MAX_AGE_S = 300

DEFAULT_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; worker-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


_SECURITY_KEYS = [(name.lower(), name, value) for name, value in SECURITY_HEADERS.items()]


def add_headers(response: Response) -> Response:
    """``after_request`` hook: Cache-Control, CORS and security headers.

    Headers the response already has are kept; the others are added in one go (werkzeug
    looks a header name up by scanning the list, so one check each would scan it again).
    """
    headers = response.headers
    present = {key.lower() for key in headers.keys()}
    added = []
    if "cache-control" not in present:
        if response.status_code >= 400:
            added.append(("Cache-Control", "no-store"))
        elif request.endpoint in CACHEABLE_ENDPOINTS:
            added.append(("Cache-Control", f"public, max-age={CACHEABLE_MAX_AGE_S}"))
        else:
            added.append(("Cache-Control", "no-cache"))
    added.extend((name, value) for key, name, value in _SECURITY_KEYS if key not in present)
    if "content-security-policy" not in present:
        csp = current_app.config.get("CONTENT_SECURITY_POLICY") or DEFAULT_CSP
        added.append(("Content-Security-Policy", csp))
    headers.extend(added)
    _cors(response)
    return response


def _cors(response: Response) -> None:
    origins = current_app.config.get("CORS_ORIGINS") or ()
    origin = request.headers.get("Origin")
    if not origins or not origin:
        return
    if "*" in origins:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin in origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers.add("Vary", "Origin")
    else:
        return
    if request.method == "OPTIONS":  # a preflight
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
    response.headers["Access-Control-Expose-Headers"] = "Retry-After"


def register_headers(app: Flask) -> None:
    """Install :func:`add_headers` on ``app``."""
    app.after_request(add_headers)
