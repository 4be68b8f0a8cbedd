"""meltano.yml's plugin definitions are complete: every setting a plugin has is declared."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROJECT: dict[str, Any] = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))


def plugin(kind: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in PROJECT["plugins"][kind] if p["name"] == name)
    return found


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("extractors", "tap-ignite"),
        ("loaders", "target-ignite"),
        ("loaders", "target-duckdb-typed"),
    ],
)
def test_every_setting_of_our_plugins_is_declared(kind: str, name: str) -> None:
    about = json.loads(
        subprocess.run(
            [str(Path(sys.executable).parent / name), "--about", "--format=json"],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
    )
    schema = about["settings"]["properties"]
    definition = plugin(kind, name)
    declared = {setting["name"]: setting for setting in definition["settings"]}
    assert set(declared) == set(schema)
    for setting_name, prop in schema.items():
        assert declared[setting_name].get("kind"), setting_name
        if prop.get("secret"):
            assert declared[setting_name].get("sensitive") is True, setting_name
    assert set(about["capabilities"]) <= set(definition["capabilities"])


def test_every_plugin_is_pinned_and_complete() -> None:
    assert "version" not in PROJECT
    assert PROJECT["send_anonymous_usage_stats"] is False
    for kind in ("extractors", "loaders"):
        for definition in PROJECT["plugins"][kind]:
            if "inherit_from" in definition:
                continue  # checked in test_per_table_extractors_only_select_their_table
            for key in ("name", "namespace", "pip_url", "executable", "capabilities", "settings"):
                assert key in definition, (definition["name"], key)
            pip_url = definition["pip_url"]
            assert pip_url.startswith("-e ./") or "==" in pip_url, pip_url
    assert {job["name"] for job in PROJECT["jobs"]} == {
        "ignite-to-duckdb",
        "ignite-to-postgres",
        "postgres-to-ignite",
        "ignite-spend-to-postgres",
        "ignite-suppliers-to-postgres",
        "ignite-contracts-to-postgres",
    }
    assert [env["name"] for env in PROJECT["environments"]] == ["sandbox", "prod"]
    assert PROJECT["default_environment"] == "sandbox"


def test_per_table_extractors_only_select_their_table() -> None:
    """Tables in parallel: `tap-ignite--<table>` inherits everything and selects one table,
    and job `ignite-<table>-to-postgres` runs it (tests/e2e/test_parallel_tables.py)."""
    inherited = [p for p in PROJECT["plugins"]["extractors"] if "inherit_from" in p]
    assert {p["name"] for p in inherited} == {
        "tap-ignite--spend",
        "tap-ignite--suppliers",
        "tap-ignite--contracts",
    }
    jobs = {job["name"]: job["tasks"] for job in PROJECT["jobs"]}
    for definition in inherited:
        table = definition["name"].removeprefix("tap-ignite--")
        assert definition == {
            "name": f"tap-ignite--{table}",
            "inherit_from": "tap-ignite",
            "select": [f"{table}.*"],
        }
        assert jobs[f"ignite-{table}-to-postgres"] == [f"tap-ignite--{table} target-postgres"]
