"""Legacy data tables against the sandbox: discovery from `GET /datatables/`, paging through
`GET /export/` by its `next` links, label keys, column selection and incremental runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from ignite_sandbox.launcher import RunningSandbox
from tap_ignite.legacy import NextLinkPaginator, stream_names
from tap_ignite.tap import TapIgnite

from tests.tap_ignite.helpers import run_cli, sync, tap_config

SPEND_CUBE = "7dddc49f-bdeb-46b6-b5fd-ad9ea9b5ce66"
SEGMENTS = "c1a5e0d2-4b7f-4c3e-9d21-5f8a6b0e7d13"
CUBE_STREAM = "datatable_spend_cube_legacy"
SEGMENTS_STREAM = "datatable_supplier_segments"


def legacy_config(server: RunningSandbox, *ids: str, **overrides: Any) -> dict[str, Any]:
    return tap_config(server, data_table_ids=list(ids or (SPEND_CUBE, SEGMENTS)), **overrides)


def total_rows(server: RunningSandbox, data_table_id: str) -> int:
    response = requests.get(
        f"{server.url}/export/",
        params={"dataTableId": data_table_id},
        json={"size": 1},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=60,
    )
    response.raise_for_status()
    return int(response.json()["totalCount"])


def test_data_tables_are_discovered_with_label_keys(sandbox: RunningSandbox) -> None:
    catalog = TapIgnite(config=legacy_config(sandbox)).catalog_dict
    entries = {e["tap_stream_id"]: e for e in catalog["streams"]}
    assert {CUBE_STREAM, SEGMENTS_STREAM} <= set(entries)
    cube = entries[CUBE_STREAM]
    properties = cube["schema"]["properties"]
    assert list(properties) == [
        "ID",
        "Supplier",
        "Transaction date",
        "Amount",
        "Currency",
        "Department",
        "Region",
        "Category",
        "Quantity",
        "Last Modified",
    ]
    assert properties["ID"] == {"type": "string"}
    assert properties["Amount"] == {"type": ["number", "null"]}
    assert properties["Transaction date"] == {"type": ["string", "null"], "format": "date"}
    assert properties["Last Modified"] == {"type": ["string", "null"], "format": "date-time"}
    # GROUP_STRUCTURE is not a documented dataType: a string.
    assert properties["Department"] == {"type": ["string", "null"]}
    assert cube["key_properties"] == ["ID"]
    root = next(m for m in cube["metadata"] if m["breadcrumb"] == [])["metadata"]
    assert root["valid-replication-keys"] == ["Last Modified"]
    # No data_table_ids, no legacy streams.
    plain = TapIgnite(config=tap_config(sandbox)).catalog_dict
    assert not [e for e in plain["streams"] if e["tap_stream_id"].startswith("datatable_")]


def test_paging_follows_next_links_until_every_row_is_read(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    expected = total_rows(sandbox, SPEND_CUBE)
    assert expected > 10_000
    with caplog.at_level(logging.INFO):
        output = sync(legacy_config(sandbox, SPEND_CUBE, page_size=3000), streams=[CUBE_STREAM])
    records = output.records(CUBE_STREAM)
    assert len(records) == expected
    assert len({r["ID"] for r in records}) == expected
    assert [r["ID"] for r in records] == sorted(r["ID"] for r in records)
    # Values as the listing describes them; money exact.
    by_id = {r["ID"]: r for r in records}
    assert isinstance(by_id["LS-0000001"]["Supplier"], str)
    assert by_id["LS-0000097"]["Amount"] == Decimal("12345678901234567.89")
    assert str(by_id["LS-0000097"]["Amount"]) == "12345678901234567.89"
    assert all(len(r["Transaction date"]) == 10 for r in records)
    assert all(r["Last Modified"].endswith("Z") for r in records)


def test_page_size_above_the_legacy_limit_asks_for_10000(sandbox: RunningSandbox) -> None:
    # page_size 50000 is valid for the rows endpoint; the legacy export takes at most 10000
    # (the sandbox answers 400 above it), so the stream caps it.
    output = sync(legacy_config(sandbox, SPEND_CUBE, page_size=50_000), streams=[CUBE_STREAM])
    assert len(output.records(CUBE_STREAM)) == total_rows(sandbox, SPEND_CUBE)


def test_selected_columns_are_asked_for_by_label(sandbox: RunningSandbox) -> None:
    output = sync(
        legacy_config(sandbox, SEGMENTS),
        streams=[SEGMENTS_STREAM],
        properties={SEGMENTS_STREAM: ["ID", "Risk Score", "Preferred"]},
    )
    records = output.records(SEGMENTS_STREAM)
    assert len(records) == 120
    # "Last Modified" comes along as the replication key.
    assert {frozenset(r) for r in records} == {
        frozenset({"ID", "Risk Score", "Preferred", "Last Modified"})
    }
    assert all(isinstance(r["Preferred"], bool) for r in records)


def test_incremental_runs_read_rows_modified_since_the_bookmark_date(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    server = sandbox_factory()
    config = legacy_config(server, SEGMENTS)
    first = sync(config, streams=[SEGMENTS_STREAM])
    assert len(first.records(SEGMENTS_STREAM)) == 120
    bookmark = first.final_state["bookmarks"][SEGMENTS_STREAM]
    assert bookmark["replication_key"] == "Last Modified"
    assert bookmark["replication_key_value"] == max(
        r["Last Modified"] for r in first.records(SEGMENTS_STREAM)
    )
    touched = server.admin.touch_datatable(SEGMENTS, 7)
    second = sync(config, streams=[SEGMENTS_STREAM], state=first.final_state)
    ids = {r["ID"] for r in second.records(SEGMENTS_STREAM)}
    assert set(touched) <= ids
    # Only rows modified on or after the bookmark's day: far fewer than the whole table.
    assert len(ids) < 60
    day = bookmark["replication_key_value"][:10]
    assert all(r["Last Modified"] >= day for r in second.records(SEGMENTS_STREAM))
    final = second.final_state["bookmarks"][SEGMENTS_STREAM]["replication_key_value"]
    assert final > bookmark["replication_key_value"]


def test_start_date_bounds_the_first_run(sandbox: RunningSandbox) -> None:
    everything = sync(legacy_config(sandbox, SEGMENTS), streams=[SEGMENTS_STREAM])
    dates = sorted(r["Last Modified"] for r in everything.records(SEGMENTS_STREAM))
    start = dates[len(dates) // 2][:10]
    output = sync(
        legacy_config(sandbox, SEGMENTS, start_date=f"{start}T00:00:00Z"),
        streams=[SEGMENTS_STREAM],
    )
    got = output.records(SEGMENTS_STREAM)
    assert got
    assert all(r["Last Modified"] >= start for r in got)
    assert len(got) == sum(1 for d in dates if d >= start)


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (["not-a-uuid"], "data_table_ids: 'not-a-uuid' is not a data table id (a uuid)"),
        (
            ["00000000-0000-4000-8000-000000000000"],
            "data_table_ids: unknown data table '00000000-0000-4000-8000-000000000000' "
            f"(data tables: {SPEND_CUBE} (Spend Cube (legacy)), {SEGMENTS} (Supplier Segments))",
        ),
    ],
)
def test_bad_data_table_ids_fail_with_one_clear_line(
    sandbox: RunningSandbox, tmp_path: Path, ids: list[str], message: str
) -> None:
    run = run_cli(tmp_path, tap_config(sandbox, data_table_ids=ids))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert any(message in line for line in run.error_lines), run.stderr


def test_stream_names_are_snake_case_and_unique() -> None:
    from tap_ignite.legacy import DataTable  # noqa: PLC0415

    tables = [
        DataTable("11111111-0000-4000-8000-000000000000", "Spend Cube (legacy)", ()),
        DataTable("22222222-0000-4000-8000-000000000000", "Ærøskøbing Suppliers", ()),
        DataTable("33333333-0000-4000-8000-000000000000", "Spend cube: LEGACY", ()),
        DataTable("44444444-0000-4000-8000-000000000000", "請求書", ()),
    ]
    assert stream_names(tables) == {
        "11111111-0000-4000-8000-000000000000": "datatable_spend_cube_legacy_11111111",
        "22222222-0000-4000-8000-000000000000": "datatable_aeroskobing_suppliers",
        "33333333-0000-4000-8000-000000000000": "datatable_spend_cube_legacy_33333333",
        "44444444-0000-4000-8000-000000000000": "datatable_44444444_0000_4000_8000_000000000000",
    }


@pytest.mark.parametrize("field", ["next", "nextUrl"])
def test_the_next_link_is_read_from_next_or_nexturl(field: str) -> None:
    # The sandbox sends `next`; the help article calls it `nextUrl`. A response object built
    # by hand covers the second spelling.
    response = requests.Response()
    response.status_code = 200
    response.url = "https://datatable.example.com/export/?dataTableId=x"
    response._content = (
        b'{"data": [], "totalCount": 0, "' + field.encode() + b'": "/export/?cursor=abc"}'
    )
    paginator = NextLinkPaginator()
    assert paginator.has_more(response)
    paginator.advance(response)
    assert paginator.current_value is not None
    assert paginator.current_value.geturl() == "https://datatable.example.com/export/?cursor=abc"
