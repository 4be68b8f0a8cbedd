"""Running the Meltano project from Dagster: `meltano run` as a child process, its result read.

Meltano does the work (plugins, settings, state); Dagster only starts `meltano run` and reads
what it reports: its JSON log lines (the tap's `record_count` metrics, the state id it ran
under) and, afterwards, `meltano state get`. Nothing here reads Meltano's system database.
"""

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

# The repository root: meltano.yml is two folders up from orchestration/dagster.
DEFAULT_PROJECT_DIR = str(Path(__file__).resolve().parents[3])
PARENT_EXTRACTOR = "tap-ignite"


def table_extractors(project_dir: str | Path) -> dict[str, str]:
    """Table id -> the meltano.yml extractor that reads only that table.

    They are the extractors that inherit from tap-ignite and select one table
    (`tap-ignite--spend` with `select: [spend.*]`): meltano.yml's tables-in-parallel pattern.
    """
    project = yaml.safe_load((Path(project_dir) / "meltano.yml").read_text(encoding="utf-8"))
    tables = {}
    for plugin in project["plugins"].get("extractors", []):
        select = plugin.get("select") or []
        if plugin.get("inherit_from") == PARENT_EXTRACTOR and len(select) == 1:
            table = str(select[0]).removesuffix(".*")
            tables[table] = str(plugin["name"])
    return tables


@dataclass
class MeltanoRun:
    """What one `meltano run` reported."""

    state_id: str | None
    records: dict[str, int]  # stream -> records the extractor sent
    log_lines: list[dict[str, Any]]


class MeltanoProject(dg.ConfigurableResource):
    """A Meltano project on this machine, run with its own `meltano` executable."""

    project_dir: str = DEFAULT_PROJECT_DIR
    executable: str = "meltano"
    environment: str | None = None  # None: the project's default_environment
    env: dict[str, str] = {}

    def _argv(self, *args: str) -> list[str]:
        argv = [self.executable, "--log-format=json"]
        if self.environment:
            argv.append(f"--environment={self.environment}")
        return [*argv, *args]

    def _call(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._argv(*args),
            cwd=self.project_dir,
            env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def run(self, *blocks: str, timeout: float = 24 * 3600) -> MeltanoRun:
        """`meltano run BLOCKS`; a failure raises dg.Failure with Meltano's error lines."""
        completed = self._call("run", *blocks, timeout=timeout)
        lines = _json_lines(completed.stdout + completed.stderr)
        if completed.returncode != 0:
            errors = [line.get("event", "") for line in lines if line.get("level") == "error"]
            raise dg.Failure(
                description=f"meltano run {' '.join(blocks)} exited {completed.returncode}",
                metadata={"errors": "\n".join(str(e) for e in errors[-20:]) or "(none logged)"},
            )
        records: dict[str, int] = {}
        state_id = None
        for line in lines:
            state_id = line.get("job_name", state_id)
            metric = line.get("metric_info") or {}
            if line.get("producer") and metric.get("metric") == "record_count":
                stream = str(metric.get("tags", {}).get("stream"))
                records[stream] = records.get(stream, 0) + int(metric.get("value", 0))
        return MeltanoRun(state_id, records, lines)

    def state(self, state_id: str) -> dict[str, Any]:
        """The singer state Meltano keeps under `state_id` (`meltano state get`)."""
        completed = self._call("state", "get", state_id, timeout=600)
        if completed.returncode != 0:
            msg = f"meltano state get {state_id} exited {completed.returncode}"
            raise dg.Failure(description=msg)
        text = completed.stdout
        state: dict[str, Any] = json.loads(text[text.index("{") : text.rindex("}") + 1])
        return state


def _json_lines(output: str) -> list[dict[str, Any]]:
    """Meltano's JSON log lines (anything else a plugin printed is left out)."""
    lines = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return lines
