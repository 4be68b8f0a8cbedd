"""Ignite -> DuckDB end to end: tap-ignite piped into target-duckdb-typed, as `meltano run`
pipes them, in rows mode, export parquet as RECORDs and export parquet as BATCH files; and
the same through target-duckdb 0.8.0 (the loader meltano.yml used before), installed by this
module in a venv of its own with its pinned DuckDB 1.0.0.

Each pipeline's rows/s is end to end (from the tap's start until the loader exited), over
the rows the DuckDB file holds afterwards: exactly N, N distinct ids, the seeded amounts
float64 cannot hold with every digit. CPU s and peak RSS are the loader's; the tap's are in
the notes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.measure import run_pipeline_measured
from benchmarks.report import MemoryGoal, Ratio, Result
from benchmarks.verify import exact_amounts

if TYPE_CHECKING:
    from benchmarks.run import Bench

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
# Names without `|`: they go in markdown tables.
PIPE_ROWS = "tap-ignite rows -> target-duckdb-typed"
PIPE_EXPORT = "tap-ignite export parquet -> target-duckdb-typed"
PIPE_BATCH = "tap-ignite export parquet, BATCH -> target-duckdb-typed"
PEER_ROWS = "tap-ignite rows -> target-duckdb 0.8.0"
PEER_EXPORT = "tap-ignite export parquet -> target-duckdb 0.8.0"
PEER_DIR = HERE / "output" / "target-duckdb-0.8.0"
PEER_REQUIREMENTS = ["target-duckdb==0.8.0", "duckdb==1.0.0"]
SCHEMA = "ignite"
LOADER_MEMORY_LIMIT_MB = 300

# Prints what the harness checks, run by the Python whose DuckDB wrote the file (the peer's
# is 1.0.0), so the file is read by the version that made it.
_CHECK = """
import json, sys, duckdb
path, schema, ids = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
# No progress bar: DuckDB prints one to stdout when a query runs for more than 2 s.
with duckdb.connect(path, read_only=True) as con:
    con.execute("SET enable_progress_bar = false")
    count, distinct = con.execute(
        f"select count(*), count(distinct id) from {schema}.spend").fetchall()[0]
    amounts = dict(con.execute(
        f"select id, cast(amount as varchar) from {schema}.spend where id in "
        "(select unnest(?))", [ids]).fetchall())
