"""Record validation against the stream's JSON Schema, fast for the flat schemas taps send.

jsonschema's validator costs more per record than everything else the target does. Most
streams' schemas are flat lists of typed properties (`{"type": ["string", "null"]}`); for
those a record is checked with plain isinstance tests. A record that does not pass that
check, and every record of a schema using anything more (enums, patterns, nested items...),
goes to jsonschema itself, which decides and words the error - so the fast path can only
ever accept what jsonschema would accept.
"""

from __future__ import annotations

import decimal
import typing as t
from collections.abc import Callable

import jsonschema
from singer_sdk.sinks.core import BaseJSONSchemaValidator

from target_ignite.errors import BadRecord

# Keywords that do not constrain a value (format checks are off, as in the SDK's default).
_ANNOTATIONS = frozenset({"format", "description", "title", "default", "examples", "$comment"})
_TOP_LEVEL = _ANNOTATIONS | {"type", "properties", "required", "$schema", "additionalProperties"}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# The exact Python types a value of each JSON type usually has, as the reader decodes it: a
# first check by `type(value) in ...` that only ever accepts (so `bool` is no number here).
_EXACT_TYPES: dict[str, frozenset[type]] = {
    "string": frozenset({str}),
    "number": frozenset({int, float, decimal.Decimal}),
    "integer": frozenset({int}),
    "boolean": frozenset({bool}),
    "null": frozenset({type(None)}),
}

_TYPE_CHECKS: dict[str, Callable[[object], bool]] = {
    "string": lambda value: isinstance(value, str),
    "number": _is_number,
    "integer": _is_integer,
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}


class SchemaViolation(BadRecord):
    """A record that breaks its stream's schema."""


def _simple_property(subschema: object) -> tuple[Callable[[object], bool], ...] | None:
    """The type checks of a property that only says its type(s); None for anything more."""
    if not isinstance(subschema, dict) or not set(subschema) <= _ANNOTATIONS | {"type"}:
        return None
    types = subschema.get("type")
    if types is None:
        return ()  # no constraint at all
    names = [types] if isinstance(types, str) else types
    if not isinstance(names, list) or not all(n in _TYPE_CHECKS for n in names):
        return None
    return tuple(_TYPE_CHECKS[n] for n in names)


PropertyChecks = tuple[frozenset[type], tuple[Callable[[object], bool], ...]]


def _fast_plan(
    schema: dict[str, t.Any],
) -> tuple[dict[str, PropertyChecks], tuple[str, ...]] | None:
    """Per-property exact types and checks, and required names, if the schema is that simple."""
    if not set(schema) <= _TOP_LEVEL or schema.get("type", "object") not in ("object", ["object"]):
        return None
    if schema.get("additionalProperties", True) not in (True, {}):
        return None
    checks = {}
    for name, subschema in (schema.get("properties") or {}).items():
        property_checks = _simple_property(subschema)
        if property_checks is None:
            return None
        checks[name] = (_exact_types(subschema), property_checks)
    return checks, tuple(schema.get("required") or ())


def _exact_types(subschema: dict[str, t.Any]) -> frozenset[type]:
    types = subschema.get("type")
    names = [types] if isinstance(types, str) else types or []
    return frozenset().union(*(_EXACT_TYPES[name] for name in names))


class RecordValidator(BaseJSONSchemaValidator):
    """The SDK's validator hook: one-line errors naming the field, a fast path for flat schemas."""

    def __init__(self, schema: dict[str, t.Any]) -> None:
        super().__init__(schema)
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
        self.validator = validator_class(schema)
        self._plan = _fast_plan(schema)

    def _surely_valid(self, record: dict[str, t.Any]) -> bool:
        if self._plan is None:
            return False
        checks, required = self._plan
        for name in required:
            if name not in record:
                return False
        for name, value in record.items():
            plan = checks.get(name)
            if plan is None or type(value) in plan[0]:
                continue
            property_checks = plan[1]
            if property_checks and not any(check(value) for check in property_checks):
                return False
        return True

    def validate(self, record: dict[str, t.Any]) -> None:
        """Raise `SchemaViolation` naming the field and the reason."""
        if self._surely_valid(record):
            return
        error = jsonschema.exceptions.best_match(self.validator.iter_errors(record))
        if error is not None:
            field = ".".join(str(p) for p in error.absolute_path) or "(record)"
            message = error.message if len(error.message) <= 300 else error.message[:300] + "..."
            msg = f"record breaks its schema: field '{field}': {message}"
            raise SchemaViolation(msg)
