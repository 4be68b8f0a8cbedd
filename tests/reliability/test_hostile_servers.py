"""Slow, hostile and odd servers, as real sockets on 127.0.0.1 in front of the real CLIs.

- A server that drip-feeds its answer (one byte every half second, the body or even the
  headers) is abandoned when `request_timeout` has passed since the request began, and
  retried like any timeout: `request_timeout` bounds the whole request, not each read.
- `Retry-After` follows one rule in both plugins (http_rules.py): a wait up to
  `max_retry_after` is honoured, in seconds or as an HTTP date; a longer one, or one that is
  neither (`inf`, `nan`, garbage), stops the run at once with one line that says what the
  server asked for: no sleeping for a day, no traceback.
- target: a `Retry-After: nan` in the middle of a load keeps what came before, like any bad
  input: the earlier imports stay, the last STATE printed covers exactly them, exit 1.
"""

from __future__ import annotations

import datetime
import email.utils
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ignite_sandbox.launcher import RunningSandbox, run_sandbox

from tests.reliability.helpers import (
    SECRET,
    SPEND_FIELDS,
    Run,
    figure,
    repository_ids,
    run_tap,
    run_target,
    spend_input,
)
from tests.reliability.scripted_server import (
    REPOSITORY,
    Answer,
    Drip,
    Forward,
    Reply,
    Request,
    ScriptedServer,
    export_api_answer,
    import_api_answer,
    scripted_server,
)

GIVE_UP_BOUND = 60  # generous: a drip-fed answer would take hours to finish
ROWS_PATH = "/tables/spend/rows"


def tap(server: ScriptedServer, tmp_path: Path, **settings: Any) -> Run:
    config = {"api_url": server.url, "api_token": SECRET, **settings}
    return run_tap(tmp_path, config, timeout=120)


def target(server: ScriptedServer, tmp_path: Path, **settings: Any) -> Run:
    config = {"api_url": server.url, "api_token": SECRET, "repository_id": REPOSITORY["id"],
              **settings}  # fmt: skip
    return run_target(tmp_path, config, spend_input(range(1, 11)), timeout=120)


def when(method: str, path: str, answer: Callable[[Request], Answer], otherwise: Any) -> Any:
    """A script that answers `method path...` with `answer`, anything else with `otherwise`."""

    def script(request: Request) -> Answer:
        if request.method == method and request.path.startswith(path):
            return answer(request)
        return otherwise(request)

    return script


def assert_one_clean_error(run: Run, *fragments: str) -> str:
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    error = run.the_error()
    for fragment in fragments:
        assert fragment in error, error
    return error


# -- a drip-feeding server ------------------------------------------------------------------

# The in-process rule (both plugins' DeadlineSession, body and headers dripping) is in
# tests/test_http_rules_parity.py; here, one case of each through the real CLIs.
DRIPS = {
    "body": Drip(interval=0.5),
    "headers": Drip(interval=0.5, headers_too=True),
}


@pytest.mark.parametrize("drip", ["body"])
def test_tap_gives_up_on_a_drip_feeding_server(drip: str, tmp_path: Path) -> None:
    script = when("POST", ROWS_PATH, lambda request: DRIPS[drip], export_api_answer)
    with scripted_server(script) as server:
        started = time.monotonic()
        run = tap(server, tmp_path, request_timeout=1, max_retries=1)
        seconds = time.monotonic() - started
        attempts = len(server.seen("POST", ROWS_PATH))
    assert_one_clean_error(run, "ReadTimeout", "no complete answer within request_timeout (1 s)")
    assert "Retrying /tables/spend/rows" in run.stderr  # retried like any timeout
    assert attempts == 2
    assert seconds < GIVE_UP_BOUND
    figure(f"tap gives up on a server dripping its {drip}", request_timeout=1, max_retries=1,
           seconds=round(seconds, 1))  # fmt: skip


@pytest.mark.parametrize("drip", ["headers"])
def test_target_gives_up_on_a_drip_feeding_server(drip: str, tmp_path: Path) -> None:
    script = when("POST", "/import/", lambda request: DRIPS[drip], import_api_answer)
    with scripted_server(script) as server:
        started = time.monotonic()
        run = target(server, tmp_path, request_timeout=1, max_retries=1)
        seconds = time.monotonic() - started
        attempts = len(server.seen("POST", "/import/"))
    assert_one_clean_error(run, "no answer within 1s", "gave up after 2 attempts")
    assert "retry 1 of 1" in run.stderr
    assert attempts == 2
    assert seconds < GIVE_UP_BOUND
    figure(f"target gives up on a server dripping its {drip}", request_timeout=1,
           max_retries=1, seconds=round(seconds, 1))  # fmt: skip


