"""Where the time goes: py-spy profiles of tap-ignite, target-ignite and the sandbox.

    uv run python -m benchmarks.profile tap [--rows N] [--page-size P]
    uv run python -m benchmarks.profile target --format ndjson [--rows N]
    uv run python -m benchmarks.profile sandbox [--rows N]      # the server, under the raw client
    uv run python -m benchmarks.profile sandbox-import --format json  # ... under the raw loader
    uv run python -m benchmarks.profile reference [--rows N]    # the SDK-default reference tap

Needs py-spy: in the workspace's dev group (`uv sync --all-groups`), or set PY_SPY to its path.
Samples every thread including idle ones, so the percentages are of wall time: time spent
waiting for the server shows up as the socket read it is (`--cpu-only` leaves idle out).
Prints two markdown tables, the functions with the most samples on top of the stack (self)
and anywhere on it (total).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from ignite_sandbox.launcher import RunningSandbox, run_sandbox

BIN = Path(sys.executable).parent
STREAM = "spend"
PLUGIN_SUBJECTS = ["tap", "reference", "target", "export-parquet", "export-json"]


def py_spy() -> str:
    """The py-spy executable."""
    found = os.environ.get("PY_SPY") or shutil.which("py-spy") or shutil.which("py-spy", path=BIN)
    if not found:
        msg = "py-spy not found: `uv sync --all-groups` or set PY_SPY=/path/to/py-spy"
        raise SystemExit(msg)
    return found


def collapsed_top(path: Path, top: int) -> tuple[str, int]:
    """Markdown tables of self and total samples per function from py-spy's raw output."""
    self_counts: Counter[str] = Counter()
    total_counts: Counter[str] = Counter()
    samples = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";")]
        # The first frame is the process/thread header py-spy adds; keep Python frames only.
        frames = [f for f in frames if f]
        if not frames:
            continue
        samples += count
        self_counts[frames[-1]] += count
        for frame in set(frames):
            total_counts[frame] += count
    parts = []
    for title, counts in (("self", self_counts), ("total", total_counts)):
        parts += [f"| {title} % | function |", "|---:|---|"]
        for frame, count in counts.most_common(top):
            parts.append(f"| {100 * count / max(1, samples):.1f} | `{frame}` |")
        parts.append("")
    return "\n".join(parts), samples


def _short(frame: str) -> str:
    """`function (path/to/module.py)` -> `function (package/module.py)`."""
    if frame.startswith(("process ", "thread ")):
        return ""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})" if where else name


def write_config(workdir: Path, name: str, config: dict[str, object]) -> Path:
    path = workdir / name
    path.touch(mode=0o600)
    path.write_text(json.dumps(config))
    return path


def tap_catalog(workdir: Path, config: Path) -> Path:
    completed = subprocess.run(
        [str(BIN / "tap-ignite"), "--config", str(config), "--discover"],
        capture_output=True,
        check=True,
    )
    catalog = json.loads(completed.stdout)
    for stream in catalog["streams"]:
        for entry in stream.get("metadata", []):
            entry["metadata"]["selected"] = stream["tap_stream_id"] == STREAM
    path = workdir / "catalog.json"
    path.write_text(json.dumps(catalog))
    return path


def record(
    spy: str,
    argv: list[str],
    out: Path,
    *,
    rate: int,
    idle: bool,
    gil: bool,
    stdin: Path | None,
    stdout: Path | None,
) -> None:
    """py-spy record a command to completion."""
    command = [spy, "record", "--nolineno", "-f", "raw", "-r", str(rate), "-o", str(out)]
    if idle:
        command.append("--idle")
    if gil:
        command.append("--gil")
    with (
        stdin.open("rb") if stdin else open(os.devnull, "rb") as source,
        stdout.open("wb") if stdout else open(os.devnull, "wb") as sink,
    ):
        subprocess.run([*command, "--", *argv], stdin=source, stdout=sink, check=True)


