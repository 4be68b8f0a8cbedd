"""Fixtures for the sandbox's own tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ignite_sandbox.launcher import RunningSandbox

from tests.ignite_sandbox.helpers import Api


@pytest.fixture(scope="session")
def api(sandbox: RunningSandbox) -> Api:
    """A client of the shared, read-mostly sandbox (3000 spend rows, seed 7)."""
    return Api(sandbox)


@pytest.fixture
def own_api(sandbox_factory: Callable[..., RunningSandbox]) -> Callable[..., Api]:
    """A client of a fresh sandbox with custom options, for tests that change state."""

    def start(**options: Any) -> Api:
        return Api(sandbox_factory(**options))

    return start
