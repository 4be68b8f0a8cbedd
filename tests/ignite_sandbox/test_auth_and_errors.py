"""Bearer auth everywhere (401, the JWT message, no token echo) and one error shape for all."""

from __future__ import annotations

import pytest
import requests
from ignite_sandbox.launcher import RunningSandbox

from tests.ignite_sandbox.helpers import Api, assert_error

PROTECTED = [
    ("GET", "/tables/"),
    ("POST", "/tables/spend/rows"),
    ("POST", "/tables/spend/exports"),
    ("GET", "/exports/x"),
    ("GET", "/repositories/"),
    ("POST", "/import/"),
    ("POST", "/import/file/"),
    ("GET", "/datatables/"),
    ("GET", "/export/?dataTableId=x"),
    ("GET", "/_sandbox/imports"),
    ("POST", "/_sandbox/faults"),
    ("POST", "/_sandbox/cursors/expire"),
]

DOCUMENTED_PATHS = (
    "/tables/",
    "/tables/{entity}/rows",
    "/tables/{entity}/exports",
    "/exports/{export_id}",
    "/repositories/",
    "/import/",
    "/import/file/",
    "/datatables/",
    "/export/",
)


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_endpoint_needs_the_token(sandbox: RunningSandbox, method: str, path: str) -> None:
    url = f"{sandbox.url}{path}"
    assert_error(requests.request(method, url, timeout=10), 401, "unauthorized")
    wrong = requests.request(
        method, url, headers={"Authorization": "Bearer not-it-secret"}, timeout=10
    )
    message = assert_error(wrong, 401, "unauthorized")
    assert "not-it-secret" not in message
    assert sandbox.token not in message


def test_legacy_jwt_gets_a_message_to_generate_an_api_token(sandbox: RunningSandbox) -> None:
    response = requests.get(
        f"{sandbox.url}/tables/",
        headers={"Authorization": "JWT eyJhbGciOiJIUzI1NiJ9.e30.sig"},
        timeout=10,
    )
    message = assert_error(response, 401, "unauthorized")
    assert "JWT" in message
    assert "generate a new API token" in message
    assert "eyJ" not in message


def test_token_never_appears_in_the_server_log(sandbox: RunningSandbox) -> None:
    requests.get(
        f"{sandbox.url}/tables/", headers={"Authorization": f"Bearer {sandbox.token}"}, timeout=10
    )
    assert sandbox.token not in sandbox.log_text()


def test_unknown_route_wrong_method_and_bad_body_use_the_error_shape(api: Api) -> None:
    assert_error(api.get("/nope"), 404, "not_found")
    assert_error(api.request("DELETE", "/tables/"), 405, "method_not_allowed")
    # FastAPI's own 422 for a body it validates becomes our 400.
    assert_error(api.post("/_sandbox/repositories", json={"fields": "x"}), 400, "invalid_request")
    assert_error(api.post("/_sandbox/faults", json={"spec": 5}), 400, "invalid_request")


def test_openapi_describes_the_request_bodies(api: Api) -> None:
    document = requests.get(f"{api.url}/openapi.json", timeout=10).json()
    paths = document["paths"]
    for path in DOCUMENTED_PATHS:
        assert path in paths
    rows_body = paths["/tables/{entity}/rows"]["post"]["requestBody"]["content"]["application/json"]
    assert rows_body["schema"]["$ref"].endswith("/RowsRequest")
    schemas = document["components"]["schemas"]
    assert schemas["RowsRequest"]["properties"]["pageSize"]["maximum"] == 100000
    assert "ImportRequest" in schemas
    assert "bearer" in str(document["components"]["securitySchemes"]).lower()
