"""The README's prod command, run without the token it needs: the error says how to give it."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import MeltanoProject

pytestmark = pytest.mark.slow


def test_prod_run_without_a_token_names_the_variable(meltano_project: MeltanoProject) -> None:
    # No TAP_IGNITE_API_TOKEN (base_env drops every TAP_ variable): the tap stops at its
    # settings, before any request to Ignite's real URL.
    output = meltano_project.run("--environment=prod", "run", "ignite-to-duckdb", check=False)
    error_lines = [line for line in output.splitlines() if "tap-ignite" in line and "rror" in line]
    assert any(
        "api_token is not set: set the TAP_IGNITE_API_TOKEN environment variable" in line
        for line in error_lines
    ), output[-4000:]
    assert "is a required property" not in output
    assert "igniteprocurement.com" not in output.split("Environment 'prod' is active", 1)[-1]
