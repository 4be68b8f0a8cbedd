"""Benchmark tap-ignite and target-ignite against one sandbox, beside their raw-client limits.

    uv run python -m benchmarks.run [--rows N] [--page-size P] [--skip NAME ...]
    uv run python -m benchmarks.run --curve [SIZES]     # cost curves (benchmarks/curve.py)

Starts ONE sandbox with N spend rows and runs, one after the other, every contender as a
child process: the raw client (decode and passthrough), tap-ignite in rows mode, the reference
SDK tap, tap-ignite in export mode (parquet, json), then target-ignite in each import format
beside the raw loader. Every output is verified (N records, N distinct ids, exact money)
before its figures count. Prints one table and writes it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ignite_sandbox.launcher import RunningSandbox, run_sandbox

from benchmarks.curve import DEFAULT_SIZES, carry_over, parse_sizes, run_curve
from benchmarks.duckdb_pipelines import (
    duckdb_memory_goals,
    duckdb_ratios,
    run_duckdb_pipelines,
)
from benchmarks.measure import Measurement, run_measured
from benchmarks.report import MemoryGoal, Ratio, Result, ratios_table, results_markdown
from benchmarks.report import results_table as render_results
from benchmarks.verify import check_singer_file

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
STREAM = "spend"
TAP_CONTENDERS = ["raw", "passthrough", "tap", "reference", "export"]
DUCKDB_CONTENDERS = ["duckdb", "duckdb-rows", "duckdb-peer"]
TARGET_CONTENDERS = ["target", "raw-target"]
IMPORT_FORMATS = ["json", "ndjson", "csv"]
MEMORY_LIMIT_MB = 300

RAW = "raw client (decode)"
PASSTHROUGH = "raw client (passthrough)"
TAP = "tap-ignite rows"
REFERENCE = "reference SDK tap"
EXPORT = "tap-ignite export {fmt}"
EXPORT_BATCH = "tap-ignite export parquet, BATCH"
TARGET = "target-ignite {fmt}"
RAW_TARGET = "raw loader {fmt}"


class Bench:
    """State shared by the contenders of one run: sandbox, work dir, options, results."""

    def __init__(self, args: argparse.Namespace, sandbox: RunningSandbox, workdir: Path) -> None:
        self.args = args
        self.rows: int = args.rows
        self.sandbox = sandbox
        self.workdir = workdir
        self.results: list[Result] = []
        self.tap_config = self.write_config(
            "tap-config.json",
            {"api_url": sandbox.url, "api_token": sandbox.token, "page_size": args.page_size},
        )

    def write_config(self, name: str, config: dict[str, Any]) -> Path:
        path = self.workdir / name
        path.touch(mode=0o600)  # it holds the token
        path.write_text(json.dumps(config))
        return path

    def path_for(self, label: str, suffix: str) -> Path:
        """A work file named after a contender."""
        return self.workdir / ("".join(c if c.isalnum() else "-" for c in label) + suffix)

    def output_of(self, name: str) -> Path:
        """Where a tap contender's Singer output goes."""
        return self.path_for(name, ".singer")

    def measure(self, argv: list[str], label: str, **kwargs: Any) -> Measurement:
        return run_measured(
            argv,
            stderr_path=self.path_for(label, ".stderr"),
            server_pid=self.sandbox.process.pid,
            timeout=self.args.timeout,
            **kwargs,
        )

    def run_tap(self, name: str, argv: list[str], *, keep: bool = False) -> Result:
        """Run a tap to a file, verify its output; keep the file (`output_of`) if asked."""
        print(f"--> {name}", flush=True)
        output = self.output_of(name)
        measurement = self.measure(argv, name, stdout_path=output)
        result = Result(name, measurement=measurement)
        if measurement.returncode != 0:
            result.status = f"FAILED (exit {measurement.returncode}): {_last_line(measurement)}"
        else:
            check = check_singer_file(output, STREAM, self.rows)
            result.rows = check.records
            if not check.ok:
                result.status = "WRONG: " + "; ".join(check.problems)
        if not (keep and result.status == "ok") and not self.args.keep_outputs:
            output.unlink(missing_ok=True)
        self.results.append(result)
        _print_result(result)
        return result


