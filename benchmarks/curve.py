"""Cost curves: the same contenders at several sizes, to see how time and memory grow.

    uv run python -m benchmarks.run --curve                  # 100,000, 1,000,000, 5,000,000
    uv run python -m benchmarks.run --curve 20000,100000     # other sizes (written under output/)
    uv run python -m benchmarks.curve benchmarks/output/curve-<stamp>/curve.json   # re-render

At each size: one fresh sandbox seeded with that many spend rows (seeding is a DuckDB
`CREATE TABLE AS` over `range(N)`: about 6 s at 100k, 15 s and 1 GB at 1M, growing with N;
one sandbox cannot serve the smaller sizes because the tap has no row limit and the server's
own per-page cost depends on the table it pages through), then, one after the other:
tap-ignite in rows mode, tap-ignite export parquet handed over as BATCH files, tap-ignite
(rows, then export parquet BATCH) piped into target-duckdb-typed, and target-ignite (json)
loading the rows tap's verified output. Every run is verified as in the main benchmark before
its figures count.

Writes a table of rows/s, rows per CPU second and peak RSS against rows, how time per row and
peak RSS change from the smallest size to the largest, and a PNG (rows/s and peak RSS against
rows, log x), into its own section of RESULTS.md (the main 1M results stay as they are).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ignite_sandbox.launcher import run_sandbox

from benchmarks.duckdb_pipelines import PIPE_BATCH, PIPE_ROWS, run_pipeline
from benchmarks.measure import Measurement
from benchmarks.report import Result, fmt, machine

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = (100_000, 1_000_000, 5_000_000)
BEGIN = "<!-- cost-curves:begin -->"
END = "<!-- cost-curves:end -->"
_SECTION = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.DOTALL)
# Time grows linearly (or better) when the CPU seconds per extra million rows over the last
# step are at most this many times the first step's, plus LINEAR_SLACK (CPU time is counted in
# ticks and start-up varies by a few tenths of a second: a contender that does no per-row work,
# like the BATCH tap, has a marginal cost of about zero at every step). Memory is flat when the
# largest peak RSS is at most FLAT_TOLERANCE times the smallest.
LINEAR_TOLERANCE = 1.25
LINEAR_SLACK = 1.0  # CPU s per extra million rows
FLAT_TOLERANCE = 1.25


def parse_sizes(text: str) -> list[int]:
    """`100000,1000000` -> [100000, 1000000]: at least two distinct positive sizes, sorted."""
    try:
        sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    except ValueError:
        msg = f"--curve takes comma-separated row counts, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if len(sizes) < 2 or sizes[0] < 1:
        msg = f"--curve needs at least two distinct positive row counts, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return sizes


@dataclass
class SizeRun:
    """Every contender's result at one size, and what the sandbox cost to make."""

    rows: int
    results: list[Result] = field(default_factory=list)
    seed_s: float = 0.0
    sandbox_rss_mb: float = 0.0
    load: float = 0.0


