"""Credentials out of what botocore logs, for the plugins that read or write s3:// files.

botocore logs every request's headers at DEBUG level: the access key id in `Authorization` (and
in a presigned URL's `X-Amz-Credential`), and a session token in `X-Amz-Security-Token`. The
plugins are separate packages, so tap-ignite, target-ignite and target-duckdb-typed each carry
this module under the same name; tests/test_aws_logs.py checks that the three copies are the
same bytes and that each cuts the credentials out of real botocore log lines.
"""

from __future__ import annotations

import logging
import re

REDACTED = "<redacted>"
BOTOCORE_LOGGERS = ("botocore.endpoint", "botocore.auth", "aiobotocore.endpoint")


class AwsCredentialFilter(logging.Filter):
    """Replaces the access key id and a session token in a log record's message."""

    _CREDENTIAL = re.compile(r"(Credential=)[^/%\s'\"&]+")
    _TOKEN = re.compile(r"(X-Amz-Security-Token['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s&]+", re.I)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        redacted = self._TOKEN.sub(rf"\1{REDACTED}", self._CREDENTIAL.sub(rf"\1{REDACTED}", text))
        if redacted != text:
            record.msg, record.args = redacted, ()
        return True


def install() -> None:
    """Adds the filter to botocore's loggers once, however often it is called."""
    for name in BOTOCORE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, AwsCredentialFilter) for f in logger.filters):
            logger.addFilter(AwsCredentialFilter())
