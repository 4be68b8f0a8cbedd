"""Odd but possible inputs get a 4xx in our error shape, never a 5xx (found by fuzzing)."""

from __future__ import annotations

import pytest

from tests.ignite_sandbox.helpers import Api

LEGACY = "/export/?dataTableId=7dddc49f-bdeb-46b6-b5fd-ad9ea9b5ce66"
ODD_REQUESTS = [
    ("POST", "/tables/spend/rows", b'{"filters":{"supplier_name":{"eq":"\\ud800"}}}'),
    ("POST", "/tables/spend/rows", b'{"filters":{"supplier_name":{"eq":"a\\u0000b"}}}'),
    ("POST", "/tables/spend/rows", b'{"filters":{"amount":{"gte":1e999999}}}'),
    (
        "POST",
        "/tables/spend/rows",
        b'{"filters":{"amount":{"eq":1234567890123456789012345678901234567890123}}}',
    ),
    (
        "POST",
        "/tables/spend/rows",
        b'{"filters":{"updated_at":{"gte":"0001-01-01T00:00:00+01:00"}}}',
    ),
    (
        "POST",
        "/tables/spend/rows",
        b'{"filters":{"updated_at":{"lte":"9999-12-31T23:59:59-01:00"}}}',
    ),
    ("POST", "/tables/spend/rows", b'{"filters":{"invoice_date":{"eq":"2025-02-30"}}}'),
    ("POST", "/tables/spend/rows", b'{"pageToken":"..."}'),
    ("POST", "/tables/spend/rows", b"null"),
    ("POST", "/tables/spend/exports", b'{"format":"\\u0000"}'),
    ("GET", LEGACY, b'{"lastModifiedDateFilter":{"gte":"now-99999999999y"}}'),
    ("GET", LEGACY, b'{"lastModifiedDateFilter":{"gte":"now-99999999999999999999s"}}'),
    ("GET", LEGACY, b'{"lastModifiedDateFilter":{"gte":"9999-12-31T23:59:59-01:00"}}'),
    ("GET", LEGACY, b'{"columnFilter":{"dataTypes":[]}}'),
    ("GET", LEGACY + "&cursor=%00", None),
    ("POST", "/import/", b'{"dataRepositoryId":"x","data":[{"a":1e999999}]}'),
    (
        "POST",
        "/_sandbox/delete-queries",
        b'{"dataRepositoryId":"x","filters":{"a":{"eq":1e99999}}}',
    ),
    ("GET", "/exports/%00", None),
    ("GET", "/downloads/%F3%B1%AF%860/%3FR%C3%80?expires=1&signature=%C3%A1", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ODD_REQUESTS)
def test_odd_requests_are_client_errors(
    api: Api, method: str, path: str, body: bytes | None
) -> None:
    response = api.request(method, path, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()) == {"error", "message"}
    # The keep-alive connection survived: the next call on the same session works.
    assert api.get("/datatables/").status_code == 200
