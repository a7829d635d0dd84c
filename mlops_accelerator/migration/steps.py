"""The stage-7 notebooks' steps: each writes its files under the run's output folder and returns
plain data for the notebook to show and for the evidence (keys as checks/migrate.py documents)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import codemod, inventory
from .doc import Doc
from .mapping import mapping_markdown


def project_value(template: str, project: str) -> str:
    return template.replace("{project}", project)


def stage4_assets(project_dir: str | Path) -> list[dict[str, Any]]:
    """Data assets the latest successful stage-4 run registered (empty when stage 4 has not run)."""
    from ..deliverables import latest_evidence
    from ..errors import ProjectFileError
    from ..workspace import Project

    try:
        events = list(Project(Path(project_dir)).events())
    except (ProjectFileError, OSError):
        return []
    return list((latest_evidence(events).get("data") or {}).get("data_assets") or [])


def run_inventory(settings: Any, project_dir: str | Path, out: Path) -> dict[str, Any]:
    inv = inventory.scan(settings.migration_source, project_dir)
    (out / "inventory.json").write_text(json.dumps(inv, indent=2, default=str), encoding="utf-8")
    inventory.report(inv).write(out, "inventory")
    return inv


def run_rewrite(settings: Any, inv: dict[str, Any], out: Path) -> dict[str, Any]:
    """The migrated copy in <out>/migrated, the diff, and the rewrite report (what was left and why)."""
    result = codemod.migrate_tree(inv["source"], out / "migrated", settings.add_mlflow_logging)
    (out / "migration.diff").write_text(result["diff"], encoding="utf-8")
    (out / "sdk-v1-to-v2-mapping.md").write_text(mapping_markdown(), encoding="utf-8")
    doc = Doc("SDK v1 -> v2 rewrite")
    doc.para(f"The migrated copy is in `migrated/` (the source `{inv['source']}` is not changed). "
             f"{result['converted']} SDK v1 uses were rewritten; {len(result['left'])} are left for a person.")
    doc.heading("Files")
    doc.table(["file", "status", "rewritten", "left"],
              [[f["path"], f["status"], len(f["converted"]), len(f["left"])] for f in result["files"]
               if f["status"] != "copied"])
    doc.heading("Left for a person")
    doc.para("Lines are those of the migrated copy, where the change is made.")
    doc.table(["where", "API", "why", "mapping row"],
              [[f"{x['file']}:{x['line']}", x["api"], x["reason"], x["link"] or "-"] for x in result["left"]],
              "nothing: every SDK v1 use was rewritten")
    doc.heading("Not parsed")
    doc.table(["file", "problem"], [[u["file"], u["error"]] for u in result["unparseable"]], "every script parsed")
    doc.heading("Diff")
    doc.code(result["diff"] or "(no change)", "diff")
    doc.write(out, "rewrite")
    return result


def job_entry(inv: dict[str, Any], settings: Any) -> tuple[str, list[str]]:
    """The script and arguments the job runs: the legacy ScriptRunConfig's, or the parity settings'."""
    pr = settings.parity_run
    run = next((r for r in inv["runs"] if r.get("script_path") == pr.entry_point), None)
    args = [str(a) for a in (run or {}).get("config", {}).get("arguments") or []
            if not isinstance(a, dict)]
    return pr.entry_point, list(pr.arguments) or args


def run_packaging(settings: Any, inv: dict[str, Any], rewrite: dict[str, Any], project_dir: str | Path,
                  out: Path, project: str, python_version: str) -> dict[str, Any]:
    from .packaging import write_job, write_pipeline

    cm = settings.config_mapping
    experiment = project_value(cm.training_experiment, project)
    job = write_job(out / "azureml", out / "migrated", inv, rewrite["inputs"],
                    local_data=dict(settings.parity_run.data), legacy_root=inv["source"],
                    stage4_assets=stage4_assets(project_dir), configured_dataset=cm.dataset,
                    default_compute=cm.training_compute, default_experiment=experiment, python_version=python_version)
    job["pipeline"] = write_pipeline(out / "azureml", out / "migrated", inv, default_compute=cm.training_compute,
                                     default_experiment=experiment, name=cm.training_pipeline,
                                     python_version=python_version)
    return job


def write_configuration(settings: Any, project: str, out: Path) -> list[dict[str, Any]]:
    """dstoolkit's configuration/configuration-aml.variables.yml from the settings, validated back."""
    import yaml
    from pydantic import ValidationError

    from ..settings.migrate import ConfigMapping

    cm = settings.config_mapping
    variables = {"AML_DATASET": cm.dataset, "AML_MODEL": cm.model,
                 "TRAINING_EXPERIMENT": project_value(cm.training_experiment, project),
                 "TRAINING_PIPELINE": cm.training_pipeline, "TRAINING_COMPUTE": cm.training_compute,
                 "BATCHINFERENCE_EXPERIMENT": project_value(cm.batchinference_experiment, project),
                 "BATCHINFERENCE_PIPELINE": cm.batchinference_pipeline,
                 "BATCHINFERENCE_COMPUTE": cm.batchinference_compute, "AML_WEBSERVICE": cm.realtime_endpoint}
    rel = "configuration/configuration-aml.variables.yml"
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"variables": variables}, sort_keys=False), encoding="utf-8")
    error = None
    try:  # read back and validate with the same rules as the settings
        back = yaml.safe_load(path.read_text(encoding="utf-8"))["variables"]
        ConfigMapping(dataset=back["AML_DATASET"], model=back["AML_MODEL"],
                      training_experiment=back["TRAINING_EXPERIMENT"], training_pipeline=back["TRAINING_PIPELINE"],
                      training_compute=back["TRAINING_COMPUTE"],
                      batchinference_experiment=back["BATCHINFERENCE_EXPERIMENT"],
                      batchinference_pipeline=back["BATCHINFERENCE_PIPELINE"],
                      batchinference_compute=back["BATCHINFERENCE_COMPUTE"], realtime_endpoint=back["AML_WEBSERVICE"])
    except (ValidationError, KeyError, TypeError, yaml.YAMLError) as exc:
        error = str(exc)
    return [{"path": rel, "valid": error is None, "error": error}]


