"""The folder's token check: no test here may let the API token reach any output.

Two nets, both on every test of this folder:
- `token_never_printed` (autouse) greps what every plugin process printed (stdout, stderr,
  Meltano's logs), as kept by `helpers.CAPTURED`, and what the test logged in-process.
- `pytest_runtest_logreport` greps pytest's own record of each test phase: the captured
  stdout/stderr/log sections (in-process plugin runs log there). Failure reports, which show
  fixture values such as a sandbox's token, are redacted rather than failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ignite_sandbox.launcher import RunningSandbox

from tests.reliability.helpers import CAPTURED, SECRET


@pytest.fixture(autouse=True)
def token_never_printed(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    CAPTURED.clear()
    yield
    leaked = [label for label, text in CAPTURED if SECRET in text]
    if SECRET in caplog.text:
        leaked.append("in-process log records")
    CAPTURED.clear()
    assert not leaked, f"the API token appeared in the output of: {', '.join(leaked)}"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if any(SECRET in content for _, content in report.sections):
        # Fail loudly without quoting the leak.
        report.outcome = "failed"
        report.longrepr = f"{report.nodeid}: the API token appeared in this test's output"
        return
    # A failure report shows fixtures' values (a sandbox's token among them): that is the
    # test harness, not a plugin, but the token still stays out of the report.
    if report.longrepr is not None and SECRET in str(report.longrepr):
        report.longrepr = str(report.longrepr).replace(SECRET, "<token>")


@pytest.fixture
def secret_sandbox(sandbox_factory: Callable[..., RunningSandbox]) -> Callable[..., RunningSandbox]:
    """`sandbox_factory`, with the folder's distinctive token."""

    def start(**options: Any) -> RunningSandbox:
        options.setdefault("token", SECRET)
        return sandbox_factory(**options)

    return start
