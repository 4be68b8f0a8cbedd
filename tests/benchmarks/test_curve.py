"""`python -m benchmarks.run --curve`, end to end at tiny sizes: real sandboxes, the real
plugin CLIs, a results file that already holds the main results and an older curve section."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIZES = (2000, 5000)
# target-ignite and the rows pipeline are left out to keep this under a minute.
CONTENDERS = (
    "tap-ignite rows",
    "tap-ignite export parquet, BATCH",
    "tap-ignite export parquet, BATCH -> target-duckdb-typed",
)
MAIN_RESULTS = "# Benchmark results\n\n## Contenders\n\n| contender | rows |\n|---|---:|\n"
STALE_CURVE = (
    "<!-- cost-curves:begin -->\n## Cost curves\n\nSTALE FIGURES\n<!-- cost-curves:end -->\n"
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.run", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _number(cell: str) -> float:
    return float(cell.replace(",", ""))


def _size_table(markdown: str) -> list[list[str]]:
    """The cells of the "By size" table's rows."""
    lines = markdown.split("### By size", 1)[1].strip().splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_curve_writes_a_row_per_size_and_contender_and_a_plot(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text(MAIN_RESULTS + "\n" + STALE_CURVE)

    done = _run(
        "--curve",
        ",".join(str(n) for n in SIZES),
        "--results",
        str(results),
        "--skip",
        "target",
        "--skip",
        "duckdb-rows",
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    markdown = results.read_text()
    assert markdown.startswith(MAIN_RESULTS)  # the main results are kept
    assert "STALE FIGURES" not in markdown
    assert markdown.count("<!-- cost-curves:begin -->") == 1
    assert markdown.count("<!-- cost-curves:end -->") == 1

    table = _size_table(markdown)
    found = {(row[0], int(_number(row[1]))): row for row in table}
    assert len(table) == len(found) == len(SIZES) * len(CONTENDERS), table
    for name in CONTENDERS:
        for size in SIZES:
            row = found[(name, size)]
            # contender | rows | wall s | rows/s | us per row | CPU s | rows per CPU s
            # | peak RSS MB | sandbox CPU s | status
            assert row[9].startswith("ok"), row
            for column in (2, 3, 4, 5, 6, 7):
                assert _number(row[column]) > 0, (column, row)
            # rows/s is the size over the wall time
            assert abs(_number(row[3]) - size / _number(row[2])) <= 0.06 * _number(row[3])

    assert "### Growth" in markdown
    growth = markdown.split("### Growth", 1)[1]
    for name in CONTENDERS:
        assert f"| {name} |" in growth

    # The figures saved in the work dir render the same table again.
    workdir = re.search(r"work dir (\S+)$", done.stdout, re.MULTILINE)
    assert workdir, done.stdout[-3000:]
    again = tmp_path / "again.md"
    saved = Path(workdir.group(1)) / "curve.json"
    rendered = subprocess.run(
        [sys.executable, "-m", "benchmarks.curve", str(saved), "--results", str(again)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr[-3000:]
    assert _size_table(again.read_text()) == table
    assert (tmp_path / "again-curve.png").read_bytes()[:8] == PNG_SIGNATURE

    plot = tmp_path / "RESULTS-curve.png"
    assert "](RESULTS-curve.png)" in markdown
    data = plot.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 800
    assert height >= 400
    assert len(data) > 20_000  # two panels with lines and labels, not an empty canvas


def test_curve_needs_two_sizes() -> None:
    done = _run("--curve", "5000")
    assert done.returncode == 2
    assert "--curve needs at least two distinct positive row counts" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_main_run_keeps_the_curve_section(tmp_path: Path) -> None:
    """The main run rewrites RESULTS.md with its new figures and carries the curves over."""
    from benchmarks.curve import carry_over  # noqa: PLC0415 - the repo root is on sys.path

    results = tmp_path / "RESULTS.md"
    curve = STALE_CURVE.replace("STALE FIGURES", "CURVE FIGURES")
    results.write_text("# Benchmark results\n\nOLD MAIN FIGURES\n\n" + curve)
    new_main = "# Benchmark results\n\nNEW MAIN FIGURES\n"

    written = carry_over(results, new_main)

    assert written.startswith(new_main)
    assert "OLD MAIN FIGURES" not in written
    assert written.count(curve) == 1
    assert carry_over(tmp_path / "missing.md", new_main) == new_main
