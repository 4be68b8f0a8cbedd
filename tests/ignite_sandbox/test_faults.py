"""Fault injection: rates for a seed, determinism, each kind's effect, admin never faulted."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import requests
from ignite_sandbox.faults import FaultSpec, FaultSpecError
from ignite_sandbox.launcher import run_sandbox

from tests.ignite_sandbox.helpers import Api, assert_error

REQUESTS = 300
SEED = 3


@pytest.fixture(scope="module")
def faulty() -> Iterator[Api]:
    """One server for this module; each test sets the spec it needs (which restarts the draw)."""
    with run_sandbox(spend_rows=20, seed=SEED) as server:
        yield Api(server)
        server.admin.set_faults("")


def outcomes(api: Api, count: int = REQUESTS) -> list[str]:
    """Status code (or error kind) of `count` fresh GET /tables/ calls."""
    seen = []
    for _ in range(count):
        try:
            response = requests.get(
                f"{api.url}/tables/", headers=dict(api.session.headers), timeout=10
            )
            seen.append(str(response.status_code))
        except requests.ConnectionError:
            seen.append("connection-error")
    return seen


def test_rates_are_roughly_as_specified_and_deterministic_for_a_seed(
    faulty: Api, own_api: Callable[..., Api]
) -> None:
    spec = "429=0.2,500=0.1,reset=0.05"
    first = faulty
    first.server.admin.set_faults(spec)
    runs = outcomes(first)
    counts = Counter(runs)
    assert 0.13 * REQUESTS <= counts["429"] <= 0.27 * REQUESTS
    assert 0.05 * REQUESTS <= counts["500"] + counts["503"] <= 0.15 * REQUESTS
    assert counts["500"] > 0
    assert counts["503"] > 0
    assert 0.01 * REQUESTS <= counts["connection-error"] <= 0.1 * REQUESTS
    assert (
        counts["200"]
        == REQUESTS - counts["429"] - counts["500"] - counts["503"] - counts["connection-error"]
    )
    injected = first.server.admin.faults()["injected"]
    assert injected["429"] == counts["429"]
    second = own_api(spend_rows=20, seed=SEED, faults=spec)  # the flag, not the admin call
    assert outcomes(second) == runs
    first.server.admin.set_faults(spec)  # a new spec restarts the sequence
    assert outcomes(first) == runs


def test_each_fault_kind(faulty: Api) -> None:
    api = faulty
    admin = api.server.admin
    admin.set_faults("429=1")
    limited = api.get("/tables/")
    assert_error(limited, 429, "rate_limited")
    assert limited.headers["Retry-After"] == "1"
    admin.set_faults("500=1")
    statuses = set()
    for _ in range(20):
        response = api.get("/tables/")
        assert_error(response, response.status_code, "internal_error")
        statuses.add(response.status_code)
    assert statuses == {500, 503}
    admin.set_faults("reset=1")
    with pytest.raises(requests.ConnectionError):
        api.get("/tables/")
    admin.set_faults("slow=1")
    with pytest.raises(requests.ReadTimeout):
        api.get("/tables/", timeout=1)
    admin.set_faults("")
    assert api.get("/tables/").status_code == 200


def test_faults_come_before_processing_but_lost_after(faulty: Api) -> None:
    api = faulty
    admin = api.server.admin
    repository = admin.create_repository("Faults", ["a"])["id"]
    body = {"dataRepositoryId": repository, "data": [{"a": 1}]}
    for spec in ("429=1", "500=1", "reset=1"):
        admin.set_faults(spec)
        with contextlib.suppress(requests.ConnectionError):
            api.post("/import/", json=body)
    assert admin.repository_rows(repository) == []  # nothing happened: a retry is safe
    admin.set_faults("lost=1")
    with pytest.raises(requests.ConnectionError):
        api.post("/import/", json=body)
    assert admin.repository_rows(repository) == [{"a": 1}]  # it happened; the client never knew
    admin.set_faults("")


def test_admin_endpoints_are_never_faulted(faulty: Api) -> None:
    faulty.server.admin.set_faults("reset=1")
    for _ in range(20):
        assert isinstance(faulty.server.admin.imports(), list)
    assert faulty.server.admin.faults()["spec"] == "reset=1"
    faulty.server.admin.set_faults("")


def test_bad_specs_are_rejected_with_a_clear_message(faulty: Api) -> None:
    api = faulty
    for spec, needle in (
        ("418=0.1", "418"),
        ("429=x", "429=x"),
        ("429=0.7,500=0.6", "more than 1"),
    ):
        assert needle in assert_error(
            api.post("/_sandbox/faults", json={"spec": spec}), 400, "invalid_request"
        )
        with pytest.raises(FaultSpecError, match="fault"):
            FaultSpec.parse(spec)
    assert FaultSpec.parse(" 429=0.1 , lost=0.2 ").rates == {"429": 0.1, "lost": 0.2}
    assert FaultSpec.parse("").rates == {}
