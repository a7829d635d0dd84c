"""The runner's hook for `--target azureml`: after the notebooks ran here, sign in, run the
pre-flight, deploy stage 3 and read it back; the read-back joins the stage's evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

READBACK_FILE = "azureml-readback.json"  # in the stage's evidence/ folder, merged like a notebook's


def _design_iac(project: Any, stages_out: dict[str, dict[str, Any]]) -> str | None:
    from ..deliverables import latest_evidence

    design = stages_out.get("design")
    ev = (design or {}).get("evidence") if design and design["status"] == "succeeded" else \
        latest_evidence(project.events()).get("design")
    return ((ev or {}).get("artifacts") or {}).get("iac")


def _fail(outcome: dict[str, Any], message: str) -> None:
    outcome["status"] = "failed"
    outcome["error"] = message


def after_local_stages(project: Any, run_dir: Path, run_id: str, stages_out: dict[str, dict[str, Any]]) -> None:
    from ..catalogue import stage_folder
    from ..evidence import merge_stage_evidence
    from . import connection
    from .preflight import as_dicts, run_preflight, save_findings
    from .stage3 import deploy_and_read_back

    outcome = stages_out.get("deploy")
    if outcome is None or outcome["status"] != "succeeded":
        return  # nothing to deploy (or its notebooks failed: their error stands)
    stage_dir = run_dir / stage_folder("deploy")
    iac = _design_iac(project, stages_out)
    if not iac:
        return _fail(outcome, "on Azure: no generated infrastructure code to deploy: run stage 2 first "
                              "('mlops-accelerator run design')")
    try:
        cred = connection.credential()
        connection.check_sign_in(cred)
    except connection.SignInError as exc:
        return _fail(outcome, f"on Azure: {exc}")
    findings = run_preflight(project, cred)
    save_findings(project, findings)
    (stage_dir / "azureml-preflight.json").write_text(json.dumps({"findings": as_dicts(findings)}, indent=2))
    if findings:
        return _fail(outcome, f"on Azure: pre-flight found {len(findings)} problem(s), nothing was deployed: "
                              + "; ".join(f.text() for f in findings))
    specs = (outcome.get("evidence", {}).get("artifacts") or {}).get("azureml_specs")
    ev, failures = deploy_and_read_back(project, cred, iac_folder=iac, specs_folder=specs, run_id=run_id)
    folder = stage_dir / "evidence"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / READBACK_FILE).write_text(json.dumps(ev, indent=2))
    outcome["evidence"] = merge_stage_evidence(stage_dir, project.root, "deploy")
    if failures:
        _fail(outcome, "on Azure: " + "; ".join(failures) + f" (what was read back is kept in "
                       f"{(folder / READBACK_FILE).relative_to(project.root)})")
