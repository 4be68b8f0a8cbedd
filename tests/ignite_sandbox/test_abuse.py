"""The sandbox as a server others lean on: restarts, decompression bombs, values out of range,
and what answers without a token.

Each test runs a real sandbox process; the bomb test reads the server's own peak RSS (VmHWM)
from /proc. Figures print as `FIGURE` lines for docs/reliability.md (`pytest -rP`).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from ignite_sandbox.config import DEFAULT_MAX_BODY_BYTES
from ignite_sandbox.launcher import RunningSandbox, run_sandbox

from tests.ignite_sandbox.helpers import Api, assert_error, dumps, exact
from tests.reliability.helpers import figure

BIG = "12345678901234567890123456789012345"  # 35 digits: more than DECIMAL(38, 10) holds
MB = 1024 * 1024


@pytest.fixture(scope="module")
def server() -> Iterator[RunningSandbox]:
    """A small sandbox of this module's own, with the vendor's 200 MB request limit."""
    with run_sandbox(spend_rows=20, seed=5, legacy_rows=20) as running:
        yield running


@pytest.fixture
def api(server: RunningSandbox) -> Api:
    return Api(server)


@pytest.fixture
def repo(server: RunningSandbox) -> str:
    return str(server.admin.create_repository("Abuse", ["A", "B"])["id"])


# -- page tokens across a restart ------------------------------------------------------------


def test_page_tokens_survive_a_restart_on_the_same_db(tmp_path: Path) -> None:
    """A client paging through a table continues after the sandbox restarts on its --db file
    (as against Ignite, whose cursors live 24 hours); tokens expired before the restart
    stay expired."""
    db = tmp_path / "sandbox.duckdb"
    body: dict[str, Any] = {"fields": ["id"], "pageSize": 700}
    with run_sandbox(spend_rows=2000, seed=9, db=db) as first:
        api = Api(first)
        everything = [row["id"] for row in api.all_rows("spend", dict(body))]
        # A token expired before the restart must not come back to life with it.
        expired = exact(api.rows("spend", {**body, "pageSize": 500}))["nextPageToken"]
        first.admin.expire_cursors()
        page = exact(api.rows("spend", body))
        token = page["nextPageToken"]
        seen = [row["id"] for row in page["data"]]

    with run_sandbox(spend_rows=2000, seed=9, db=db) as second:
        api = Api(second)
        while token:
            response = api.rows("spend", {**body, "pageToken": token})
            assert response.status_code == 200, response.text
            page = exact(response)
            seen += [row["id"] for row in page["data"]]
            token = page["nextPageToken"]
        assert seen == everything  # continued where it was, nothing skipped or repeated
        assert len(seen) == 2000
        gone = api.rows("spend", {**body, "pageSize": 500, "pageToken": expired})
        assert_error(gone, 410, "page_token_expired")


# -- decompression bombs ---------------------------------------------------------------------


def _gzip_bomb(expanded_bytes: int) -> bytes:
    """A gzip file of NDJSON rows, `expanded_bytes` long once decompressed."""
    line = b'{"A":1,"B":"x"}\n'
    block = line * (MB // len(line))
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    parts = [compressor.compress(block) for _ in range(expanded_bytes // len(block) + 1)]
    return b"".join([*parts, compressor.flush()])


def _zip_bomb(expanded_bytes: int) -> bytes:
    """A single-file zip of NDJSON rows, `expanded_bytes` long once decompressed."""
    line = b'{"A":1,"B":"x"}\n'
    block = line * (MB // len(line))
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("rows.ndjson", "w", force_zip64=True) as member,
    ):
        for _ in range(expanded_bytes // len(block) + 1):
            member.write(block)
    return buffer.getvalue()


def _memory_kb(server: RunningSandbox) -> dict[str, int]:
    """The server process's VmRSS and VmHWM (peak), in kB."""
    status = Path(f"/proc/{server.process.pid}/status").read_text(encoding="utf-8")
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {key: int(fields[key].split()[0]) for key in ("VmRSS", "VmHWM")}


