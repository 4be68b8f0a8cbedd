"""`receipts_path`: one JSON line per import a real load sent, checked against the sandbox.

The sandbox keeps every import it accepted with the SHA-256 of what it carried: each receipt
must name an import that is there, with the same hash, and every import that is there must
have its receipt, also when answers were lost (`lost` faults, as in tests/reliability) and
when the load stops half-way. Then the README's DuckDB block loads the receipts.
"""

from __future__ import annotations

import hashlib
import json
import re
import typing as t
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb

from tests.reliability.helpers import SPEND_FIELDS, spend_input
from tests.reliability.scripted_server import Forward, Reply, Request, scripted_server
from tests.target_ignite.helpers import config_for, imports_of, run_target

if t.TYPE_CHECKING:
    from ignite_sandbox.launcher import RunningSandbox

README = Path(__file__).parents[2] / "target-ignite" / "README.md"
# Distinctive, so finding it in a receipts file can only mean a leak.
TOKEN = "ign-Rece1pts-s3cret-4F2B7D-token"
RECEIPT_KEYS = [
    "load_started", "api_url", "stream", "repository_id", "repository_name", "import_name",
    "import_id", "status", "format", "rows", "bytes", "sha256", "delete_query_id",
    "started_at", "finished_at", "attempts", "possible_duplicate", "error",
]  # fmt: skip
# Seed 13 draws `lost` for a few of the first requests (see tests/reliability/test_lost.py).
SEED = 13


