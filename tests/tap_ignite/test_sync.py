"""Row sync against the sandbox: projection, filters, exact money, incremental bookmarks."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import requests
from ignite_sandbox.launcher import RunningSandbox
from tap_ignite.streams import RowsStream
from tap_ignite.tap import TapIgnite

from tests.tap_ignite.helpers import catalog_selecting, run_cli, sync, tap_config


def api_rows(server: RunningSandbox, table: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row the rows endpoint returns for this body, read directly (page by page)."""
    rows: list[dict[str, Any]] = []
    token = None
    while True:
        page_body = {**body, "pageSize": 1000, **({"pageToken": token} if token else {})}
        response = requests.post(
            f"{server.url}/tables/{table}/rows",
            json=page_body,
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=60,
        )
        response.raise_for_status()
        page = response.json(parse_float=Decimal)
        rows.extend(page["data"])
        token = page.get("nextPageToken")
        if not token:
            return rows


def test_all_rows_of_every_table_arrive_once(sandbox: RunningSandbox) -> None:
    output = sync(tap_config(sandbox, page_size=700))
    for table in TapIgnite(config=tap_config(sandbox)).streams.values():
        key = table.primary_keys[0]
        expected = [row[key] for row in api_rows(sandbox, table.name, {"fields": [key]})]
        got = [record[key] for record in output.records(table.name)]
        assert got == expected, table.name


def test_records_carry_only_the_selected_columns(sandbox: RunningSandbox) -> None:
    wanted = ["amount", "currency", "invoice_date"]
    output = sync(tap_config(sandbox), streams=["spend"], properties={"spend": wanted})
    records = output.records("spend")
    assert len(records) == len(api_rows(sandbox, "spend", {"fields": ["id"]}))
    # The key and the replication key are always included (inclusion: automatic).
    assert {tuple(sorted(r)) for r in records} == {
        ("amount", "currency", "id", "invoice_date", "updated_at")
    }
    assert set(output.schema("spend")["schema"]["properties"]) == {
        "amount",
        "currency",
        "id",
        "invoice_date",
        "updated_at",
    }


def test_array_columns_arrive_when_selected(sandbox: RunningSandbox) -> None:
    with_tags = sync(tap_config(sandbox), streams=["suppliers"], properties={"suppliers": ["tags"]})
    records = with_tags.records("suppliers")
    assert records
    assert all(isinstance(r["tags"], list) for r in records)
    assert all(isinstance(tag, str) for r in records for tag in r["tags"])
    assert any(r["tags"] for r in records)
    expected = {
        r["id"]: r["tags"] for r in api_rows(sandbox, "suppliers", {"fields": ["id", "tags"]})
    }
    assert {r["id"]: r["tags"] for r in records} == expected

    without = sync(tap_config(sandbox), streams=["suppliers"], properties={"suppliers": ["name"]})
    assert all("tags" not in r and "countries" not in r for r in without.records("suppliers"))


def test_configured_filters_are_applied(sandbox: RunningSandbox) -> None:
    filters = {"currency": {"in": ["EUR", "SEK"]}, "amount": {"gte": 1000}}
    output = sync(tap_config(sandbox, filters={"spend": filters}), streams=["spend"])
    records = output.records("spend")
    assert records
    assert all(r["currency"] in {"EUR", "SEK"} and r["amount"] >= 1000 for r in records)
    expected = api_rows(sandbox, "spend", {"fields": ["id"], "filters": filters})
    assert [r["id"] for r in records] == [r["id"] for r in expected]


def test_array_filters_are_applied(sandbox: RunningSandbox) -> None:
    filters = {"tags": {"contains_any": ["it", "logistics"]}}
    output = sync(
        tap_config(sandbox, filters={"suppliers": filters}),
        streams=["suppliers"],
        properties={"suppliers": ["tags"]},
    )
    records = output.records("suppliers")
    assert records
    assert all({"it", "logistics"} & set(r["tags"]) for r in records)
    everyone = api_rows(sandbox, "suppliers", {"fields": ["id"]})
    assert len(records) < len(everyone)


def test_money_keeps_every_digit(sandbox: RunningSandbox, tmp_path: Any) -> None:
    exact = {
        r["id"]: r["amount"]
        for r in api_rows(sandbox, "spend", {"fields": ["id", "amount"]})
        if r["amount"] is not None and abs(r["amount"]) > 10**12
    }
    assert exact, "the sandbox should serve amounts above 10^12"
    assert any(v != v.to_integral_value() for v in exact.values()), "with cents"

    run = run_cli(
        tmp_path,
        tap_config(sandbox),
        catalog=catalog_selecting(tap_config(sandbox), ["spend"], {"spend": ["amount"]}),
    )
    assert run.returncode == 0, run.stderr
    got = {r["id"]: r["amount"] for r in run.records("spend") if r["id"] in exact}
    assert got == exact
    # Digit for digit in the Singer output, not just equal after a lossy round trip.
    for record_id, amount in exact.items():
        assert f'"id":"{record_id}"' in run.stdout
        assert f'"amount":{amount}' in run.stdout
    # Some of them a float could not have carried.
    assert any(float(amount) != amount for amount in exact.values())