@pytest.mark.parametrize(("kind", "name"), [("gzip", "rows.ndjson.gz"), ("zip", "rows.zip")])
def test_a_small_file_that_expands_past_the_limit_is_413_in_bounded_memory(
    kind: str, name: str, tmp_path: Path
) -> None:
    """1 GiB of rows in a file of about 1 MB: 413 once the decompressed bytes pass the 200 MB
    request limit, before any row is parsed; the server's peak RSS stays a few hundred MB."""
    expanded = 1024 * MB
    content = _gzip_bomb(expanded) if kind == "gzip" else _zip_bomb(expanded)
    assert len(content) < 2 * MB
    with run_sandbox(spend_rows=20, seed=5, legacy_rows=20) as server:
        api = Api(server)
        repository = server.admin.create_repository("Bomb", ["A", "B"])["id"]
        before = _memory_kb(server)

        response = api.post(
            "/import/file/",
            data={"dataRepositoryId": repository},
            files={"file": (name, content)},
            timeout=300,
        )

        after = _memory_kb(server)
        message = assert_error(response, 413, "payload_too_large")
        assert f"larger than {DEFAULT_MAX_BODY_BYTES} bytes once decompressed" in message
        assert server.admin.repository_rows(repository) == []
        # The same server still imports a small gzip file.
        small = zlib.compress(b'{"A":1}\n', wbits=31)
        ok = api.post(
            "/import/file/",
            data={"dataRepositoryId": repository},
            files={"file": ("one.ndjson.gz", small)},
        )
        assert ok.status_code == 201, ok.text
    peak_mb = after["VmHWM"] / 1024
    figure(
        f"sandbox_{kind}_bomb",
        compressed_bytes=len(content),
        expands_to_bytes=expanded,
        request_limit_bytes=DEFAULT_MAX_BODY_BYTES,
        status=response.status_code,
        rss_before_mb=round(before["VmRSS"] / 1024, 1),
        peak_rss_mb=round(peak_mb, 1),
    )
    assert peak_mb < 400, after
    assert after["VmHWM"] - before["VmHWM"] < 200 * 1024, (before, after)


# -- values out of range ---------------------------------------------------------------------


def test_a_delete_query_number_out_of_range_is_400_naming_it(api: Api, repo: str) -> None:
    for value in (BIG, f"-{BIG}.5", "1e40", "0.00000000001"):
        response = api.post(
            "/_sandbox/delete-queries",
            data=b'{"dataRepositoryId":"%s","filters":{"A":{"gte":%s}}}'
            % (repo.encode(), value.encode()),
            headers={"Content-Type": "application/json"},
        )
        message = assert_error(response, 400, "invalid_request")
        assert "filters.A.gte" in message
        assert "out of the range" in message
        assert "28 digits before the decimal point and 10 after" in message


def test_values_out_of_the_numeric_range_import_and_delete_without_a_5xx(
    api: Api, repo: str
) -> None:
    """35-digit numbers in JSON and file imports keep their digits; delete queries over rows
    that hold them, or that name such a number as text, compare as text instead of failing."""
    big = Decimal(BIG)
    rows = [{"A": big, "B": "json"}, {"A": Decimal(f"-{BIG}.25"), "B": "json"}, {"A": 7}]
    imported = api.post("/import/", data=dumps({"dataRepositoryId": repo, "data": rows}))
    assert imported.status_code == 201, imported.text
    ndjson = b'{"A":%s,"B":"file"}\n' % BIG.encode()
    filed = api.post(
        "/import/file/",
        data={"dataRepositoryId": repo},
        files={"file": ("rows.ndjson", ndjson)},
    )
    assert filed.status_code == 201, filed.text
    stored = api.server.admin.repository_rows(repo)
    assert [row["A"] for row in stored] == [big, Decimal(f"-{BIG}.25"), 7, big]

    admin = api.server.admin
    numeric = admin.create_delete_query(repo, {"A": {"gte": 5}})
    as_text = admin.create_delete_query(repo, {"A": {"eq": BIG}})  # a string: compared as text
    for query in (numeric, as_text):
        response = api.post(
            "/import/",
            data=dumps({"dataRepositoryId": repo, "deleteQueryId": query, "data": [{"A": 1}]}),
        )
        assert response.status_code == 201, response.text
    remaining = [row["A"] for row in admin.repository_rows(repo)]
    # gte 5 removed 7 (numbers compare numerically; the 35-digit texts compare as text:
    # "1234..." >= "5" is false, "-1234..." too); eq "1234..." removed both copies of it.
    assert remaining == [Decimal(f"-{BIG}.25"), 1, 1]


def test_an_import_name_longer_than_the_api_takes_is_400(api: Api, repo: str) -> None:
    response = api.post(
        "/import/", data=dumps({"dataRepositoryId": repo, "importName": "x" * 256, "data": []})
    )
    message = assert_error(response, 400, "invalid_request")
    assert "importName is 256 characters long; at most 255" in message
    ok = api.post(
        "/import/", data=dumps({"dataRepositoryId": repo, "importName": "x" * 255, "data": []})
    )
    assert ok.status_code == 201, ok.text


# -- what answers without a token ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc"])
def test_the_api_description_is_open_and_holds_no_token(server: RunningSandbox, path: str) -> None:
    """Documented in the sandbox README: the description is the same for every sandbox and
    holds no data, so tools (schemathesis, a browser) read it before they have a token."""
    response = requests.get(f"{server.url}{path}", timeout=30)
    assert response.status_code == 200
    assert server.token not in response.text
    data = requests.get(f"{server.url}/tables/", timeout=30)
    assert_error(data, 401, "unauthorized")