def receipts_in(path: Path) -> list[dict[str, t.Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "input.singer"
    path.write_bytes(data)
    return path


def test_receipts_name_the_possible_duplicates_of_lost_answers(
    sandbox_factory: t.Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    server = sandbox_factory(spend_rows=10, seed=SEED, token=TOKEN)
    repository = server.admin.create_repository("LostReceipts", SPEND_FIELDS)
    receipts_path = tmp_path / "receipts.jsonl"
    server.admin.set_faults("lost=0.05")

    run = run_target(
        config_for(
            server,
            repository_id=repository["id"],
            batch_size_rows=100,
            receipts_path=str(receipts_path),
        ),
        _write(tmp_path, spend_input(range(1, 2001), state_every=500)),
        tmp_path,
    )

    assert run.returncode == 0, run.stderr[-3000:]
    lost = server.admin.faults()["injected"]["lost"]
    assert lost >= 1
    imports = imports_of(server, repository["id"])
    copies = Counter(i["importName"] for i in imports)
    duplicated = {name for name, count in copies.items() if count > 1}
    assert len(duplicated) == lost
    receipts = receipts_in(receipts_path)
    assert [list(r) for r in receipts] == [RECEIPT_KEYS] * len(receipts)
    # One receipt per import the load made, in order, the possible duplicates named.
    assert [r["import_name"] for r in receipts] == list(copies)
    assert {r["import_name"] for r in receipts if r["possible_duplicate"]} == duplicated
    for r in receipts:
        landed = [i for i in imports if i["importName"] == r["import_name"]]
        assert r["status"] == "imported"
        assert r["attempts"] == len(landed)  # each lost answer cost one more attempt
        assert r["import_id"] == landed[-1]["importId"]  # the answer that came back
        assert {i["payloadSha256"] for i in landed} == {r["sha256"]}
        assert (r["repository_id"], r["repository_name"]) == (repository["id"], "LostReceipts")
        assert (r["stream"], r["format"], r["rows"], r["delete_query_id"]) == (
            "spend", "json", 100, None
        )  # fmt: skip
        assert r["bytes"] == landed[-1]["bytes"]
        started = datetime.fromisoformat(r["started_at"])
        assert started <= datetime.fromisoformat(r["finished_at"])
        assert r["started_at"].endswith("Z")
    assert TOKEN not in receipts_path.read_text(encoding="utf-8")
    assert TOKEN not in run.stderr
    assert f"Receipts: {len(receipts)} import(s) written to '{receipts_path}'" in run.stderr


def test_a_load_that_stops_has_receipts_for_everything_it_sent(
    ignite: RunningSandbox, new_repository: t.Callable[..., dict[str, t.Any]], tmp_path: Path
) -> None:
    """The third import is refused (a 400 the proxy answers): the two before it have their
    receipts, and so has the refused one, with its error."""
    repository = new_repository(SPEND_FIELDS)
    receipts_path = tmp_path / "receipts.jsonl"
    posts: list[Request] = []

    def script(request: Request) -> Forward | Reply:
        if request.method == "POST":
            posts.append(request)
            if len(posts) == 3:
                return Reply.json(400, {"error": "invalid_data", "message": "refused here"})
        return Forward(ignite.url)

    with scripted_server(script) as proxy:
        run = run_target(
            {
                **config_for(ignite, repository_id=repository["id"], batch_size_rows=10),
                "api_url": proxy.url,
                "receipts_path": str(receipts_path),
            },
            _write(tmp_path, spend_input(range(1, 51), state_every=10)),
            tmp_path,
        )

    assert run.returncode == 1
    imports = imports_of(ignite, repository["id"])
    assert len(imports) == 2
    *imported, failed = receipts_in(receipts_path)
    assert [(r["import_id"], r["sha256"], r["status"]) for r in imported] == [
        (i["importId"], i["payloadSha256"], "imported") for i in imports
    ]
    assert failed["status"] == "failed"
    assert failed["import_id"] is None
    assert failed["import_name"].endswith("batch 3")
    assert failed["attempts"] == 1
    assert failed["possible_duplicate"] is False
    assert "HTTP 400 invalid_data: refused here" in failed["error"]
    assert failed["error"] in run.error_lines[0]
    assert failed["sha256"] == hashlib.sha256(posts[2].body).hexdigest()  # the body refused
    assert failed["rows"] == 10


def test_a_folder_gets_a_file_per_load_and_the_readme_loads_them_into_duckdb(
    ignite: RunningSandbox, new_repository: t.Callable[..., dict[str, t.Any]], tmp_path: Path
) -> None:
    repository = new_repository(SPEND_FIELDS)
    march = ignite.admin.create_delete_query(repository["id"], {"Period": {"eq": "2026-03"}})
    folder = tmp_path / "receipts"
    config = config_for(
        ignite,
        repository_id=repository["id"],
        delete_query_id=march,
        batch_size_rows=10,
        import_format="ndjson",
        receipts_path=f"{folder}/",
    )

    first = run_target(config, _write(tmp_path, spend_input(range(1, 26))), tmp_path)
    second = run_target(config, _write(tmp_path, spend_input(range(1, 16))), tmp_path)

    assert (first.returncode, second.returncode) == (0, 0), second.stderr[-3000:]
    files = sorted(folder.glob("target-ignite-receipts-*.jsonl"))
    assert len(files) == 2  # one per load (they started in different seconds)
    assert [len(receipts_in(f)) for f in files] == [3, 2]

    block = re.search(
        r"```sql\n(.*?)```", README.read_text(encoding="utf-8").split("## Dry run and receipts")[1],
        re.DOTALL,
    )  # fmt: skip
    assert block, "target-ignite/README.md shows how to load receipts into DuckDB"
    sql = block.group(1).replace("output/receipts/", f"{folder}/")
    assert re.findall(r"(\w+): '", sql) == RECEIPT_KEYS  # the README names every field
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        flagged = con.sql(sql).fetchall()
        rows = con.sql(
            "select import_name, import_id, rows, sha256, delete_query_id, format, "
            "finished_at >= started_at from ignite_receipts order by started_at"
        ).fetchall()
        kinds = dict(con.sql("select column_name, column_type from (describe ignite_receipts)")
                     .fetchall())  # fmt: skip

    assert flagged == []  # no lost answer, no failure
    imports = imports_of(ignite, repository["id"])
    assert rows == [
        (i["importName"], i["importId"], i["rows"], i["payloadSha256"], i["deleteQueryId"],
         "ndjson", True)
        for i in imports
    ]  # fmt: skip
    # The delete query went with each load's first import, as the receipts say.
    assert [r[4] for r in rows] == [march, None, None, march, None]
    assert kinds["started_at"] == "TIMESTAMP WITH TIME ZONE"
    assert kinds["rows"] == "BIGINT"


def test_receipts_path_that_cannot_be_written_stops_before_any_data_moves(
    ignite: RunningSandbox, new_repository: t.Callable[..., dict[str, t.Any]], tmp_path: Path
) -> None:
    repository = new_repository(SPEND_FIELDS)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")

    run = run_target(
        config_for(
            ignite, repository_id=repository["id"], receipts_path=str(blocker / "receipts.jsonl")
        ),
        _write(tmp_path, spend_input(range(1, 6))),
        tmp_path,
    )

    assert run.returncode == 1
    assert run.error_lines[-1].endswith(
        f"receipts_path: '{blocker / 'receipts.jsonl'}' cannot be written: Not a directory"
    )
    assert imports_of(ignite, repository["id"]) == []


def test_a_dry_run_writes_no_receipts(
    ignite: RunningSandbox, new_repository: t.Callable[..., dict[str, t.Any]], tmp_path: Path
) -> None:
    repository = new_repository(SPEND_FIELDS)
    receipts_path = tmp_path / "receipts.jsonl"

    run = run_target(
        config_for(
            ignite,
            repository_id=repository["id"],
            receipts_path=str(receipts_path),
            dry_run=True,
        ),
        _write(tmp_path, spend_input(range(1, 6))),
        tmp_path,
    )

    assert run.returncode == 0, run.stderr[-3000:]
    assert not receipts_path.exists()
    assert "none is sent (so no receipts are written)" in run.stderr
    assert imports_of(ignite, repository["id"]) == []