def test_incremental_run_returns_only_changed_rows(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    server = sandbox_factory()
    config = tap_config(server, page_size=500)
    first = sync(config, streams=["spend", "suppliers"])
    state = first.final_state
    bookmark = state["bookmarks"]["spend"]["replication_key_value"]
    assert bookmark == max(r["updated_at"] for r in first.records("spend"))
    assert "progress_markers" not in state["bookmarks"]["spend"]

    touched = set(server.admin.touch("spend", 7))
    second = sync(config, streams=["spend", "suppliers"], state=state)
    records = second.records("spend")
    got = {r["id"] for r in records}
    at_bookmark = {r["id"] for r in first.records("spend") if r["updated_at"] == bookmark}
    # Inclusive filter: the changed rows plus those sitting exactly on the bookmark.
    assert got == touched | at_bookmark
    assert all(r["updated_at"] >= bookmark for r in records)
    assert {r["id"] for r in second.records("suppliers")} == {
        r["id"]
        for r in first.records("suppliers")
        if r["updated_at"] == state["bookmarks"]["suppliers"]["replication_key_value"]
    }
    new_bookmark = second.final_state["bookmarks"]["spend"]["replication_key_value"]
    assert new_bookmark > bookmark

    third = sync(config, streams=["spend"], state=second.final_state)
    assert {r["id"] for r in third.records("spend")} <= touched


def test_start_date_bounds_the_first_run(sandbox: RunningSandbox) -> None:
    start = "2025-06-01T00:00:00Z"
    output = sync(tap_config(sandbox, start_date=start), streams=["spend"])
    records = output.records("spend")
    expected = api_rows(
        sandbox, "spend", {"fields": ["id"], "filters": {"updated_at": {"gte": start}}}
    )
    assert records
    assert [r["id"] for r in records] == [r["id"] for r in expected]
    assert len(records) < len(api_rows(sandbox, "spend", {"fields": ["id"]}))


def test_replication_keys_setting(sandbox: RunningSandbox) -> None:
    config = tap_config(sandbox, replication_keys={"spend": "", "contracts": "start_date"})
    tap = TapIgnite(config=config)
    assert tap.streams["spend"].replication_key is None
    assert tap.streams["spend"].replication_method == "FULL_TABLE"
    assert tap.streams["contracts"].replication_key == "start_date"
    assert tap.streams["suppliers"].replication_key == "updated_at"
    assert tap.streams["classification_business_units"].replication_method == "FULL_TABLE"

    output = sync(config, streams=["spend", "contracts"])
    bookmarks = output.final_state["bookmarks"]
    assert "replication_key_value" not in bookmarks.get("spend", {})
    contract_dates = [r["start_date"] for r in output.records("contracts") if r["start_date"]]
    assert bookmarks["contracts"]["replication_key_value"] == max(contract_dates)


def test_label_keyed_records_match_the_api(sandbox: RunningSandbox) -> None:
    output = sync(tap_config(sandbox, key_by="label"), streams=["spend"])
    records = output.records("spend")
    stream = TapIgnite(config=tap_config(sandbox)).streams["spend"]
    assert isinstance(stream, RowsStream)
    columns = [c.name for c in stream.table.columns]
    expected = api_rows(sandbox, "spend", {"fields": columns, "keyBy": "label"})
    assert records == expected
    assert output.final_state["bookmarks"]["spend"]["replication_key"] == "Updated At"


def test_configured_bound_on_the_replication_key_combines_with_the_bookmark(
    sandbox: RunningSandbox,
) -> None:
    configured = "2025-06-01T00:00:00Z"
    config = tap_config(sandbox, filters={"spend": {"updated_at": {"gte": configured}}})

    def state(bookmark: str) -> dict[str, Any]:
        return {
            "bookmarks": {
                "spend": {"replication_key": "updated_at", "replication_key_value": bookmark}
            }
        }

    # The later of the two lower bounds wins, whichever it is.
    for bookmark, bound in (
        ("2024-06-01T00:00:00Z", configured),
        ("2025-09-01T00:00:00Z", "2025-09-01T00:00:00Z"),
    ):
        output = sync(config, streams=["spend"], properties={"spend": []}, state=state(bookmark))
        expected = api_rows(
            sandbox, "spend", {"fields": ["id"], "filters": {"updated_at": {"gte": bound}}}
        )
        assert [r["id"] for r in output.records("spend")] == [r["id"] for r in expected]
        assert all(r["updated_at"] >= bound for r in output.records("spend"))


def test_records_after_the_last_state_still_come_out(
    sandbox: RunningSandbox, tmp_path: Any
) -> None:
    # A re-run with nothing changed reads only the rows on the bookmark and ends with the same
    # STATE it started with, which the SDK does not repeat: the writer's buffered records must
    # still reach stdout.
    config = tap_config(sandbox)
    catalog = catalog_selecting(config, ["spend"], {"spend": []})
    first = run_cli(tmp_path, config, catalog=catalog)
    assert first.returncode == 0, first.stderr
    state = [m for m in first.messages if m["type"] == "STATE"][-1]["value"]
    bookmark = state["bookmarks"]["spend"]["replication_key_value"]
    second = run_cli(tmp_path, config, catalog=catalog, state=state)
    assert second.returncode == 0, second.stderr
    assert [m["type"] for m in second.messages][-1] == "RECORD"
    on_bookmark = [r["id"] for r in first.records("spend") if r["updated_at"] == bookmark]
    assert on_bookmark
    assert [r["id"] for r in second.records("spend")] == on_bookmark
