"""The README's settings section is what `target-ignite --about --format=markdown` prints."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.target_ignite.helpers import TARGET_EXECUTABLE

README = Path(__file__).parents[2] / "target-ignite" / "README.md"
ABOUT_BLOCK = re.compile(r"<!-- about:start[^>]*-->\n(.*?)<!-- about:end -->", re.S)


def test_about_markdown_is_the_readme_settings_section():
    about = subprocess.run(
        [TARGET_EXECUTABLE, "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    match = ABOUT_BLOCK.search(README.read_text(encoding="utf-8"))
    assert match, "target-ignite/README.md has no about:start/about:end block"
    assert match.group(1).strip() == about.strip()
    for setting in (
        "api_token",
        "api_url",
        "repository_id",
        "stream_repositories",
        "delete_query_id",
        "stream_delete_queries",
        "import_format",
        "batch_size_rows",
        "batch_max_bytes",
        "import_name_template",
        "flattening_separator",
        "unknown_fields",
        "stream_maps",
    ):
        assert f"| {setting} |" in about
    assert "| load_method |" not in about  # imports only append: no upsert/overwrite promise
    assert "| api_token | True | None |" in about


def test_readme_stream_maps_example_is_the_tested_one():
    """The YAML in the README is the mapping test_errors.py runs against the sandbox."""
    text = README.read_text(encoding="utf-8")
    for line in (
        "__key_properties__: [InvoiceId]",
        "SupplierName: supplier_name",
        "supplier_name: __NULL__",
        "unknown_fields: error",
    ):
        assert line in text