# -- Retry-After ------------------------------------------------------------------------------


def http_date(seconds_from_now: float) -> str:
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds_from_now)
    return email.utils.format_datetime(moment, usegmt=True)


# Every value the rule refuses is in tests/test_http_rules_parity.py, for both plugins; here,
# the wiring of each plugin, through its CLI (the target's `nan` is further down).
REFUSED = {
    "a day": ("86400", "the server asked to wait 86400 s", "more than max_retry_after (300 s)"),
    "inf": ("inf", "Retry-After 'inf'", "not a number of seconds or an HTTP date"),
    "a date tomorrow": (http_date(86_400), "the server asked to wait until", "max_retry_after"),
}
CLI_CASES = [
    ("tap", "a day"),
    ("tap", "inf"),
    ("target", "a day"),
    ("target", "a date tomorrow"),
]


def rate_limited(value: str) -> Callable[[Request], Reply]:
    return lambda request: Reply.json(429, {"error": "rate_limited"}, **{"Retry-After": value})


@pytest.mark.parametrize(("plugin", "case"), CLI_CASES)
def test_a_retry_after_that_cannot_be_honoured_stops_the_run_at_once(
    plugin: str, case: str, tmp_path: Path
) -> None:
    value, *fragments = REFUSED[case]
    if plugin == "tap":
        script = when("POST", ROWS_PATH, rate_limited(value), export_api_answer)
    else:
        script = when("POST", "/import/", rate_limited(value), import_api_answer)
    with scripted_server(script) as server:
        started = time.monotonic()
        run = (tap if plugin == "tap" else target)(server, tmp_path)
        seconds = time.monotonic() - started
        attempts = len(server.seen("POST", ROWS_PATH if plugin == "tap" else "/import/"))
    assert_one_clean_error(run, *fragments)
    assert attempts == 1
    assert "Retrying" not in run.stderr
    assert "retry 1 of" not in run.stderr
    figure(f"{plugin} Retry-After {case}", seconds_to_stop=round(seconds, 1))


HONOURED = {"seconds": lambda: "1", "an HTTP date": lambda: http_date(2)}


@pytest.mark.parametrize(("plugin", "case"), [("tap", "seconds"), ("target", "an HTTP date")])
def test_a_retry_after_within_max_retry_after_is_waited_for(
    plugin: str, case: str, tmp_path: Path
) -> None:
    path = ROWS_PATH if plugin == "tap" else "/import/"
    working = export_api_answer if plugin == "tap" else import_api_answer
    answered: list[float] = []

    def once_then_working(request: Request) -> Reply:
        answered.append(time.monotonic())
        if len(answered) == 1:
            return rate_limited(HONOURED[case]())(request)
        return working(request)

    with scripted_server(when("POST", path, once_then_working, working)) as server:
        run = (tap if plugin == "tap" else target)(server, tmp_path)
        assert len(server.seen("POST", path)) >= 2
    assert run.returncode == 0, run.stderr[-3000:]
    waited = answered[1] - answered[0]
    assert waited >= 0.9  # it did wait as asked (an HTTP date has whole seconds only)
    figure(f"{plugin} Retry-After {case}", waited=round(waited, 1))


# -- target: Retry-After nan in the middle of a load --------------------------------------------


@pytest.fixture(scope="module")
def ignite() -> Iterator[RunningSandbox]:
    with run_sandbox(spend_rows=10, seed=41, token=SECRET) as server:
        yield server


def test_target_retry_after_nan_mid_load_keeps_what_came_before(
    ignite: RunningSandbox, tmp_path: Path
) -> None:
    repository = ignite.admin.create_repository("RetryAfterNan", SPEND_FIELDS)
    imports: list[Request] = []

    def third_is_nan(request: Request) -> Answer:
        imports.append(request)
        if len(imports) == 3:
            return rate_limited("nan")(request)
        return Forward(ignite.url)

    script = when("POST", "/import/", third_is_nan, lambda request: Forward(ignite.url))
    with scripted_server(script) as proxy:
        config = {"api_url": proxy.url, "api_token": SECRET, "repository_id": repository["id"],
                  "batch_size_rows": 5}  # fmt: skip
        run = run_target(tmp_path, config, spend_input(range(1, 21), state_every=5), timeout=120)
    error = assert_one_clean_error(run, "Retry-After 'nan'", "spend")
    assert len(imports) == 3  # not retried
    assert repository_ids(ignite, repository["id"]) == list(range(1, 11))
    assert run.states[-1] == {"position": 10}
    figure("target Retry-After nan mid-load", error=error.split("| ")[-1])
