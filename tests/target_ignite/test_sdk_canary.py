"""Upgrading singer-sdk is a visible event: every private member target-ignite relies on is
listed in target_ignite/sdk_private.py and fingerprinted here.

When a singer-sdk upgrade fails `test_private_sdk_members_are_as_fingerprinted`, read what
changed in each member it names, adapt target-ignite, then refresh the fingerprints with

    ./dev run python -m tests.sdk_canary target_ignite.sdk_private

and paste the printed mapping over FINGERPRINTS below.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import target_ignite
from target_ignite.sdk_private import PRIVATE_SDK_MEMBERS

from tests.sdk_canary import changed, report

PLUGIN = "target_ignite.sdk_private"
PACKAGE = Path(target_ignite.__file__).parent

# singer-sdk 0.54.9
FINGERPRINTS = {
    "singer_sdk.target_base:Target._process_record_message": "08aaf4096e2d39e7",
    "singer_sdk.target_base:Target._process_state_message": "e27158e2b1e7ea6d",
    "singer_sdk.target_base:Target._handle_max_record_age": "5762750ab1035404",
    "singer_sdk.target_base:Target._drain_all": "8160903b09186596",
    "singer_sdk.target_base:Target._process_activate_version_message": "377950028ca9b3eb",
    "singer_sdk.target_base:Target._write_state_message": "bf40aa5e36ebef4d",
    "singer_sdk.plugin_base:PluginBase._setup_signal_handlers": "eb4287001bdd7d19",
    "singer_sdk.sinks.batch:BatchSink._get_context": "4e0d39040097dc9b",
    "singer_sdk.sinks.core:Sink._add_sdc_metadata_to_record": "0ac381cf306bfc0c",
    "singer_sdk.sinks.core:Sink._remove_sdc_metadata_from_record": "7cd9e5fb192f13ec",
    "singer_sdk.sinks.core:Sink._validate_and_parse": "970aadabcc4da8c7",
    "singer_sdk.sinks.core:Sink._singer_validate_message": "018b08ee7f624f61",
    "singer_sdk.sinks.core:Sink._after_process_record": "185b5536ec21f7fb",
    "singer_sdk.sinks.core:Sink._parse_timestamps_in_record": "b99dc17613b2e3ac",
    "singer_sdk.helpers._flattening:_should_jsondump_value": "1cd86928bd9cfc5e",
    "singer_sdk.helpers._flattening:_flatten_record": "196c4520510064d4",
    "singer_sdk.helpers._flattening:_flatten_schema": "cf405ec91800416b",
    "singer_sdk.helpers._flattening:flatten_key": "365d86c3d6709af3",
    "singer_sdk.helpers._flattening:FlatteningOptions": "29e7221fbede5669",
    "singer_sdk.helpers._typing:get_datelike_property_type": "667ded2b71a004ab",
    "singer_sdk.helpers._batch:BaseBatchFileEncoding": "7bb7394bd4dd1a82",
    "singer_sdk.helpers._batch:BatchFileFormat": "4fb6df1c49c8295e",
    "singer_sdk.helpers._batch:StorageTarget": "5f84f1d9706b6f1f",
    "singer_sdk.singerlib.encoding.base:GenericSingerReader.process_lines": "f6d848854616d1d8",
    "singer_sdk.plugin_base:PluginBase.setup_mapper": "18669d0d28bd587f",
}


def test_private_sdk_members_are_as_fingerprinted():
    problems = changed(PRIVATE_SDK_MEMBERS, FINGERPRINTS)

    assert problems == [], report(problems, PLUGIN)


def test_the_canary_names_a_changed_member_and_a_vanished_one():
    altered = dict(FINGERPRINTS)
    altered["singer_sdk.target_base:Target._drain_all"] = "0000000000000000"
    members = [*PRIVATE_SDK_MEMBERS, "singer_sdk.target_base:Target._drain_everything"]

    problems = changed(members, altered)

    assert problems == [
        "singer_sdk.target_base:Target._drain_all: source changed "
        "(0000000000000000 -> 8160903b09186596)",
        "singer_sdk.target_base:Target._drain_everything: no longer exists in singer-sdk "
        "(type object 'Target' has no attribute '_drain_everything')",
    ]
    message = report(problems, PLUGIN)
    assert "_drain_all: source changed" in message
    assert "./dev run python -m tests.sdk_canary target_ignite.sdk_private" in message


def _is_private(dotted: str) -> bool:
    return any(part.startswith("_") for part in dotted.split("."))


def _sdk_member(cls: type, name: str) -> str | None:
    """`module:Class.name` of the singer-sdk base class of `cls` that defines `name`."""
    for base in cls.__mro__[1:]:
        if base.__module__.startswith("singer_sdk") and name in vars(base):
            return f"{base.__module__}:{base.__qualname__}.{name}"
    return None


def _private_uses(path: Path) -> dict[str, str]:
    """Private singer-sdk members one module of target_ignite uses -> where."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = importlib.import_module(f"target_ignite.{path.stem}")
    uses: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("singer_sdk"):
            for alias in node.names:
                if _is_private(f"{node.module}.{alias.name}"):
                    uses[f"{node.module}:{alias.name}"] = f"{path.name}:{node.lineno} import"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("singer_sdk") and _is_private(alias.name):
                    uses[f"{alias.name}:"] = f"{path.name}:{node.lineno} import"
    for class_node in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        cls = getattr(module, class_node.name)
        for item in class_node.body:
            if isinstance(item, ast.FunctionDef) and item.name.startswith("_"):
                member = _sdk_member(cls, item.name)
                if member and not item.name.startswith("__"):
                    uses[member] = f"{path.name}:{item.lineno} override"
        for node in ast.walk(class_node):
            if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
                continue
            if node.attr.startswith("__"):
                continue
            target = node.value
            is_super = (
                isinstance(target, ast.Call)
                and isinstance(target.func, ast.Name)
                and target.func.id == "super"
            )
            is_self = isinstance(target, ast.Name) and target.id in {"self", "cls"}
            if is_super or is_self:
                member = _sdk_member(cls, node.attr)
                if member:
                    uses[member] = f"{path.name}:{node.lineno} {'super()' if is_super else 'self'}"
                elif is_super:
                    uses[f"super().{node.attr}"] = f"{path.name}:{node.lineno} (not in the SDK?)"
    return uses


def test_every_private_sdk_member_in_use_is_listed_with_a_reason():
    uses: dict[str, str] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        uses.update(_private_uses(path))

    unlisted = {m: where for m, where in uses.items() if m not in PRIVATE_SDK_MEMBERS}

    assert unlisted == {}, "list these in target_ignite/sdk_private.py, saying why"
    assert uses, "the scan found nothing: it no longer sees what it should"
    assert all(reason.strip() for reason in PRIVATE_SDK_MEMBERS.values())
