"""In-process checks of the pieces with many cases: number text, cells, the validator."""

from __future__ import annotations

import csv
import datetime
import io
import json
import logging
from decimal import Decimal

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from target_ignite.client import Repository
from target_ignite.columns import RowShape
from target_ignite.errors import BadRecord
from target_ignite.fields import FieldCheck
from target_ignite.rows import CsvRows, NdjsonRows, csv_cell, decimal_text, flat_row
from target_ignite.validation import RecordValidator, SchemaViolation


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("12345678901234567890.123456789", "12345678901234567890.123456789"),
        ("1.10", "1.10"),
        ("0.0000001", "0.0000001"),  # str() would say 1E-7
        ("-0.00", "-0.00"),
        ("1E+3", "1E+3"),  # a positive exponent is kept as sent: 1000 would invent digits
    ],
)
def test_decimal_text_keeps_digits_and_exponent(text, written):
    assert decimal_text(Decimal(text)) == written
    assert Decimal(written).as_tuple() == Decimal(text).as_tuple()


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_text_round_trips_every_finite_decimal(value):
    assert Decimal(decimal_text(value)).as_tuple() == value.as_tuple()


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_text_is_str_or_positional_as_before(value):
    # What decimal_text wrote before its shortcut for texts without an exponent.
    exponent = value.as_tuple().exponent
    assert decimal_text(value) == (str(value) if exponent > 0 else format(value, "f"))


def test_non_finite_numbers_stop_with_the_field_named():
    with pytest.raises(BadRecord, match="field 'Amount': nan is not a finite number"):
        flat_row({"Amount": float("nan")})
    with pytest.raises(BadRecord, match="field 'lines'"):
        flat_row({"lines": [{"amount": Decimal("Infinity")}]})


def test_cells_are_flat_and_exact():
    row = flat_row(
        {
            "posted": datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC),
            "day": datetime.date(2026, 3, 1),
            "lines": [{"amount": Decimal("0.0000001"), "note": "Ærø"}],
            "empty": {},
        }
    )
    # Arrays and objects: the one JSON text of every route, the SDK's (what its flattening
    # writes): non-ASCII escaped, a Decimal as str() writes it (same digits and exponent).
    assert row == {
        "posted": "2026-03-01T12:00:00Z",
        "day": "2026-03-01",
        "lines": '[{"amount":1E-7,"note":"\\u00c6r\\u00f8"}]',
        "empty": "{}",
    }
    assert json.loads(row["lines"], parse_float=Decimal) == [
        {"amount": Decimal("0.0000001"), "note": "Ærø"}
    ]
    assert NdjsonRows().encode({"a": Decimal("1.10"), "b": None}) == b'{"a":1.10,"b":null}\n'


def test_csv_rows_quote_what_needs_quoting():
    rows = CsvRows(["a", "b", "c", "d"])
    assert rows.header() == b"a,b,c,d\n"
    line = rows.encode({"a": 'say "hi", then\nleave', "b": True, "c": Decimal("0.0000001")})
    assert line == b'"say ""hi"", then\nleave",true,0.0000001,\n'


def _csv_writer_line(columns, row):
    """The row as csv.writer writes it with CsvRows's dialect: comma, double quotes, every cell
    with a CR or a LF quoted (csv.writer does so when its line end is "\r\n"; with "\n" it
    leaves a CR bare, which a reader takes for the end of the line), lines ended by "\n"."""
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=",", quotechar='"', doublequote=True, lineterminator="\r\n"
    )
    writer.writerow([csv_cell(row.get(column)) for column in columns])
    return buffer.getvalue()[:-2].encode("utf-8") + b"\n"


class Text(str):
    """A str subclass: written through csv_cell, quoted all the same."""


CSV_TEXT = st.text(alphabet=st.sampled_from(',"\n\r \t\x00aæ北€;\\')) | st.text()
# Every kind of scalar a record brings (finite numbers: NaN stops a load before encoding).
SCALARS = (
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False),
)
CSV_VALUES = st.one_of(*SCALARS, CSV_TEXT, CSV_TEXT.map(Text))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CSV_VALUES, min_size=1, max_size=6), st.booleans())
def test_csv_rows_write_the_bytes_csv_writer_writes(values, drop_last):
    columns = [f"c{i}" for i in range(len(values))]
    row = dict(zip(columns, values, strict=True))
    if drop_last:
        del row[columns[-1]]  # a column the row lacks is an empty cell
    assert CsvRows(columns).encode(row) == _csv_writer_line(columns, row)


