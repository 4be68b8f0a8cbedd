"""The tap's shape, kept: sibling streams over one base, and settings read in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import tap_ignite
from ignite_sandbox.launcher import RunningSandbox
from tap_ignite.legacy import DataTableStream
from tap_ignite.settings import CONFIG_SCHEMA, TapSettings
from tap_ignite.snapshot_stream import SnapshotTableStream
from tap_ignite.streams import RowsStream
from tap_ignite.table_stream import IgniteTableStream
from tap_ignite.tap import TapIgnite

from tests.tap_ignite.helpers import tap_config

PACKAGE = Path(tap_ignite.__file__).parent
SIBLINGS = (RowsStream, SnapshotTableStream, DataTableStream)


def test_table_streams_are_siblings_over_one_base() -> None:
    for stream in SIBLINGS:
        assert issubclass(stream, IgniteTableStream)
        others = [other for other in SIBLINGS if other is not stream]
        assert not any(issubclass(stream, other) for other in others), stream
    # Paging with prefetch and per-page bookmarks belong to the rows stream alone.
    assert "request_records" in vars(RowsStream)
    assert "page_written" in vars(RowsStream)
    assert not hasattr(SnapshotTableStream, "page_written")
    assert not hasattr(DataTableStream, "page_written")


def test_settings_are_read_only_through_tap_settings() -> None:
    """No module reads a setting with a default of its own: the schema holds the defaults,
    TapSettings.from_config reads the config once."""
    offenders = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and isinstance(node.func.value, ast.Attribute | ast.Name)
                and getattr(node.func.value, "attr", getattr(node.func.value, "id", "")) == "config"
                and len(node.args) > 1
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_every_setting_with_a_default_has_it_in_tap_settings(sandbox: RunningSandbox) -> None:
    config = tap_config(sandbox)
    tap = TapIgnite(config=dict(config))
    settings = tap.settings
    assert isinstance(settings, TapSettings)
    assert tap.settings is settings  # built once
    defaulted = {
        name: prop["default"]
        for name, prop in CONFIG_SCHEMA["properties"].items()
        if "default" in prop and name not in config
    }
    assert len(defaulted) > 10
    for name, default in defaulted.items():
        value = getattr(settings, name)
        assert (list(value) if isinstance(value, tuple) else value) == default, name
    assert settings.max_page_token_restarts == 5
    assert settings.max_url_refreshes == 6
    assert settings.max_retries == 5
