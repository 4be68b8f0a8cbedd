"""The Meltano SDK's standard tap test suites, run against a real sandbox.

`get_tap_test_class` discovers the streams when the module is collected, so the sandbox these
suites talk to is started at import time; a module fixture (and, should the module's tests all
be deselected, an atexit hook) stops it.
"""

from __future__ import annotations

import atexit
import contextlib
from collections.abc import Iterator

import pytest
from ignite_sandbox.launcher import run_sandbox
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_ignite.tap import TapIgnite

from tests.tap_ignite.helpers import tap_config

_SERVERS = contextlib.ExitStack()
atexit.register(_SERVERS.close)
_SANDBOX = _SERVERS.enter_context(run_sandbox(spend_rows=600, seed=11))


@pytest.fixture(scope="module", autouse=True)
def _stop_sandbox_after_module() -> Iterator[None]:
    yield
    _SERVERS.close()


# Several pages per table, so pagination is part of every suite.
_SUITE = SuiteConfig(max_records_limit=250)

TestTapIgniteByName = get_tap_test_class(
    TapIgnite,
    config=tap_config(_SANDBOX, page_size=97),
    suite_config=_SUITE,
)

TestTapIgniteByLabel = get_tap_test_class(
    TapIgnite,
    config=tap_config(_SANDBOX, page_size=97, key_by="label"),
    suite_config=_SUITE,
)