print(json.dumps({"count": count, "distinct": distinct, "amounts": amounts}))
"""


def peer_target() -> tuple[Path, Path] | str:
    """target-duckdb 0.8.0 and its Python, installed once under benchmarks/output (uv, or
    venv and pip); or why it could not be."""
    python = PEER_DIR / "bin" / "python"
    executable = PEER_DIR / "bin" / "target-duckdb"
    if executable.exists():
        return executable, python
    uv = shutil.which("uv")
    if uv:
        steps = [
            [uv, "venv", "--quiet", "--python", sys.executable, str(PEER_DIR)],
            [uv, "pip", "install", "--quiet", "--python", str(python), *PEER_REQUIREMENTS],
        ]
    else:
        steps = [
            [sys.executable, "-m", "venv", str(PEER_DIR)],
            [str(python), "-m", "pip", "install", "--quiet", *PEER_REQUIREMENTS],
        ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(PEER_DIR, ignore_errors=True)
            return f"could not install {' '.join(PEER_REQUIREMENTS)}: {done.stderr[-300:]}"
    return executable, python


def check_warehouse(bench: Bench, path: Path, python: Path) -> tuple[int, list[str]]:
    """Rows the file holds, and what is wrong with them."""
    expected = exact_amounts(bench.rows)
    done = subprocess.run(
        [str(python), "-c", _CHECK, str(path), SCHEMA, json.dumps(sorted(expected))],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return 0, [f"could not read {path.name}: {done.stderr.strip()[-300:]}"]
    found = json.loads(done.stdout.strip().splitlines()[-1])  # the last line is the JSON
    problems = []
    if found["count"] != bench.rows or found["distinct"] != bench.rows:
        problems.append(
            f"{found['count']} rows, {found['distinct']} distinct ids, expected {bench.rows}"
        )
    from decimal import Decimal  # noqa: PLC0415 - only here

    for row_id, amount in expected.items():
        loaded = found["amounts"].get(row_id)
        if loaded is None or Decimal(loaded) != amount:
            problems.append(f"{row_id}: amount {loaded}, expected {amount}")
    return found["count"], problems


def run_pipeline(
    bench: Bench,
    name: str,
    catalog: Path,
    *,
    tap_settings: dict[str, Any],
    loader: list[str],
    loader_settings: dict[str, Any],
    python: Path,
) -> None:
    """One tap | loader run into a fresh DuckDB file, measured and verified."""
    print(f"--> {name}", flush=True)
    warehouse = bench.path_for(name, ".duckdb")
    for stale in (warehouse, Path(f"{warehouse}.wal")):
        stale.unlink(missing_ok=True)
    tap_config = json.loads(bench.tap_config.read_text()) | tap_settings
    tap_cfg = bench.write_config(bench.path_for(name, "-tap.json").name, tap_config)
    loader_cfg = bench.write_config(
        bench.path_for(name, "-loader.json").name,
        {"filepath": str(warehouse), "default_target_schema": SCHEMA, **loader_settings},
    )
    tap, measurement = run_pipeline_measured(
        [str(BIN / "tap-ignite"), "--config", str(tap_cfg), "--catalog", str(catalog)],
        [*loader, "--config", str(loader_cfg)],
        stderr_paths=(bench.path_for(name, "-tap.stderr"), bench.path_for(name, ".stderr")),
        server_pid=bench.sandbox.process.pid,
        timeout=bench.args.timeout,
    )
    result = Result(name, measurement=measurement)
    result.notes.append(f"tap CPU {tap.cpu_s:.1f} s, tap peak RSS {tap.peak_rss_mb:.0f} MB")
    if tap.returncode != 0:
        result.status = f"FAILED: tap exit {tap.returncode}"
    elif measurement.returncode != 0:
        tail = measurement.stderr_tail(3).splitlines()
        result.status = f"FAILED (exit {measurement.returncode}): {tail[-1][:300] if tail else ''}"
    else:
        result.rows, problems = check_warehouse(bench, warehouse, python)
        if problems:
            result.status = "WRONG: " + "; ".join(problems[:3])
    if not bench.args.keep_outputs:
        for path in (warehouse, Path(f"{warehouse}.wal")):
            path.unlink(missing_ok=True)
        shutil.rmtree(bench.workdir / "batches", ignore_errors=True)
    bench.results.append(result)
    m = measurement
    rate = result.rows_per_s
    print(
        f"    {result.rows:,} rows in {m.wall_s:.1f} s = {'-' if rate is None else f'{rate:,.0f}'}"
        f" rows/s end to end; loader CPU {m.cpu_s:.1f} s, peak RSS {m.peak_rss_mb:.0f} MB; "
        f"{result.notes[-1]}: {result.status}",
        flush=True,
    )


def run_duckdb_pipelines(
    bench: Bench, skip: set[str], discover: Callable[[Bench, dict[str, Any], str], Path | None]
) -> None:
    """Every Ignite -> DuckDB contender, one after the other; `discover` gives tap-ignite's
    catalog for tap settings (run.discover_catalog)."""
    catalog = discover(bench, {}, "catalog-numbers")
    if catalog is None:
        for name in (PIPE_ROWS, PIPE_EXPORT, PIPE_BATCH, PEER_ROWS, PEER_EXPORT):
            bench.results.append(Result(name, status="not available (discovery failed)"))
        return
    export: dict[str, Any] = {"sync_mode": "export", "export_format": "parquet"}
    batches: dict[str, Any] = {
        "batch_config": {
            "encoding": {"format": "parquet"},
            "storage": {"root": (bench.workdir / "batches").as_uri()},
        }
    }
    if "duckdb" not in skip:
        ours = [str(BIN / "target-duckdb-typed")]
        python = Path(sys.executable)
        ours_modes: list[tuple[str, dict[str, Any]]] = [
            *([(PIPE_ROWS, {})] if "duckdb-rows" not in skip else []),
            (PIPE_EXPORT, export),
            (PIPE_BATCH, export | batches),
        ]
        for name, mode in ours_modes:
            run_pipeline(
                bench,
                name,
                catalog,
                tap_settings=mode,
                loader=ours,
                loader_settings={},
                python=python,
            )
    if "duckdb-peer" not in skip:
        peer = peer_target()
        if isinstance(peer, str):
            for name in (PEER_ROWS, PEER_EXPORT):
                bench.results.append(Result(name, status=peer))
            return
        executable, python = peer
        # As meltano.yml ran it: exact money as decimal strings, which it keeps as VARCHAR
        # (the catalog declares them so too).
        catalog = discover(bench, {"use_singer_decimal": True}, "catalog-decimal-strings")
        if catalog is None:
            return
        settings: dict[str, Any] = {"add_metadata_columns": True, "primary_key_required": True}
        exact: dict[str, Any] = {"use_singer_decimal": True}
        for name, tap_settings in ((PEER_ROWS, exact), (PEER_EXPORT, exact | export)):
            run_pipeline(
                bench,
                name,
                catalog,
                tap_settings=tap_settings,
                loader=[str(executable)],
                loader_settings=settings,
                python=python,
            )


def duckdb_ratios(tap: str, export_parquet: str, export_batch: str) -> list[Ratio]:
    """The goals of the DuckDB loader (issue 15)."""
    typed, peer = "-> target-duckdb-typed", "-> target-duckdb"
    return [
        Ratio(f"rows {typed} / tap rows", PIPE_ROWS, tap, 0.8),
        Ratio(f"export parquet {typed} / tap export parquet", PIPE_EXPORT, export_parquet, 0.8),
        Ratio(f"export BATCH {typed} / tap export BATCH", PIPE_BATCH, export_batch, 0.8),
        Ratio(f"rows {typed} / rows {peer}", PIPE_ROWS, PEER_ROWS, 5.0),
        Ratio(f"export parquet {typed} / export parquet {peer}", PIPE_EXPORT, PEER_EXPORT, 5.0),
        Ratio(f"export BATCH {typed} / export parquet {peer}", PIPE_BATCH, PEER_EXPORT, 5.0),
    ]


def duckdb_memory_goals() -> list[MemoryGoal]:
    """Peak RSS of the loader in each pipeline."""
    return [
        MemoryGoal(name, LOADER_MEMORY_LIMIT_MB) for name in (PIPE_ROWS, PIPE_EXPORT, PIPE_BATCH)
    ]
