"""The OpenAPI document is true: every public route documented and vice versa, and a
generated request to any operation gets a documented status, never a 500."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

_METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH"}


def _openapi_path(rule: str) -> str:
    """Flask's /doc/<path:rest> in OpenAPI's spelling: /doc/{rest}."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_route_is_documented_and_every_documented_route_exists(app, client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, item in document["paths"].items()
                  for method in item}
    served = {(_openapi_path(rule.rule), method) for rule in app.url_map.iter_rules()
              for method in rule.methods & _METHODS}
    assert served - documented == set(), "routes missing from /openapi.json"
    assert documented - served == set(), "/openapi.json documents routes that do not exist"


def test_path_parameters_match_the_routes(client):
    document = client.get("/openapi.json").get_json()
    for path, item in document["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for operation in item.values():
            given = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert given == names, path


def test_the_document_is_valid_openapi_3(client):
    from jsonschema import Draft4Validator

    document = client.get("/openapi.json").get_json()
    assert document["servers"][0]["url"].startswith("http://localhost")
    # The structural rules that matter to clients: responses per operation, typed parameters.
    for item in document["paths"].values():
        for operation in item.values():
            assert operation["responses"] and "summary" in operation
            for parameter in operation.get("parameters", []):
                Draft4Validator.check_schema(parameter["schema"])


@pytest.mark.live
def test_generated_requests_get_documented_answers(live_server):
    """schemathesis, through its Python API (its pytest plugin does not support the pytest
    this project runs): 25 generated requests per operation, each checked against the
    document (status, content type, headers) and for server errors."""
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            # Any string is a schema-valid SPARQL text or search term, yet most are not
            # valid queries, so 'positive data acceptance' cannot hold; the other checks do.
            case.call_and_validate(timeout=15, excluded_checks=[positive_data_acceptance])

        check()
        checked += 1
    assert checked >= 20
