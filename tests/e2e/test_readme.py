"""The README's two commands cannot rot: one is run here, the other is what .ci/run runs."""

from __future__ import annotations

import os
import re
import subprocess
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


@pytest.mark.slow
def test_demo_command_runs_end_to_end(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_", "MELTANO_"))}
    result = subprocess.run(
        ["./dev", "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    first_counts = output.split("Rows per table in", 1)[1].split("== changed", 1)[0]
    counts = dict(re.findall(r"^\s+(\w+)\s+([\d,]+)$", first_counts, re.MULTILINE))
    assert int(counts["spend"].replace(",", "")) == 10000
    assert int(counts["suppliers"].replace(",", "")) > 0
    second = output.split("Rows the second run loaded", 1)[1].split("== a warehouse", 1)[0]
    moved = dict(re.findall(r"^\s+(\w+)\s+([\d,]+)$", second, re.MULTILINE))
    # 25 suppliers were changed: the incremental run moves those (and rows at the bookmark),
    # far fewer than the whole table.
    assert (
        25 <= int(moved["suppliers"].replace(",", "")) < int(counts["suppliers"].replace(",", ""))
    )
    assert "Sandbox import summary:" in output
    assert re.search(r"rows=\d+\s+format=json", output)
    assert "Sandbox stopped." in output


@pytest.mark.parametrize("plugin", ["tap-ignite", "target-ignite"])
def test_root_readme_settings_tables_are_the_plugins_about_output(plugin: str) -> None:
    block = readme_block(README, plugin)
    assert block is not None, f"README.md has no about block for {plugin}"
    assert block == about_markdown(plugin), "run: uv run python scripts/readme_tables.py"