def run_code_scan(settings: Any, inv: dict[str, Any], rewrite: dict[str, Any], out: Path) -> dict[str, Any]:
    """S7-06 on the ported core scripts: the job's code folder in the migrated copy."""
    from .scan import scan

    folder = str(Path(settings.parity_run.entry_point).parent)
    names = {settings.config_mapping.dataset, settings.config_mapping.model}
    names |= {d["name"] for d in inv["datasets"] if isinstance(d.get("name"), str)}
    result = scan(out / "migrated", folder, names)
    result["folder"] = f"migrated/{folder}"
    return result


def run_parity(settings: Any, inv: dict[str, Any], project_dir: str | Path, out: Path, project: str
               ) -> dict[str, Any]:
    """Migrate into the parity workspace (deterministic: the same bytes as the rewrite notebook) and run
    both sides."""
    from . import parity

    migrated = codemod.migrate_tree(inv["source"], out / "parity-migrated", settings.add_mlflow_logging)
    entry, args = job_entry(inv, settings)
    pr = settings.parity_run
    assets = stage4_assets(project_dir)
    from .packaging import match_data_assets

    matched = match_data_assets(migrated["inputs"] or {k: k for k in pr.data}, assets,
                                settings.config_mapping.dataset)
    result = parity.run_parity(
        legacy_root=inv["source"], migrated_root=out / "parity-migrated", work_dir=out / "parity-runs",
        entry_point=entry, arguments=args, data=dict(pr.data), inputs=migrated["inputs"],
        model_file=pr.model_file, label_column=pr.label_column, sample_rows=pr.sample_rows,
        tolerance=settings.parity_tolerance, project_dir=project_dir,
        experiment=project_value(settings.config_mapping.training_experiment, project) + "-parity",
        stage4_assets=matched)
    parity.report(result, settings.parity_tolerance).write(out, "parity")
    return result


def parity_evidence(result: dict[str, Any]) -> dict[str, Any]:
    """The `parity` evidence (checks/migrate.py): both values per metric, the data version of each side."""
    return {"metrics": {n: {"legacy": m["legacy"], "migrated": m["migrated"]} for n, m in result["metrics"].items()},
            "legacy_data_version": result["data_version"], "migrated_data_version": result["data_version"],
            "predictions": {k: result["predictions"].get(k) for k in ("sample_rows", "agreeing")},
            "differing": result["differing"],
            "runs": {s: {"status": r["status"], "mlflow_run_id": r["mlflow_run_id"]}
                     for s, r in result["sides"].items()}}
