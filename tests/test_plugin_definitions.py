"""The Meltano plugin definitions in hub/ are what the plugins' `--about` says, in Hub's format."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from meltano.core.plugin import PluginDefinition, PluginType

from scripts.plugin_definitions import PLUGINS, Plugin, about, expected

HUB_FIELDS = ["name", "namespace", "variant", "pip_url", "executable", "capabilities",
              "keywords", "settings"]  # fmt: skip
# The Ignite plugins cannot work without a token; the DuckDB loader needs no setting at all.
REQUIRED = {"tap-ignite": [["api_token"]], "target-ignite": [["api_token"]]}
SETTING_FIELDS = {"name", "kind", "label", "description"}


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_definition_file_is_generated_from_about(plugin: Plugin) -> None:
    committed = plugin.definition_path.read_text(encoding="utf-8")
    assert committed == expected(plugin), "run: uv run python -m scripts.plugin_definitions"


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_definition_has_hub_fields_and_meltano_reads_it(plugin: Plugin) -> None:
    definition: dict[str, Any] = yaml.safe_load(plugin.definition_path.read_text("utf-8"))
    for field in HUB_FIELDS:
        assert definition.get(field), field
    schema = about(plugin)["settings"]
    settings = {s["name"]: s for s in definition["settings"]}
    assert list(settings) == list(schema["properties"])
    for name, setting in settings.items():
        assert set(setting) >= SETTING_FIELDS, name
        assert setting["description"], name
        assert setting.get("sensitive", False) is bool(schema["properties"][name].get("secret"))
    if "api_token" in settings:
        assert settings["api_token"]["sensitive"] is True
    assert definition.get("settings_group_validation") == REQUIRED.get(plugin.name)
    # What `meltano add --from-ref` does with the file: Hub's extra fields go, the rest stays.
    parsed = PluginDefinition.parse(
        {"plugin_type": PluginType.from_cli_argument(plugin.plugin_type), **definition}
    )
    parsed.extras.clear()
    added: dict[str, Any] = parsed.canonical()  # type: ignore[assignment]
    assert added["name"] == plugin.name
    assert added["pip_url"] == plugin.name
    assert added["namespace"] == plugin.name.replace("-", "_")
    assert added.get("settings_group_validation") == REQUIRED.get(plugin.name)
    assert [s["name"] for s in added["settings"]] == list(settings)
