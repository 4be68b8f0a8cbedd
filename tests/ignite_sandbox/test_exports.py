"""Async exports: lifecycle, both formats split into files, equality with rows, URL expiry."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from ignite_sandbox.launcher import run_sandbox

from tests.ignite_sandbox.helpers import Api, assert_error, exact

FILE_ROWS = 700


@pytest.fixture(scope="module")
def exporter() -> Iterator[Api]:
    """A server that splits exports every 700 rows and whose URLs live 2 seconds."""
    with run_sandbox(spend_rows=2000, seed=7, export_file_rows=FILE_ROWS, url_ttl=2) as server:
        yield Api(server)


def start(api: Api, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(f"/tables/{entity}/exports", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def wait(api: Api, export_id: str, until: tuple[str, ...] = ("succeeded", "failed")) -> dict:
    for _ in range(600):
        status = api.get(f"/exports/{export_id}").json()
        if status["status"] in until:
            return dict(status)
        time.sleep(0.05)
    raise AssertionError(f"export {export_id} never reached {until}")


def download_json(url: str) -> list[dict[str, Any]]:
    response = requests.get(url, timeout=60)  # a signed URL: no Authorization header
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = json.loads(response.content, parse_float=Decimal)
    return rows


def test_created_export_is_queued_with_the_documented_fields(exporter: Api) -> None:
    created = start(exporter, "spend", {})
    assert set(created) == {
        "id", "entity", "status", "format", "estimatedBytesProcessed", "createdAt", "updatedAt",
    }  # fmt: skip
    assert created["status"] == "queued"
    assert created["format"] == "json"
    assert created["estimatedBytesProcessed"] > 0
    assert created["createdAt"].endswith("Z")
    seen = {created["status"]}
    while (status := exporter.get(f"/exports/{created['id']}").json())["status"] != "succeeded":
        seen.add(status["status"])
        time.sleep(0.01)
    assert seen <= {"queued", "running"}


def test_json_export_split_in_files_equals_rows_mode(exporter: Api) -> None:
    body = {"filters": {"currency": {"in": ["NOK", "EUR", "SEK", "DKK", "USD"]}}}
    done = wait(exporter, start(exporter, "spend", body)["id"])
    assert done["status"] == "succeeded"
    expected = exporter.all_rows("spend", body)
    assert len(expected) > 2 * FILE_ROWS
    files = done["files"]
    assert len(files) == -(-len(expected) // FILE_ROWS)
    rows: list[dict[str, Any]] = []
    for index, export_file in enumerate(files):
        assert set(export_file) == {"url", "expiresAt", "rows", "bytes"}
        assert f"spend-{index + 1:05d}.json" in export_file["url"]
        chunk = download_json(export_file["url"])
        assert len(chunk) == export_file["rows"]
        rows.extend(chunk)
    assert rows == expected  # same keys, order, formats and exact numbers as rows mode
    assert any(r["amount"] == Decimal("12345678901234567.89") for r in rows)


def test_parquet_export_uses_native_types_and_equals_rows_mode(exporter: Api) -> None:
    fields = ["id", "amount", "invoice_date", "updated_at", "is_po", "quantity", "tags"]
    done = wait(exporter, start(exporter, "spend", {"format": "PARQUET", "fields": fields})["id"])
    assert done["status"] == "succeeded"
    assert done["format"] == "parquet"
    tables = []
    for export_file in done["files"]:
        assert ".parquet?" in export_file["url"]
        response = requests.get(export_file["url"], timeout=60)
        assert response.status_code == 200
        assert len(response.content) == export_file["bytes"]
        tables.append(pq.read_table(io.BytesIO(response.content)))
    assert len(tables) == -(-2000 // FILE_ROWS)
    table = pa.concat_tables(tables)
    schema = table.schema
    assert schema.field("amount").type == pa.decimal128(38, 2)
    assert schema.field("invoice_date").type == pa.date32()
    assert schema.field("updated_at").type == pa.timestamp("us", tz="UTC")
    assert pa.types.is_list(schema.field("tags").type)
    assert schema.field("is_po").type == pa.bool_()
    expected = exporter.all_rows("spend", {"fields": fields})
    actual = table.to_pylist()
    assert len(actual) == len(expected) == 2000
    for got, want in zip(actual, expected, strict=True):
        assert got["id"] == want["id"]
        assert got["amount"] == want["amount"]
        assert got["invoice_date"].isoformat() == want["invoice_date"]
        assert got["updated_at"].strftime("%Y-%m-%dT%H:%M:%SZ") == want["updated_at"]
        assert got["tags"] == want["tags"]
        assert got["quantity"] == want["quantity"]


def test_urls_expire_with_403_and_polling_again_gives_fresh_ones(exporter: Api) -> None:
    done = wait(exporter, start(exporter, "suppliers", {})["id"])
    url = done["files"][0]["url"]
    assert requests.get(url, timeout=30).status_code == 200
    time.sleep(2.5)  # outlive --url-ttl 2
    expired = requests.get(url, timeout=30)
    assert_error(expired, 403, "url_expired")
    fresh = exporter.get(f"/exports/{done['id']}").json()["files"][0]["url"]
    assert fresh != url
    assert requests.get(fresh, timeout=30).status_code == 200
    assert_error(
        requests.get(fresh.replace("signature=", "signature=0"), timeout=30), 403, "forbidden"
    )


def test_deleted_files_answer_404(exporter: Api) -> None:
    done = wait(exporter, start(exporter, "contracts", {"format": "parquet"})["id"])
    exporter.server.admin.delete_export_files(done["id"])
    url = exporter.get(f"/exports/{done['id']}").json()["files"][0]["url"]
    assert_error(requests.get(url, timeout=30), 404, "not_found")


def test_failed_and_stalled_exports(own_api: Callable[..., Api]) -> None:
    api = own_api(spend_rows=100)
    api.server.admin.set_export_behaviour("fail")
    failed = wait(api, start(api, "spend", {})["id"])
    assert failed["status"] == "failed"
    assert set(failed["error"]) == {"code", "message"}
    assert "files" not in failed
    api.server.admin.set_export_behaviour("stall")
    stalled_id = start(api, "spend", {})["id"]
    wait(api, stalled_id, until=("running",))
    time.sleep(0.5)
    assert api.get(f"/exports/{stalled_id}").json()["status"] == "running"
    api.server.admin.set_export_behaviour("succeed", delay_seconds=0.3)
    delayed = start(api, "spend", {})["id"]
    assert wait(api, delayed, until=("running",))["status"] == "running"
    assert wait(api, delayed)["status"] == "succeeded"
    assert api.get(f"/exports/{stalled_id}").json()["status"] == "running"


def test_export_errors(exporter: Api) -> None:
    assert_error(
        exporter.post("/tables/spend/exports", json={"format": "csv"}), 400, "invalid_request"
    )
    assert_error(
        exporter.post("/tables/spend/exports", json={"fields": ["nope"]}), 400, "invalid_request"
    )
    response = exporter.post(
        "/tables/spend/exports", json={"filters": {"description": {"in": ["x"]}}}
    )
    assert "description" in assert_error(response, 400, "invalid_request")
    assert_error(exporter.post("/tables/nope/exports", json={}), 404, "not_found")
    assert_error(exporter.get("/exports/00000000-0000-0000-0000-000000000000"), 404, "not_found")


def test_empty_export_is_one_empty_file(exporter: Api) -> None:
    body = {"filters": {"id": {"eq": "SP-9999999"}}}
    done = wait(exporter, start(exporter, "spend", body)["id"])
    assert [f["rows"] for f in done["files"]] == [0]
    assert download_json(done["files"][0]["url"]) == []


def test_exact_json_status(exporter: Api) -> None:
    done = wait(exporter, start(exporter, "classification_business_units", {})["id"])
    status = exact(exporter.get(f"/exports/{done['id']}"))
    assert sum(f["rows"] for f in status["files"]) == 2000
