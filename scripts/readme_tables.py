"""Write each plugin's `--about --format=markdown` output into the root README.

`uv run python scripts/readme_tables.py` rewrites the blocks between
`<!-- about:start NAME -->` and `<!-- about:end NAME -->`; tests/e2e/test_readme.py fails when
they differ from what the plugins print, so the README's settings tables cannot rot.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PLUGINS = ("tap-ignite", "target-ignite", "target-duckdb-typed")


def about_output(plugin: str, output_format: str) -> str:
    """What `PLUGIN --about --format=FORMAT` prints, from this environment's install."""
    executable = Path(sys.executable).parent / plugin
    result = subprocess.run(
        [str(executable), "--about", f"--format={output_format}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip()


def about_markdown(plugin: str) -> str:
    """What `PLUGIN --about --format=markdown` prints."""
    return about_output(plugin, "markdown")


def block_pattern(plugin: str) -> re.Pattern[str]:
    name = re.escape(plugin)
    return re.compile(
        rf"(<!-- about:start {name} -->\n)(.*?)(<!-- about:end {name} -->)", re.DOTALL
    )


def readme_block(text: str, plugin: str) -> str | None:
    match = block_pattern(plugin).search(text)
    return match.group(2).strip() if match else None


def main() -> None:
    text = README.read_text(encoding="utf-8")
    for plugin in PLUGINS:
        pattern = block_pattern(plugin)
        if not pattern.search(text):
            sys.exit(f"README.md has no about:start/about:end block for {plugin}")
        about = about_markdown(plugin)

        def replace(match: re.Match[str], about: str = about) -> str:
            return f"{match.group(1)}{about}\n{match.group(3)}"

        text = pattern.sub(replace, text)
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
