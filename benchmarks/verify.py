"""Cheap correctness checks on a contender's output, so a fast-but-wrong one cannot win.

A Singer file passes when it holds exactly N records of the stream (RECORD lines, or rows of
the files its BATCH messages list), N distinct ids, and the seeded amounts that float64
cannot hold come out with every digit.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from ignite_sandbox.seed import EXACT_AMOUNTS, id_width


class _Record(msgspec.Struct):
    id: str | None = None
    amount: msgspec.Raw = msgspec.Raw(b"null")  # any JSON value, null included


class _Line(msgspec.Struct):
    type: str
    stream: str | None = None
    record: _Record | None = None
    encoding: dict[str, Any] | None = None  # BATCH
    manifest: list[str] | None = None  # BATCH


@dataclass
class Check:
    """What a contender's output holds, and what is wrong with it (empty when nothing)."""

    records: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the output passed every check."""
        return not self.problems


def spend_id(row_number: int, spend_rows: int) -> str:
    """The id the sandbox's seed gives spend row `row_number` (1-based)."""
    return f"SP-{row_number:0{id_width(spend_rows, 7)}d}"


def exact_amounts(spend_rows: int) -> dict[str, Decimal]:
    """id -> the seeded amount that only exact decimal handling keeps."""
    return {
        spend_id(row, spend_rows): Decimal(value)
        for row, value in EXACT_AMOUNTS.items()
        if row <= spend_rows
    }


def check_singer_file(path: Path, stream: str, spend_rows: int) -> Check:
    """Count the stream's records (RECORD or BATCH) and check ids and exact amounts."""
    expected_amounts = exact_amounts(spend_rows)
    seen_amounts: dict[str, Decimal | None] = {}
    ids: set[str] = set()
    check = Check()
    for record_id, amount in _records(path, stream, set(expected_amounts), check):
        check.records += 1
        if record_id is not None:
            ids.add(record_id)
            if record_id in expected_amounts:
                seen_amounts[record_id] = amount
    if check.records != spend_rows:
        check.problems.append(f"{check.records} records, expected {spend_rows}")
    if len(ids) != spend_rows:
        check.problems.append(f"{len(ids)} distinct ids, expected {spend_rows}")
    for record_id, expected in expected_amounts.items():
        if seen_amounts.get(record_id) != expected:
            got = seen_amounts.get(record_id)
            check.problems.append(f"{record_id} amount {got}, expected {expected} exactly")
    return check


def _records(
    path: Path, stream: str, watched: set[str], check: Check
) -> Iterator[tuple[str | None, Decimal | None]]:
    """(id, amount if the id is watched) of every record of the stream."""
    decoder = msgspec.json.Decoder(_Line)
    with path.open("rb") as lines:
        for line in lines:
            message = decoder.decode(line)
            if message.stream != stream:
                continue
            if message.type == "RECORD" and message.record is not None:
                record = message.record
                amount = _decimal(record.amount) if record.id in watched else None
                yield record.id, amount
            elif message.type == "BATCH":
                encoding = message.encoding or {}
                for url in message.manifest or []:
                    yield from _batch_file(_local_path(url), encoding, watched, check)


def _local_path(url: str) -> Path:
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme in {"", "file"} else Path(url)


def _batch_file(
    path: Path, encoding: dict[str, Any], watched: set[str], check: Check
) -> Iterator[tuple[str | None, Decimal | None]]:
    """(id, watched amount) of each row of one BATCH file (parquet or JSON lines)."""
    if encoding.get("format") == "parquet":
        table = pq.read_table(path, columns=["id", "amount"])
        wanted = pc.is_in(table["id"], value_set=pa.array(sorted(watched), pa.string()))
        amounts = {row["id"]: row["amount"] for row in table.filter(wanted).to_pylist()}
        for record_id in table.column("id").to_pylist():
            amount = amounts.get(record_id)
            yield record_id, Decimal(str(amount)) if amount is not None else None
        return
    if encoding.get("format") != "jsonl":
        check.problems.append(f"BATCH file {path.name} in an unknown format {encoding}")
        return
    opener = gzip.open if encoding.get("compression") == "gzip" else open
    decoder = msgspec.json.Decoder(_Record)
    with opener(path, "rb") as lines:
        for line in lines:
            record = decoder.decode(line)
            amount = _decimal(record.amount) if record.id in watched else None
            yield record.id, amount


def _decimal(raw: msgspec.Raw) -> Decimal | None:
    """A JSON number or numeric string, exactly; None for anything else."""
    text = bytes(raw).decode().strip('"')
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
