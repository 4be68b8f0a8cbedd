"""The SDK's standard target tests, against a DuckDB file of the module's own.

The suite builds its targets from a config fixed when the class is made; the file's path
exists only at run time, so it reaches the target the way a Meltano user's settings do: an
environment variable (`TARGET_DUCKDB_TYPED_FILEPATH`, parsed because the suite passes
`parse_env_config=True`). Every test of the suite runs; none is left out.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from singer_sdk.testing import get_target_test_class
from target_duckdb_typed.target import TargetDuckDBTyped

# Batches of 3 rows, so that the suite's files go through several batches and STATEs.
StandardTargetTests = get_target_test_class(TargetDuckDBTyped, config={"batch_size_rows": 3})


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sdk-suite") / "suite.duckdb"


class TestTargetDuckDBTyped(StandardTargetTests):  # type: ignore[misc,valid-type]
    """Standard tests: every file loads (or fails as the suite expects) into the file."""

    @pytest.fixture(autouse=True)
    def _warehouse_file(self, suite_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TARGET_DUCKDB_TYPED_FILEPATH", str(suite_file))


def test_the_standard_files_really_loaded(suite_file: Path) -> None:
    """Runs after the class above (file order): what the suite's files hold is in the file.

    Not read-only: targets the suite made and never ran keep the file open in this process,
    and DuckDB shares an open file only with connections of the same configuration."""
    with duckdb.connect(str(suite_file)) as con:
        # Duplicates merged on the key, the last record winning.
        assert con.execute(
            "select id, metric from test_duplicate_records order by id"
        ).fetchall() == [(1, 100), (2, 20)]
        assert con.execute("select id, fruits from test_array_data order by id").fetchall() == [
            (1, ["apple", "orange", "pear"]),
            (2, ["banana", "apple"]),
            (3, ["pear"]),
            (4, ["orange", "banana", "apple", "pear"]),
        ]
        # The escaped strings arrive decoded, one row each.
        info = dict(con.execute("select id, info from test_strings").fetchall())
        assert info[5] == 'quoted "string"'
        assert info[6] == 'various " \\ / \n escape sequences'
        assert info[3] == "简单的字串"
        # A new column (a3) appears with the schema that brings it.
        columns = {row[0]: row[1] for row in con.execute("describe test_schema_updates").fetchall()}
        assert columns["a3"] == "BOOLEAN"
        assert columns["a1"] == "DECIMAL(38,9)"
        # Table names: the stream name in lower case, other characters as `_`; an object
        # property is one JSON column.
        assert con.execute(
            "select _id, d->>'agent:type' from test_specialchars_in_attributes"
        ).fetchall() == [("a2e98886", "desktop")]
