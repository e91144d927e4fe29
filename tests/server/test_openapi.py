"""The OpenAPI contract: every route documented, fragments merged safely, answers conform.

schemathesis generates requests from ``/openapi.json`` (bounded examples, so the suite stays
fast) and checks that no answer is a 5xx or breaks the documented statuses, media types and
schemas.
"""

from __future__ import annotations

import re
import sys
import types

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from jsonschema_rs import Draft202012Validator
from schemathesis import checks as st_checks

from server import BLUEPRINTS
from server.openapi import build_spec

UNDOCUMENTED_ENDPOINTS = {"static"}  # Flask's static files (the web page's script and styles)
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
]


def test_every_flask_route_is_documented_and_every_documented_route_exists(app: Flask) -> None:
    spec = app.extensions["inclusive_routing_openapi"]
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDOCUMENTED_ENDPOINTS:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method.lower()))
    documented = {(p, m) for p, ops in spec["paths"].items() for m in ops}
    assert served - documented == set(), "routes without an OpenAPI description"
    assert documented - served == set(), "OpenAPI describes routes the app does not serve"


def test_openapi_json_is_served_and_its_schemas_are_valid(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    for name, schema in spec["components"]["schemas"].items():
        assert isinstance(schema, dict), name
        Draft202012Validator({**schema, "components": spec["components"]})  # compiles
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            assert op["responses"], f"{method} {path} documents no response"
            assert "503" in op["responses"], f"{method} {path} must document load shedding"


def test_docs_page_renders_from_the_spec_without_a_cdn(client: FlaskClient) -> None:
    page = client.get("/docs").get_data(as_text=True)
    assert "/openapi.json" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page), "no external resources"


def test_a_path_defined_twice_is_an_error_at_start_up() -> None:
    twin = types.ModuleType("tests_openapi_twin")
    twin.OPENAPI = {"paths": {"/route": {"get": {"responses": {}}}}}
    sys.modules[twin.__name__] = twin
    try:
        with pytest.raises(ValueError, match="GET /route is defined twice"):
            build_spec([*BLUEPRINTS, twin.__name__])
    finally:
        del sys.modules[twin.__name__]


# -- schemathesis -------------------------------------------------------------------------
OPERATIONS = [(path, method) for path, ops in build_spec(BLUEPRINTS)["paths"].items()
              for method in ops]  # fmt: skip


@pytest.fixture(scope="module")
def api_schema(plan_app: Flask):
    return schemathesis.openapi.from_wsgi("/openapi.json", plan_app)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_api_conforms_to_its_openapi_document(api_schema, path: str, method: str) -> None:
    operation = api_schema[path][method.upper()]

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def conforms(case) -> None:
        case.call_and_validate(checks=CHECKS)

    conforms()