def run_size(
    args: argparse.Namespace, rows: int, workdir: Path, earlier: SizeRun | None = None
) -> SizeRun:
    """One sandbox of `rows` spend rows and every curve contender against it; with `earlier`
    (a resumed size), only the contenders it has no verified result for."""
    # Imported here: run.py imports this module for its --curve option.
    from benchmarks.run import (  # noqa: PLC0415
        BIN,
        EXPORT_BATCH,
        TAP,
        TARGET,
        Bench,
        discover_catalog,
        export_contenders,
        run_loader,
    )

    skip = set(args.skip)
    kept = [r for r in earlier.results if r.status == "ok"] if earlier else []
    names = [TAP, EXPORT_BATCH, PIPE_ROWS, PIPE_BATCH, TARGET.format(fmt="json")]
    keys = ["tap", "export", "duckdb-rows", "duckdb", "target"]
    wanted = {
        name
        for name, key in zip(names, keys, strict=True)
        if key not in skip and not (name == PIPE_ROWS and "duckdb" in skip)
    } - {r.name for r in kept}
    if earlier is not None and not wanted:
        return earlier
    if TARGET.format(fmt="json") in wanted and "tap" not in skip:
        wanted.add(TAP)  # its output is target-ignite's input
    size_args = argparse.Namespace(**(vars(args) | {"rows": rows}))
    workdir.mkdir(parents=True, exist_ok=True)
    run = SizeRun(rows, load=os.getloadavg()[0])
    if earlier is not None:
        print(f"\n=== {rows:,} rows: kept {', '.join(r.name for r in kept) or 'nothing'}")
    print(f"\n=== {rows:,} spend rows: starting the sandbox ...", flush=True)
    started = time.monotonic()
    with run_sandbox(spend_rows=rows, seed=7, startup_timeout=3600) as sandbox:
        run.seed_s = time.monotonic() - started
        bench = Bench(size_args, sandbox, workdir)
        print(f"Sandbox ready in {run.seed_s:.1f} s at {sandbox.url}; work dir {workdir}")
        catalog = discover_catalog(bench)
        if catalog is None:
            run.results = [
                Result(name, status="not available (discovery failed)") for name in names
            ]
            return run
        tap = [str(BIN / "tap-ignite"), "--catalog", str(catalog), "--config"]
        singer_file: Path | None = None
        if TAP in wanted:
            result = bench.run_tap(TAP, [*tap, str(bench.tap_config)], keep=True)
            singer_file = bench.output_of(TAP) if result.status == "ok" else None
        batch_settings = dict(export_contenders(bench))[EXPORT_BATCH]
        if EXPORT_BATCH in wanted:
            config = bench.write_config(
                "export-batch.json", _read_json(bench.tap_config) | batch_settings
            )
            bench.run_tap(EXPORT_BATCH, [*tap, str(config)])
            shutil.rmtree(workdir / "batches", ignore_errors=True)
        ours = [str(BIN / "target-duckdb-typed")]
        for name, settings in ((PIPE_ROWS, {}), (PIPE_BATCH, batch_settings)):
            if name in wanted:
                run_pipeline(
                    bench,
                    name,
                    catalog,
                    tap_settings=settings,
                    loader=ours,
                    loader_settings={},
                    python=Path(sys.executable),
                )
        name = TARGET.format(fmt="json")
        if name in wanted:
            if singer_file is None:
                bench.results.append(Result(name, status="no verified Singer input"))
            else:
                run_loader(bench, name, singer_file, [str(BIN / "target-ignite")], "json")
        run.sandbox_rss_mb = _peak_rss_mb(sandbox.process.pid)
    if singer_file is not None and not args.keep_outputs:
        singer_file.unlink(missing_ok=True)
    if earlier is None:
        run.results = bench.results
        return run
    # The earlier run's sandbox figures stay; its verified results, where none is newer.
    fresh = {r.name: r for r in bench.results}
    earlier.results = [fresh.pop(r.name, r) for r in kept] + list(fresh.values())
    order = {name: i for i, name in enumerate(names)}
    earlier.results.sort(key=lambda r: order.get(r.name, len(order)))
    return earlier


def _as_dict(run: SizeRun) -> dict[str, Any]:
    """A size's figures as plain JSON (`load_runs` reads them back)."""
    return {
        "rows": run.rows,
        "seed_s": run.seed_s,
        "sandbox_rss_mb": run.sandbox_rss_mb,
        "load": run.load,
        "results": [
            {
                "name": r.name,
                "rows": r.rows,
                "status": r.status,
                "notes": r.notes,
                "measurement": None
                if r.measurement is None
                else {k: v for k, v in vars(r.measurement).items() if k != "stderr_path"}
                | {"stderr_path": str(r.measurement.stderr_path)},
            }
            for r in run.results
        ],
    }


def load_runs(path: Path) -> tuple[list[SizeRun], str, float]:
    """The figures a curve run saved in its work dir's curve.json, its command and the load
    average at its start (to re-render a report)."""
    saved = json.loads(path.read_text())
    if isinstance(saved, list):  # the first format: the sizes only
        first = saved[0]["load"] if saved else 0.0
        saved = {
            "command": "uv run python -m benchmarks.run --curve",
            "load_start": first,
            "runs": saved,
        }
    runs = []
    for item in saved["runs"]:
        results = []
        for r in item["results"]:
            m = r["measurement"]
            measurement = (
                None if m is None else Measurement(**(m | {"stderr_path": Path(m["stderr_path"])}))
            )
            results.append(Result(r["name"], r["rows"], measurement, r["status"], r["notes"]))
        runs.append(
            SizeRun(item["rows"], results, item["seed_s"], item["sandbox_rss_mb"], item["load"])
        )
    return runs, str(saved["command"]), float(saved["load_start"])


