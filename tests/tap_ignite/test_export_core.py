"""The Meltano SDK's standard tap test suites for snapshot streams and legacy data tables.

Like test_core.py (rows mode): `get_tap_test_class` discovers the streams when the module is
collected, so the sandbox is started at import time and stopped by a module fixture (or, if
every test here is deselected, at exit).
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
# Several export files per table, so file boundaries are part of every suite.
_SANDBOX = _SERVERS.enter_context(run_sandbox(spend_rows=600, seed=13, export_file_rows=97))

DATA_TABLES = ["7dddc49f-bdeb-46b6-b5fd-ad9ea9b5ce66", "c1a5e0d2-4b7f-4c3e-9d21-5f8a6b0e7d13"]


@pytest.fixture(scope="module", autouse=True)
def _stop_sandbox_after_module() -> Iterator[None]:
    yield
    _SERVERS.close()


_SUITE = SuiteConfig(max_records_limit=250)

TestTapIgniteParquetSnapshots = get_tap_test_class(
    TapIgnite,
    config=tap_config(
        _SANDBOX,
        sync_mode="export",
        export_poll_interval=0.05,
        data_table_ids=DATA_TABLES,
        page_size=97,
    ),
    suite_config=_SUITE,
)

TestTapIgniteJsonSnapshotsByLabel = get_tap_test_class(
    TapIgnite,
    config=tap_config(
        _SANDBOX,
        sync_mode="export",
        export_format="json",
        export_poll_interval=0.05,
        key_by="label",
        use_singer_decimal=True,
    ),
    suite_config=_SUITE,
)
