"""Fixtures every test folder shares: a real sandbox server over HTTP on 127.0.0.1, and a
local S3-compatible server (tests/s3.py) for BATCH files in object storage."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ignite_sandbox.launcher import RunningSandbox, run_sandbox

from tests.s3 import S3Server, run_s3_server

# Small enough to start in a second or two, large enough for several pages at small page sizes.
DEFAULT_SPEND_ROWS = 3000
DEFAULT_SEED = 7
# Tests see the sandbox's column of an undocumented dataType (GROUP_STRUCTURE): clients must
# survive one. The default sandbox (README, demo) leaves it out, so its tap does not warn.
UNKNOWN_DATA_TYPES = True


# `./dev test` runs on two pytest-xdist workers (pyproject's addopts), one test file at a time
# each. Files that share the repository's own Meltano project (`meltano install` into ./.meltano)
# or the demo PostgreSQL database (`./dev postgres`) run on one worker, one after another.
SHARED_PROJECT_GROUP = "repository-meltano-project"
SHARED_PROJECT_FOLDERS = ("tests/e2e/", "tests/adoption/")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """An `xdist_group` per test file, or the shared-project group (see above)."""
    shared_files = {
        item.path
        for item in items
        if "meltano_installed" in getattr(item, "fixturenames", ())
        or item.nodeid.startswith(SHARED_PROJECT_FOLDERS)
    }
    for item in items:
        group = SHARED_PROJECT_GROUP if item.path in shared_files else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    """One shared, read-mostly sandbox for the whole session.

    Tests that change data (touch, faults, cursor expiry, imports they count) should take
    `sandbox_factory` and get a server of their own, so that test order never matters.
    """
    with run_sandbox(
        spend_rows=DEFAULT_SPEND_ROWS, seed=DEFAULT_SEED, unknown_data_types=UNKNOWN_DATA_TYPES
    ) as server:
        yield server


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., RunningSandbox]]:
    """Start sandboxes with custom options (`faults`, `url_ttl`, ...); all stop at teardown."""
    with contextlib.ExitStack() as stack:

        def start(**options: Any) -> RunningSandbox:
            options.setdefault("spend_rows", DEFAULT_SPEND_ROWS)
            options.setdefault("seed", DEFAULT_SEED)
            options.setdefault("unknown_data_types", UNKNOWN_DATA_TYPES)
            return stack.enter_context(run_sandbox(**options))

        yield start


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One S3-compatible server (moto) for the session; tests keep apart by bucket."""
    with run_s3_server() as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A new, empty bucket of this test's own on the session's S3 server."""
    return s3_server.new_bucket()
