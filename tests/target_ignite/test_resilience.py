"""Retries under the sandbox's faults, and the API token absent from every log line."""

from __future__ import annotations

from collections import Counter

from tests.target_ignite.helpers import (
    DATA,
    config_for,
    imports_of,
    rows_exact,
    run_target,
    singer_records,
)

PERIOD_FIELDS = ["Id", "Period", "SupplierName", "Amount"]
SECRET = "tok-Very-Secret-4242"


def test_429_5xx_resets_and_slow_answers_are_retried_to_exactly_once(sandbox_factory, tmp_path):
    server = sandbox_factory(spend_rows=10, faults="429=0.15,500=0.15,reset=0.1,slow=0.05")
    repository = server.admin.create_repository("Flaky", PERIOD_FIELDS)
    source = DATA / "forty_rows_in_small_batches.singer"

    run = run_target(
        config_for(server, repository_id=repository["id"], batch_size_rows=4, max_retries=8),
        source,
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    # Every row exactly once, in order: no batch lost, none doubled by a retry.
    assert rows_exact(server, repository["id"]) == singer_records(source)
    assert [i["rows"] for i in imports_of(server, repository["id"])] == [4] * 10
    assert "rate limited (HTTP 429)" in run.stderr
    assert "HTTP 50" in run.stderr
    assert "connection failed" in run.stderr
    # Each STATE goes out once the records before it are imported (target_ignite/safe_state).
    assert run.states == [{"spend": 10}, {"spend": 20}, {"spend": 30}, {"spend": 40}]


def test_a_lost_response_is_retried_and_a_possible_duplicate_is_named(sandbox_factory, tmp_path):
    """`lost`: the import took effect, its answer never came. Nothing in the Import API can
    tell, so the retry may duplicate the batch: the warning names the import to check."""
    server = sandbox_factory(spend_rows=10, faults="lost=0.3")
    repository = server.admin.create_repository("Lossy", PERIOD_FIELDS)

    run = run_target(
        config_for(server, repository_id=repository["id"], batch_size_rows=4, max_retries=8),
        DATA / "forty_rows_in_small_batches.singer",
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    names = Counter(i["importName"] for i in imports_of(server, repository["id"]))
    duplicated = [name for name, count in names.items() if count > 1]
    assert duplicated, "the seeded fault sequence should lose at least one import answer"
    for name in duplicated:
        assert f"import '{name}': connection failed" in run.stderr
    assert "a duplicate would show as two imports of the same name" in run.stderr
    assert len(names) == 10  # every batch made it at least once


def test_token_never_appears_in_output_at_debug_level(sandbox_factory, tmp_path):
    server = sandbox_factory(spend_rows=10, token=SECRET, faults="429=0.15,500=0.15,reset=0.15")
    repository = server.admin.create_repository("Secret", PERIOD_FIELDS)
    other = server.admin.create_repository("Other", PERIOD_FIELDS)
    foreign_query = server.admin.create_delete_query(other["id"], {"Period": {"eq": "2026-03"}})
    debug = {"LOGLEVEL": "DEBUG", "TARGET_IGNITE_LOGLEVEL": "DEBUG"}

    ok = run_target(
        config_for(server, repository_id=repository["id"], batch_size_rows=10, max_retries=10),
        DATA / "forty_rows_in_small_batches.singer",
        tmp_path,
        env=debug,
    )
    # A 4xx whose message the target relays: a delete query of another repository.
    refused = run_target(
        config_for(server, repository_id=repository["id"], delete_query_id=foreign_query),
        DATA / "forty_rows_in_small_batches.singer",
        tmp_path,
        env=debug,
    )
    bad_token = config_for(server, repository_id=repository["id"])
    bad_token["api_token"] = SECRET + "-revoked"
    unauthorized = run_target(bad_token, DATA / "exact_values.singer", tmp_path, env=debug)

    assert ok.returncode == 0, ok.stderr
    assert refused.returncode == 1
    assert unauthorized.returncode == 1
    assert "belongs to repository" in refused.stderr
    assert "api_token was refused" in unauthorized.stderr
    everything = "".join(r.stdout + r.stderr for r in (ok, refused, unauthorized))
    assert "| DEBUG" in everything  # the runs did log at debug level
    assert "retry 1 of" in everything  # and went through the retry paths
    assert SECRET not in everything
