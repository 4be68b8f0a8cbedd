"""The folder's token check: no test here may let the API token reach any output.

Two nets, both on every test of this folder:
- `token_never_printed` (autouse) greps what every plugin process printed (stdout, stderr,
  Meltano's logs), as kept by `helpers.CAPTURED`, and what the test logged in-process.
- `pytest_runtest_logreport` greps pytest's own record of each test phase: captured
  stdout/stderr/log sections and the failure report, so an assertion message that quotes a
  plugin's output is checked too.
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
    texts = [content for _, content in report.sections]
    if report.longrepr is not None:
        texts.append(str(report.longrepr))
    if any(SECRET in text for text in texts):
        # Fail loudly without quoting the leak.
        report.outcome = "failed"
        report.longrepr = f"{report.nodeid}: the API token appeared in this test's output"


@pytest.fixture
def secret_sandbox(sandbox_factory: Callable[..., RunningSandbox]) -> Callable[..., RunningSandbox]:
    """`sandbox_factory`, with the folder's distinctive token."""

    def start(**options: Any) -> RunningSandbox:
        options.setdefault("token", SECRET)
        return sandbox_factory(**options)

    return start