def profile(args: argparse.Namespace, sandbox: RunningSandbox, workdir: Path) -> Path:
    spy = py_spy()
    tap_config = write_config(
        workdir,
        "tap.json",
        {"api_url": sandbox.url, "api_token": sandbox.token, "page_size": args.page_size},
    )
    out = workdir / f"{args.subject}.txt"
    raw_tap = [sys.executable, "-m", "benchmarks.raw_tap", "--config", str(tap_config)]
    settings = json.loads(args.settings)
    stdin: Path | None = None
    if args.subject in {"tap", "export-parquet", "export-json"}:
        if args.subject.startswith("export-"):
            settings |= {"sync_mode": "export", "export_format": args.subject.split("-", 1)[1]}
        config = write_config(
            workdir, "subject.json", json.loads(tap_config.read_text()) | settings
        )
        catalog = tap_catalog(workdir, tap_config)
        argv = [str(BIN / "tap-ignite"), "--config", str(config), "--catalog", str(catalog)]
    elif args.subject == "reference":
        argv = [sys.executable, "-m", "benchmarks.reference_tap", "--config", str(tap_config)]
    elif args.subject in {"target", "sandbox-import"}:
        stdin = workdir / "input.singer"
        with stdin.open("wb") as sink:
            subprocess.run(raw_tap, stdout=sink, stderr=subprocess.DEVNULL, check=True)
        repository = sandbox.admin.create_repository("profile", _columns(stdin))
        target = {
            "api_url": sandbox.url,
            "api_token": sandbox.token,
            "repository_id": repository["id"],
            "import_format": args.format,
        }
        config = write_config(workdir, "target.json", target | settings)
        argv = [str(BIN / "target-ignite"), "--config", str(config)]
        if args.subject == "sandbox-import":
            raw_target = [sys.executable, "-m", "benchmarks.raw_target", "--format", args.format]
            return attach(
                spy, args, sandbox, out, [*raw_target, "--config", str(config)], stdin=stdin
            )
    else:  # sandbox: attach to the server while the raw client pages through it
        return attach(spy, args, sandbox, out, raw_tap, stdin=None)
    idle = not (args.cpu_only or args.gil)
    record(spy, argv, out, rate=args.rate, idle=idle, gil=args.gil, stdin=stdin, stdout=None)
    return out


def attach(
    spy: str,
    args: argparse.Namespace,
    sandbox: RunningSandbox,
    out: Path,
    load: list[str],
    *,
    stdin: Path | None,
) -> Path:
    """Profile the sandbox process while `load` (a raw client) runs against it."""
    command = [spy, "record", "--nolineno", "-f", "raw", "-r", str(args.rate), "-o", str(out)]
    command += ["--pid", str(sandbox.process.pid)]
    if args.gil:
        command.append("--gil")
    with (
        subprocess.Popen(command) as spy_process,
        stdin.open("rb") if stdin else open(os.devnull, "rb") as source,
    ):
        subprocess.run(load, stdin=source, stdout=subprocess.DEVNULL, check=True)
        spy_process.send_signal(2)  # SIGINT: py-spy writes its output and exits
        spy_process.wait(timeout=120)
    return out


def _columns(singer: Path) -> list[str]:
    with singer.open("rb") as lines:
        for line in lines:
            message = json.loads(line)
            if message.get("type") == "SCHEMA":
                return list(message["schema"]["properties"])
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "subject",
        choices=[*PLUGIN_SUBJECTS, "sandbox", "sandbox-import"],
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--page-size", type=int, default=10_000)
    parser.add_argument("--format", choices=["json", "ndjson", "csv"], default="ndjson")
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    parser.add_argument(
        "--settings", default="{}", help="JSON object merged into the profiled plugin's config"
    )
    parser.add_argument(
        "--cpu-only",
        action="store_true",
        help="leave out idle samples (waiting on sockets): percentages of CPU, not wall time",
    )
    parser.add_argument(
        "--gil",
        action="store_true",
        help="only samples holding the GIL: where Python CPU goes, without threads that wait "
        "for the GIL (in a threaded plugin they otherwise show up as busy)",
    )
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--save", type=Path, help="keep py-spy's raw (collapsed) output here")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="ignite-profile-") as tmp,
        run_sandbox(spend_rows=args.rows, seed=7, startup_timeout=3600) as sandbox,
    ):
        out = profile(args, sandbox, Path(tmp))
        tables, samples = collapsed_top(out, args.top)
        if args.save:
            shutil.copyfile(out, args.save)
    print(f"## {args.subject}: {args.rows:,} rows, page size {args.page_size:,}, {samples} samples")
    print()
    print(tables)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
