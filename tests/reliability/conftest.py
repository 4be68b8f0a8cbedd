"""The folder's token check: no test here may let the API token reach any output.

Two nets, both on every test of this folder:
- `token_never_printed` (autouse) greps what every plugin process printed (stdout, stderr,
  Meltano's logs), as kept by `helpers.CAPTURED`, and what the test logged in-process.
- `pytest_runtest_makereport` greps pytest's own record of each test phase as it is made:
  the captured stdout/stderr/log sections (in-process plugin runs log there) fail the test.
  Failure reports, which show fixture values such as a sandbox's token, are redacted.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest
from ignite_sandbox.launcher import RunningSandbox

from tests.reliability.helpers import CAPTURED, SECRET


@pytest.fixture(autouse=True)
def token_never_printed(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    CAPTURED.clear()
    yield
    leaked = [label for label, text in CAPTURED if SECRET in text]
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    if any(SECRET in record.getMessage() for record in records):
        leaked.append("in-process log records")
    CAPTURED.clear()
    assert not leaked, f"the API token appeared in the output of: {', '.join(leaked)}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    leaked = [name for name, content in report.sections if SECRET in content]
    # Redacted either way, so that no report, passing or failing, shows the token.
    report.sections = [
        (name, content.replace(SECRET, "<token>")) for name, content in report.sections
    ]
    if leaked:
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid}: the API token appeared in: {', '.join(leaked)}"
    elif report.longrepr is not None and SECRET in str(report.longrepr):
        # A failure report shows fixtures' values (a sandbox's token among them): that is the
        # test harness, not a plugin, but the token still stays out of the report.
        report.longrepr = str(report.longrepr).replace(SECRET, "<token>")
    return report


@pytest.fixture
def secret_sandbox(sandbox_factory: Callable[..., RunningSandbox]) -> Callable[..., RunningSandbox]:
    """`sandbox_factory`, with the folder's distinctive token."""

    def start(**options: Any) -> RunningSandbox:
        options.setdefault("token", SECRET)
        return sandbox_factory(**options)

    return start
