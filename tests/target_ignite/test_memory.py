"""Memory stays bounded by one batch, whatever the input size."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.peak_rss import peak_rss_mb, peak_rss_script
from tests.target_ignite.helpers import config_for, imports_of

ROWS = 150_000
# The target reports its own peak RSS at exit (tests/peak_rss.py).
RUN_WITH_PEAK_RSS = peak_rss_script("target-ignite", "target_ignite.target:TargetIgnite")


def _records():
    yield (
        '{"type":"SCHEMA","stream":"spend","key_properties":["Id"],"schema":{"properties":'
        '{"Id":{"type":"integer"},"SupplierName":{"type":"string"},"Amount":{"type":"number"},'
        '"Description":{"type":"string"}}}}\n'
    )
    for i in range(ROWS):
        yield (
            f'{{"type":"RECORD","stream":"spend","record":{{"Id":{i},"SupplierName":"Supplier '
            f'{i % 977}","Amount":{i}.37,"Description":"an invoice line of about two hundred '
            f'bytes, so that the whole input is thirty megabytes or so"}}}}\n'
        )
    yield '{"type":"STATE","value":{"spend":"done"}}\n'


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_the_input(ignite, new_repository, tmp_path):
    repository = new_repository(["Id", "SupplierName", "Amount", "Description"])
    input_path = tmp_path / "large.singer"
    with input_path.open("w", encoding="utf-8") as out:
        out.writelines(_records())
    config_path = tmp_path / "config.json"
    config = config_for(
        ignite, repository_id=repository["id"], batch_max_bytes=1024**2, batch_size_rows=10**6
    )
    config_path.write_text(json.dumps(config), encoding="utf-8")

    run = subprocess.run(
        [
            sys.executable,
            "-c",
            RUN_WITH_PEAK_RSS,
            "--config",
            str(config_path),
            "--input",
            str(input_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )

    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == '{"spend": "done"}'
    imports = imports_of(ignite, repository["id"])
    assert sum(i["rows"] for i in imports) == ROWS
    assert all(i["bytes"] <= 1024**2 for i in imports)
    peak_mb = peak_rss_mb(run.stderr)
    input_mb = input_path.stat().st_size / 1024**2
    # The interpreter and the SDK take ~60 MB; the input alone is ~30 MB on disk and several
    # times that as Python objects. Holding it would show; one 1 MiB batch does not.
    assert input_mb > 25
    assert peak_mb < 120, f"peak RSS {peak_mb:.0f} MB for a {input_mb:.0f} MB input"
