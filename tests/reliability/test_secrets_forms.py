"""Secrets in every form: a pasted token, a server that echoes it back, credentials in a URL.

- A token pasted with whitespace around it (a newline) is used without it, with a warning; a
  token with whitespace or control characters inside is refused with a message that does not
  contain it, before any request.
- A server that echoes the token back, raw, repr-escaped, URL-encoded or JSON-escaped, in an
  error or in an answer that is retried, is masked in every form in what the plugins print.
- Credentials in `api_url` (`https://user:password@host`) are refused at start-up with the
  URL shown without them; no request is sent.

Everything runs at DEBUG level; the check is every form of the secret, not only the raw one
(the folder's conftest greps the raw token too).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from ignite_sandbox.launcher import RunningSandbox

from tests.reliability.helpers import (
    SECRET,
    SPEND_FIELDS,
    Run,
    plugin_env,
    repository_ids,
    run_tap,
    run_target,
    spend_input,
)
from tests.reliability.scripted_server import (
    REPOSITORY,
    Reply,
    Request,
    scripted_server,
)

DEBUG = plugin_env(LOGLEVEL="DEBUG", TAP_IGNITE_LOGLEVEL="DEBUG", TARGET_IGNITE_LOGLEVEL="DEBUG")


def spellings(secret: str) -> set[str]:
    """How text may carry `secret`: as is, stripped, escaped by repr or JSON, URL-encoded,
    and its first 16 characters (a secret cut short is still a leak)."""
    found = set()
    for text in (secret, secret.strip()):
        found |= {
            text,
            repr(text)[1:-1],
            json.dumps(text)[1:-1],
            quote(text, safe=""),
            quote(text),
            quote_plus(text),
            text.strip()[:16],
        }
    return {form for form in found if len(form) >= 6}


def assert_never_shown(secret: str, *runs: Run) -> None:
    everything = "".join(run.stdout + run.stderr for run in runs)
    assert "| DEBUG" in everything  # the runs did log at debug level
    shown = sorted(form for form in spellings(secret) if form in everything)
    assert not shown, f"{len(shown)} form(s) of the secret appear in the output"


def test_a_pasted_token_is_used_without_its_whitespace_and_never_shown(
    secret_sandbox: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    server = secret_sandbox(spend_rows=50, seed=5)
    pasted = f"\n  {SECRET}\r\n"
    tap = run_tap(tmp_path / "tap", {"api_url": server.url, "api_token": pasted}, env=DEBUG)
    repository = server.admin.create_repository("Pasted", SPEND_FIELDS)
    target = run_target(
        tmp_path / "target",
        {"api_url": server.url, "api_token": pasted, "repository_id": repository["id"]},
        spend_input(range(1, 11)),
        env=DEBUG,
    )
    for run in (tap, target):
        assert run.returncode == 0, run.stderr[-3000:]
        assert "api_token has spaces or line breaks around it" in run.stderr
    assert len(tap.records("spend")) == 50  # the sandbox accepts only the stripped token
    assert repository_ids(server, repository["id"]) == list(range(1, 11))
    assert_never_shown(pasted, tap, target)


INSIDE = "ign-half-of-a-token\nign-other-half-0F3A"


@pytest.mark.parametrize("plugin", ["tap", "target"])
def test_a_token_with_a_line_break_inside_is_refused_without_showing_it(
    plugin: str, tmp_path: Path
) -> None:
    with scripted_server(lambda request: Reply(500)) as server:
        config = {"api_url": server.url, "api_token": INSIDE, "repository_id": "x"}
        if plugin == "tap":
            run = run_tap(tmp_path, config, env=DEBUG)
        else:
            run = run_target(tmp_path, config, b"", env=DEBUG)
        assert server.requests == []  # refused before any request
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "api_token has 1 character(s) a token cannot have" in run.the_error()
    assert_never_shown(INSIDE, run)
    for half in INSIDE.split("\n"):
        assert_never_shown(half, run)


def echo_token(status: int) -> Callable[[Request], Reply]:
    """An answer whose message echoes the Authorization header in every spelling."""

    def answer(request: Request) -> Reply:
        token = request.headers["authorization"].removeprefix("Bearer ")
        forms = [token, repr(f"Bearer {token}\n"), quote(token, safe=""), json.dumps(token)]
        message = "token " + " | ".join(forms) + " refused"
        return Reply.json(status, {"error": "echo", "message": message})

    return answer


@pytest.mark.parametrize("plugin", ["tap", "target"])
def test_a_server_that_echoes_the_token_back_is_masked_in_every_form(
    plugin: str, tmp_path: Path
) -> None:
    answers = [echo_token(503), echo_token(400)]  # one retried, then one that stops the run

    def script(request: Request) -> Reply:
        return answers[min(len(server.requests), 2) - 1](request)

    token = f"{SECRET}/+="  # characters that URL-encoding changes
    with scripted_server(script) as server:
        config = {"api_url": server.url, "api_token": token, "repository_id": REPOSITORY["id"]}
        if plugin == "tap":
            run = run_tap(tmp_path, config, env=DEBUG)
        else:
            run = run_target(tmp_path, config, b"", env=DEBUG)
        assert len(server.requests) == 2
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    retried, stopped = [line for line in run.stderr.splitlines() if "<redacted>" in line][:2]
    assert "503" in retried
    assert "400" in stopped
    assert stopped.count("<redacted>") == 4
    assert_never_shown(token, run)


@pytest.mark.parametrize(
    "url",
    [
        "http://ignite-user:Pa55w0rd-Z9%2F@127.0.0.1:{port}",
        "https://ignite-user:Pa55w0rd-Z9%2F@data.igniteprocurement.com",
    ],
)
@pytest.mark.parametrize("plugin", ["tap", "target"])
def test_credentials_in_api_url_are_refused_at_start_up(
    plugin: str, url: str, tmp_path: Path
) -> None:
    with scripted_server(lambda request: Reply(500)) as server:
        api_url = url.format(port=server.url.rsplit(":", 1)[1])
        config = {"api_url": api_url, "api_token": SECRET, "repository_id": "x"}
        if plugin == "tap":
            run = run_tap(tmp_path, config, env=DEBUG)
        else:
            run = run_target(tmp_path, config, b"", env=DEBUG)
        assert server.requests == []
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    error = run.the_error()
    without = api_url.replace("ignite-user:Pa55w0rd-Z9%2F@", "")
    assert f"api_url '{without}' carries credentials" in error
    assert_never_shown("Pa55w0rd-Z9%2F", run)
    assert_never_shown("Pa55w0rd-Z9/", run)
    assert "ignite-user" not in run.stdout + run.stderr