def _last_line(measurement: Measurement) -> str:
    lines = [line for line in measurement.stderr_tail(40).splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no stderr)"


def _print_result(result: Result) -> None:
    m = result.measurement
    rate = result.rows_per_s
    if m is None:
        print(f"    {result.status}", flush=True)
        return
    print(
        f"    {result.rows:,} rows in {m.wall_s:.1f} s = "
        f"{'-' if rate is None else f'{rate:,.0f}'} rows/s, CPU {m.cpu_s:.1f} s, "
        f"peak RSS {m.peak_rss_mb:.0f} MB, sandbox CPU {m.server_cpu_s:.1f} s: {result.status}",
        flush=True,
    )


def _stats(measurement: Measurement) -> dict[str, Any]:
    """The JSON stats line the raw clients print last on stderr."""
    for line in reversed(measurement.stderr_tail(5).splitlines()):
        try:
            stats = json.loads(line)
        except ValueError:
            continue
        if isinstance(stats, dict):
            return stats
    return {}


def about(cli: str) -> dict[str, Any] | None:
    """`<cli> --about --format json`, or None when the plugin does not run yet."""
    path = BIN / cli
    if not path.exists():
        return None
    completed = subprocess.run(
        [str(path), "--about", "--format", "json"], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        return None
    try:
        info: dict[str, Any] = json.loads(completed.stdout)
    except ValueError:
        return None
    return info


def _default(info: dict[str, Any] | None, setting: str) -> Any:
    """A setting's declared default in `--about` output, if any."""
    properties = ((info or {}).get("settings") or {}).get("properties") or {}
    return (properties.get(setting) or {}).get("default")


def setting_names(info: dict[str, Any] | None) -> set[str]:
    if not info:
        return set()
    return set((info.get("settings") or {}).get("properties") or {})


# -- taps -------------------------------------------------------------------------------------


def discover_catalog(
    bench: Bench, settings: dict[str, Any] | None = None, name: str = "catalog"
) -> Path | None:
    """tap-ignite's own catalog (discovered with the tap config and `settings`, as Meltano
    would) with the spend stream and every one of its columns selected, in `<name>.json`."""
    config = bench.tap_config
    if settings:
        merged = json.loads(bench.tap_config.read_text()) | settings
        config = bench.write_config(f"discover-{name}.json", merged)
    completed = subprocess.run(
        [str(BIN / "tap-ignite"), "--config", str(config), "--discover"],
        capture_output=True,
        check=False,
    )
    if completed.returncode != 0:
        print(f"    tap-ignite --discover failed: {completed.stderr.decode()[-500:]}")
        return None
    catalog = json.loads(completed.stdout)
    for stream in catalog["streams"]:
        selected = stream["tap_stream_id"] == STREAM
        for entry in stream.get("metadata", []):
            entry["metadata"]["selected"] = selected
    path = bench.workdir / f"{name}.json"
    path.write_text(json.dumps(catalog))
    return path


def run_taps(bench: Bench, skip: set[str]) -> Path | None:
    """The read contenders; returns a verified Singer file of the spend rows for the targets."""
    python = sys.executable
    singer_file: Path | None = None
    if "raw" not in skip:
        argv = [python, "-m", "benchmarks.raw_tap", "--config", str(bench.tap_config)]
        result = bench.run_tap(RAW, argv, keep=True)
        _note_wait(result)
        singer_file = bench.output_of(RAW) if result.status == "ok" else None
    if "passthrough" not in skip:
        argv = [python, "-m", "benchmarks.raw_tap", "--config", str(bench.tap_config)]
        _note_wait(bench.run_tap(PASSTHROUGH, [*argv, "--mode", "passthrough"]))

    tap_info = about("tap-ignite")
    catalog = discover_catalog(bench) if ("tap" not in skip or "export" not in skip) else None
    if "tap" not in skip:
        if catalog is None:
            bench.results.append(Result(TAP, status="not available (discovery failed)"))
        else:
            argv = [str(BIN / "tap-ignite"), "--config", str(bench.tap_config)]
            result = bench.run_tap(TAP, [*argv, "--catalog", str(catalog)], keep=True)
            if result.status == "ok":
                if singer_file is not None and not bench.args.keep_outputs:
                    singer_file.unlink(missing_ok=True)
                singer_file = bench.output_of(TAP)  # the targets load the tap's own output
    if "reference" not in skip:
        argv = [python, "-m", "benchmarks.reference_tap", "--config", str(bench.tap_config)]
        bench.run_tap(REFERENCE, argv)
    if "export" not in skip:
        for name, settings in export_contenders(bench):
            if "sync_mode" not in setting_names(tap_info):
                bench.results.append(Result(name, status="not available yet (no sync_mode)"))
                continue
            if catalog is None:
                bench.results.append(Result(name, status="not available (discovery failed)"))
                continue
            config = json.loads(bench.tap_config.read_text()) | settings
            cfg = bench.write_config(bench.path_for(name, ".json").name, config)
            argv = [str(BIN / "tap-ignite"), "--config", str(cfg), "--catalog", str(catalog)]
            bench.run_tap(name, argv)
            if not bench.args.keep_outputs:
                shutil.rmtree(bench.workdir / "batches", ignore_errors=True)
    return singer_file


def export_contenders(bench: Bench) -> list[tuple[str, dict[str, Any]]]:
    """Export mode as RECORD messages in both formats, and parquet handed over as BATCH."""
    batches = (bench.workdir / "batches").as_uri()
    return [
        (EXPORT.format(fmt="parquet"), {"sync_mode": "export", "export_format": "parquet"}),
        (EXPORT.format(fmt="json"), {"sync_mode": "export", "export_format": "json"}),
        (
            EXPORT_BATCH,
            {
                "sync_mode": "export",
                "export_format": "parquet",
                "batch_config": {"encoding": {"format": "parquet"}, "storage": {"root": batches}},
            },
        ),
    ]


def _note_wait(result: Result) -> None:
    if result.measurement is None:
        return
    stats = _stats(result.measurement)
    if stats.get("pages"):
        result.notes.append(
            f"{stats['pages']} pages; waiting for server {stats['wait_s']:.1f} s, "
            f"rows work {stats['work_s']:.1f} s"
        )


def run_sweep(bench: Bench, page_sizes: list[int]) -> str:
    """The raw client at several page sizes: where the sandbox bounds every figure."""
    lines = [
        "| page size | rows/s | pages | server wait s | per page ms | client work s "
        "| sandbox CPU s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in page_sizes:
        config = json.loads(bench.tap_config.read_text()) | {"page_size": size}
        cfg = bench.write_config(f"sweep-{size}.json", config)
        argv = [sys.executable, "-m", "benchmarks.raw_tap", "--config", str(cfg)]
        result = bench.run_tap(f"raw client page size {size}", argv)
        bench.results.remove(result)
        stats = _stats(result.measurement) if result.measurement else {}
        m = result.measurement
        if result.status != "ok" or not stats or m is None:
            lines.append(f"| {size:,} | {result.status} | | | | | |")
            continue
        per_page = 1000 * stats["wait_s"] / max(1, stats["pages"])
        lines.append(
            f"| {size:,} | {result.rows_per_s or 0:,.0f} | {stats['pages']:,} "
            f"| {stats['wait_s']:.1f} | {per_page:.1f} | {stats['work_s']:.1f} "
            f"| {m.server_cpu_s:.1f} |"
        )
    return "\n".join(lines)


# -- targets ----------------------------------------------------------------------------------


def imported_rows(bench: Bench, repository_id: str) -> int:
    """Rows the sandbox accepted into a repository, summed over its imports."""
    total = 0
    for item in bench.sandbox.admin.imports():
        if str(item.get("dataRepositoryId")) == repository_id:
            total += int(item.get("rows") or 0)
    return total


def run_loader(bench: Bench, name: str, singer_file: Path, argv: list[str], fmt: str) -> Result:
    """Load the Singer file into a fresh repository with `argv --config <cfg>`; count rows."""
    print(f"--> {name}", flush=True)
    fields = _spend_columns(bench)
    repository = bench.sandbox.admin.create_repository(f"bench {name}", fields)
    repository_id = str(repository["id"])
    config = {
        "api_url": bench.sandbox.url,
        "api_token": bench.sandbox.token,
        "repository_id": repository_id,
        "import_format": fmt,
    }
    cfg = bench.write_config(bench.path_for(name, ".json").name, config)
    measurement = bench.measure([*argv, "--config", str(cfg)], name, stdin_path=singer_file)
    result = Result(name, measurement=measurement)
    if measurement.returncode != 0:
        result.status = f"FAILED (exit {measurement.returncode}): {_last_line(measurement)}"
    else:
        result.rows = imported_rows(bench, repository_id)
        if result.rows != bench.rows:
            result.status = f"WRONG: {result.rows} rows imported, expected {bench.rows}"
    stats = _stats(measurement)
    if stats.get("imports"):
        result.notes.append(
            f"{stats['imports']} imports; waiting for server {stats['wait_s']:.1f} s"
        )
    bench.results.append(result)
    _print_result(result)
    return result


def _spend_columns(bench: Bench) -> list[str]:
    import requests  # noqa: PLC0415 - only the target half needs it

    response = requests.get(
        f"{bench.sandbox.url}/tables/",
        headers={"Authorization": f"Bearer {bench.sandbox.token}"},
        timeout=60,
    )
    response.raise_for_status()
    table = next(t for t in response.json() if t["id"] == STREAM)
    return [str(c["name"]) for c in table["columns"]]


def run_targets(bench: Bench, singer_file: Path | None, skip: set[str]) -> None:
    target_info = about("target-ignite")
    formats_known = "import_format" in setting_names(target_info)
    batch_rows = bench.args.target_batch_rows or _default(target_info, "batch_size_rows") or 10_000
    for fmt in IMPORT_FORMATS:
        if "target" not in skip:
            name = TARGET.format(fmt=fmt)
            if not formats_known:
                bench.results.append(Result(name, status="not available yet (no import_format)"))
            elif singer_file is None:
                bench.results.append(Result(name, status="no verified Singer input"))
            else:
                run_loader(bench, name, singer_file, [str(BIN / "target-ignite")], fmt)
        if "raw-target" not in skip:
            name = RAW_TARGET.format(fmt=fmt)
            if singer_file is None:
                bench.results.append(Result(name, status="no verified Singer input"))
                continue
            argv = [sys.executable, "-m", "benchmarks.raw_target", "--batch-rows", str(batch_rows)]
            run_loader(bench, name, singer_file, [*argv, "--format", fmt], fmt)


# -- the run ----------------------------------------------------------------------------------


def goal_ratios() -> list[Ratio]:
    ratios = [
        Ratio("tap / raw", TAP, RAW, 0.5),
        Ratio("tap / reference", TAP, REFERENCE, 3.0),
        Ratio("raw / passthrough", RAW, PASSTHROUGH),
        Ratio("export parquet / rows", EXPORT.format(fmt="parquet"), TAP, 2.0),
        Ratio("export json / rows", EXPORT.format(fmt="json"), TAP),
        Ratio("export parquet BATCH / rows", EXPORT_BATCH, TAP, 2.0),
    ]
    ratios += [
        Ratio(f"target / raw ({fmt})", TARGET.format(fmt=fmt), RAW_TARGET.format(fmt=fmt), 0.5)
        for fmt in IMPORT_FORMATS
    ]
    ratios += duckdb_ratios(TAP, EXPORT.format(fmt="parquet"), EXPORT_BATCH)
    return ratios


def memory_goals() -> list[MemoryGoal]:
    names = [TAP, EXPORT.format(fmt="parquet"), EXPORT.format(fmt="json"), EXPORT_BATCH]
    names += [TARGET.format(fmt=fmt) for fmt in IMPORT_FORMATS]
    return [MemoryGoal(name, MEMORY_LIMIT_MB) for name in names] + duckdb_memory_goals()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="spend rows (default 1M)")
    parser.add_argument("--page-size", type=int, default=10_000, help="rows per page, all taps")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=[*TAP_CONTENDERS, *DUCKDB_CONTENDERS, *TARGET_CONTENDERS],
        help="leave a contender out (repeatable)",
    )
    parser.add_argument(
        "--sweep",
        default="",
        help="comma-separated page sizes to run the raw client at (sandbox-bound analysis)",
    )
    parser.add_argument(
        "--target-batch-rows",
        type=int,
        default=None,
        help="rows per import of the raw loader (default: target-ignite's batch_size_rows)",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per contender")
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="markdown file to write (default benchmarks/RESULTS.md for the full 1M run, "
        "else benchmarks/output/RESULTS-<N>.md)",
    )
    parser.add_argument("--keep-outputs", action="store_true", help="keep every Singer file")
    parser.add_argument(
        "--curve",
        nargs="?",
        type=parse_sizes,
        const=list(DEFAULT_SIZES),
        default=None,
        metavar="SIZES",
        help="cost curves instead of the main run: tap rows, tap export parquet BATCH, "
        "both into target-duckdb-typed, and target-ignite json at each comma-separated size "
        "(default 100000,1000000,5000000); --skip tap/export/duckdb/duckdb-rows/target "
        "leaves one out",
    )
    parser.add_argument(
        "--curve-resume",
        type=Path,
        default=None,
        metavar="CURVE_JSON",
        help="with --curve: keep the verified results an earlier curve run saved in its "
        "curve.json (benchmarks/output/curve-<timestamp>/curve.json) and run only the "
        "contenders missing at each size",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.curve is not None:
        return run_curve(args, argv if argv is not None else sys.argv[1:])
    skip = set(args.skip)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir = HERE / "output" / f"run-{stamp}"
    workdir.mkdir(parents=True)
    results_path: Path = args.results or (
        HERE / "RESULTS.md"
        if args.rows >= 1_000_000
        else HERE / "output" / f"RESULTS-{args.rows}.md"
    )
    load_at_start = os.getloadavg()[0]
    print(f"Starting the sandbox with {args.rows:,} spend rows ...", flush=True)
    with run_sandbox(spend_rows=args.rows, seed=7, startup_timeout=3600) as sandbox:
        bench = Bench(args, sandbox, workdir)
        print(f"Sandbox at {sandbox.url}; work dir {workdir}", flush=True)
        singer_file = run_taps(bench, skip)
        if not {"duckdb", "duckdb-peer"} <= skip:
            run_duckdb_pipelines(bench, skip, discover_catalog)
        sweep = run_sweep(bench, [int(s) for s in args.sweep.split(",") if s.strip()])
        run_targets(bench, singer_file, skip)
    if singer_file is not None and not args.keep_outputs:
        singer_file.unlink(missing_ok=True)

    results = render_results(bench.results)
    ratios = ratios_table(bench.results, goal_ratios(), memory_goals())
    tables = [("Contenders", results), ("Ratios and goals", ratios)]
    if args.sweep:
        tables.append(("Raw client by page size (sandbox bound)", sweep))
    command = "uv run python -m benchmarks.run " + shlex.join(argv or sys.argv[1:])
    markdown = results_markdown(
        rows=args.rows,
        page_size=args.page_size,
        command=command.strip(),
        tables=tables,
        load=f"{load_at_start:.1f} / {os.getloadavg()[0]:.1f} (the figures need an idle machine)",
    )
    print()
    print(markdown)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(carry_over(results_path, markdown))  # keeps the cost curves
    print(f"Written to {results_path}")
    if not args.keep_outputs:
        for path in workdir.glob("*.singer"):
            path.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
