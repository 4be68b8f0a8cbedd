"""Fixtures for target-ignite tests: a sandbox of this folder's own, a fresh repository each."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ignite_sandbox.launcher import RunningSandbox, run_sandbox

_names = itertools.count(1)


@pytest.fixture(scope="package")
def ignite() -> Iterator[RunningSandbox]:
    """One sandbox for the folder. Each test imports into repositories of its own, so the
    seeded repositories and other folders' servers are never touched."""
    with run_sandbox(spend_rows=20, seed=7) as server:
        yield server


@pytest.fixture
def new_repository(ignite: RunningSandbox) -> Callable[..., dict[str, Any]]:
    """Create a repository with a unique name on the folder's sandbox."""

    def create(fields: list[str], name: str | None = None) -> dict[str, Any]:
        return ignite.admin.create_repository(name or f"TargetTest{next(_names)}", fields)

    return create
