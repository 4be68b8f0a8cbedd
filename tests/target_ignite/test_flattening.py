"""Flattening: the SDK's columns, names never shortened, a collision an error on every path."""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from singer_sdk.helpers._flattening import FlatteningOptions
from singer_sdk.helpers._flattening import flatten_record as sdk_flatten_record
from singer_sdk.mapper import SameRecordTransform
from target_ignite.flattening import ColumnCollision, flatten_record, install

from tests.target_ignite.helpers import Num, batch_messages, config_for, rows_exact, run_target

UNLIMITED = FlatteningOptions(enabled=True, max_level=3, max_key_length=sys.maxsize)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "a": {"type": ["object", "null"], "properties": {"b": {"type": "string"}}},
        "a__c": {"type": "string"},
        "deep": {
            "type": "object",
            "properties": {"x": {"type": "object", "properties": {"y": {"type": "string"}}}},
        },
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
KEYS = st.sampled_from(["id", "a", "b", "c", "a__b", "a__c", "deep", "x", "y", "tags", "k" * 300])
VALUES = st.recursive(
    st.none() | st.integers() | st.text(max_size=3) | st.lists(st.text(max_size=2), max_size=2),
    lambda children: st.dictionaries(KEYS, children, max_size=3),
    max_leaves=6,
)


def _leaves(record: dict) -> int:
    """How many columns the SDK's walk writes (before a later one overwrites an earlier one)."""
    stream_map = SameRecordTransform("s", SCHEMA, None, UNLIMITED)
    properties = stream_map.transformed_schema["properties"]

    def count(node: dict, parents: tuple[str, ...], depth: int) -> int:
        total = 0
        for key, value in node.items():
            column = "__".join((*parents, key))
            if isinstance(value, dict) and column not in properties and depth < UNLIMITED.max_level:
                total += count(value, (*parents, key), depth + 1)
            else:
                total += 1
        return total

    return count(record, (), 0)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, max_size=5))
def test_flatten_record_is_the_sdks_or_names_the_collision(record):
    flattened_schema = SameRecordTransform("s", SCHEMA, None, UNLIMITED).transformed_schema
    sdk = sdk_flatten_record(
        copy.deepcopy(record),
        flattened_schema,
        max_level=UNLIMITED.max_level,
        max_key_length=sys.maxsize,
    )
    if len(sdk) == _leaves(record):
        assert flatten_record(copy.deepcopy(record), flattened_schema, UNLIMITED) == sdk
    else:  # the SDK wrote one column twice and kept the last value
        with pytest.raises(ColumnCollision, match="both become column"):
            flatten_record(copy.deepcopy(record), flattened_schema, UNLIMITED)


def test_installed_flattening_names_both_keys_and_keeps_long_names():
    stream_map = SameRecordTransform("s", SCHEMA, None, UNLIMITED)
    install(stream_map)
    long_key = "k" * 300

    assert stream_map.transform({"id": 1, long_key: {"v": 1}, "a": None}) == {
        "id": 1,
        f"{long_key}__v": 1,
        "a": None,
    }
    with pytest.raises(ColumnCollision) as caught:
        stream_map.transform({"a": {"c": "nested"}, "a__c": "flat"})
    assert str(caught.value) == (
        "source keys 'a' > 'c' and 'a__c' both become column 'a__c' after flattening; rename "
        "one of them with stream_maps (or set flattening_enabled false)"
    )


SPEND_SCHEMA = {
    "type": "SCHEMA",
    "stream": "spend",
    "key_properties": ["id"],
    "schema": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "a": {"type": "object", "properties": {"b": {"type": "string"}}},
            "x": {"type": ["string", "null"]},
        },
    },
}


def _lines(*messages: dict[str, Any]) -> str:
    return "".join(json.dumps(message) + "\n" for message in messages)


def test_a_collision_is_found_on_the_stream_map_path_too(ignite, new_repository, tmp_path):
    # A stream map sends records the SDK's way (not the fast path): same check, same line.
    repository = new_repository(["id", "a__b", "x", "source"])
    config = config_for(
        ignite,
        repository_id=repository["id"],
        unknown_fields="error",
        stream_maps={"spend": {"source": "'erp'"}},
    )
    record = {"id": 1, "a": {"b": "nested"}, "a__b": "flat", "x": None}

    run = run_target(
        config,
        _lines(SPEND_SCHEMA, {"type": "RECORD", "stream": "spend", "record": record}),
        tmp_path,
    )

    assert run.returncode == 1
    (line,) = run.error_lines
    assert "line 2 (stream 'spend'): source keys 'a' > 'b' and 'a__b' both become column" in line
    assert rows_exact(ignite, repository["id"]) == []


def test_a_stream_map_that_makes_a_clashing_column_is_named(ignite, new_repository, tmp_path):
    repository = new_repository(["id", "a__b", "x"])
    config = config_for(
        ignite, repository_id=repository["id"], stream_maps={"spend": {"a__b": "x", "x": None}}
    )

    run = run_target(config, _lines(SPEND_SCHEMA), tmp_path)

    assert run.returncode == 1
    (line,) = run.error_lines
    assert (
        "line 1 (stream 'spend'): two properties become column 'a__b' after stream maps and "
        "flattening; rename one of them with stream_maps"
    ) in line


def test_batch_records_go_through_the_stream_maps(ignite, new_repository, tmp_path):
    # A BATCH file's records take the RECORD route, stream maps included.
    repository = new_repository(["id", "Supplier", "x"])
    config = config_for(
        ignite,
        repository_id=repository["id"],
        unknown_fields="error",
        stream_maps={"spend": {"Supplier": "a['b']", "a": None}},
    )
    source = tmp_path / "spend.singer"
    records = [
        {"type": "RECORD", "stream": "spend", "record": {"id": i, "a": {"b": f"s{i}"}, "x": "y"}}
        for i in (1, 2)
    ]
    source.write_text(_lines(SPEND_SCHEMA, *records), encoding="utf-8")

    run = run_target(config, batch_messages(source, tmp_path / "files"), tmp_path)

    assert run.returncode == 0, run.stderr
    assert rows_exact(ignite, repository["id"]) == [
        {"id": Num("1"), "Supplier": "s1", "x": "y"},
        {"id": Num("2"), "Supplier": "s2", "x": "y"},
    ]


def test_flattening_max_key_length_is_refused(ignite, tmp_path):
    run = run_target(config_for(ignite, flattening_max_key_length=255), "", tmp_path)

    assert run.returncode == 1
    assert any(
        "flattening_max_key_length is not a target-ignite setting" in line
        for line in run.error_lines
    )
