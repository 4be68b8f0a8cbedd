"""A million spend rows: the server seeds them, pages deep, exports them in several files."""

from __future__ import annotations

import time

import pytest
from ignite_sandbox.launcher import run_sandbox

from tests.ignite_sandbox.helpers import Api


@pytest.mark.slow
def test_a_million_spend_rows_serve_and_export() -> None:
    with run_sandbox(spend_rows=1_000_000, seed=7, startup_timeout=300) as server:
        api = Api(server)
        first = api.rows("spend", {"pageSize": 100000, "fields": ["id"]}).json()
        assert len(first["data"]) == 100000
        assert first["data"][-1]["id"] == "SP-0100000"
        second = api.rows(
            "spend", {"pageSize": 100000, "fields": ["id"], "pageToken": first["nextPageToken"]}
        )
        assert second.json()["data"][0]["id"] == "SP-0100001"
        deep = api.rows(
            "spend", {"fields": ["id"], "filters": {"id": {"gte": "SP-0999990"}}}
        ).json()
        assert [r["id"] for r in deep["data"]][-1] == "SP-1000000"
        assert len(deep["data"]) == 11
        classified = api.rows(
            "classification_spend_categories",
            {"pageSize": 1, "filters": {"spend_id": {"eq": "SP-1000000"}}},
        )
        assert classified.json()["data"][0]["level_1_name"]
        created = api.post(
            "/tables/spend/exports", json={"format": "parquet", "fields": ["id", "amount"]}
        ).json()
        for _ in range(1200):
            status = api.get(f"/exports/{created['id']}").json()
            if status["status"] in ("succeeded", "failed"):
                break
            time.sleep(0.25)
        assert status["status"] == "succeeded"
        assert [f["rows"] for f in status["files"]] == [250000] * 4
