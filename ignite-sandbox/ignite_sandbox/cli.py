"""`ignite-sandbox serve`: seed the data, listen, print the ready line, stop cleanly on signals."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import signal
import socket
import sys
from collections.abc import Sequence
from typing import Any

from ignite_sandbox.config import DEFAULT_MAX_BODY_BYTES, SandboxConfig
from ignite_sandbox.faults import FaultPlan, FaultSpec, FaultSpecError

READY_TEMPLATE = "Ignite sandbox listening on http://{host}:{port}"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"must be at least 1, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        msg = f"must be greater than 0, got {text}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        msg = f"must be 0..65535, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def build_parser() -> argparse.ArgumentParser:
    """The CLI: one `serve` command whose flags mirror SandboxConfig."""
    parser = argparse.ArgumentParser(
        prog="ignite-sandbox",
        description="A local Ignite Procurement Export + Import API over seeded data.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {importlib.metadata.version('ignite-sandbox')}",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="seed the data and serve both APIs on one port")
    defaults = SandboxConfig()
    serve.add_argument("--host", default=defaults.host)
    serve.add_argument(
        "--port",
        type=_port,
        default=os.environ.get("IGNITE_SANDBOX_PORT", defaults.port),
        help="0 picks a free port (default: $IGNITE_SANDBOX_PORT or %(default)s)",
    )
    serve.add_argument(
        "--token",
        default=os.environ.get("IGNITE_SANDBOX_TOKEN", defaults.token),
        help="the Bearer token clients must send (default: $IGNITE_SANDBOX_TOKEN or %(default)s)",
    )
    serve.add_argument("--spend-rows", type=_positive_int, default=defaults.spend_rows)
    serve.add_argument("--seed", type=int, default=defaults.seed)
    serve.add_argument(
        "--db", default=None, help="DuckDB file (kept between runs); default in memory"
    )
    serve.add_argument(
        "--faults", default="", help="e.g. 429=0.1,500=0.05,reset=0.03,slow=0.02,lost=0.01"
    )
    serve.add_argument(
        "--cursor-ttl", type=_positive_float, default=defaults.cursor_ttl, help="seconds"
    )
    serve.add_argument("--url-ttl", type=_positive_float, default=defaults.url_ttl, help="seconds")
    serve.add_argument("--export-file-rows", type=_positive_int, default=defaults.export_file_rows)
    serve.add_argument(
        "--max-body-bytes",
        type=_positive_int,
        default=DEFAULT_MAX_BODY_BYTES,
        help="request bodies above this answer 413 (default: the vendor's 200 MB)",
    )
    serve.add_argument("--legacy-rows", type=_positive_int, default=defaults.legacy_rows,
                       help="rows in the big deprecated data table")  # fmt: skip
    serve.add_argument(
        "--unknown-data-types",
        action="store_true",
        help="also list columns of a dataType the API documents no more (GROUP_STRUCTURE), "
        "to prove clients survive one; clients then warn about them",
    )
    serve.add_argument(
        "--log-level",
        default=defaults.log_level,
        choices=["critical", "error", "warning", "info", "debug"],
    )
    return parser


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(config: SandboxConfig) -> int:
    """Seed, listen and serve until SIGTERM / Ctrl-C; returns the exit code."""
    try:
        fault_spec = FaultSpec.parse(config.faults)
    except FaultSpecError as exc:
        print(f"ignite-sandbox: --faults: {exc}", file=sys.stderr)
        return 2
    try:
        sock = _listen(config.host, config.port)
    except OSError as exc:
        print(f"ignite-sandbox: cannot listen on {config.host}:{config.port}: {exc}",
              file=sys.stderr)  # fmt: skip
        return 1
    # The web stack loads only now, so --help and flag errors answer at once.
    import uvicorn  # noqa: PLC0415

    from ignite_sandbox.app import create_app  # noqa: PLC0415
    from ignite_sandbox.cursors import PageTokens  # noqa: PLC0415
    from ignite_sandbox.exports import ExportManager  # noqa: PLC0415
    from ignite_sandbox.server import ReadyLineServer  # noqa: PLC0415
    from ignite_sandbox.state import Sandbox  # noqa: PLC0415
    from ignite_sandbox.store import Store  # noqa: PLC0415

    store = Store(config.db)
    store.prepare(config.spend_rows, config.seed, config.legacy_rows)
    sandbox = Sandbox(
        config=config,
        store=store,
        tokens=PageTokens(config.cursor_ttl, store),
        faults=FaultPlan(fault_spec, config.seed),
    )
    sandbox.exports = ExportManager(store, config.export_file_rows, config.url_ttl)
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    uv_config = uvicorn.Config(
        create_app(sandbox),
        log_level=config.log_level,
        access_log=config.log_level in ("info", "debug"),
        http="h11",
        lifespan="off",
        timeout_graceful_shutdown=3,
    )
    server = ReadyLineServer(uv_config, READY_TEMPLATE.format(host=shown_host, port=port))
    # uvicorn re-raises the signal it caught once it has shut down; with these handlers in
    # place that re-raise is a no-op, so SIGTERM and Ctrl-C end in a clean exit code 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _ignore_signal)
    try:
        server.run(sockets=[sock])
    finally:
        sandbox.exports.shutdown()
        store.close()
    return 0


def _ignore_signal(_signum: int, _frame: Any) -> None:
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ignite-sandbox` console script."""
    args = build_parser().parse_args(argv)
    config = SandboxConfig(
        host=args.host,
        port=args.port,
        token=args.token,
        spend_rows=args.spend_rows,
        seed=args.seed,
        db=args.db,
        faults=args.faults,
        cursor_ttl=args.cursor_ttl,
        url_ttl=args.url_ttl,
        export_file_rows=args.export_file_rows,
        max_body_bytes=args.max_body_bytes,
        legacy_rows=args.legacy_rows,
        unknown_data_types=args.unknown_data_types,
        log_level=args.log_level,
    )
    return serve(config)
