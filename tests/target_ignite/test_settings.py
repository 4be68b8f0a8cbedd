"""Settings are read once, typed, with their defaults from the schema and nowhere else."""

from __future__ import annotations

import re
from pathlib import Path

import target_ignite
from target_ignite.settings import CONFIG_SCHEMA, Settings

PACKAGE = Path(target_ignite.__file__).parent
RAW_READ = re.compile(r"config(\[|\.get\()")


def test_an_unset_setting_is_its_schema_default():
    defaults = {
        name: prop["default"]
        for name, prop in CONFIG_SCHEMA["properties"].items()
        if "default" in prop
    }

    settings = Settings.from_config({**defaults, "api_token": "t0k3n"})

    for name, default in defaults.items():
        if hasattr(settings, name):
            assert getattr(settings, name) == default, name
    assert settings.repository_id is None
    assert settings.stream_repositories == {}
    assert settings.delete_query_id is None


def test_only_settings_py_reads_the_raw_config():
    readers = [
        f"{path.name}:{number}"
        for path in sorted(PACKAGE.glob("*.py"))
        if path.name != "settings.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if RAW_READ.search(line)
    ]

    assert readers == []
