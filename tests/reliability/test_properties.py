"""Property-based tests (hypothesis) of the plugins' own functions.

- Flattening (target): any nested record, through the target's own stream map (the SDK's
  flattening as target-ignite configures it) and its sink's row preparation and encoding,
  becomes a flat row from which the record can be rebuilt exactly.
- dataType mapping (tap): any `GET /tables/` column list maps to a schema whose types are the
  documented ones, keys non-null, label keys unique, and which the API's values validate.
- Exact decimals (both): any finite decimal the API or a tap sends keeps its digits and
  exponent through the tap's decoding and writer, and through the target's rows and codecs.
- The target's STATE gate: under any interleaving of records, STATEs and imports over several
  sinks, no STATE goes out before every record that came before it is imported, and the last
  one goes out once everything is.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import string
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ignite_sandbox.launcher import RunningSandbox, run_sandbox
from singer_sdk.singerlib.encoding.simple import RecordMessage
from tap_ignite.client import decoded_body
from tap_ignite.columns import DATA_TYPE_SCHEMAS, Column, Table, label_keys
from tap_ignite.decimal_strings import decimal_string
from tap_ignite.writer import IgniteMessageWriter
from target_ignite.rows import CsvRows, NdjsonRows, csv_cell, flat_row
from target_ignite.safe_state import StateGate
from target_ignite.target import TargetIgnite

from tests.reliability.helpers import SECRET, line, run_target, schema_line

PROPERTIES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# Finite decimals, any precision and exponent. An integer-valued negative zero ("-0") is
# left out: JSON reads it as the integer 0, which is the same number without its sign.
def _not_integral_negative_zero(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return not (
        value.is_zero() and value.is_signed() and isinstance(exponent, int) and exponent >= 0
    )


DECIMALS: st.SearchStrategy[Decimal] = st.decimals(allow_nan=False, allow_infinity=False).filter(
    _not_integral_negative_zero
)


def exact(value: Any) -> Any:
    """A value with every number replaced by its exact digits and exponent."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | Decimal):
        return ("number", Decimal(value).as_tuple())
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact(v) for v in value]
    raise TypeError(type(value))


def loads_exact(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


# -- flattening (target) -----------------------------------------------------------------

KEYS = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=6)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), DECIMALS, st.text(max_size=12))
NESTED = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(KEYS, children, min_size=1, max_size=3)
    ),
    max_leaves=12,
)


@st.composite
def deep_chains(draw: st.DrawFn) -> dict[str, Any]:
    """An object nested 1..14 levels deep (flattening_max_depth is 10)."""
    value: Any = draw(st.dictionaries(KEYS, SCALARS, min_size=1, max_size=3))
    for _ in range(draw(st.integers(1, 14))):
        value = {draw(KEYS): value}
    return dict(value)


RECORDS = st.builds(
    lambda top, deep: {**top, "deep": deep},
    st.dictionaries(KEYS, NESTED, min_size=1, max_size=6),
    deep_chains(),
)


