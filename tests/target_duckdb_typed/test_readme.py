"""The package README's settings section is what `--about --format=markdown` prints, and
its examples are the behaviour the scenario tests prove."""

from __future__ import annotations

import re
from pathlib import Path

from scripts.readme_tables import about_markdown

README = Path(__file__).parents[2] / "target-duckdb-typed" / "README.md"
ABOUT_BLOCK = re.compile(r"<!-- about:start[^>]*-->\n(.*?)<!-- about:end -->", re.S)


def test_about_markdown_is_the_readme_settings_section() -> None:
    about = about_markdown("target-duckdb-typed")
    match = ABOUT_BLOCK.search(README.read_text(encoding="utf-8"))
    assert match, "target-duckdb-typed/README.md has no about:start/about:end block"
    assert match.group(1).strip() == about.strip()
    for setting in (
        "filepath",
        "default_target_schema",
        "decimal_precision",
        "decimal_scale",
        "soft_delete",
        "add_record_metadata",
        "memory_limit",
        "batch_size_rows",
        "process_activate_version_messages",
    ):
        assert f"| {setting} |" in about
    # Keyed streams merge and the others append: no load_method to promise other modes;
    # every value is checked against its column: no validate_records switch.
    assert "| load_method |" not in about
    assert "| validate_records |" not in about


def test_readme_error_example_is_the_one_the_bad_values_test_checks() -> None:
    text = README.read_text(encoding="utf-8")
    assert (
        "line 5 (stream 'payments', id=p3): amount 1.2345678901 has 10 digits after the point; "
        "its column is DECIMAL(38,9) and values are never rounded (raise decimal_scale, or "
        "declare the property's scale)"
    ) in text