def _read_json(path: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(path.read_text())
    return loaded


def _peak_rss_mb(pid: int) -> float:
    """A running process's peak RSS (VmHWM) in MB, 0 when unreadable."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- the report -------------------------------------------------------------------------------


def _names(runs: list[SizeRun]) -> list[str]:
    """Contender names in the order they ran."""
    names: list[str] = []
    for run in runs:
        for result in run.results:
            if result.name not in names:
                names.append(result.name)
    return names


def _by_name(runs: list[SizeRun], name: str) -> list[tuple[int, Result]]:
    return [(run.rows, r) for run in runs for r in run.results if r.name == name]


def curve_table(runs: list[SizeRun]) -> str:
    """One row per contender per size."""
    lines = [
        "| contender | rows | wall s | rows/s | us per row | CPU s | rows per CPU s "
        "| peak RSS MB | sandbox CPU s | status |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name in _names(runs):
        for rows, r in _by_name(runs, name):
            m = r.measurement
            ok = r.rows_per_s is not None and m is not None
            per_row = 1e6 * m.wall_s / rows if ok and m is not None else None
            status = r.status if not r.notes else f"{r.status}; {'; '.join(r.notes)}"
            lines.append(
                f"| {name} | {rows:,} | {fmt(m.wall_s if m else None, 1)} "
                f"| {fmt(r.rows_per_s, 0)} | {fmt(per_row, 2)} | {fmt(m.cpu_s if m else None, 1)} "
                f"| {fmt(r.rows_per_cpu_s, 0)} | {fmt(m.peak_rss_mb if m else None, 0)} "
                f"| {fmt(m.server_cpu_s if m else None, 1)} | {status} |"
            )
    return "\n".join(lines)


@dataclass
class Growth:
    """How one contender's cost grows from the smallest size to the largest."""

    name: str
    sizes: list[int]
    wall_s: list[float]
    cpu_s: list[float]
    rss_mb: list[float]
    server_cpu_s: list[float]

    def _marginal(self, seconds: list[float], step: int) -> float:
        """Seconds per extra million rows between size `step` and `step + 1`."""
        extra_rows = self.sizes[step + 1] - self.sizes[step]
        return 1e6 * (seconds[step + 1] - seconds[step]) / extra_rows

    @property
    def per_row_ratio(self) -> float:
        """Wall time per row at the largest size / at the smallest (start-up included)."""
        return (self.wall_s[-1] / self.sizes[-1]) / (self.wall_s[0] / self.sizes[0])

    @property
    def marginal_wall(self) -> tuple[float, float]:
        """Wall s per extra million rows over the first step and over the last."""
        return self._marginal(self.wall_s, 0), self._marginal(self.wall_s, len(self.sizes) - 2)

    @property
    def marginal_cpu(self) -> tuple[float, float]:
        """CPU s per extra million rows over the first step and over the last."""
        return self._marginal(self.cpu_s, 0), self._marginal(self.cpu_s, len(self.sizes) - 2)

    @property
    def marginal_server(self) -> tuple[float, float]:
        """The sandbox's CPU s per extra million rows over the first step and over the last."""
        steps = len(self.sizes) - 2
        return self._marginal(self.server_cpu_s, 0), self._marginal(self.server_cpu_s, steps)

    @property
    def rss_spread(self) -> float:
        """Largest peak RSS / smallest, over the sizes."""
        return max(self.rss_mb) / min(self.rss_mb)

    @property
    def linear(self) -> bool:
        """Whether the last step's CPU per extra row is no more than the first's, within
        tolerance (CPU: a shared machine disturbs it far less than wall time)."""
        first, last = self.marginal_cpu
        return last <= LINEAR_TOLERANCE * max(first, 0.0) + LINEAR_SLACK

    @property
    def flat(self) -> bool:
        """Whether peak RSS at the largest size is within tolerance of the smallest's."""
        return self.rss_spread <= FLAT_TOLERANCE


def growths(runs: list[SizeRun]) -> list[Growth]:
    """The growth of every contender verified at every size."""
    found = []
    for name in _names(runs):
        points = _by_name(runs, name)
        measured = [(rows, r.measurement) for rows, r in points if r.rows_per_s is not None]
        if len(measured) != len(runs) or len(measured) < 2:
            continue
        found.append(
            Growth(
                name,
                [rows for rows, _ in measured],
                [m.wall_s for _, m in measured if m],
                [m.cpu_s for _, m in measured if m],
                [m.peak_rss_mb for _, m in measured if m],
                [m.server_cpu_s for _, m in measured if m],
            )
        )
    return found


def growth_table(found: list[Growth]) -> str:
    """Per contender: time per row largest/smallest, marginal cost per step, RSS spread."""
    lines = [
        "| contender | wall s per row, largest / smallest size | wall s per extra 1M rows, "
        "first step / last step | CPU s per extra 1M rows, first step / last step "
        "| sandbox CPU s per extra 1M rows, first step / last step "
        "| peak RSS MB, smallest to largest | RSS largest / smallest |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for g in found:
        wall, cpu, server = g.marginal_wall, g.marginal_cpu, g.marginal_server
        lines.append(
            f"| {g.name} | {g.per_row_ratio:.2f}x | {wall[0]:.1f} / {wall[1]:.1f} "
            f"| {cpu[0]:.1f} / {cpu[1]:.1f} | {server[0]:.1f} / {server[1]:.1f} "
            f"| {' -> '.join(f'{v:.0f}' for v in g.rss_mb)} | {g.rss_spread:.2f}x |"
        )
    return "\n".join(lines)


def conclusion(found: list[Growth], sizes: list[int]) -> list[str]:
    """What the numbers say, in sentences computed from them."""
    if not found:
        return ["- No contender was verified at every size: no conclusion."]
    small, large = f"{sizes[0]:,}", f"{sizes[-1]:,}"
    linear = [g.name for g in found if g.linear]
    not_linear = [g for g in found if not g.linear]
    flat = [g.name for g in found if g.flat]
    not_flat = [g for g in found if not g.flat]
    if len(sizes) < 3:
        lines = ["- Time: two sizes, one step: whether the cost per row changes is not judged."]
        not_linear = []
    else:
        lines = [
            f"- Time: linear or better (the CPU seconds per extra million rows over the last "
            f"step at most {LINEAR_TOLERANCE:g}x the first step's + {LINEAR_SLACK:g} s) for "
            f"{len(linear)} of {len(found)} contenders"
            + (f": {', '.join(linear)}." if linear else "."),
        ]
    for g in not_linear:
        first, last = g.marginal_cpu
        lines.append(
            f"  - NOT linear: {g.name}: {first:.1f} CPU s per extra million rows over the first "
            f"step, {last:.1f} over the last."
        )
    if len(sizes) >= 3:
        steps = ", ".join(
            f"{g.name} {g.marginal_wall[0]:.1f} -> {g.marginal_wall[1]:.1f}" for g in found
        )
        lines.append(
            f"- Wall seconds per extra million rows, first step -> last step (the load on the "
            f"machine moves these): {steps}."
        )
    ratios = ", ".join(f"{g.name} {g.per_row_ratio:.2f}x" for g in found)
    lines.append(
        f"- Wall time per row at {large} rows / at {small} (below 1: fixed start-up spread over "
        f"more rows; above 1: each row costs more as the table grows): {ratios}."
    )
    lines.append(
        f"- Memory: flat (peak RSS at the largest size within {FLAT_TOLERANCE:g}x of the "
        f"smallest's) for {len(flat)} of {len(found)} contenders"
        + (f": {', '.join(flat)}." if flat else ".")
    )
    lines += [
        f"  - NOT flat: {g.name}: {g.rss_mb[0]:.0f} MB at {small} rows, {g.rss_mb[-1]:.0f} MB "
        f"at {large} ({g.rss_spread:.2f}x)."
        for g in not_flat
    ]
    biggest = max(found, key=lambda g: max(g.rss_mb))
    lines.append(f"- Largest peak RSS at any size: {max(biggest.rss_mb):.0f} MB ({biggest.name}).")
    return lines


def sandbox_table(runs: list[SizeRun]) -> str:
    """What each size's sandbox cost to make (context: it shares the machine's cores)."""
    lines = [
        "| rows | sandbox start (seeding) s | sandbox peak RSS MB | load average at start |",
        "|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.rows:,} | {r.seed_s:.1f} | {r.sandbox_rss_mb:,.0f} | {r.load:.1f} |" for r in runs
    ]
    return "\n".join(lines)


def plot(runs: list[SizeRun], path: Path) -> None:
    """Two panels against rows (log x): rows/s (log y) and peak RSS (MB)."""
    import matplotlib  # noqa: PLC0415 - only the curve needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.ticker import FuncFormatter, LogLocator  # noqa: PLC0415

    figure, (speed, memory) = plt.subplots(1, 2, figsize=(13, 6))
    for name in _names(runs):
        points = [
            (rows, r.rows_per_s, r.measurement.peak_rss_mb)
            for rows, r in _by_name(runs, name)
            if r.rows_per_s is not None and r.measurement is not None
        ]
        if not points:
            continue
        xs = [p[0] for p in points]
        label = name + (" (RSS: the loader's)" if "->" in name else "")
        speed.plot(xs, [p[1] for p in points], marker="o", label=label)
        memory.plot(xs, [p[2] for p in points], marker="o")
    speed.set_title("Throughput: verified rows per wall-clock second")
    speed.set_ylabel("rows/s (log)")
    speed.set_yscale("log")
    speed.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    speed.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    speed.yaxis.set_minor_locator(LogLocator(subs="auto"))
    speed.yaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
    memory.set_title("Peak RSS of the contender's process")
    memory.set_ylabel("MB")
    memory.set_ylim(bottom=0)
    for axis in (speed, memory):
        axis.set_xscale("log")
        axis.set_xlabel("spend rows (log)")
        axis.set_xticks([run.rows for run in runs], [f"{run.rows:,}" for run in runs])
        axis.xaxis.set_minor_locator(LogLocator(numticks=0))
        axis.grid(True, which="major", alpha=0.3)
    figure.legend(loc="lower center", ncol=2, fontsize="small", frameon=False)
    figure.suptitle(f"Cost curves, {', '.join(f'{r.rows:,}' for r in runs)} spend rows")
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def section(
    runs: list[SizeRun], *, command: str, plot_name: str, load: tuple[float, float | None]
) -> str:
    """The cost-curve section of RESULTS.md, between its markers."""
    sizes = [run.rows for run in runs]
    found = growths(runs)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        BEGIN,
        "## Cost curves",
        "",
        f"- Date: {stamp}",
        f"- Machine: {machine()}",
        f"- Sizes: {', '.join(f'{n:,}' for n in sizes)} spend rows, one fresh sandbox each",
        f"- Command: `{command}`",
        f"- Load average (1 min) at start and end: {load[0]:.1f} / "
        f"{'-' if load[1] is None else f'{load[1]:.1f}'} (at each size's start: Sandboxes "
        "below; the wall-clock figures need an idle machine, rows per CPU s holds up better)",
        "",
        "Same measurement as the main table: rows/s is verified rows per wall-clock second of "
        "the contender's process, start-up included (so the smallest size pays start-up over "
        "fewer rows); CPU s is user+sys; for the `->` pipelines rows/s is end to end and CPU s "
        "and peak RSS are the loader's (the tap's are in the status column).",
        "",
        f"![Cost curves: rows/s and peak RSS against rows]({plot_name})",
        "",
        "### Conclusion, from the numbers",
        "",
        *conclusion(found, sizes),
        "",
        "### By size",
        "",
        curve_table(runs),
        "",
        "### Growth",
        "",
        "The first step is the smallest size to the next, the last the next-to-largest to the "
        "largest; the cost of the extra rows between two sizes leaves start-up out.",
        "",
        growth_table(found),
        "",
        "### Sandboxes",
        "",
        sandbox_table(runs),
        END,
    ]
    return "\n".join(parts) + "\n"


def with_section(existing: str, block: str) -> str:
    """`existing` with its cost-curve section replaced by `block`, or `block` appended."""
    if _SECTION.search(existing):
        return _SECTION.sub(lambda _: block, existing, count=1)
    if not existing:
        return block
    return existing.rstrip("\n") + "\n\n" + block


def carry_over(path: Path, markdown: str) -> str:
    """The main run's new RESULTS.md text, keeping the cost-curve section `path` already has."""
    try:
        found = _SECTION.search(path.read_text())
    except OSError:
        return markdown
    return with_section(markdown, found.group(0)) if found else markdown


def outputs(args: argparse.Namespace, sizes: list[int]) -> tuple[Path, Path]:
    """The markdown file the section goes into and the PNG beside it."""
    if args.results is not None:
        results: Path = args.results
        return results, results.with_name(f"{results.stem}-curve.png")
    if tuple(sizes) == DEFAULT_SIZES:
        return HERE / "RESULTS.md", HERE / "curve.png"
    tag = "-".join(str(n) for n in sizes)
    return HERE / "output" / f"RESULTS-curve-{tag}.md", HERE / "output" / f"curve-{tag}.png"


def write_report(
    runs: list[SizeRun],
    *,
    command: str,
    load: tuple[float, float | None],
    results_path: Path,
    plot_path: Path,
) -> str:
    """The section into `results_path` (its other text kept) and the plot; the section."""
    block = section(
        runs,
        command=command,
        plot_name=os.path.relpath(plot_path, results_path.parent),
        load=load,
    )
    plot(runs, plot_path)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    existing = results_path.read_text() if results_path.exists() else ""
    results_path.write_text(with_section(existing, block))
    return block


def run_curve(args: argparse.Namespace, argv: list[str]) -> int:
    """Every size, then the section and the plot."""
    sizes: list[int] = args.curve
    results_path, plot_path = outputs(args, sizes)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir = HERE / "output" / f"curve-{stamp}"
    load_start = os.getloadavg()[0]
    command = ("uv run python -m benchmarks.run " + shlex.join(argv)).strip()
    earlier: dict[int, SizeRun] = {}
    if args.curve_resume is not None:
        resumed, _, load_start = load_runs(args.curve_resume)
        earlier = {run.rows: run for run in resumed if run.rows in sizes}
        print(f"Sizes kept from {args.curve_resume}: {', '.join(f'{n:,}' for n in earlier)}")
    print(f"Cost curves at {', '.join(f'{n:,}' for n in sizes)} rows; work dir {workdir}")
    runs: list[SizeRun] = []
    for rows in sizes:
        runs.append(run_size(args, rows, workdir / str(rows), earlier.get(rows)))
        # Every figure so far, so a long run's numbers survive a later failure.
        saved = {"command": command, "load_start": load_start, "runs": [_as_dict(r) for r in runs]}
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "curve.json").write_text(json.dumps(saved, indent=1))
    load = (load_start, os.getloadavg()[0])
    block = write_report(
        runs, command=command, load=load, results_path=results_path, plot_path=plot_path
    )
    print()
    print(block)
    print(f"Written to {results_path} and {plot_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Re-render a curve run's section and plot from the curve.json it saved."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("saved", type=Path, help="benchmarks/output/curve-<timestamp>/curve.json")
    parser.add_argument("--results", type=Path, default=None, help="as benchmarks.run's")
    args = parser.parse_args(argv)
    try:
        runs, command, load_start = load_runs(args.saved)
    except (OSError, ValueError, KeyError, TypeError) as error:
        parser.error(f"cannot read {args.saved}: {error}")
    results_path, plot_path = outputs(args, [run.rows for run in runs])
    write_report(
        runs,
        command=command,
        load=(load_start, None),
        results_path=results_path,
        plot_path=plot_path,
    )
    print(f"Written to {results_path} and {plot_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
