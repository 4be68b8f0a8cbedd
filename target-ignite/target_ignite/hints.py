"""What an error tells a user to do: the environment variable that sets a setting, and what to
check when the API cannot be reached. Meltano and the SDK's `--config=ENV` both read a setting
from `<PLUGIN NAME>_<SETTING>` (TARGET_IGNITE_API_TOKEN), so that is the name errors give.
"""

from __future__ import annotations

import re

from singer_sdk.exceptions import ConfigValidationError

from target_ignite.http_rules import url_without_credentials

PLUGIN_NAME = "target-ignite"
# How the SDK's JSON Schema validation words a missing setting.
_REQUIRED = re.compile(r"^'(?P<setting>[A-Za-z0-9_]+)' is a required property$")


def env_var(setting: str) -> str:
    """The environment variable that sets `setting`, e.g. TARGET_IGNITE_API_TOKEN."""
    return f"{PLUGIN_NAME}_{setting}".upper().replace("-", "_")


def with_env_hints(exc: ConfigValidationError) -> ConfigValidationError:
    """The same errors, each missing setting named with the variable that sets it."""
    errors = [_hint(error) for error in exc.errors or [str(exc)]]
    return ConfigValidationError(errors[0], errors=errors, schema=exc.schema)


def _hint(error: str) -> str:
    match = _REQUIRED.match(error)
    if match is None:
        return error
    setting = match["setting"]
    return (
        f"{setting} is not set: set the {env_var(setting)} environment variable (Meltano "
        f"and `{PLUGIN_NAME} --config=ENV` read it) or `{setting}` in the config"
    )


def unreachable(api_url: str, detail: str) -> str:
    """One line: the URL tried, the setting that holds it, what to check, then the raw text."""
    shown = url_without_credentials(api_url)
    return (
        f"Could not reach the Ignite API at {shown}: check the api_url setting "
        f"({env_var('api_url')}), that the server is up and that this machine can reach it "
        f"(network, proxy, firewall). {detail.replace(api_url, shown)}"
    )
