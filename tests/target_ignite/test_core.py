"""The SDK's standard target tests, against the folder's sandbox.

The suite builds its targets from a config fixed when the class is made; the sandbox's URL
and a repository exist only at run time, so they reach the target the way a Meltano user's
settings do: environment variables (`TARGET_IGNITE_*`, parsed because the suite passes
`parse_env_config=True`).
"""

from __future__ import annotations

import pytest
from singer_sdk.testing import get_target_test_class
from target_ignite.target import TargetIgnite

from tests.target_ignite.helpers import imports_of

StandardTargetTests = get_target_test_class(
    TargetIgnite, config={"batch_size_rows": 3, "unknown_fields": "warn"}
)


@pytest.fixture(scope="module")
def suite_repository(ignite):
    return ignite.admin.create_repository("SDK standard tests", ["id", "name"])


class TestTargetIgnite(StandardTargetTests):  # type: ignore[misc,valid-type]
    """Standard tests: every file loads (or fails as the suite expects) through the API."""

    @pytest.fixture(autouse=True)
    def _sandbox_settings(self, ignite, suite_repository, monkeypatch):
        monkeypatch.setenv("TARGET_IGNITE_API_URL", ignite.url)
        monkeypatch.setenv("TARGET_IGNITE_API_TOKEN", ignite.token)
        monkeypatch.setenv("TARGET_IGNITE_REPOSITORY_ID", suite_repository["id"])


def test_the_standard_files_were_really_imported(ignite, suite_repository):
    """Runs after the class above (file order): the suite's records reached the repository."""
    imports = imports_of(ignite, suite_repository["id"])
    assert len(imports) >= 10
    assert all(i["rows"] >= 1 for i in imports)
