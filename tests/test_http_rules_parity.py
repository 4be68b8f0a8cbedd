"""tap-ignite and target-ignite follow the same HTTP rules: each case fed to both.

The plugins are separate packages, each with its own `http_rules.py`. Every case below goes
to both modules, and both must give the expected answer (so also the same one): which
statuses are retried, how a `Retry-After` is read and when it stops the run, how a secret is
masked in each of its forms (real exception texts from requests and http.client included),
which tokens and API URLs are refused and with what words, the bounds of `request_timeout`,
`max_retries` and `max_retry_after` in both settings schemas, and that `request_timeout`
bounds a whole request against a real server that drips its answer.
"""

from __future__ import annotations

import datetime
import email.utils
import http.client
import time
from types import ModuleType
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import requests
from tap_ignite import http_rules as tap_rules
from tap_ignite import settings as tap_settings
from tap_ignite import wire as tap_wire
from target_ignite import http_rules as target_rules
from target_ignite import settings as target_settings
from target_ignite import wire as target_wire

from tests.reliability.scripted_server import Answer, Drip, Reply, Stall, scripted_server

BOTH: list[tuple[str, ModuleType]] = [("tap", tap_rules), ("target", target_rules)]
NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.UTC)


def both(call: Any) -> Any:
    """`call(rules)` for each plugin's module: the same answer from both, which it returns."""
    answers = {}
    for name, rules in BOTH:
        try:
            answers[name] = ("value", call(rules))
        except Exception as exc:  # a refusal is an answer too; compared by type name and text
            answers[name] = ("raised", f"{type(exc).__name__}: {exc}")
    assert answers["tap"] == answers["target"], answers
    return answers["tap"]


def test_the_same_statuses_are_retried() -> None:
    for status in range(100, 600):
        both(lambda rules, status=status: status in rules.RETRIED_STATUSES)
    assert both(lambda rules: sorted(rules.RETRIED_STATUSES)) == (
        "value",
        [429, 500, 502, 503, 504],
    )


def date_in(seconds: float) -> str:
    return email.utils.format_datetime(NOW + datetime.timedelta(seconds=seconds), usegmt=True)


RETRY_AFTER_HONOURED: list[tuple[str | None, float | None]] = [
    (None, None),  # no header: backoff decides
    ("0", 0.0),
    ("1", 1.0),
    (" 5 ", 5.0),
    ("1.5", 1.5),
    ("300", 300.0),  # the limit itself
    (date_in(60), 60.0),
    (date_in(-3600), 0.0),  # a date in the past: no wait
    ("Sunday, 06-Nov-94 08:49:37 GMT", 0.0),  # RFC 850 form, long past
    ("Sun Nov  6 08:49:37 1994", 0.0),  # asctime form
]
RETRY_AFTER_TOO_LONG = ["301", "86400", "999999999999", date_in(86_400)]
RETRY_AFTER_NOT_A_WAIT = ["inf", "-inf", "Infinity", "nan", "NaN", "-5", "1e3", "0x10", "",
                          "garbage", "5 seconds", "\x00\x01"]  # fmt: skip


@pytest.mark.parametrize(("value", "seconds"), RETRY_AFTER_HONOURED)
def test_a_retry_after_within_the_limit_is_honoured(value: str | None, seconds: float) -> None:
    assert both(lambda rules: rules.retry_after_seconds(value, 300, now=NOW)) == ("value", seconds)


@pytest.mark.parametrize("value", RETRY_AFTER_TOO_LONG)
def test_a_retry_after_over_the_limit_stops_the_run(value: str) -> None:
    kind, text = both(lambda rules: rules.retry_after_seconds(value, 300, now=NOW))
    assert kind == "raised"
    assert text.startswith("RetryAfterRefused: the server asked to wait ")
    assert "more than max_retry_after (300 s)" in text


@pytest.mark.parametrize("value", RETRY_AFTER_NOT_A_WAIT)
def test_a_retry_after_that_is_no_wait_stops_the_run(value: str) -> None:
    kind, text = both(lambda rules: rules.retry_after_seconds(value, 300, now=NOW))
    assert kind == "raised"
    assert "not a number of seconds or an HTTP date" in text
    assert "\n" not in text
    assert "\x00" not in text


