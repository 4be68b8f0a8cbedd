"""Proof of adoption: a brand-new Meltano project adds the plugins the way the README says.

`meltano init` in a temporary folder, then the README's `adoption` block: `./dev build` (the
session's one build, by the same code) and the two `meltano add ... --from-ref` lines, with the
README's /path/to/ignite-meltano/dist replaced by where the build went. target-jsonl comes from
the package index, pinned. Nothing of this repository's meltano.yml is used: the project is
configured with `meltano config ... set` for a sandbox, then `meltano run` moves every table into
JSON Lines files and the suppliers table into an Ignite repository.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from ignite_sandbox.launcher import RunningSandbox

from tests.adoption.conftest import Built, new_shell_env, readme_blocks, run_logged
from tests.e2e.test_pipelines import api_rows, api_tables

pytestmark = pytest.mark.slow

MELTANO = str(Path(sys.executable).parent / "meltano")
README_DIST = "/path/to/ignite-meltano/dist"
# target-jsonl as Meltano Hub defines it (variant andyh1203), pinned to one release.
TARGET_JSONL = {
    "name": "target-jsonl",
    "namespace": "target_jsonl",
    "variant": "andyh1203",
    "pip_url": "target-jsonl==0.1.4",
    "executable": "target-jsonl",
    "settings": [
        {"name": "destination_path", "kind": "string", "label": "Destination Path"},
        {"name": "do_timestamp_file", "kind": "boolean", "label": "Include Timestamp"},
    ],
}


@dataclass
class Project:
    """A Meltano project of its own in a temporary folder."""

    path: Path
    env: dict[str, str]
    seconds: dict[str, float] = field(default_factory=dict)

    def meltano(self, *args: str) -> str:
        started = time.monotonic()
        result = run_logged([MELTANO, *args], cwd=self.path, env=self.env)
        self.seconds[" ".join(args[:3])] = time.monotonic() - started
        assert result.returncode == 0, f"meltano {' '.join(args)}:\n{result.stdout[-5000:]}"
        return result.stdout


def adoption_commands() -> list[str]:
    (block,) = [b for b in readme_blocks() if "adoption" in b.info]
    return [line.split(" #")[0].strip() for line in block.lines]


@pytest.fixture(scope="module")
def project(
    built: Built, tmp_path_factory: pytest.TempPathFactory, sandbox: RunningSandbox
) -> Project:
    folder = tmp_path_factory.mktemp("adopter")
    # uv instead of pip for the plugins' virtualenvs: a choice any project can make, and it
    # saves a minute; plain pip installs of each wheel are test_wheels.py's. Settings that are
    # not the point here come from the environment (each `meltano config set` costs seconds).
    env = new_shell_env(
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_VENV_BACKEND="uv",
        TARGET_JSONL_DESTINATION_PATH="output",
        TARGET_JSONL_DO_TIMESTAMP_FILE="false",
    )
    init = run_logged([MELTANO, "init", "my-project", "--no-usage-stats"], cwd=folder, env=env)
    assert init.returncode == 0, init.stdout[-4000:]
    project = Project(folder / "my-project", env)

    build, *adds = adoption_commands()
    assert build == "./dev build"  # the session's `built` ran the same scripts.build
    assert len(adds) == 2
    for command in adds:
        assert README_DIST in command
        assert command.startswith("meltano add ")
        project.meltano(*command.replace(README_DIST, str(built.out_dir)).split()[1:])
    jsonl = folder / "target-jsonl.yml"
    jsonl.write_text(yaml.safe_dump(TARGET_JSONL), encoding="utf-8")
    project.meltano("add", "loader", "target-jsonl", "--from-ref", str(jsonl))

    (project.path / "output").mkdir(exist_ok=True)
    for plugin in ("tap-ignite", "target-ignite"):
        project.meltano("config", "set", plugin, "api_url", sandbox.url)
        project.meltano("config", "set", plugin, "api_token", sandbox.token)
    return project


def test_the_project_is_its_own(project: Project, built: Built) -> None:
    definition = yaml.safe_load((project.path / "meltano.yml").read_text(encoding="utf-8"))
    ours = yaml.safe_load((Path(__file__).parents[2] / "meltano.yml").read_text("utf-8"))
    assert definition["project_id"] != ours["project_id"]
    assert "jobs" not in definition
    plugins = {p["name"]: p for kind in ("extractors", "loaders")
               for p in definition["plugins"][kind]}  # fmt: skip
    assert set(plugins) == {"tap-ignite", "target-ignite", "target-jsonl"}
    assert plugins["tap-ignite"]["pip_url"] == str(built.wheel("tap-ignite"))
    assert plugins["target-ignite"]["pip_url"] == str(built.wheel("target-ignite"))
    assert plugins["target-jsonl"]["pip_url"] == "target-jsonl==0.1.4"
    # The definition came along whole: every setting, the token marked sensitive.
    settings = {s["name"]: s for s in plugins["tap-ignite"]["settings"]}
    assert settings["api_token"]["sensitive"] is True
    assert plugins["tap-ignite"]["settings_group_validation"] == [["api_token"]]
    # The token went where Meltano keeps secrets, not into meltano.yml.
    assert "api_token" not in json.dumps(plugins["tap-ignite"].get("config", {}))
    assert "TAP_IGNITE_API_TOKEN" in (project.path / ".env").read_text(encoding="utf-8")
    assert (project.path / ".meltano" / "extractors" / "tap-ignite" / "venv").is_dir()


def test_run_tap_ignite_target_jsonl(project: Project, sandbox: RunningSandbox) -> None:
    project.meltano("run", "tap-ignite", "target-jsonl")
    for table in api_tables(sandbox):
        expected = api_rows(sandbox, table)
        key = "spend_id" if "spend_id" in table["columns"][0]["name"] else "id"
        path = project.path / "output" / f"{table['id']}.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines()
        assert {json.loads(line)[key] for line in lines} == set(expected), table["id"]
        assert len(lines) == len(expected), table["id"]


def test_load_into_an_ignite_repository(
    project: Project, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    ignite = sandbox_factory(spend_rows=100)  # a sandbox whose repositories are this test's
    suppliers = next(t for t in api_tables(ignite) if t["id"] == "suppliers")
    fields = [column["name"] for column in suppliers["columns"]]
    repository = ignite.admin.create_repository("Suppliers", fields)
    project.meltano("select", "tap-ignite", "suppliers", "*")
    project.env.update(
        TAP_IGNITE_API_URL=ignite.url,
        TARGET_IGNITE_API_URL=ignite.url,
        TARGET_IGNITE_REPOSITORY_ID=repository["id"],
    )

    output = project.meltano("run", "tap-ignite", "target-ignite")

    loaded = ignite.admin.repository_rows(repository["id"])
    expected = api_rows(ignite, suppliers)
    assert sorted(row["id"] for row in loaded) == sorted(expected)
    for row in loaded:
        assert row["name"] == expected[row["id"]]["name"]
    assert "Repository 'Suppliers'" in output
    print(f"\nadoption meltano seconds: { {c: round(s, 1) for c, s in project.seconds.items()} }")
