"""Each package's wheel installs anywhere: plain `pip install <wheel>` into a clean virtualenv.

One virtualenv per package (built once for this module, the three installs in parallel); from
them the sandbox's wheel serves, the tap's wheel syncs from it and the target's wheel loads into
it. The sdists and the wheels carry complete metadata.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import time
import tomllib
import venv
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.parser import Parser
from pathlib import Path

import pytest
from ignite_sandbox.launcher import READY_LINE, SandboxAdmin

from scripts.build import PACKAGES
from tests.adoption.conftest import ROOT, Built, free_port, new_shell_env, run_logged

pytestmark = pytest.mark.slow

MODULES = {package: package.replace("-", "_") for package in PACKAGES}
TOKEN = "wheel-token"


def pyproject(package: str) -> dict:
    return tomllib.loads((ROOT / package / "pyproject.toml").read_text("utf-8"))["project"]


def pip_install(venv_dir: Path, wheel: Path) -> float:
    started = time.monotonic()
    venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    result = run_logged(
        [str(venv_dir / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
         str(wheel)],
        cwd=venv_dir,
        env=new_shell_env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:]
    return time.monotonic() - started


@pytest.fixture(scope="module")
def venvs(built: Built, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Package -> the bin folder of a clean virtualenv holding only its wheel (and deps)."""
    root = tmp_path_factory.mktemp("venvs")
    with ThreadPoolExecutor(len(PACKAGES)) as pool:
        seconds = dict(
            zip(
                PACKAGES,
                pool.map(lambda p: pip_install(root / p, built.wheel(p)), PACKAGES),
                strict=True,
            )
        )
    print(f"\nbuild {built.seconds:.1f}s; pip install seconds: {seconds}")
    return {package: root / package / "bin" for package in PACKAGES}


@pytest.mark.parametrize("package", PACKAGES)
def test_sdist_and_wheel_carry_complete_metadata(built: Built, package: str) -> None:
    project = pyproject(package)
    module = MODULES[package]
    with tarfile.open(built.sdist(package)) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for required in ("pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE",
                     f"{module}/__init__.py", f"{module}/py.typed"):  # fmt: skip
        assert required in names, (package, required)
    assert not any(name.startswith("tests/") for name in names)
    with zipfile.ZipFile(built.wheel(package)) as wheel:
        wheel_names = set(wheel.namelist())
        info = f"{module}-{project['version']}.dist-info"
        metadata = Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
        assert wheel.read(f"{info}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
    assert f"{module}/py.typed" in wheel_names
    assert metadata["Name"] == package
    assert metadata["Version"] == project["version"]
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Requires-Python"] == ">=3.11"
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Repository", "Issues", "Changelog", "Documentation"} <= set(urls)
    assert urls["Changelog"].endswith(f"/{package}/CHANGELOG.md")
    # The CHANGELOG's newest released version is the package's.
    changelog = (ROOT / package / "CHANGELOG.md").read_text("utf-8")
    versions = [line[3:].split()[0] for line in changelog.splitlines() if line.startswith("## ")]
    assert versions[0] == "Unreleased"
    assert versions[1] == project["version"]


@pytest.mark.parametrize("package", PACKAGES)
def test_version_lives_in_pyproject_alone_and_the_cli_shows_it(
    venvs: dict[str, Path], package: str
) -> None:
    version = pyproject(package)["version"]
    sources = (ROOT / package / MODULES[package]).rglob("*.py")
    assert not [p for p in sources if version in p.read_text("utf-8")]
    result = run_logged([str(venvs[package] / package), "--version"], cwd=ROOT, env=new_shell_env())
    assert result.returncode == 0, result.stdout
    assert version in result.stdout
    assert package in result.stdout


@pytest.mark.parametrize("plugin", ["tap-ignite", "target-ignite"])
def test_plugin_about_from_the_wheel(venvs: dict[str, Path], plugin: str) -> None:
    result = subprocess.run(
        [str(venvs[plugin] / plugin), "--about", "--format=json"],
        capture_output=True, text=True, timeout=120, check=True, env=new_shell_env(),
    )  # fmt: skip
    about = json.loads(result.stdout)
    assert about["name"] == plugin
    assert about["version"] == pyproject(plugin)["version"]
    assert about["settings"]["required"] == ["api_token"]
    # The workspace's install says the same: the wheel holds the whole plugin.
    workspace = subprocess.run(
        [str(Path(sys.executable).parent / plugin), "--about", "--format=json"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert about == json.loads(workspace.stdout)


@pytest.fixture(scope="module")
def wheel_sandbox(
    venvs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`ignite-sandbox serve` from the sandbox's wheel."""
    log_path = tmp_path_factory.mktemp("wheel-sandbox") / "server.log"
    argv = [str(venvs["ignite-sandbox"] / "ignite-sandbox"), "serve", "--port", str(free_port()),
            "--token", TOKEN, "--spend-rows", "300"]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=new_shell_env())
    try:
        deadline = time.monotonic() + 180
        url = None
        while url is None:
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "no ready line"
            matches = [READY_LINE.match(line) for line in log_path.read_text().splitlines()]
            url = next((m.group(1) for m in matches if m), None)
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0


def test_tap_wheel_syncs_and_target_wheel_loads(
    venvs: dict[str, Path], wheel_sandbox: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_url": wheel_sandbox, "api_token": TOKEN}))
    tap = subprocess.run(
        [str(venvs["tap-ignite"] / "tap-ignite"), "--config", str(config)],
        capture_output=True, text=True, timeout=300, check=False, env=new_shell_env(),
    )  # fmt: skip
    assert tap.returncode == 0, tap.stderr[-4000:]
    messages = [json.loads(line) for line in tap.stdout.splitlines() if line.strip()]
    spend = [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == "spend"]
    assert len({r["id"] for r in spend}) == 300

    # The suppliers stream, as the tap wrote it, into a repository through the target's wheel.
    suppliers = [m for m in messages if m.get("stream") == "suppliers" or m["type"] == "STATE"]
    ids = {m["record"]["id"] for m in suppliers if m["type"] == "RECORD"}
    assert ids
    admin = SandboxAdmin(wheel_sandbox, TOKEN)
    fields = list(next(m for m in suppliers if m["type"] == "SCHEMA")["schema"]["properties"])
    repository = admin.create_repository("Suppliers from the wheel", fields)
    config.write_text(
        json.dumps(
            {"api_url": wheel_sandbox, "api_token": TOKEN, "repository_id": repository["id"]}
        )
    )
    target = subprocess.run(
        [str(venvs["target-ignite"] / "target-ignite"), "--config", str(config)],
        input="".join(json.dumps(m) + "\n" for m in suppliers),
        capture_output=True, text=True, timeout=300, check=False, env=new_shell_env(),
    )  # fmt: skip
    assert target.returncode == 0, target.stderr[-4000:]
    assert {row["id"] for row in admin.repository_rows(repository["id"])} == ids