# -- secrets ---------------------------------------------------------------------------------

TOKEN = "ign-Par1ty-s3cret/+=token"
PASTED = f"  {TOKEN}\n"  # as pasted, with a stray newline


def exception_texts() -> list[str]:
    """What requests and http.client themselves say about a header holding the pasted token."""
    texts = []
    with pytest.raises(requests.exceptions.InvalidHeader) as from_requests:
        requests.Request(
            "GET", "http://127.0.0.1:9/", headers={"Authorization": f"Bearer {PASTED}"}
        ).prepare()
    texts.append(str(from_requests.value))
    connection = http.client.HTTPConnection("127.0.0.1", 9)
    connection.putrequest("GET", "/")
    with pytest.raises(ValueError, match="Invalid header value") as from_http_client:
        connection.putheader("Authorization", f"Bearer {PASTED}")
    texts.append(str(from_http_client.value))
    return texts


def secret_spellings() -> list[str]:
    spellings = []
    for secret in (TOKEN, PASTED):
        spellings += [secret, repr(secret), quote(secret, safe=""), quote_plus(secret)]
        spellings += [repr(secret.encode()), secret.upper()]
    return spellings


def test_every_form_of_the_token_is_masked_the_same_way() -> None:
    texts = [*exception_texts(), *(f"the server said: {s}!" for s in secret_spellings())]
    for text in texts:
        kind, masked = both(lambda rules, text=text: rules.Redactor([PASTED])(text))
        assert kind == "value"
        assert "<redacted>" in masked, (text, masked)
        for leak in (TOKEN, TOKEN[:10], quote(TOKEN, safe="")[:12], "Par1ty"):
            assert leak.lower() not in masked.lower(), (text, masked)
    assert both(lambda rules: rules.REDACTED) == ("value", "<redacted>")


def test_server_text_is_masked_before_it_is_cut() -> None:
    # Cut at 40 characters, the token would straddle the cut: masked first, nothing leaks.
    text = "x" * 30 + TOKEN + " and more"
    kind, shown = both(lambda rules: rules.server_text(text, rules.Redactor([TOKEN]), 40))
    assert kind == "value"
    assert "Par1" not in shown
    assert shown == "x" * 30 + "<redacted>..."


