"""What adoption needs: the README's commands, a fresh clone, a new shell, one set of wheels.

The slow tests here share work: the wheels, sdists and plugin definitions are built once per
session (`./dev build`'s own code), each module makes one clone, virtualenv set or Meltano
project and its tests use it in turn.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.build import PACKAGES

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block of the README: its info string words and its command lines."""

    info: tuple[str, ...]
    lines: tuple[str, ...]

    @property
    def language(self) -> str:
        return self.info[0] if self.info else ""


def readme_blocks(text: str | None = None) -> list[CodeBlock]:
    """Every fenced block, with its non-empty lines (comments are the shell's to skip)."""
    text = README.read_text(encoding="utf-8") if text is None else text
    return [
        CodeBlock(
            tuple(match["info"].split()),
            tuple(line.strip() for line in match["body"].splitlines() if line.strip()),
        )
        for match in FENCE.finditer(text)
    ]


def new_shell_env(**extra: str) -> dict[str, str]:
    """The environment of a new shell on this machine: no project venv, no ~/.local/bin on PATH,
    none of Meltano's or the plugins' variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TAP_", "TARGET_", "MELTANO_", "IGNITE_SANDBOX_", "PYTEST_"))
        and key not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    env["PATH"] = os.pathsep.join(
        entry
        for entry in env.get("PATH", "").split(os.pathsep)
        if entry and ".venv" not in entry and not entry.endswith(".local/bin")
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Built:
    """`./dev build`'s output: a wheel and an sdist per package, definitions with wheel pip_urls."""

    out_dir: Path
    seconds: float

    def wheel(self, package: str) -> Path:
        (wheel,) = self.out_dir.glob(f"{package.replace('-', '_')}-*.whl")
        return wheel

    def sdist(self, package: str) -> Path:
        (sdist,) = self.out_dir.glob(f"{package.replace('-', '_')}-*.tar.gz")
        return sdist

    def definition(self, plugin: str) -> Path:
        return self.out_dir / f"{plugin}.yml"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """One build per session, by the code `./dev build` runs, into a temporary folder."""
    out_dir = tmp_path_factory.mktemp("dist")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "scripts.build", "--out-dir", str(out_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    built = Built(out_dir, time.monotonic() - started)
    for package in PACKAGES:
        assert built.wheel(package).is_file()
        assert built.sdist(package).is_file()
    yield built
    shutil.rmtree(out_dir, ignore_errors=True)


def run_logged(
    argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 900, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """Run a command; its output comes back as text, stderr folded into stdout."""
    return subprocess.run(  # type: ignore[call-overload]
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )
