"""`POST /tables/{entity}/rows`: every operator against a full dump, the 400s, pageSize, tokens."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.ignite_sandbox.helpers import Api, assert_error, exact

SPEND_FIELDS = [
    "id",
    "amount",
    "currency",
    "invoice_date",
    "updated_at",
    "is_po",
    "quantity",
    "tags",
]


@pytest.fixture(scope="module")
def spend(api: Api) -> list[dict[str, Any]]:
    """Every spend row (exact numbers), the reference the filters are checked against."""
    rows = api.all_rows("spend", {"fields": SPEND_FIELDS, "pageSize": 100000})
    assert len(rows) == 3000
    return rows


def _ids(api: Api, filters: dict[str, Any]) -> list[str]:
    return [
        r["id"]
        for r in api.all_rows("spend", {"fields": ["id"], "filters": filters, "pageSize": 5000})
    ]


def _expect(spend: list[dict[str, Any]], keep: Callable[[dict[str, Any]], bool]) -> list[str]:
    ids = [r["id"] for r in spend if keep(r)]
    assert ids, "a filter test must select something"
    assert len(ids) < len(spend), "a filter test must leave something out"
    return ids


def test_eq_in_gte_lte_between_on_scalars(api: Api, spend: list[dict[str, Any]]) -> None:
    amount = spend[10]["amount"]
    assert _ids(api, {"amount": {"eq": amount}}) == _expect(spend, lambda r: r["amount"] == amount)
    assert _ids(api, {"currency": {"in": ["EUR", "SEK"]}}) == _expect(
        spend, lambda r: r["currency"] in ("EUR", "SEK")
    )
    assert _ids(api, {"invoice_date": {"gte": "2025-06-01"}}) == _expect(
        spend, lambda r: r["invoice_date"] >= "2025-06-01"
    )
    assert _ids(api, {"updated_at": {"lte": "2024-03-01T12:00:00Z"}}) == _expect(
        spend, lambda r: r["updated_at"] <= "2024-03-01T12:00:00Z"
    )
    low, high = Decimal("100.5"), Decimal("2500")
    assert _ids(api, {"quantity": {"between": [low, high]}}) == _expect(
        spend, lambda r: r["quantity"] is not None and low <= r["quantity"] <= high
    )
    assert _ids(api, {"is_po": {"eq": False}}) == _expect(spend, lambda r: r["is_po"] is False)


def test_operators_combine_conjunctively(api: Api, spend: list[dict[str, Any]]) -> None:
    filters = {
        "amount": {"gte": 1000, "lte": Decimal("5000.50")},
        "currency": {"eq": "NOK"},
        "tags": {"contains_any": ["capex"]},
    }
    assert _ids(api, filters) == _expect(
        spend,
        lambda r: (
            r["amount"] is not None
            and 1000 <= r["amount"] <= Decimal("5000.50")
            and r["currency"] == "NOK"
            and "capex" in r["tags"]
        ),
    )


def test_timestamp_filters_accept_offsets_as_utc(api: Api, spend: list[dict[str, Any]]) -> None:
    assert _ids(api, {"updated_at": {"gte": "2025-01-01T02:00:00+02:00"}}) == _expect(
        spend, lambda r: r["updated_at"] >= "2025-01-01T00:00:00Z"
    )


def test_array_operators(api: Api, spend: list[dict[str, Any]]) -> None:
    assert _ids(api, {"tags": {"contains_any": ["urgent", "opex"]}}) == _expect(
        spend, lambda r: bool({"urgent", "opex"} & set(r["tags"]))
    )
    assert _ids(api, {"tags": {"contains_all": ["urgent", "opex"]}}) == _expect(
        spend, lambda r: {"urgent", "opex"} <= set(r["tags"])
    )
    assert _ids(api, {"tags": {"is_empty": True}}) == _expect(spend, lambda r: r["tags"] == [])
    assert _ids(api, {"tags": {"is_not_empty": True}}) == _expect(spend, lambda r: r["tags"] != [])


def test_money_filters_compare_exactly(api: Api) -> None:
    body = {"fields": ["id"], "filters": {"amount": {"eq": Decimal("9007199254740993.01")}}}
    assert [r["id"] for r in api.rows("spend", body).json()["data"]] == ["SP-0000005"]
    body["filters"] = {"amount": {"eq": Decimal("9007199254740993.02")}}
    assert api.rows("spend", body).json()["data"] == []


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ({"fields": ["nope"]}, ["nope", "fields"]),
        ({"fields": []}, ["fields"]),
        ({"filters": {"nope": {"eq": 1}}}, ["nope", "filters"]),
        (
            {"filters": {"description": {"gte": "a"}}},
            ["gte", "description", "supported operators: eq"],
        ),
        ({"filters": {"tags": {"eq": "x"}}}, ["eq", "tags", "contains_any"]),
        ({"filters": {"amount": {"gt": 1}}}, ["gt", "amount", "eq, in, gte, lte, between"]),
        ({"filters": {"amount": {"eq": "12"}}}, ["filters.amount.eq", "number"]),
        ({"filters": {"is_po": {"eq": 1}}}, ["filters.is_po.eq", "true or false"]),
        (
            {"filters": {"invoice_date": {"gte": "2025/01/01"}}},
            ["filters.invoice_date.gte", "YYYY-MM-DD"],
        ),
        (
            {"filters": {"updated_at": {"gte": "2025-01-01"}}},
            ["filters.updated_at.gte", "RFC 3339"],
        ),
        ({"filters": {"amount": {"between": [1]}}}, ["filters.amount.between", "two-item"]),
        ({"filters": {"currency": {"in": []}}}, ["filters.currency.in"]),
        (
            {"filters": {"tags": {"contains_any": ["x"] * 101}}},
            ["filters.tags.contains_any", "100"],
        ),
        ({"filters": {"tags": {"is_empty": False}}}, ["filters.tags.is_empty", "true"]),
        ({"filters": {"amount": 5}}, ["filters.amount"]),
        ({"pageSize": 0}, ["pageSize"]),
        ({"pageSize": 100001}, ["pageSize"]),
        ({"pageSize": "10"}, ["pageSize"]),
        ({"keyBy": "title"}, ["keyBy"]),
        ({"unknown": 1}, ["unknown"]),
    ],
)
def test_invalid_bodies_are_400_naming_the_problem(
    api: Api, body: dict, needles: list[str]
) -> None:
    message = assert_error(api.rows("spend", body), 400, "invalid_request")
    for needle in needles:
        assert needle in message


def test_malformed_json_and_non_object_bodies_are_400(api: Api) -> None:
    assert_error(api.post("/tables/spend/rows", data=b"{nope"), 400, "invalid_request")
    assert_error(api.post("/tables/spend/rows", data=b"[1]"), 400, "invalid_request")


def test_unknown_table_is_404(api: Api) -> None:
    message = assert_error(api.rows("invoices"), 404, "not_found")
    assert "invoices" in message


def test_page_size_default_bounds_and_maximum(api: Api) -> None:
    assert len(api.rows("spend").json()["data"]) == 1000
    assert len(api.rows("spend", {"pageSize": 1}).json()["data"]) == 1
    page = api.rows("classification_business_units", {"pageSize": 100000}).json()
    assert len(page["data"]) == 3000
    assert page["nextPageToken"] is None


def test_pages_cover_every_row_once_in_order_for_any_page_size(api: Api) -> None:
    for size in (1000, 777, 3000):
        ids = [r["id"] for r in api.all_rows("spend", {"fields": ["id"], "pageSize": size})]
        assert len(ids) == 3000
        assert ids == sorted(set(ids))
    filtered = api.all_rows(
        "spend", {"fields": ["id"], "pageSize": 50, "filters": {"currency": {"eq": "EUR"}}}
    )
    assert filtered
    assert all(r["id"] for r in filtered)


def test_last_page_has_no_token(api: Api) -> None:
    page = api.rows("spend", {"pageSize": 3000}).json()
    assert page["nextPageToken"] is None
    assert "nextPageToken" in page


def test_changed_body_under_a_token_is_400(api: Api) -> None:
    body: dict[str, Any] = {"pageSize": 10, "fields": ["id"]}
    token = api.rows("spend", body).json()["nextPageToken"]
    assert api.rows("spend", {**body, "pageToken": token}).status_code == 200
    for changed in ({"pageSize": 11}, {"fields": ["id", "amount"]}, {"keyBy": "label"},
                    {"filters": {"currency": {"eq": "NOK"}}}):  # fmt: skip
        message = assert_error(
            api.rows("spend", {**body, **changed, "pageToken": token}), 400, "invalid_request"
        )
        assert "changed" in message
    other_table = api.rows("suppliers", {**body, "pageToken": token})
    assert_error(other_table, 400, "invalid_request")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert_error(api.rows("spend", {**body, "pageToken": forged}), 400, "invalid_request")
    assert_error(api.rows("spend", {**body, "pageToken": "garbage"}), 400, "invalid_request")


def test_expired_cursors_answer_410_and_a_restart_works(own_api: Callable[..., Api]) -> None:
    server = own_api(spend_rows=200, cursor_ttl=1)
    body: dict[str, Any] = {"pageSize": 10, "fields": ["id"]}
    first = server.rows("spend", body).json()["nextPageToken"]
    time.sleep(1.5)  # outlive --cursor-ttl
    assert_error(server.rows("spend", {**body, "pageToken": first}), 410, "page_token_expired")
    fresh = server.rows("spend", body).json()["nextPageToken"]
    assert server.rows("spend", {**body, "pageToken": fresh}).status_code == 200
    server.server.admin.expire_cursors()
    assert_error(server.rows("spend", {**body, "pageToken": fresh}), 410, "page_token_expired")
    again = server.rows("spend", body).json()["nextPageToken"]
    assert server.rows("spend", {**body, "pageToken": again}).status_code == 200


def test_touch_moves_updated_at_to_now_for_incremental_reads(own_api: Callable[..., Api]) -> None:
    server = own_api(spend_rows=500)
    newest = max(r["updated_at"] for r in server.all_rows("suppliers", {"fields": ["updated_at"]}))
    touched = server.server.admin.touch("suppliers", 3)
    assert len(touched) == 3
    rows = server.all_rows(
        "suppliers", {"fields": ["id", "updated_at"], "filters": {"updated_at": {"gte": newest}}}
    )
    assert {r["id"] for r in rows} >= set(touched)
    assert all(r["updated_at"] > newest for r in rows if r["id"] in touched)
    second = server.server.admin.touch("suppliers", 3)
    assert set(second) != set(touched)
    response = server.post(
        "/_sandbox/tables/classification_business_units/touch", json={"count": 1}
    )
    assert_error(response, 400, "invalid_request")


def test_rows_response_is_exact_json(api: Api) -> None:
    page = exact(api.rows("spend", {"pageSize": 3, "fields": ["amount", "quantity"]}))
    assert all(isinstance(r["amount"], Decimal) for r in page["data"])
