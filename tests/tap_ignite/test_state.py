"""Interim STATE never claims more than is done: a SIGKILLed run, re-run from its last STATE,
loses no row."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from ignite_sandbox.launcher import RunningSandbox

from tests.tap_ignite.helpers import DECODER, TAP_EXECUTABLE, catalog_selecting, sync, tap_config

TOUCHED = 12_000  # more than the SDK's 10,000 records between interim STATE messages


def test_killed_run_resumed_from_its_last_state_loses_no_row(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    server = sandbox_factory(spend_rows=25_000)
    config = tap_config(server, page_size=1000)
    first = sync(config, streams=["spend"], properties={"spend": []})
    first_state = first.final_state
    bookmark = first_state["bookmarks"]["spend"]["replication_key_value"]
    touched = set(server.admin.touch("spend", TOUCHED))
    assert len(touched) == TOUCHED

    # The second run is killed without warning half-way through the changed rows.
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "state.json").write_text(json.dumps(first_state))
    catalog = catalog_selecting(config, ["spend"], {"spend": []})
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    argv = [TAP_EXECUTABLE, "--config", str(tmp_path / "config.json")]
    argv += ["--state", str(tmp_path / "state.json"), "--catalog", str(tmp_path / "catalog.json")]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    killed_records: list[str] = []
    states = []
    for line in process.stdout:
        message = DECODER.decode(line)
        if message["type"] == "RECORD":
            killed_records.append(message["record"]["id"])
        elif message["type"] == "STATE":
            states.append(message["value"])
            if "progress_markers" in message["value"]["bookmarks"].get("spend", {}):
                # Killed without warning right after the first interim STATE, mid-table.
                process.send_signal(signal.SIGKILL)
                break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert len(killed_records) >= 10_000
    assert not touched <= set(killed_records)  # the killed run did not get them all
    interim = states[-1]
    # The interim STATE does not move the bookmark past what the first run finished.
    assert interim["bookmarks"]["spend"]["replication_key_value"] == bookmark

    resumed = sync(config, streams=["spend"], properties={"spend": []}, state=interim)
    resumed_ids = {r["id"] for r in resumed.records("spend")}
    assert touched <= resumed_ids
    final = resumed.final_state["bookmarks"]["spend"]["replication_key_value"]
    assert final > bookmark
