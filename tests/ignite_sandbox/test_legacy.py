"""Deprecated data tables: listing, label-keyed rows, next links, column and date filters."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ignite_sandbox.legacy_data import SPEND_CUBE, SUPPLIER_SEGMENTS

from tests.ignite_sandbox.helpers import Api, assert_error, exact

BIG = SPEND_CUBE.id
SMALL = SUPPLIER_SEGMENTS.id


def read_all(api: Api, table_id: str, body: dict[str, Any] | None) -> tuple[list[dict], list[dict]]:
    """Every row following `next` with the same body; also each page's envelope."""
    url = f"/export/?dataTableId={table_id}"
    rows: list[dict] = []
    pages: list[dict] = []
    while url:
        response = api.get(url, json=body) if body is not None else api.get(url)
        assert response.status_code == 200, response.text
        page = exact(response)
        pages.append(page)
        rows.extend(page["data"])
        url = page["next"]
    return rows, pages


def test_listing_shows_both_tables_with_label_type_and_global_type(api: Api) -> None:
    tables = api.get("/datatables/").json()
    assert [t["id"] for t in tables] == [BIG, SMALL]
    for table in tables:
        assert set(table) == {"id", "name", "columns"}
        for column in table["columns"]:
            assert set(column) == {"label", "dataType", "globalType"}
        labels = [c["label"] for c in table["columns"]]
        assert "ID" in labels
        assert "Last Modified" in labels


def test_big_table_pages_by_10000_with_absolute_next_links(api: Api) -> None:
    rows, pages = read_all(api, BIG, {"size": 10000})
    assert [len(p["data"]) for p in pages] == [10000, 10000, 5000]
    assert all(p["totalCount"] == 25000 for p in pages)
    assert pages[0]["next"].startswith(api.url + "/export/?dataTableId=" + BIG)
    assert pages[-1]["next"] is None
    ids = [r["ID"] for r in rows]
    assert ids == sorted(set(ids))
    assert len(ids) == 25000
    labels = [c.label for c in SPEND_CUBE.columns]
    assert all(list(r) == labels for r in rows[:50])
    assert any(r["Amount"] == Decimal("12345678901234567.89") for r in rows)
    assert all(
        re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", r["Last Modified"]) for r in rows[:50]
    )


def test_no_body_means_size_10000_and_every_column(api: Api) -> None:
    rows, pages = read_all(api, SMALL, None)
    assert len(pages) == 1
    assert len(rows) == pages[0]["totalCount"] == 120
    assert list(rows[0]) == [c.label for c in SUPPLIER_SEGMENTS.columns]


def test_column_filter_is_a_union_of_data_types_and_labels(api: Api) -> None:
    body = {"size": 5, "columnFilter": {"dataTypes": ["MONETARY_AMOUNT", "GROUP_STRUCTURE"],
                                        "columnLabels": ["ID", "Transaction date"]}}  # fmt: skip
    page = api.get(f"/export/?dataTableId={BIG}", json=body).json()
    assert list(page["data"][0]) == [
        "ID",
        "Transaction date",
        "Amount",
        "Department",
        "Region",
        "Category",
    ]
    assert len(page["data"]) == 5
    unknown = api.get(
        f"/export/?dataTableId={BIG}", json={"columnFilter": {"columnLabels": ["Nope"]}}
    )
    assert "Nope" in assert_error(unknown, 400, "invalid_request")


def test_last_modified_filter_with_dates_and_relative_now(own_api: Callable[..., Api]) -> None:
    api = own_api(spend_rows=100)
    all_rows, _ = read_all(api, SMALL, {})
    cutoff = "2024-06-01"
    recent, pages = read_all(api, SMALL, {"lastModifiedDateFilter": {"gte": cutoff}})
    expected = [r for r in all_rows if r["Last Modified"] >= cutoff]
    assert 0 < len(recent) < len(all_rows)
    assert recent == expected
    assert pages[0]["totalCount"] == len(expected)
    assert read_all(api, SMALL, {"lastModifiedDateFilter": {"gte": "now-1M"}})[0] == []
    touched = api.server.admin.touch_datatable(SMALL, 4)
    for relative in ("now-1M", "now-2w", "now-1d", "now-1h", "now-30m", "now-1y"):
        rows, _ = read_all(api, SMALL, {"lastModifiedDateFilter": {"gte": relative}})
        assert sorted(r["ID"] for r in rows) == sorted(touched), relative
    bad = api.get(
        f"/export/?dataTableId={SMALL}", json={"lastModifiedDateFilter": {"gte": "yesterday"}}
    )
    assert "lastModifiedDateFilter" in assert_error(bad, 400, "invalid_request")


def test_incremental_paging_with_small_size_covers_filtered_rows(
    own_api: Callable[..., Api],
) -> None:
    api = own_api(spend_rows=100)
    touched = api.server.admin.touch_datatable(BIG, 25)
    rows, pages = read_all(api, BIG, {"size": 10, "lastModifiedDateFilter": {"gte": "now-1d"}})
    assert [r["ID"] for r in rows] == sorted(touched)
    assert len(pages) == 3


def test_changed_body_on_next_link_is_400(api: Api) -> None:
    page = api.get(f"/export/?dataTableId={BIG}", json={"size": 100}).json()
    assert_error(api.get(page["next"], json={"size": 50}), 400, "invalid_request")


def test_legacy_errors(api: Api) -> None:
    assert_error(
        api.get(f"/export/?dataTableId={BIG}", json={"size": 10001}), 400, "invalid_request"
    )
    assert_error(api.get(f"/export/?dataTableId={BIG}", json={"size": 0}), 400, "invalid_request")
    assert_error(api.get("/export/?dataTableId=nope"), 404, "not_found")
    assert_error(api.get("/export/"), 400, "invalid_request")