@pytest.mark.parametrize(
    "row",
    [
        {"a": ""},  # a lone empty cell: csv.writer writes ""
        {"a": None},
        {"a": "carriage\rreturn"},
        {"a": 'comma, "quote"\r\n'},
        {"a": Text("a, b")},
        {"a": " spaces "},
    ],
)
def test_csv_rows_edge_cells_as_csv_writer_writes_them(row):
    for columns in (["a"], ["a", "b"]):
        assert CsvRows(columns).encode(row) == _csv_writer_line(columns, row)


SIMPLE_SCHEMA = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["string", "null"]},
        "amount": {"type": ["number", "null"], "description": "money"},
        "flag": {"type": "boolean"},
        "posted": {"type": "string", "format": "date-time"},
    },
}
VALUES = st.one_of(*SCALARS, st.text(max_size=5), st.lists(st.integers(), max_size=2))


REFERENCE = jsonschema.Draft7Validator(SIMPLE_SCHEMA)
FAST = RecordValidator(SIMPLE_SCHEMA)


class JsonschemaConsulted:
    """Stands in for a validator's jsonschema validator, counting the records it is asked about."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.asked = 0

    def iter_errors(self, record: object) -> object:
        self.asked += 1
        return self.real.iter_errors(record)  # type: ignore[attr-defined]


def consulting(validator: RecordValidator) -> JsonschemaConsulted:
    spy = JsonschemaConsulted(validator.validator)
    validator.validator = spy
    return spy


def test_a_flat_typed_schema_takes_the_fast_path():
    validator = RecordValidator(SIMPLE_SCHEMA)
    jsonschema_validator = consulting(validator)

    validator.validate({"id": 1, "name": None, "amount": Decimal("1.10"), "flag": True})

    assert jsonschema_validator.asked == 0
    with pytest.raises(SchemaViolation, match="field 'id'"):
        validator.validate({"id": "one"})
    assert jsonschema_validator.asked == 1  # only to say what is wrong


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["id", "name", "amount", "flag", "posted", "x"]), VALUES))
def test_the_fast_path_decides_exactly_as_jsonschema(record):
    reference, validator = REFERENCE, FAST
    if reference.is_valid(record):
        validator.validate(record)
    else:
        with pytest.raises(SchemaViolation, match="record breaks its schema: field '"):
            validator.validate(record)


def test_schemas_with_more_than_types_go_to_jsonschema():
    schema = {"properties": {"currency": {"type": "string", "enum": ["NOK", "EUR"]}}}
    validator = RecordValidator(schema)
    jsonschema_validator = consulting(validator)

    validator.validate({"currency": "NOK"})

    assert jsonschema_validator.asked == 1
    with pytest.raises(SchemaViolation, match="field 'currency': 'USD' is not one of"):
        validator.validate({"currency": "USD"})


SHAPE_SCHEMA = {
    "id": {"type": "integer"},
    "amount": {"type": ["string", "null"], "format": "x-singer.decimal"},
    "day": {"type": "string"},
    "n": {"type": "number"},
}


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.permutations(list(SHAPE_SCHEMA)),
    st.lists(st.booleans(), min_size=4, max_size=4),
    st.dictionaries(st.sampled_from(["extra", "more"]), st.none() | st.text(max_size=3)),
)
def test_a_row_has_every_column_in_schema_order_then_the_extras_with_a_value(
    order, present, extras
):
    values = {"id": 7, "amount": "1.10", "day": datetime.date(2026, 3, 1), "n": Decimal("0.5")}
    record = {key: values[key] for key, keep in zip(order, present, strict=True) if keep}
    record.update(extras)
    fields = FieldCheck(
        "s", Repository("r", "R", ()), "warn", list(SHAPE_SCHEMA), logging.getLogger()
    )
    shape = RowShape(SHAPE_SCHEMA, fields)

    row = shape.row(record)

    sent = [key for key, value in extras.items() if value is not None]
    assert list(row) == [*SHAPE_SCHEMA, *sent]
    cells = {"id": 7, "amount": Decimal("1.10"), "day": "2026-03-01", "n": Decimal("0.5")}
    for column in SHAPE_SCHEMA:
        assert row[column] == (cells[column] if column in record else None)
    if "amount" in record:  # an x-singer.decimal string: the number, its digits kept
        assert str(row["amount"]) == "1.10"
    assert shape.extras == sent
