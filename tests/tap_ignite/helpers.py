"""Helpers for tap-ignite tests: configs for a sandbox, and running the tap for real.

`sync` runs the tap in-process with a writer that keeps what it would have written (the
exact bytes, decoded like a target would: numbers as Decimal). `run_cli` runs the real
`tap-ignite` executable in a subprocess, for what a user sees: stdout, stderr, exit code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from ignite_sandbox.launcher import RunningSandbox
from singer_sdk.singerlib.encoding.simple import Message
from tap_ignite.tap import TapIgnite
from tap_ignite.writer import IgniteMessageWriter

DECODER = msgspec.json.Decoder(float_hook=Decimal)
TAP_EXECUTABLE = str(Path(sys.executable).with_name("tap-ignite"))


def tap_config(server: RunningSandbox, **overrides: Any) -> dict[str, Any]:
    """A tap config that talks to this sandbox."""
    config: dict[str, Any] = {"api_url": server.url, "api_token": server.token}
    config.update(overrides)
    return config


@dataclass
class Output:
    """Singer messages a tap run wrote, in order."""

    lines: list[bytes] = field(default_factory=list)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [DECODER.decode(line) for line in self.lines]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [m["record"] for m in self.of_type("RECORD") if m["stream"] == stream]

    def schema(self, stream: str) -> dict[str, Any]:
        schemas = [m for m in self.of_type("SCHEMA") if m["stream"] == stream]
        assert schemas, f"no SCHEMA message for {stream}"
        return schemas[-1]

    @property
    def final_state(self) -> dict[str, Any]:
        states = self.of_type("STATE")
        assert states, "no STATE message"
        return states[-1]["value"]

    @property
    def text(self) -> str:
        return b"".join(self.lines).decode()


class CapturingWriter(IgniteMessageWriter):
    """The tap's own writer, but into a list instead of stdout."""

    def __init__(self, output: Output) -> None:
        self.output = output

    def write_message(self, message: Message) -> None:
        self.output.lines.append(bytes(self.format_message(message)))

    def write_lines(self, lines: bytes) -> None:
        # RECORD lines written a chunk at a time (export snapshots): kept one by one.
        assert lines.endswith(b"\n"), "a chunk of lines must end with a newline"
        self.output.lines.extend(line + b"\n" for line in lines[:-1].split(b"\n"))

    def flush(self) -> None:
        """Nothing is buffered: every message is kept as it is written."""


def catalog_selecting(
    config: dict[str, Any], streams: Iterable[str], properties: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """The discovered catalog with only `streams` selected (and only `properties` of some)."""
    catalog = TapIgnite(config=config).catalog_dict
    wanted = set(streams)
    properties = properties or {}
    for entry in catalog["streams"]:
        selected = entry["tap_stream_id"] in wanted
        only = properties.get(entry["tap_stream_id"])
        for item in entry["metadata"]:
            breadcrumb = item["breadcrumb"]
            if not breadcrumb:
                item["metadata"]["selected"] = selected
            elif only is not None:
                item["metadata"]["selected"] = breadcrumb[-1] in only
    return catalog


def sync(
    config: dict[str, Any],
    *,
    streams: Iterable[str] | None = None,
    properties: dict[str, list[str]] | None = None,
    state: dict[str, Any] | None = None,
) -> Output:
    """Run a full sync in-process and return what the tap wrote."""
    catalog = catalog_selecting(config, streams, properties) if streams is not None else None
    output = Output()
    tap = TapIgnite(
        config=config, catalog=catalog, state=state, message_writer=CapturingWriter(output)
    )
    tap.sync_all()
    return output


@dataclass
class CliRun:
    """One run of the real `tap-ignite` executable."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [DECODER.decode(line) for line in self.stdout.splitlines() if line.strip()]

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if "ERROR" in line]


def run_cli(
    tmp_path: Path,
    config: dict[str, Any],
    *args: str,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> CliRun:
    """Run `tap-ignite --config ... [args]` and wait for it."""
    argv = [TAP_EXECUTABLE, "--config", _write(tmp_path / "config.json", config), *args]
    if state is not None:
        argv += ["--state", _write(tmp_path / "state.json", state)]
    if catalog is not None:
        argv += ["--catalog", _write(tmp_path / "catalog.json", catalog)]
    completed = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return CliRun(completed.returncode, completed.stdout, completed.stderr)


def _write(path: Path, data: dict[str, Any]) -> str:
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)
