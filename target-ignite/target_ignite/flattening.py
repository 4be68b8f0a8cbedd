"""Nested records into columns: the SDK's flattening, without losing a value silently.

target-ignite flattens as the SDK does (`parent__child` columns, arrays and objects deeper
than `flattening_max_depth` as JSON text), with two differences, each a value the SDK's
version would lose without a word:
- column names are never shortened: the SDK shortens names of 255 characters or more
  (`flattening_max_key_length`), so two long keys could become one column;
- two source keys that become one column (`{"a__b": 1, "a": {"b": 2}}`, in either order)
  stop the load with a line naming both keys and the column, where the SDK keeps whichever
  value came last. For keys the schema declares, the SDK finds the clash when the SCHEMA
  arrives; `named_collisions` words its error. For keys only records have, `flatten_record`
  finds it.
The SDK has no hook for record flattening: `install` puts `flatten_record` in place of a
stream map's own `flatten_record` method (the one its `transform` calls), and `LosslessMapper`,
the target's mapper, does that to every stream map it makes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import typing as t
from collections.abc import Iterator, MutableMapping, Sequence

# singer-sdk is pinned <0.55: `_should_jsondump_value` is the SDK's own rule for which
# values become JSON text; using it keeps the rows the same as the SDK's flattening gives.
from singer_sdk.helpers._flattening import _should_jsondump_value
from singer_sdk.mapper import PluginMapper

from target_ignite.errors import BadRecord
from target_ignite.rows import json_text

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from singer_sdk.helpers._flattening import FlatteningOptions
    from singer_sdk.mapper import StreamMap

# What the SDK says when a schema flattens two properties into one column.
_SDK_DUPLICATE = "Duplicate column name produced in schema: "

Path = tuple[str, ...]


class ColumnCollision(BadRecord):
    """Two source keys that flattening makes into one column."""


def never_shorten(mapper: PluginMapper) -> None:
    """Column names as long as their keys make them (before any stream is registered)."""
    options = mapper.flattening_options
    if options is not None:
        mapper.flattening_options = dataclasses.replace(options, max_key_length=sys.maxsize)


def _shown(path: Path) -> str:
    return " > ".join(f"'{key}'" for key in path)


def collision(first: Path, second: Path, column: str) -> ColumnCollision:
    """The error for two source keys that become one column."""
    msg = (
        f"source keys {_shown(first)} and {_shown(second)} both become column '{column}' "
        "after flattening; rename one of them with stream_maps (or set flattening_enabled "
        "false)"
    )
    return ColumnCollision(msg)


def flatten_record(
    record: MutableMapping[str, t.Any],
    flattened_schema: dict[str, t.Any],
    options: FlatteningOptions,
) -> dict[str, t.Any]:
    """The SDK's `flatten_record`, names never shortened, a collision an error."""
    properties = flattened_schema.get("properties", {})
    separator, max_level = options.separator, options.max_level
    row: dict[str, t.Any] = {}
    sources: dict[str, Path] = {}

    def walk(node: MutableMapping[str, t.Any], parents: Path, level: int) -> None:
        for key, value in node.items():
            path = (*parents, key)
            column = separator.join(path)
            if (
                isinstance(value, MutableMapping)
                and flattened_schema
                and column not in properties
                and level < max_level
            ):
                walk(value, path, level + 1)
                continue
            if column in row:
                raise collision(sources[column], path, column)
            sources[column] = path
            row[column] = (
                json_text(value, column)
                if _should_jsondump_value(key, value, flattened_schema)
                else value
            )

    walk(record, (), 0)
    return row


def install(stream_map: StreamMap) -> None:
    """Make `stream_map` flatten records with `flatten_record` (see the module's docstring)."""
    options = stream_map.flattening_options
    if options is None or not stream_map.flattening_enabled:
        return

    def flatten(record: dict) -> dict:
        return flatten_record(record, stream_map.transformed_schema, options)

    stream_map.flatten_record = flatten  # type: ignore[method-assign]


def schema_sources(schema: dict[str, t.Any], options: FlatteningOptions) -> dict[str, list[Path]]:
    """Each column the SDK's `flatten_schema` makes of `schema`, with the properties behind
    it (more than one where two clash)."""
    columns: dict[str, list[Path]] = {}

    def walk(node: dict[str, t.Any], parents: Path, level: int) -> None:
        for name, subschema in (node.get("properties") or {}).items():
            path = (*parents, name)
            types = subschema.get("type", ()) if isinstance(subschema, dict) else ()
            if "object" in types and "properties" in subschema and level < options.max_level:
                walk(subschema, path, level + 1)
            else:
                columns.setdefault(options.separator.join(path), []).append(path)

    walk(schema, (), 0)
    return columns


@contextlib.contextmanager
def named_collisions(schema: dict[str, t.Any], options: FlatteningOptions | None) -> Iterator[None]:
    """Word the SDK's error for a schema whose properties clash after flattening."""
    try:
        yield
    except ValueError as exc:
        text = str(exc)
        if options is None or not text.startswith(_SDK_DUPLICATE):
            raise
        column = text.removeprefix(_SDK_DUPLICATE)
        paths = schema_sources(schema, options).get(column, [])
        if len(paths) >= 2:
            raise collision(paths[0], paths[1], column) from None
        msg = (
            f"two properties become column '{column}' after stream maps and flattening; "
            "rename one of them with stream_maps"
        )
        raise ColumnCollision(msg) from None


class LosslessMapper(PluginMapper):
    """The SDK's stream maps, flattening as this module says: column names never shortened,
    two keys that become one column an error (for a SCHEMA's properties, and for records').

    It also remembers the newest stream map of each output stream, where a sink of that
    stream finds the map its BATCH files' records go through.
    """

    def __init__(self, plugin_config: dict[str, t.Any], logger: logging.Logger) -> None:
        super().__init__(plugin_config=plugin_config, logger=logger)
        never_shorten(self)
        self.newest: dict[str, StreamMap] = {}

    @override
    def register_raw_stream_schema(
        self, stream_name: str, schema: dict, key_properties: Sequence[str] | None
    ) -> None:
        with named_collisions(schema if isinstance(schema, dict) else {}, self.flattening_options):
            super().register_raw_stream_schema(stream_name, schema, key_properties)
        for stream_map in self.stream_maps.get(stream_name, []):
            install(stream_map)
            self.newest[stream_map.stream_alias] = stream_map
