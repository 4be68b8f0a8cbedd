"""The benchmark's one table, its ratios against the goals, and RESULTS.md."""

from __future__ import annotations

import datetime
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.measure import Measurement


@dataclass
class Result:
    """One contender's outcome: a measurement of a verified run, or why there is none."""

    name: str
    rows: int = 0
    measurement: Measurement | None = None
    status: str = "ok"  # "ok", or what went wrong / why it did not run
    notes: list[str] = field(default_factory=list)

    @property
    def rows_per_cpu_s(self) -> float | None:
        """Rows per CPU second of the contender's own process; None unless verified."""
        m = self.measurement
        if self.rows_per_s is None or m is None or m.cpu_s <= 0:
            return None
        return self.rows / m.cpu_s

    @property
    def rows_per_s(self) -> float | None:
        """Throughput of a run that passed its checks; None otherwise."""
        if self.status != "ok" or self.measurement is None or self.measurement.wall_s <= 0:
            return None
        return self.rows / self.measurement.wall_s


@dataclass(frozen=True)
class Ratio:
    """A throughput ratio the issue sets a goal for."""

    label: str
    numerator: str
    denominator: str
    goal: float | None = None


@dataclass(frozen=True)
class MemoryGoal:
    """A peak-RSS ceiling for a contender."""

    name: str
    limit_mb: float


def machine() -> str:
    """Cores, memory, CPU model and Python: what the figures depend on."""
    cores = os.cpu_count() or 0
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = f"{pages / 2**30:.0f} GiB"
    cpu = model or platform.machine()
    return f"{cores} cores ({cpu}), {memory} RAM, Python {platform.python_version()}"


def fmt(value: float | None, digits: int = 1) -> str:
    """A figure with thousands separators and `digits` decimals, `-` when missing."""
    return "-" if value is None else f"{value:,.{digits}f}"


def results_table(results: list[Result]) -> str:
    """Markdown table, one row per contender."""
    lines = [
        "| contender | rows | wall s | rows/s | CPU s | rows per CPU s | peak RSS MB "
        "| sandbox CPU s | status |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        m = r.measurement
        status = r.status if not r.notes else f"{r.status}; {'; '.join(r.notes)}"
        per_cpu = r.rows_per_cpu_s
        lines.append(
            f"| {r.name} | {r.rows:,} | {fmt(m.wall_s if m else None)} "
            f"| {fmt(r.rows_per_s, 0)} | {fmt(m.cpu_s if m else None)} | {fmt(per_cpu, 0)} "
            f"| {fmt(m.peak_rss_mb if m else None, 0)} "
            f"| {fmt(m.server_cpu_s if m else None)} | {status} |"
        )
    return "\n".join(lines)


def ratios_table(results: list[Result], ratios: list[Ratio], memory_goals: list[MemoryGoal]) -> str:
    """Markdown table of the goal ratios and memory ceilings, each marked met or not."""
    by_name = {r.name: r for r in results}
    lines = [
        "| ratio | rows/s ratio | goal | met | rows per CPU s ratio |",
        "|---|---:|---:|---|---:|",
    ]
    for ratio in ratios:
        num = by_name.get(ratio.numerator)
        den = by_name.get(ratio.denominator)
        value = _ratio(num.rows_per_s if num else None, den.rows_per_s if den else None)
        by_cpu = _ratio(num.rows_per_cpu_s if num else None, den.rows_per_cpu_s if den else None)
        goal = f">= {ratio.goal:g}x" if ratio.goal is not None else ""
        if value is None:
            met = "n/a"
        elif ratio.goal is None:
            met = ""
        else:
            met = "yes" if value >= ratio.goal else "**no**"
        shown = f"{value:.2f}x" if value is not None else "-"
        cpu_shown = f"{by_cpu:.2f}x" if by_cpu is not None else "-"
        lines.append(f"| {ratio.label} | {shown} | {goal} | {met} | {cpu_shown} |")
    for goal_ in memory_goals:
        result = by_name.get(goal_.name)
        m = result.measurement if result and result.status == "ok" else None
        if m is None:
            lines.append(f"| peak RSS {goal_.name} | - | < {goal_.limit_mb:g} MB | n/a | |")
            continue
        met = "yes" if m.peak_rss_mb < goal_.limit_mb else "**no**"
        lines.append(
            f"| peak RSS {goal_.name} | {m.peak_rss_mb:,.0f} MB | < {goal_.limit_mb:g} MB "
            f"| {met} | |"
        )
    return "\n".join(lines)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def results_markdown(
    *,
    rows: int,
    page_size: int,
    command: str,
    tables: list[tuple[str, str]],
    load: str = "",
) -> str:
    """RESULTS.md: date, machine, N, the command, then each titled table."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# Benchmark results",
        "",
        f"- Date: {now}",
        f"- Machine: {machine()}",
        f"- N = {rows:,} spend rows, page size {page_size:,}",
        f"- Command: `{command}`",
        *([f"- Load average (1 min) at start and end: {load}"] if load else []),
        "",
        "Throughput is verified rows per wall-clock second of the contender's process "
        "(start-up and discovery included). CPU s is user+sys of that process, and rows per "
        "CPU s its own efficiency, which holds up better than wall time on a shared machine; "
        "sandbox CPU s is what the server burnt meanwhile (it shares the machine's cores).",
    ]
    for title, table in tables:
        parts += ["", f"## {title}", "", table]
    return "\n".join(parts) + "\n"
