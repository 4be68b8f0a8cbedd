"""The README's two commands cannot rot: CI runs the second; tests/adoption runs the first (in a
fresh clone, with every other command the README shows)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts.readme_tables import about_markdown, readme_block

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quickstart_commands() -> list[str]:
    section = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "the Quickstart has a bash block"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_quickstart_is_exactly_two_commands_and_ci_runs_the_second() -> None:
    commands = quickstart_commands()
    assert commands == ["./dev demo", "./dev test"]
    ci_lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert ci_lines[-1] == commands[1]


@pytest.mark.parametrize("plugin", ["tap-ignite", "target-ignite", "target-duckdb-typed"])
def test_root_readme_settings_tables_are_the_plugins_about_output(plugin: str) -> None:
    block = readme_block(README, plugin)
    assert block is not None, f"README.md has no about block for {plugin}"
    assert block == about_markdown(plugin), "run: uv run python scripts/readme_tables.py"
