"""One table says what each answer of the Import API means (wire.RESPONSE_ACTIONS)."""

from __future__ import annotations

from pathlib import Path

import pytest
from target_ignite import http_rules, wire
from target_ignite.wire import Action

ROOT = Path(__file__).resolve().parents[2]


def test_the_retried_statuses_are_the_rules_shared_with_the_tap():
    retried = {
        outcome
        for outcome, action in wire.RESPONSE_ACTIONS.items()
        if isinstance(outcome, int) and action in {Action.RETRY, Action.WAIT}
    }

    assert retried == http_rules.RETRIED_STATUSES


@pytest.mark.parametrize(
    ("outcome", "action"),
    [
        (200, Action.ACCEPT),
        (201, Action.ACCEPT),
        (400, Action.STOP),
        (401, Action.NOT_AUTHORIZED),
        (403, Action.STOP),
        (404, Action.STOP),
        (413, Action.STOP),
        (429, Action.WAIT),
        (500, Action.RETRY),
        (501, Action.STOP),
        (502, Action.RETRY),
        (503, Action.RETRY),
        (504, Action.RETRY),
        (505, Action.STOP),
        (wire.CONNECT_FAILED, Action.RETRY),
        (wire.NO_ANSWER_IN_TIME, Action.RETRY_LOST_ANSWER),
        (wire.CONNECTION_BROKEN, Action.RETRY_LOST_ANSWER),
    ],
)
def test_each_answer_has_one_action(outcome, action):
    assert wire.action_for(outcome) is action


def test_wire_points_at_the_api_document_the_repository_has():
    assert wire.__doc__ is not None
    assert "docs/ignite-api.md" in wire.__doc__
    assert (ROOT / "docs" / "ignite-api.md").is_file()
