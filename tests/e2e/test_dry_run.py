"""`TARGET_IGNITE_DRY_RUN=true` through `meltano run`: a dry run, and Meltano keeps no state.

The same `meltano run tap-ignite--spend target-ignite` then runs for real, so the checks that
the dry run imported nothing and left no bookmark are checks that can fail.
"""

from __future__ import annotations

import json
import typing as t

import pytest

from tests.e2e.conftest import MeltanoProject, point_at

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from ignite_sandbox.launcher import RunningSandbox

pytestmark = pytest.mark.slow

SPEND_ROWS = 30
STATE_ID = "sandbox:tap-ignite--spend-to-target-ignite"


def test_target_ignite_dry_run_env_var_through_meltano_run(
    meltano_project: MeltanoProject, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    sandbox = sandbox_factory(spend_rows=SPEND_ROWS)
    point_at(meltano_project, sandbox)
    repository = sandbox.admin.create_repository("Spend from Ignite", [])
    march = sandbox.admin.create_delete_query(repository["id"], {"period": {"eq": "2026-03"}})
    plan_path = meltano_project.workdir / "plan.json"
    receipts_path = meltano_project.workdir / "receipts.jsonl"
    meltano_project.env.update(
        {
            "TARGET_IGNITE_REPOSITORY_ID": repository["id"],
            "TARGET_IGNITE_DELETE_QUERY_ID": march,
            "TARGET_IGNITE_BATCH_SIZE_ROWS": "10",
            "TARGET_IGNITE_RECEIPTS_PATH": str(receipts_path),
        }
    )
    dry_env = {
        "TARGET_IGNITE_DRY_RUN": "true",
        "TARGET_IGNITE_DRY_RUN_PLAN_PATH": str(plan_path),
    }

    output = MeltanoProject({**meltano_project.env, **dry_env}, meltano_project.workdir).run(
        "run", "tap-ignite--spend", "target-ignite"
    )

    assert "DRY RUN: nothing was sent to" in output
    assert [i for i in sandbox.admin.imports() if i["dataRepositoryId"] == repository["id"]] == []
    assert not receipts_path.exists()
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    (part,) = plan["repositories"]
    assert [i["rows"] for i in part["imports"]] == [10, 10, 10]
    assert [i["delete_query_id"] for i in part["imports"]] == [march, None, None]
    assert STATE_ID not in meltano_project.run("state", "list")

    meltano_project.run("run", "tap-ignite--spend", "target-ignite")

    imports = [i for i in sandbox.admin.imports() if i["dataRepositoryId"] == repository["id"]]
    assert [i["rows"] for i in imports] == [10, 10, 10]
    assert [i["deleteQueryId"] for i in imports] == [march, None, None]
    receipts = [json.loads(line) for line in receipts_path.read_text().splitlines()]
    assert [r["import_id"] for r in receipts] == [i["importId"] for i in imports]
    assert STATE_ID in meltano_project.run("state", "list")
