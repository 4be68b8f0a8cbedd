"""STATE goes out only once every row before it is committed, one transaction per batch: a
target killed mid-load leaves whole batches, every row its last STATE vouched for, and a
file that opens read-only."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from tests.target_duckdb_typed.helpers import TARGET, query, run_target, singer_lines

BATCH_ROWS = 1000
SCHEMA = {
    "type": "SCHEMA",
    "stream": "ledger",
    "key_properties": ["n"],
    "schema": {"properties": {"n": {"type": "integer"}, "amount": {"type": "number"}}},
}


def ledger_lines(first: int, last: int) -> bytes:
    """RECORDs first..last with a STATE after every 500th."""
    lines = []
    for n in range(first, last + 1):
        lines.append(f'{{"type":"RECORD","stream":"ledger","record":{{"n":{n},"amount":{n}.01}}}}')
        if n % 500 == 0:
            lines.append(json.dumps({"type": "STATE", "value": {"ledger": n}}))
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.timeout(300)
def test_killed_mid_load_every_row_its_last_state_vouched_for_is_there(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"filepath": str(warehouse), "batch_size_rows": BATCH_ROWS}))
    target = subprocess.Popen(
        [TARGET, "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert target.stdin is not None
    assert target.stdout is not None
    target.stdin.write(singer_lines(SCHEMA).encode() + ledger_lines(1, 25_250))
    target.stdin.flush()  # and left open: the target waits for more
    last_state = 0
    while last_state < 20_000:
        line = target.stdout.readline()
        assert line, "the target ended before writing the STATEs it should have"
        state = json.loads(line)["ledger"]
        assert state > last_state
        last_state = state
    target.send_signal(signal.SIGKILL)
    target.wait(timeout=60)

    loaded = [row[0] for row in query(warehouse, "select n from ledger order by n")]
    assert loaded[:last_state] == list(range(1, last_state + 1))
    assert len(loaded) % BATCH_ROWS == 0  # whole batches only
    assert len(loaded) == len(set(loaded))


def test_the_file_is_complete_and_read_only_safe_after_a_load(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    run = run_target(
        warehouse, singer_lines(SCHEMA) + ledger_lines(1, 5000).decode(), batch_size_rows=700
    )
    assert run.returncode == 0, run.stderr
    # STATEs in order (a newer one may replace those it passed while a batch loaded).
    states = [state["ledger"] for state in run.states]
    assert states == sorted(set(states))
    assert states[-1] == 5000
    assert not Path(f"{warehouse}.wal").exists()  # checkpointed: nothing to replay
    assert query(warehouse, "select count(*), sum(amount) from ledger")[0][0] == 5000
