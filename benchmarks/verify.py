"""Cheap correctness checks on a contender's output, so a fast-but-wrong one cannot win.

A Singer file passes when it holds exactly N RECORD lines of the stream, N distinct ids, and
the seeded amounts that float64 cannot hold come out with every digit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import msgspec
from ignite_sandbox.seed import EXACT_AMOUNTS, id_width


class _Record(msgspec.Struct):
    id: str | None = None
    amount: msgspec.Raw = msgspec.Raw(b"null")  # any JSON value, null included


class _Line(msgspec.Struct):
    type: str
    stream: str | None = None
    record: _Record | None = None


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
    """Count RECORD lines of `stream` and check ids and exact amounts."""
    decoder = msgspec.json.Decoder(_Line)
    expected_amounts = exact_amounts(spend_rows)
    seen_amounts: dict[str, Decimal | None] = {}
    ids: set[str] = set()
    check = Check()
    with path.open("rb") as lines:
        for line in lines:
            message = decoder.decode(line)
            if message.type != "RECORD" or message.stream != stream or message.record is None:
                continue
            check.records += 1
            record_id = message.record.id
            if record_id is not None:
                ids.add(record_id)
                if record_id in expected_amounts:
                    seen_amounts[record_id] = _decimal(message.record.amount)
    if check.records != spend_rows:
        check.problems.append(f"{check.records} records, expected {spend_rows}")
    if len(ids) != spend_rows:
        check.problems.append(f"{len(ids)} distinct ids, expected {spend_rows}")
    for record_id, expected in expected_amounts.items():
        if seen_amounts.get(record_id) != expected:
            got = seen_amounts.get(record_id)
            check.problems.append(f"{record_id} amount {got}, expected {expected} exactly")
    return check


def _decimal(raw: msgspec.Raw) -> Decimal | None:
    """A JSON number or numeric string, exactly; None for anything else."""
    text = bytes(raw).decode().strip('"')
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
