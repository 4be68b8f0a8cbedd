"""wire.py: one table says what each HTTP status means, and it points at the API document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tap_ignite
from tap_ignite import http_rules, wire
from tap_ignite.wire import Action, Request

REPO = Path(__file__).parents[2]
PACKAGE = Path(tap_ignite.__file__).parent


@pytest.mark.parametrize(
    ("status", "request_kind", "error_code", "action"),
    [
        (200, Request.API, None, None),
        (302, Request.DOWNLOAD, None, None),
        (410, Request.API, wire.PAGE_TOKEN_EXPIRED, Action.RESTART),
        (410, Request.API, "gone_for_good", Action.STOP),
        (410, Request.API, None, Action.STOP),
        (429, Request.API, None, Action.WAIT),
        (429, Request.DOWNLOAD, None, Action.WAIT),
        (503, Request.EXPORT, None, Action.RETRY),
        (501, Request.API, None, Action.STOP),
        (403, Request.DOWNLOAD, None, Action.REFRESH),
        (403, Request.API, None, Action.STOP),
        (404, Request.DOWNLOAD, None, Action.NEW_EXPORT),
        (404, Request.EXPORT, None, Action.NEW_EXPORT),
        (404, Request.API, None, Action.STOP),
        (400, Request.API, None, Action.STOP),
    ],
)
def test_each_status_has_one_action(
    status: int, request_kind: Request, error_code: str | None, action: Action | None
) -> None:
    assert wire.response_action(status, request_kind, error_code) is action


def test_the_retried_statuses_are_the_shared_http_rules() -> None:
    retried = {rule.status for rule in wire.RESPONSE_ACTIONS if rule.action in wire.RETRIED_ACTIONS}
    assert retried == http_rules.RETRIED_STATUSES


def test_statuses_are_classified_only_in_wire() -> None:
    """No other module compares a status with one the table covers."""
    covered = {rule.status for rule in wire.RESPONSE_ACTIONS}
    names = "|".join(["RETRIED_STATUSES", "NOT_FOUND", "FORBIDDEN", "GONE", "TOO_MANY_REQUESTS"])
    pattern = re.compile(
        rf"\b({names})\b|status(_code)? *(==|in|!=) *({'|'.join(map(str, covered))})"
    )
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.glob("*.py"))
        if path.name not in {"wire.py", "http_rules.py"}
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_wire_points_at_the_api_document_the_repository_has() -> None:
    documents = re.findall(r"docs/[\w.-]+\.md", wire.__doc__ or "")
    assert documents == ["docs/ignite-api.md"]
    assert (REPO / documents[0]).is_file()
