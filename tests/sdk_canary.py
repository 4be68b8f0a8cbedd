"""Fingerprints of the private singer-sdk members a plugin still relies on.

Each plugin lists, in its own ``sdk_private`` module, every private singer-sdk member it overrides
or calls, and why (``PRIVATE_SDK_MEMBERS``: ``"module:Qualified.name" -> reason``). Its canary test
compares the source of each member in the installed singer-sdk with the fingerprints recorded in
the test. Any upgrade that changes one of them fails the test with the list of what changed, so
lifting the ``singer-sdk<0.55`` pin is a deliberate act: read the changed members, adjust the
plugin, then refresh the fingerprints with

    ./dev run python -m tests.sdk_canary tap_ignite.sdk_private
    ./dev run python -m tests.sdk_canary target_ignite.sdk_private

and paste the printed mapping over the test's ``FINGERPRINTS``.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import sys
from collections.abc import Iterable, Mapping
from importlib.metadata import version
from typing import Any


def resolve(member: str) -> Any:
    """The object named ``"package.module:Qualified.name"``."""
    module_name, _, qualname = member.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split(".") if qualname else ():
        obj = getattr(obj, part)
    return obj


def fingerprint(member: str) -> str:
    """A short hash of the member's source (whole module when no name is given).

    Constants have no source of their own: their ``repr`` is hashed instead.
    """
    obj = resolve(member)
    try:
        text = inspect.getsource(obj)
    except TypeError:
        text = repr(obj)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def changed(members: Iterable[str], fingerprints: Mapping[str, str]) -> list[str]:
    """One line per member whose source differs from its fingerprint, is gone, or is unrecorded."""
    problems = []
    members = list(members)
    for member in members:
        expected = fingerprints.get(member)
        try:
            actual = fingerprint(member)
        except (ImportError, AttributeError) as exc:
            problems.append(f"{member}: no longer exists in singer-sdk ({exc})")
            continue
        if expected is None:
            problems.append(f"{member}: used but has no recorded fingerprint")
        elif expected != actual:
            problems.append(f"{member}: source changed ({expected} -> {actual})")
    problems.extend(
        f"{member}: fingerprint recorded but the plugin no longer lists it"
        for member in fingerprints
        if member not in members
    )
    return problems


def report(problems: list[str], plugin_module: str) -> str:
    """The canary test's failure message."""
    return (
        f"singer-sdk {version('singer-sdk')} changed private members that "
        f"{plugin_module} relies on:\n  "
        + "\n  ".join(problems)
        + "\nRead each change, adapt the plugin, then refresh the fingerprints with\n"
        f"  ./dev run python -m tests.sdk_canary {plugin_module}"
    )


def main(argv: list[str]) -> int:
    """Print fresh fingerprints for a plugin's ``PRIVATE_SDK_MEMBERS``."""
    if len(argv) != 1:
        print("usage: python -m tests.sdk_canary <plugin>.sdk_private", file=sys.stderr)
        return 2
    members = importlib.import_module(argv[0]).PRIVATE_SDK_MEMBERS
    print(f"# singer-sdk {version('singer-sdk')}")
    print("FINGERPRINTS = {")
    for member in members:
        print(f'    "{member}": "{fingerprint(member)}",')
    print("}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