def schema_of(value: Any) -> dict[str, Any]:
    """The JSON Schema a tap would declare for this value."""
    if isinstance(value, dict):
        return {"type": "object", "properties": {k: schema_of(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"type": "array"}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, Decimal):
        return {"type": "number"}
    return {"type": ["string", "null"]}


def rebuild(row: dict[str, Any], original: dict[str, Any], separator: str) -> dict[str, Any]:
    """The record a flat row stands for: columns split on the separator, and JSON strings
    decoded where the original held an object or an array."""
    rebuilt: dict[str, Any] = {}
    for column, raw in row.items():
        cell = raw
        path = column.split(separator)
        source: Any = original
        for part in path:
            assert isinstance(source, dict), f"column {column!r} goes below a leaf"
            assert part in source, f"column {column!r} is not in the record"
            source = source[part]
        if isinstance(source, dict | list):
            assert isinstance(cell, str), f"{column!r}: {cell!r} is not a JSON string"
            cell = loads_exact(cell)
        else:
            assert not isinstance(cell, dict | list), f"{column!r} is not flat"
        node = rebuilt
        for part in path[:-1]:
            node = node.setdefault(part, {})
        assert path[-1] not in node, f"two columns for {column!r}"
        node[path[-1]] = cell
    return rebuilt


@pytest.fixture(scope="module")
def target() -> Iterator[TargetIgnite]:
    """The real target (in-process) against a sandbox: its mapper, sinks and codecs."""
    with run_sandbox(spend_rows=10, seed=61, token=SECRET) as server:
        repository = server.admin.create_repository("Properties", [])
        yield TargetIgnite(
            config={"api_url": server.url, "api_token": SECRET, "repository_id": repository["id"]}
        )


_streams = itertools.count()


@PROPERTIES
@given(record=RECORDS)
def test_flattening_loses_nothing_and_leaves_nothing_nested(
    target: TargetIgnite, record: dict[str, Any]
) -> None:
    stream = f"s{next(_streams)}"
    target.mapper.register_raw_stream_schema(stream, schema_of(record), [])
    (stream_map,) = target.mapper.stream_maps[stream]
    sink = target.get_sink(stream, schema=stream_map.transformed_schema, key_properties=[])

    transformed = stream_map.transform(dict(record))
    assert transformed is not None  # no stream map filters records out here
    row = sink.preprocess_record(transformed, {})

    # Flat: every cell a scalar the Import API takes.
    for column, cell in row.items():
        assert cell is None or isinstance(cell, bool | int | Decimal | str), column
    # Nothing lost, nothing invented: the record can be rebuilt exactly from the row.
    assert exact(rebuild(row, record, "__")) == exact(record)
    # Columns go no deeper than flattening_max_depth (10) levels below the record.
    assert max(column.count("__") for column in row) <= 10
    # And the row survives the wire exactly, as JSON/NDJSON and as CSV.
    assert exact(loads_exact(NdjsonRows().encode(row))) == exact(row)
    csv = CsvRows(list(row))
    assert csv.encode(row).decode() == csv._line([csv_cell(row[c]) for c in row]).decode()


# -- dataType mapping (tap) --------------------------------------------------------------

DOCUMENTED = sorted(DATA_TYPE_SCHEMAS)
DATA_TYPES = st.one_of(
    st.sampled_from(DOCUMENTED), st.text(string.ascii_uppercase + "_", min_size=1, max_size=12)
)
OPERATORS = st.lists(st.sampled_from(["eq", "in", "gte", "lte", "between"]), unique=True)


@st.composite
def tables(draw: st.DrawFn) -> Table:
    names = draw(st.lists(KEYS, min_size=1, max_size=12, unique=True))
    if draw(st.booleans()):
        names = ["id", *[n for n in names if n != "id"]]
    labels = st.sampled_from(["Amount", "Date", "Name", "ID", "Amount (amount)", "Date #2"])
    columns = tuple(
        Column(name, draw(labels), draw(DATA_TYPES), tuple(draw(OPERATORS))) for name in names
    )
    return Table(id="t", name="T", columns=columns, order_by=(names[0],))


def api_value(data_type: str, draw: st.DrawFn) -> Any:
    """A value as the Export API sends it for this dataType (unknown ones: a string)."""
    strategies: dict[str, st.SearchStrategy[Any]] = {
        "STRING": st.text(max_size=8),
        "NUMBER": DECIMALS,
        "MONETARY_AMOUNT": DECIMALS,
        "BOOL": st.booleans(),
        "DATE": st.dates().map(lambda d: d.isoformat()),
        "TIMESTAMP": st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
        "STRING_ARRAY": st.lists(st.text(max_size=5), max_size=3),
    }
    return draw(strategies.get(data_type, st.text(max_size=8)))


@PROPERTIES
@given(table=tables(), key_by=st.sampled_from(["name", "label"]), data=st.data())
def test_every_column_maps_to_its_documented_type(table: Table, key_by: Any, data: Any) -> None:
    schema = table.json_schema(key_by)
    names = table.property_names(key_by)
    properties = schema["properties"]
    # One property per column, under a unique key.
    assert len(properties) == len(table.columns)
    assert sorted(properties) == sorted(names.values())
    if key_by == "label":
        keys = label_keys(table.columns)
        seen: set[str] = set()
        for column, key in zip(table.columns, keys, strict=True):
            # The first column with a label keeps it; later ones never take it.
            assert (key == column.label) == (column.label not in seen)
            seen.add(column.label)
    for column in table.columns:
        prop = properties[names[column.name]]
        documented = DATA_TYPE_SCHEMAS.get(column.data_type, {"type": "string"})
        nullable = column.name not in table.primary_keys
        expected_type = [documented["type"], "null"] if nullable else documented["type"]
        assert prop["type"] == expected_type, column
        assert {k: v for k, v in prop.items() if k != "type"} == {
            k: v for k, v in documented.items() if k != "type"
        }
    # A row as the API sends it validates; so does null in every non-key column.
    row = {names[c.name]: api_value(c.data_type, data.draw) for c in table.columns}
    jsonschema.validate(row, schema)
    nulls = {names[c.name]: None for c in table.columns if c.name not in table.primary_keys}
    jsonschema.validate({**row, **nulls}, schema)


# -- exact decimals (tap and target) -----------------------------------------------------


def _tap_record_line(number_text: str) -> bytes:
    """`number_text` as the API would send it, decoded and written by the tap's own code."""
    response = requests.Response()
    response._content = b'{"data": [{"id": "x", "amount": ' + number_text.encode() + b"}]}"
    response.status_code = 200
    (row,) = decoded_body(response)["data"]
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with contextlib.redirect_stdout(out):
        writer = IgniteMessageWriter()
        writer.write_message(RecordMessage(stream="spend", record=row))
        writer.flush()
    out.flush()
    buffer = out.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue()


@PROPERTIES
@given(value=DECIMALS)
def test_tap_writes_every_decimal_digit_for_digit(value: Decimal) -> None:
    text = str(value)  # what the API sends: a JSON number
    (line,) = _tap_record_line(text).splitlines()
    written = loads_exact(line)["record"]["amount"]
    assert exact(written) == exact(value)
    # use_singer_decimal: the same digits as a string.
    decoded = decoded_body(_response(text))["data"][0]["amount"]
    assert Decimal(decimal_string(decoded)).as_tuple() == Decimal(value).as_tuple()


def _response(number_text: str) -> requests.Response:
    response = requests.Response()
    response._content = b'{"data": [{"amount": ' + number_text.encode() + b"}]}"
    response.status_code = 200
    return response


@PROPERTIES
@given(value=DECIMALS)
def test_target_rows_keep_every_decimal_digit(value: Decimal) -> None:
    row = flat_row({"amount": value, "nested": {"lines": [{"amount": value}]}})
    for encoded in (NdjsonRows().encode(row),):
        back = loads_exact(encoded)
        assert exact(back["amount"]) == exact(value)
        assert exact(loads_exact(back["nested"])) == exact({"lines": [{"amount": value}]})
    (cell,) = CsvRows(["amount"]).encode({"amount": value}).decode().splitlines()
    assert Decimal(cell).as_tuple() == value.as_tuple()


@pytest.fixture(scope="module")
def exact_server() -> Iterator[RunningSandbox]:
    with run_sandbox(spend_rows=10, seed=62, token=SECRET) as server:
        yield server


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(values=st.lists(DECIMALS, min_size=60, max_size=120))
def test_decimals_arrive_in_ignite_digit_for_digit(
    exact_server: RunningSandbox, values: list[Decimal], tmp_path_factory: Any
) -> None:
    """End to end: the real target CLI into the sandbox, read back without floats."""
    repository = exact_server.admin.create_repository(f"Exact{next(_streams)}", [])
    schema = {"type": "object", "properties": {"Id": {"type": "integer"},
                                               "Amount": {"type": "number"}}}  # fmt: skip
    singer_input = schema_line(schema=schema) + b"".join(
        line({"type": "RECORD", "stream": "spend", "record": {"Id": i, "Amount": v}})
        for i, v in enumerate(values)
    )
    for import_format in ("json", "csv"):
        run = run_target(
            tmp_path_factory.mktemp("exact"),
            {"api_url": exact_server.url, "api_token": SECRET, "import_format": import_format,
             "repository_id": repository["id"]},
            singer_input,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-2000:]
    rows = exact_server.admin.repository_rows(repository["id"])
    json_rows, csv_rows = rows[: len(values)], rows[len(values) :]
    assert [exact(r["Amount"]) for r in json_rows] == [exact(v) for v in values]
    # CSV cells are text; the sandbox reads numbers out of them: same digits.
    assert [Decimal(str(r["Amount"])).as_tuple() for r in csv_rows] == [
        v.as_tuple() for v in values
    ]


# -- the target's STATE gate ---------------------------------------------------------------


@dataclass(eq=False)
class FakeSink:
    records_received: int = 0
    records_imported: int = 0


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.integers(0, 2)),
        st.tuples(st.just("state"), st.just(0)),
        st.tuples(st.just("import"), st.integers(0, 2), st.integers(1, 5)),
    ),
    max_size=80,
)


@PROPERTIES
@given(ops=OPS)
def test_state_goes_out_only_after_the_records_before_it_are_imported(
    ops: list[tuple[Any, ...]],
) -> None:
    sinks = [FakeSink(), FakeSink(), FakeSink()]
    gate = StateGate()
    received_at: dict[int, list[int]] = {}  # STATE n -> every sink's count when it came
    emitted: list[int] = []

    def check() -> None:
        state = gate.safe()
        if state is not None:
            assert all(
                s.records_imported >= n for s, n in zip(sinks, received_at[state], strict=True)
            )
            assert not emitted or state > emitted[-1]
            emitted.append(state)

    for op in ops:
        if op[0] == "record":
            sinks[op[1]].records_received += 1
        elif op[0] == "state":
            number = len(received_at)
            received_at[number] = [s.records_received for s in sinks]
            gate.arrived(number, sinks)
        else:
            sink = sinks[op[1]]
            sink.records_imported = min(sink.records_received, sink.records_imported + op[2])
        check()
    for sink in sinks:  # the end of the input: everything is imported
        sink.records_imported = sink.records_received
    check()
    if received_at:
        assert emitted[-1] == max(received_at)
