"""Bad input and bad settings for target-ignite, each through the real CLI.

The contract, for every case: one ERROR line that names what is wrong and where (input line
and stream, or the setting), exit code 1, no traceback, and nothing accepted before the
problem lost: the records before a bad line are imported, and the STATE printed covers them
and nothing after them. A few inputs that look hostile are valid (a 10 MB string, an object
nested 50 deep): those must load intact.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ignite_sandbox.launcher import RunningSandbox, run_sandbox

from tests.reliability.helpers import (
    SECRET,
    SPEND_FIELDS,
    SPEND_SCHEMA,
    Run,
    figure,
    plugin_env,
    record_line,
    repository_ids,
    run_target,
    schema_line,
    spend_record,
    state_line,
)

GOOD_BEFORE = 5  # records 1..5, then the bad line (line 8), then record 7
BAD_LINE = 8


@pytest.fixture(scope="module")
def ignite() -> Iterator[RunningSandbox]:
    """One sandbox for the module; every test imports into a repository of its own."""
    with run_sandbox(spend_rows=10, seed=31, token=SECRET, max_body_bytes=64 * 1024 * 1024) as s:
        yield s


_count = iter(range(1, 10_000))


def new_repository(server: RunningSandbox, fields: list[str] | None = None) -> dict[str, Any]:
    return server.admin.create_repository(f"BadInput{next(_count)}", fields or SPEND_FIELDS)


def config(server: RunningSandbox, repository: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"api_url": server.url, "api_token": server.token,
            "repository_id": repository["id"], **extra}  # fmt: skip


def around(bad: bytes) -> bytes:
    """SCHEMA; records 1, 2, 3; STATE 3; records 4, 5; the bad line (line 8); record 7."""
    lines = [schema_line()]
    for i in range(1, GOOD_BEFORE + 1):
        lines.append(record_line(spend_record(i)))
        if i == 3:
            lines.append(state_line({"position": 3}))
    assert len(lines) == BAD_LINE - 1
    lines += [bad, record_line(spend_record(7)), state_line({"position": 7})]
    return b"".join(lines)


def assert_stopped_at_the_bad_line(
    run: Run, server: RunningSandbox, repository: dict[str, Any], *reasons: str
) -> str:
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    error = run.the_error()
    assert f"line {BAD_LINE}" in error
    for reason in reasons:
        assert reason in error, error
    # Nothing accepted before the bad line is lost; nothing after it was taken.
    assert repository_ids(server, repository["id"]) == list(range(1, GOOD_BEFORE + 1))
    assert run.states == [{"position": 3}]
    return error


BAD_LINES = {
    "malformed JSON": (
        b'{"type": "RECORD", "stream": "spend", "record": {"Id": 6, "Amount": 1.5\n',
        ["(stream 'spend')", "not valid JSON"],
    ),
    "RECORD before SCHEMA": (
        record_line({"RefundId": 1}, stream="refunds"),
        ["(stream 'refunds')", "before a corresponding schema"],
    ),
    "record breaks its schema": (
        record_line({**spend_record(6), "Amount": "twelve"}),
        ["(stream 'spend')", "record breaks its schema", "'Amount'", "'twelve'"],
    ),
    "NaN": (
        b'{"type": "RECORD", "stream": "spend", "record": {"Id": 6, "Amount": NaN}}\n',
        ["(stream 'spend')", "NaN and Infinity are not JSON numbers"],
    ),
    "Infinity": (
        b'{"type": "RECORD", "stream": "spend", "record": {"Id": 6, "Amount": Infinity}}\n',
        ["(stream 'spend')", "NaN and Infinity are not JSON numbers"],
    ),
    "-Infinity": (
        b'{"type": "RECORD", "stream": "spend", "record": {"Id": 6, "Amount": -Infinity}}\n',
        ["(stream 'spend')", "NaN and Infinity are not JSON numbers"],
    ),
    "invalid UTF-8": (
        b'{"type": "RECORD", "stream": "spend", "record": {"Id": 6, "SupplierName": "\xff\xfe"}}\n',
        ["UTF-8"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_bad_line_stops_there_keeping_what_came_before(
    case: str, ignite: RunningSandbox, tmp_path: Path
) -> None:
    bad, reasons = BAD_LINES[case]
    repository = new_repository(ignite)

    run = run_target(tmp_path, config(ignite, repository), around(bad))

    assert_stopped_at_the_bad_line(run, ignite, repository, *reasons)


def test_invalid_utf8_is_caught_at_its_line_whatever_the_locale_says(
    ignite: RunningSandbox, tmp_path: Path
) -> None:
    """Under a locale whose stdin decoding is strict (not C.UTF-8's surrogateescape)."""
    bad, reasons = BAD_LINES["invalid UTF-8"]
    repository = new_repository(ignite)

    run = run_target(
        tmp_path,
        config(ignite, repository),
        around(bad),
        env=plugin_env(PYTHONIOENCODING="utf-8:strict"),
    )

    error = assert_stopped_at_the_bad_line(run, ignite, repository, *reasons)
    assert "byte(s) ff fe" in error


def test_a_10_mb_string_loads_intact(ignite: RunningSandbox, tmp_path: Path) -> None:
    """Valid, only large: it travels in an import of its own size and arrives intact."""
    repository = new_repository(ignite)
    huge = "€" + "x" * (10 * 1024 * 1024) + "€"
    singer_input = b"".join(
        [schema_line(), record_line(spend_record(1)),
         record_line({**spend_record(2), "SupplierName": huge}), record_line(spend_record(3))]
    )  # fmt: skip

    run = run_target(tmp_path, config(ignite, repository), singer_input)

    assert run.returncode == 0, run.stderr[-3000:]
    rows = ignite.admin.repository_rows(repository["id"])
    assert [int(r["Id"]) for r in rows] == [1, 2, 3]
    assert rows[1]["SupplierName"] == huge


def test_a_10_mb_string_over_the_byte_cap_is_one_clear_error(
    ignite: RunningSandbox, tmp_path: Path
) -> None:
    repository = new_repository(ignite)
    huge = "x" * (10 * 1024 * 1024)

    run = run_target(
        tmp_path,
        config(ignite, repository, batch_max_bytes=5 * 1024 * 1024),
        around(record_line({**spend_record(6), "SupplierName": huge})),
    )

    assert_stopped_at_the_bad_line(
        run, ignite, repository, "(stream 'spend')", "more than one import may carry",
        "batch_max_bytes 5242880",
    )  # fmt: skip


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": "bottom", "amount": 1}
    for level in range(depth - 1, 0, -1):
        value = {f"l{level}": value}
    return value


def test_an_object_nested_50_deep_is_flattened_then_kept_as_json(
    ignite: RunningSandbox, tmp_path: Path
) -> None:
    """Valid too: flattening makes columns of the first 10 levels (flattening_max_depth),
    and the rest travels as a JSON string (the Import API takes flat rows only)."""
    repository = new_repository(ignite)
    schema = {"type": "object", "properties": {**SPEND_SCHEMA["properties"], "Meta": {}}}
    nested = _nested(50)
    singer_input = b"".join(
        [schema_line(schema=schema), record_line({**spend_record(1), "Meta": nested}),
         record_line(spend_record(2))]
    )  # fmt: skip

    run = run_target(tmp_path, config(ignite, repository), singer_input)

    assert run.returncode == 0, run.stderr[-3000:]
    first, second = ignite.admin.repository_rows(repository["id"])
    meta = [key for key in first if key.startswith("Meta")]
    assert len(meta) == 1, meta
    (column,) = meta
    # Every level is accounted for: the column name holds the flattened levels, the JSON
    # string the rest, down to the leaf.
    flattened_levels = column.split("__")[1:]
    rest = json.loads(first[column])
    for level in flattened_levels:
        nested = nested[level]
    assert rest == nested
    assert second["Id"] == 2


@pytest.mark.parametrize("where", ["repository_id", "stream_repositories.spend"])
@pytest.mark.parametrize("reference", ["0b7c3d0e-0000-4000-8000-00000000dead", "No Such Repo"])
def test_unknown_repository_id_or_name_is_a_settings_error(
    where: str, reference: str, ignite: RunningSandbox, tmp_path: Path
) -> None:
    settings: dict[str, Any] = {"api_url": ignite.url, "api_token": ignite.token}
    if where == "repository_id":
        settings["repository_id"] = reference
    else:
        settings["stream_repositories"] = {"spend": reference}
    before = len(ignite.admin.imports())

    run = run_target(tmp_path, settings, around(record_line(spend_record(6))))

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    error = run.the_error()
    assert f"{where}: no repository has the id or name '{reference}'" in error
    assert "Available repositories: 'ExampleRepository1' (" in error
    assert len(ignite.admin.imports()) == before
    assert run.states == []


def test_wrong_token_is_a_settings_error(ignite: RunningSandbox, tmp_path: Path) -> None:
    repository = new_repository(ignite)
    settings = {**config(ignite, repository), "api_token": SECRET + "-revoked"}

    run = run_target(tmp_path, settings, around(record_line(spend_record(6))))

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert f"api_token was refused by {ignite.url}" in run.the_error()
    assert repository_ids(ignite, repository["id"]) == []


NO_SERVER = "http://127.0.0.1:9"  # nothing listens: no request may be needed
UNENCRYPTED = "is plain http: the API token would travel unencrypted"


@pytest.mark.parametrize(
    ("settings", "fragments", "never_shown"),
    [
        pytest.param(
            {"api_url": NO_SERVER, "api_token": "JWT eyJhbGciOiJIUzI1NiJ9.e30.sig"},
            ["api_token is a legacy JWT", "generate a new API token"],
            "eyJhbGciOiJIUzI1NiJ9",
            id="legacy JWT",
        ),
        pytest.param(
            {"api_url": NO_SERVER, "api_token": "JWT eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"},
            ["api_token is a legacy JWT", "generate a new API token"],
            "eyJhbGciOiJIUzI1NiJ9",
            id="legacy JWT with a signature",
        ),
        pytest.param(
            {"api_url": "http://data.igniteprocurement.com", "api_token": SECRET},
            ["api_url 'http://data.igniteprocurement.com' is plain http", UNENCRYPTED],
            SECRET,
            id="plain http to Ignite",
        ),
        pytest.param(
            {"api_url": "http://ignite.example.com", "api_token": "t0k3n-value"},
            ["api_url 'http://ignite.example.com' is plain http", UNENCRYPTED],
            "t0k3n-value",
            id="plain http to another host",
        ),
    ],
)
def test_unsafe_credentials_are_refused_before_any_request(
    tmp_path: Path, settings: dict[str, str], fragments: list[str], never_shown: str
) -> None:
    """The one place target-ignite's legacy-JWT and plain-http refusals are run end to end
    (tests/test_http_rules_parity.py feeds the shared rules every form of both)."""
    run = run_target(
        tmp_path, {**settings, "repository_id": "x"}, around(record_line(spend_record(6)))
    )

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    error = run.the_error()
    for fragment in fragments:
        assert fragment in error
    assert never_shown not in run.stderr + run.stdout


def test_repository_rejecting_a_file_as_too_large_stops_naming_the_import(
    tmp_path: Path,
) -> None:
    """413 on the third file of a load: the first two stay, the error names the third."""
    with run_sandbox(spend_rows=10, seed=32, token=SECRET, max_body_bytes=4096) as server:
        repository = new_repository(server)
        # Random hex does not compress away: record 25 makes the third gzip file ~10 kB.
        noise = random.Random(25).randbytes(10_000).hex()
        lines = [schema_line()]
        for i in range(1, 31):
            name = noise if i == 25 else f"Supplier {i}"
            lines.append(record_line({**spend_record(i), "SupplierName": name}))
            if i % 10 == 0:
                lines.append(state_line({"position": i}))

        run = run_target(
            tmp_path,
            config(server, repository, import_format="ndjson", batch_size_rows=10),
            b"".join(lines),
        )

        assert run.returncode == 1
        assert "Traceback" not in run.stderr
        error = run.the_error()
        assert "import 'spend " in error
        assert "batch 3'" in error
        assert "HTTP 413" in error
        assert repository_ids(server, repository["id"]) == list(range(1, 21))
        assert run.states == [{"position": 10}, {"position": 20}]


def test_repository_rejecting_a_file_with_400_stops_with_the_servers_message(
    ignite: RunningSandbox, tmp_path: Path
) -> None:
    """A delete query of another repository: 400 on the load's first file, nothing moved."""
    repository = new_repository(ignite)
    other = new_repository(ignite)
    foreign = ignite.admin.create_delete_query(other["id"], {"Period": {"eq": "2026-03"}})

    run = run_target(
        tmp_path,
        config(ignite, repository, import_format="csv", delete_query_id=foreign),
        around(record_line(spend_record(6))),
    )

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    error = run.the_error()
    assert "import 'spend " in error
    assert "HTTP 400" in error
    assert f"delete query '{foreign}' belongs to repository '{other['id']}'" in error
    assert repository_ids(ignite, repository["id"]) == []
    assert run.states == []


# -- Bad input II: nesting too deep to read, BATCH files that cannot be read ------------------


def _deep(depth: int, opener: bytes, closer: bytes) -> bytes:
    return opener * depth + b"1" + closer * depth


def _batch(manifest: Any, encoding: Any = None) -> bytes:
    message: dict[str, Any] = {"type": "BATCH", "stream": "spend", "manifest": manifest}
    if encoding is not False:
        message["encoding"] = encoding or {"format": "jsonl", "compression": "gzip"}
    return json.dumps(message).encode() + b"\n"


BAD_INPUT_II_CASES = [
    "object nested 5,000 deep",
    "array nested 5,000 deep",
    "BATCH of a missing file",
    "BATCH of a folder",
    "BATCH of a file that is not gzip",
    "BATCH of a file that is not parquet",
    "BATCH without an encoding",
    "BATCH with a manifest that is not a list",
]


def bad_input_ii(folder: Path) -> dict[str, tuple[bytes, list[str]]]:
    """Lines that used to end the load with a traceback (and nothing imported); the files
    the BATCH lines name are made in `folder`."""
    (folder / "a-folder.jsonl.gz").mkdir(parents=True)
    (folder / "not-gzip.jsonl.gz").write_bytes(b'{"Id": 6}\n')
    (folder / "not-parquet.parquet").write_bytes(b"PAR1 but not really")
    return {
        "object nested 5,000 deep": (
            b'{"type": "RECORD", "stream": "spend", "record": {"Id": 6, "Meta": '
            + _deep(5000, b'{"a": ', b"}")
            + b"}}\n",
            ["(stream 'spend')", "objects or arrays nested too deeply to read"],
        ),
        "array nested 5,000 deep": (
            b'{"type": "RECORD", "stream": "spend", "record": {"Id": 6, "Meta": '
            + _deep(5000, b"[", b"]")
            + b"}}\n",
            ["(stream 'spend')", "objects or arrays nested too deeply to read"],
        ),
        "BATCH of a missing file": (
            _batch([(folder / "missing.jsonl.gz").as_uri()]),
            ["(stream 'spend')", "BATCH file 'file://", "missing.jsonl.gz' cannot be read as "
             "jsonl: No such file or directory"],
        ),
        "BATCH of a folder": (
            _batch([(folder / "a-folder.jsonl.gz").as_uri()]),
            ["(stream 'spend')", "a-folder.jsonl.gz' cannot be read as jsonl: Is a directory"],
        ),
        "BATCH of a file that is not gzip": (
            _batch([(folder / "not-gzip.jsonl.gz").as_uri()]),
            ["(stream 'spend')", "cannot be read as jsonl: Not a gzipped file"],
        ),
        "BATCH of a file that is not parquet": (
            _batch([(folder / "not-parquet.parquet").as_uri()], {"format": "parquet"}),
            ["(stream 'spend')", "cannot be read as parquet:", "magic bytes not found"],
        ),
        "BATCH without an encoding": (
            _batch([(folder / "missing.jsonl.gz").as_uri()], encoding=False),
            ["(stream 'spend')", "a BATCH message needs a 'stream', an 'encoding' object"],
        ),
        "BATCH with a manifest that is not a list": (
            _batch((folder / "missing.jsonl.gz").as_uri()),
            ["(stream 'spend')", "'manifest' list of file URLs"],
        ),
    }  # fmt: skip


@pytest.mark.parametrize("case", BAD_INPUT_II_CASES)
def test_bad_input_ii_stops_at_its_line_keeping_what_came_before(
    case: str, ignite: RunningSandbox, tmp_path: Path
) -> None:
    cases = bad_input_ii(tmp_path / "batches")
    assert list(cases) == BAD_INPUT_II_CASES
    bad, reasons = cases[case]
    repository = new_repository(ignite)

    run = run_target(tmp_path, config(ignite, repository), around(bad))

    error = assert_stopped_at_the_bad_line(run, ignite, repository, *reasons)
    shown = error.rsplit("| ", 1)[-1].replace(str(tmp_path), "…")
    figure("target bad input II", case=case, error=shown[:300])
