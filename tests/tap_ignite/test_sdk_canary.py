"""A singer-sdk upgrade that changes a private member tap-ignite relies on fails here, by name.

When `test_private_sdk_members_are_unchanged` fails after an upgrade: read each member it
names in the new singer-sdk, adapt tap-ignite (tap_ignite/sdk_private.py says what each is
used for), then refresh the fingerprints below with

    ./dev run python -m tests.sdk_canary tap_ignite.sdk_private

and paste the printed mapping over FINGERPRINTS.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import tap_ignite
from tap_ignite.sdk_private import PRIVATE_SDK_MEMBERS
from tap_ignite.streams import RowsStream

from tests.sdk_canary import changed, report

# singer-sdk 0.54.9
FINGERPRINTS = {
    "singer_sdk.streams.core:Stream._increment_stream_state": "cabc0edb2fd4f000",
    "singer_sdk.streams.core:Stream._generate_record_messages": "9b5f9fbcdedb7a1a",
    "singer_sdk.streams.core:Stream._sync_records": "8928dc7f50e9bf57",
    "singer_sdk.streams.core:Stream._write_starting_replication_value": "0a24e5d05cd5353c",
    "singer_sdk.streams.core:Stream._write_state_message": "f82ecd8d16986823",
    "singer_sdk.streams.core:Stream._finalize_state": "e08e1d0714a904b2",
    "singer_sdk.streams.core:Stream.sync": "6b4262dcdddf22b4",
    "singer_sdk.streams._state:StreamStateManager": "d305f609d60ac6bc",
    "singer_sdk.streams.rest:RESTStream._request": "be6df60d23d63d96",
    "singer_sdk.plugin_base:PluginBase._setup_signal_handlers": "eb4287001bdd7d19",
    "singer_sdk.helpers._batch:BatchConfig": "8554fc7fed4f40d3",
    "singer_sdk.helpers._batch:BaseBatchFileEncoding": "7bb7394bd4dd1a82",
    "singer_sdk.helpers._batch:StorageTarget": "5f84f1d9706b6f1f",
}

PLUGIN = "tap_ignite.sdk_private"
SOURCES = sorted(Path(tap_ignite.__file__).parent.glob("*.py"))


def test_private_sdk_members_are_unchanged() -> None:
    problems = changed(PRIVATE_SDK_MEMBERS, FINGERPRINTS)
    assert problems == [], report(problems, PLUGIN)


def test_the_canary_reports_a_changed_and_a_missing_member() -> None:
    member = "singer_sdk.streams.core:Stream._increment_stream_state"
    altered = {**FINGERPRINTS, member: "0000000000000000"}
    problems = changed(PRIVATE_SDK_MEMBERS, altered)
    assert problems == [f"{member}: source changed (0000000000000000 -> {FINGERPRINTS[member]})"]
    assert member in report(problems, PLUGIN)
    assert f"python -m tests.sdk_canary {PLUGIN}" in report(problems, PLUGIN)

    gone = "singer_sdk.streams.core:Stream._a_member_no_sdk_has"
    problems = changed([*PRIVATE_SDK_MEMBERS, gone], {**FINGERPRINTS, gone: "0123456789abcdef"})
    assert len(problems) == 1
    assert problems[0].startswith(f"{gone}: no longer exists in singer-sdk")

    dropped = dict(PRIVATE_SDK_MEMBERS)
    del dropped[member]
    assert changed(dropped, FINGERPRINTS) == [
        f"{member}: fingerprint recorded but the plugin no longer lists it"
    ]


def _sdk_private_names(cls: type) -> set[str]:
    """Private attribute names of the singer-sdk classes `cls` derives from: class members,
    and instance attributes their modules set or read (`self._x`)."""
    names: set[str] = set()
    for base in cls.__mro__:
        if not base.__module__.startswith("singer_sdk"):
            continue
        names.update(name for name in vars(base) if _is_private(name))
        module = inspect.getmodule(base)
        assert module is not None
        names.update(
            node.attr
            for node in ast.walk(ast.parse(inspect.getsource(module)))
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
            and _is_private(node.attr)
        )
    return names


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_uses(path: Path) -> set[str]:
    """`module:name` for imports from private singer_sdk modules; the bare name for each SDK
    private member a class derived from an SDK class overrides, or uses on `self`/`super()`."""
    module = importlib.import_module(f"tap_ignite.{path.stem}")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    uses: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _private_module(node.module or ""):
            uses.update(f"{node.module}:{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            uses.update(alias.name for alias in node.names if _private_module(alias.name))
        elif isinstance(node, ast.ClassDef):
            cls = getattr(module, node.name, None)
            if isinstance(cls, type):
                uses |= _class_uses(node, _sdk_private_names(cls))
    return uses


def _private_module(name: str) -> bool:
    return name.startswith("singer_sdk") and any(part.startswith("_") for part in name.split("."))


def _class_uses(class_node: ast.ClassDef, sdk_names: set[str]) -> set[str]:
    uses: set[str] = set()
    for node in ast.walk(class_node):
        if isinstance(node, ast.FunctionDef) and node.name in sdk_names:
            uses.add(node.name)
        elif isinstance(node, ast.Attribute) and node.attr in sdk_names:
            owner = node.value
            on_self = isinstance(owner, ast.Name) and owner.id == "self"
            on_super = (
                isinstance(owner, ast.Call)
                and isinstance(owner.func, ast.Name)
                and owner.func.id == "super"
            )
            if on_self or on_super:
                uses.add(node.attr)
    return uses


def _listed_names() -> set[str]:
    """What PRIVATE_SDK_MEMBERS covers: each key, each key's last name, and each name a
    reason quotes in backticks (instance attributes, listed under the member that sets them)."""
    listed = set(PRIVATE_SDK_MEMBERS)
    for member, reason in PRIVATE_SDK_MEMBERS.items():
        listed.add(member.rpartition(":")[2].rpartition(".")[2])
        listed.update(re.findall(r"`(_\w+)`", reason))
    return listed


def test_every_private_sdk_name_the_tap_uses_is_listed() -> None:
    listed = _listed_names()
    unlisted = {
        f"{path.name}: {use}"
        for path in SOURCES
        for use in _private_uses(path)
        if use not in listed
    }
    assert unlisted == set(), (
        "private singer-sdk names used but not listed in tap_ignite/sdk_private.py "
        f"(list each with why, or use a public hook): {sorted(unlisted)}"
    )


def test_the_scan_finds_private_uses() -> None:
    names = _sdk_private_names(RowsStream)
    assert {"_sync_records", "_stream_version", "_tap"} <= names  # members and attributes
    rows = next(path for path in SOURCES if path.name == "streams.py")
    assert {"_increment_stream_state", "_request"} <= _private_uses(rows)
    base = next(path for path in SOURCES if path.name == "table_stream.py")
    assert "_generate_record_messages" in _private_uses(base)
    snapshot = next(path for path in SOURCES if path.name == "snapshot_stream.py")
    assert "singer_sdk.helpers._batch:BatchConfig" in _private_uses(snapshot)