TOKENS: list[tuple[str, str | None]] = [
    (PASTED, None),  # fine once stripped
    ("JWT eyJhbGciOiJIUzI1NiJ9.e30.sig", "legacy JWT"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.e30.sig", "legacy JWT"),
    ("  Jwt\teyJhbGciOiJIUzI1NiJ9.e30.sig\n", "legacy JWT"),
    ("eyJhbGciOiJIUzI1NiJ9.e30.sig", None),  # a bare token that merely looks like a JWT
    ("", "api_token is empty"),
    (" \n\t", "api_token is empty"),
    ("ign-half\nign-other-half", "character(s) a token cannot have"),
    ("ign tok", "character(s) a token cannot have"),
    ("ign-t\x00k", "character(s) a token cannot have"),
    ("ign-tök", "character(s) a token cannot have"),
]


@pytest.mark.parametrize(("token", "problem"), TOKENS)
def test_the_same_tokens_are_refused_in_the_same_words(token: str, problem: str | None) -> None:
    assert tap_wire.LEGACY_JWT_PREFIX == target_wire.LEGACY_JWT_PREFIX
    kind, answer = both(lambda rules: rules.token_problem(token, tap_wire.LEGACY_JWT_PREFIX))
    assert kind == "value"
    if problem is None:
        assert answer is None
        assert both(lambda rules: rules.api_token(token)) == ("value", token.strip())
        return
    assert problem in answer
    for part in token.split():
        assert len(part) < 4 or part not in answer  # never the token, nor a piece of it


URLS: list[tuple[str, str | None]] = [
    ("https://data.igniteprocurement.com", None),
    ("https://datatable.igniteprocurement.com/", None),
    ("http://127.0.0.1:8765", None),
    ("http://localhost:8765", None),
    ("http://[::1]:8765", None),
    ("http://data.igniteprocurement.com", "is plain http"),
    ("http://10.0.0.5", "is plain http"),
    ("ftp://data.igniteprocurement.com", "is not an https:// URL"),
    ("data.igniteprocurement.com", "is not an https:// URL"),
    ("https://", "is not an https:// URL"),
    ("https://user:Pa55w0rd@data.igniteprocurement.com/x", "carries credentials"),
    ("https://Pa55w0rd@data.igniteprocurement.com", "carries credentials"),
    ("http://user:Pa55w0rd@127.0.0.1:8765", "carries credentials"),
    ("https://user:Pa%2055w0rd@data.igniteprocurement.com", "carries credentials"),
]


@pytest.mark.parametrize(("url", "problem"), URLS)
def test_the_same_api_urls_are_refused_in_the_same_words(url: str, problem: str | None) -> None:
    kind, answer = both(lambda rules: rules.api_url_problem(url))
    assert kind == "value"
    if problem is None:
        assert answer is None
        return
    assert problem in answer
    assert "Pa55w0rd" not in answer
    assert "Pa%2055w0rd" not in answer
    if problem == "carries credentials":
        assert "@" not in answer.split("'")[1]  # the URL is shown, without them
        assert "data.igniteprocurement.com" in answer or "127.0.0.1" in answer


# -- settings bounds -------------------------------------------------------------------------

SHARED_SETTINGS = ("request_timeout", "max_retries", "max_retry_after")


@pytest.mark.parametrize("setting", SHARED_SETTINGS)
def test_both_plugins_declare_the_same_bounds_and_defaults(setting: str) -> None:
    tap_property = tap_settings.CONFIG_SCHEMA["properties"][setting]
    target_property = target_settings.CONFIG_SCHEMA["properties"][setting]
    assert tap_property == target_property
    assert tap_property["description"]
    assert "minimum" in tap_property
    assert "maximum" in tap_property
    assert "default" in tap_property


def test_the_bounds_are_the_documented_ones() -> None:
    properties = tap_settings.CONFIG_SCHEMA["properties"]
    assert (properties["request_timeout"]["minimum"], properties["request_timeout"]["maximum"]) == (
        1,
        3600,
    )
    assert properties["request_timeout"]["default"] == 300
    assert properties["max_retry_after"]["default"] == 300
    assert (properties["max_retries"]["minimum"], properties["max_retries"]["maximum"]) == (0, 20)


# -- one deadline for a whole request, against a real server ---------------------------------

ANSWERS: dict[str, Answer] = {
    "a body that drips": Drip(interval=0.2),
    "headers that drip": Drip(interval=0.2, headers_too=True),
    "no answer at all": Stall(),
}


@pytest.mark.parametrize("answer", list(ANSWERS))
def test_request_timeout_bounds_the_whole_request(answer: str) -> None:
    with scripted_server(lambda request: ANSWERS[answer]) as server:
        for name, rules in BOTH:
            session = rules.DeadlineSession(1)
            started = time.monotonic()
            with pytest.raises(requests.exceptions.ReadTimeout, match=r"request_timeout \(1 s\)"):
                session.get(f"{server.url}/drip")
            elapsed = time.monotonic() - started
            assert elapsed < 10, (name, elapsed)  # generous; a drip would take hours


def test_a_streamed_body_is_bounded_too() -> None:
    with scripted_server(lambda request: ANSWERS["a body that drips"]) as server:
        for _, rules in BOTH:
            session = rules.DeadlineSession(1)
            with (
                pytest.raises(requests.exceptions.ReadTimeout),
                rules.whole_request(1),
                session.get(f"{server.url}/file", stream=True) as response,
            ):
                for _ in response.iter_content(1024):
                    pass


def test_an_answer_in_time_is_untouched() -> None:
    body = {"data": list(range(1000))}
    with scripted_server(lambda request: Reply.json(200, body)) as server:
        for _, rules in BOTH:
            session = rules.DeadlineSession(5)
            for _ in range(3):  # kept-alive connections too
                assert session.get(f"{server.url}/ok").json() == body
