"""botocore's DEBUG lines lose the access key id and session token in every plugin.

tap-ignite, target-ignite and target-duckdb-typed each carry `aws_logs.py` (separate packages,
the same module): the three copies must be the same bytes, and each copy's filter must cut the
credentials out of the lines real botocore writes for a real request to the local S3 server.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import botocore.session
import pytest
from tap_ignite import aws_logs as tap_aws_logs
from target_duckdb_typed import aws_logs as duckdb_aws_logs
from target_ignite import aws_logs as target_aws_logs

from tests.s3 import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Server

ROOT = Path(__file__).resolve().parents[2]
COPIES = [
    ROOT / "tap-ignite" / "tap_ignite" / "aws_logs.py",
    ROOT / "target-ignite" / "target_ignite" / "aws_logs.py",
    ROOT / "target-duckdb-typed" / "target_duckdb_typed" / "aws_logs.py",
]
MODULES = [tap_aws_logs, target_aws_logs, duckdb_aws_logs]
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEIgnite+Sess/ionT0ken=="


def test_the_three_copies_are_the_same_bytes() -> None:
    first, *others = (path.read_bytes() for path in COPIES)
    assert all(other == first for other in others), "aws_logs.py copies differ: keep them equal"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def raw_botocore_records(s3_server: S3Server) -> Iterator[list[logging.LogRecord]]:
    """botocore's DEBUG records of one real request with a session token, unfiltered."""
    loggers = [logging.getLogger(name) for name in tap_aws_logs.BOTOCORE_LOGGERS]
    saved = [(logger, logger.filters[:], logger.level) for logger in loggers]
    handler = _Records()
    for logger in loggers:
        logger.filters.clear()
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        client = botocore.session.get_session().create_client(
            "s3",
            endpoint_url=s3_server.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            aws_session_token=SESSION_TOKEN,
        )
        client.list_buckets()
        yield handler.records
    finally:
        for logger, filters, level in saved:
            logger.removeHandler(handler)
            logger.filters[:] = filters
            logger.setLevel(level)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.split(".")[0])
def test_each_copy_cuts_credentials_out_of_real_botocore_lines(
    module: ModuleType, raw_botocore_records: list[logging.LogRecord]
) -> None:
    raw = "\n".join(record.getMessage() for record in raw_botocore_records)
    # The unfiltered lines do carry both: otherwise this test could not fail.
    assert ACCESS_KEY_ID in raw
    assert SESSION_TOKEN in raw

    records = [copy.copy(record) for record in raw_botocore_records]
    credential_filter = module.AwsCredentialFilter()
    assert all(credential_filter.filter(record) for record in records)  # nothing dropped
    filtered = "\n".join(record.getMessage() for record in records)
    assert ACCESS_KEY_ID not in filtered
    assert SESSION_TOKEN not in filtered
    assert SECRET_ACCESS_KEY not in filtered
    assert module.REDACTED in filtered


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.split(".")[0])
def test_install_adds_one_filter_however_often_it_runs(module: ModuleType) -> None:
    module.install()
    module.install()
    for name in module.BOTOCORE_LOGGERS:
        ours = [f for f in logging.getLogger(name).filters if type(f) is module.AwsCredentialFilter]
        assert len(ours) == 1, name
