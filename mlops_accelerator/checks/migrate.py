"""Automatic checks of stage 7 (Migrate to Azure ML): S7-01 to S7-07.

They read the stage-7 settings (`ctx.stage("migrate")`), the stage-5 promotion path (the
environments the template must set up) and the evidence of the latest successful stage-7 run
(`ctx.run_evidence("migrate", 7)`). The notebooks of stage 7 must record exactly these keys:

    {
      "setup_runs": [                                  # S7-01: PIPELINE-0 (or equivalent) per environment
        {"environment": "dev", "status": "succeeded"}],
      "config_files": [                                # S7-01: the template's configuration/ files
        {"path": "configuration/configuration-aml.variables.yml", "valid": true, "error": null}],
      "dataprep": {"status": "succeeded",              # S7-02
                   "data_asset": {"name": "training-data", "version": "2"}},
      "training_pipeline": {"status": "succeeded",     # S7-03
                            "model": {"name": "baseline-classifier", "version": "1",
                                      "tags": {"accuracy": "0.848"}}},   # metric tag = parity metric
      "realtime_smoke_test": {"passed": true, "status_code": 200},      # S7-04 (realtime ported)
      "batch_scoring": {"status": "succeeded", "output": "azureml://.../predictions.csv"},  # S7-04 (batch)
      "cicd_runs": [                                   # S7-05: last run of each template pipeline
        {"pipeline": "PIPELINE-1-modeling", "kind": "modeling", "status": "succeeded"},
        {"pipeline": "PIPELINE-2-batchinference", "kind": "batch_inference", "status": "succeeded"}],
      "code_scan": {"scanned_files": 12,               # S7-06: secrets scanner + literal-name rule
                    "secrets": [{"file": "src/train.py", "line": 10, "kind": "storage_key"}],
                    "hardcoded_names": [{"file": "src/train.py", "line": 22, "literal": "training-data"}]},
      "parity": {                                      # S7-07
        "metrics": {"accuracy": {"legacy": 0.85, "migrated": 0.848}},
        "legacy_data_version": "training-data:1", "migrated_data_version": "training-data:1"},
      "artifacts": {"parity_report": "migrate/parity.html"}              # S7-07
    }

`kind` of a CI/CD run is setup, modeling or batch_inference.

What the local target records (notebooks/07-migrate) beyond that, and how:
- setup_runs, dataprep, realtime_smoke_test, batch_scoring and cicd_runs come from Azure (the template's
  pipelines, endpoints and CI/CD runs); on the local target they are absent and their items are to do,
  saying what Azure must run.
- training_pipeline: the migrated training ran locally end to end and its model is in the project's
  MLflow registry with the metric tag; it adds `"where": "local"` ("azureml" when read from Azure).
  When parity fails the model is not registered: `"model": {}` and `"not_registered": "parity failed: ..."`.
- code_scan: the job's code folder of the migrated copy; adds `"folder": "migrated/src"`.
- parity: adds `"predictions": {"sample_rows": 100, "agreeing": 100}` (both models on the first rows of
  the data; S7-07 fails when any prediction differs), `"differing": ["auc"]` and
  `"runs": {"legacy": {"status": ..., "mlflow_run_id": ...}, "migrated": {...}}`.
- inventory: {"source", "git_commit", "files", "entry_points": [...], "sdk_v1_uses", "data_reads",
  "metrics_logged", "unparseable": ["scripts/old.py: line 6: ..."]}
- rewrite: {"converted": 15, "left": 4, "unparseable": ["scripts/old.py"]}
- azureml_job: {"written": true, "loads": true, "command": "python train.py ...", "compute": ...,
  "inputs": [{"dataset", "input", "data_asset", "path"}], "problems": [],
  "pipeline": {"written": false, "loads": null, "steps": [{"name", "command"}]}}  # from PythonScriptSteps
- cutover: {"blocked_by": ["auc: migrated 0.8 vs legacy 0.93 is outside the tolerance"],
  "steps": [{"step", "owner", "status"}], "rollback_criteria": [...],
  "signoffs": [{"item": "S7-08", "what", "roles", "people"}]}
- artifacts: inventory_report, rewrite_report, migrated_code, migration_diff, mapping_table,
  azureml_job, azureml_pipeline, parity_report, parity_report_md, cutover_plan.
"""

from __future__ import annotations

from typing import Any

from ..migration.parity import within as _within
from . import (
    CheckContext,
    CheckResult,
    NoEvidenceYet,
    artifact,
    auto_check,
    failed,
    listing,
    passed,
    succeeded,
)
from . import need as _need_key

# Evidence only Azure can give (the template's pipelines, endpoints, CI/CD): what must run there.
_FROM_AZURE = {
    "setup_runs": "the template's setup pipeline (PIPELINE-0) in each environment",
    "dataprep": "the ported data-preparation step as an Azure ML job registering AML_DATASET",
    "realtime_smoke_test": "a smoke test of the migrated scoring script on an online endpoint",
    "batch_scoring": "the migrated batch scoring as an Azure ML batch endpoint job",
    "cicd_runs": "the modelling and batch-inference CI/CD pipelines",
}


def _ev(ctx: CheckContext) -> dict[str, Any]:
    return ctx.run_evidence("migrate", 7)


def need(ev: dict[str, Any], key: str, number: int, slug: str, what: str) -> Any:
    if key in _FROM_AZURE and ev.get(key) is None:
        # Not a failure: the local target runs nothing in Azure, so this is still to do there.
        raise NoEvidenceYet(f"needs Azure: {_FROM_AZURE[key]} ({what}); the local target runs nothing in "
                            "Azure, so this stays to do until it has run there")
    return _need_key(ev, key, number, slug, what)


@auto_check("S7-01")
def template_environments(ctx: CheckContext) -> CheckResult:
    ctx.stage("migrate")
    ev = _ev(ctx)
    runs = need(ev, "setup_runs", 7, "migrate", "the setup pipeline run per environment")
    models = ctx.settings.get("models")
    ran = sorted({str(r.get("environment")) for r in runs})
    envs = list(models.promotion_path) if models is not None else ran
    if not envs:
        return failed("no environment was set up: run the template's setup pipeline (PIPELINE-0) for dev "
                      "first")
    latest = {r.get("environment"): r for r in runs}
    bad = [f"{e}: {latest[e].get('status')}" if e in latest else f"{e}: not run" for e in envs
           if not succeeded((latest.get(e) or {}).get("status"))]
    if bad:
        return failed(f"the setup pipeline has not succeeded in every environment ({'; '.join(bad)}): run "
                      "PIPELINE-0 for each")
    files = need(ev, "config_files", 7, "migrate", "validation of the template's configuration files")
    invalid = [f"{f.get('path')}: {f.get('error')}" for f in files if not f.get("valid")]
    if not files or invalid:
        return failed(f"template configuration does not validate: {listing(invalid) or 'no files found'}; "
                      "fix configuration/*.yml")
    return passed(f"setup succeeded in {', '.join(envs)}; {len(files)} configuration file(s) validate",
                  *[str(f.get("path")) for f in files])


@auto_check("S7-02")
def dataprep_ported(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("migrate")
    dp = need(_ev(ctx), "dataprep", 7, "migrate", "the ported data-preparation step")
    if not succeeded(dp.get("status")):
        return failed(f"the ported dataprep step ended {dp.get('status')}: check src/dataprep.py's run logs")
    asset = dp.get("data_asset") or {}
    if asset.get("name") != s.config_mapping.dataset or not asset.get("version"):
        return failed(f"dataprep registered '{asset.get('name')}:{asset.get('version')}', not the configured "
                      f"data asset '{s.config_mapping.dataset}' (AML_DATASET)")
    return passed(f"dataprep ran and registered {asset['name']}:{asset['version']}")


@auto_check("S7-03")
def training_ported(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("migrate")
    tp = need(_ev(ctx), "training_pipeline", 7, "migrate", "the ported training pipeline run")
    if not succeeded(tp.get("status")):
        return failed(f"the training pipeline ended {tp.get('status')}: check the train/evaluate/register "
                      f"steps")
    model = tp.get("model") or {}
    if not model and tp.get("not_registered"):
        return failed(f"the migrated training ran but its model was not registered ({tp['not_registered']})")
    if model.get("name") != s.config_mapping.model or not model.get("version"):
        return failed(f"the pipeline registered '{model.get('name')}', not the configured model "
                      f"'{s.config_mapping.model}' (AML_MODEL)")
    metric = s.parity_tolerance.metric
    if metric not in (model.get("tags") or {}):
        return failed(f"model {model['name']}:{model['version']} has no '{metric}' metric tag: register.py "
                      "must tag the model with its metric (evaluate compares against it)")
    where = " locally (the project's MLflow registry)" if tp.get("where") == "local" else ""
    return passed(f"training pipeline ran end to end{where}; {model['name']}:{model['version']} tagged "
                  f"{metric}={model['tags'][metric]}")


@auto_check("S7-04")
def inference_ported(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("migrate")
    if not s.inference_modes_to_port:
        return failed("no inference mode is selected: choose realtime and/or batch under 'Inference modes "
                      "to port'")
    ev = _ev(ctx)
    facts = []
    if "realtime" in s.inference_modes_to_port:
        t = need(ev, "realtime_smoke_test", 7, "migrate", "the ported score.py smoke test")
        if not t.get("passed") or t.get("status_code") != 200:
            return failed(f"the real-time smoke test failed (HTTP {t.get('status_code')}): check score.py's "
                          "init()/run() and the deployment logs")
        facts.append(f"{s.config_mapping.realtime_endpoint} answers 200")
    if "batch" in s.inference_modes_to_port:
        b = need(ev, "batch_scoring", 7, "migrate", "the ported batch_score.py run")
        if not succeeded(b.get("status")) or not b.get("output"):
            return failed(f"batch scoring ended {b.get('status')} without output: check batch_score.py and "
                          "the parallel job logs")
        facts.append(f"batch scoring wrote {b['output']}")
    return passed("; ".join(facts))


@auto_check("S7-05")
def cicd_automated(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("migrate")
    runs = need(_ev(ctx), "cicd_runs", 7, "migrate", "the last run of each CI/CD pipeline")
    wanted = ["modeling"] + (["batch_inference"] if "batch" in s.inference_modes_to_port else [])
    latest = {r.get("kind"): r for r in runs}
    missing = [k for k in wanted if k not in latest]
    if missing:
        return failed(f"no {' or '.join(missing)} CI/CD pipeline has run: set up PIPELINE-1-modeling"
                      + (" and PIPELINE-2-batchinference" if "batch_inference" in missing else ""))
    red = [f"{r.get('pipeline')}: {r.get('status')}" for r in runs if not succeeded(r.get("status"))]
    if red:
        return failed(f"CI/CD pipelines are not green: {listing(red)}")
    return passed(f"{len(runs)} CI/CD pipeline(s) last ran green", *[str(r.get("pipeline")) for r in runs])


@auto_check("S7-06")
def no_hardcoded_values(ctx: CheckContext) -> CheckResult:
    ctx.stage("migrate")
    scan = need(_ev(ctx), "code_scan", 7, "migrate", "the static scan of the ported scripts")
    if not int(scan.get("scanned_files") or 0):
        return failed("the static scan read no files: point it at the ported src/ folder")
    secrets = [f"{x.get('file')}:{x.get('line')} ({x.get('kind')})" for x in scan.get("secrets") or []]
    if secrets:
        return failed(f"secrets in code: {listing(secrets)}; remove them, rotate them, and read credentials "
                      "through utils.py (workspace auth / service principal) only")
    names = [f"{x.get('file')}:{x.get('line')} '{x.get('literal')}'"
             for x in scan.get("hardcoded_names") or []]
    if names:
        return failed(f"hard-coded dataset/model names outside configuration/: {listing(names)}; pass them "
                      "as script arguments with defaults from configuration-aml.variables.yml")
    return passed(f"{scan['scanned_files']} file(s) scanned: no secrets, names only in configuration/; a "
                  "code review sign-off is still needed")


@auto_check("S7-07")
def parity_within_tolerance(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("migrate")
    tol = s.parity_tolerance
    ev = _ev(ctx)
    parity = need(ev, "parity", 7, "migrate", "the legacy vs migrated metric comparison")
    metrics = parity.get("metrics") or {}
    if tol.metric not in metrics:
        return failed(f"the parity report does not compare '{tol.metric}': evaluate both models on it")
    if tol.same_data_version:
        a, b = parity.get("legacy_data_version"), parity.get("migrated_data_version")
        if not a or a != b:
            return failed(f"the models were compared on different data ({a} vs {b}): score both on the same "
                          "data asset version")
    out = []
    for name, m in metrics.items():
        try:
            legacy, migrated = float(m["legacy"]), float(m["migrated"])
        except (KeyError, TypeError, ValueError):
            return failed(f"the parity report has no legacy/migrated values for '{name}'")
        if not _within(tol, legacy, migrated):
            limits = " and ".join(
                x for x in (f"{tol.absolute:g} absolute" if tol.absolute > 0 else "",
                            f"{tol.relative_pct:g} % relative" if tol.relative_pct > 0 else "") if x)
            return failed(f"{name}: migrated {migrated:g} vs legacy {legacy:g} exceeds the tolerance "
                          f"({limits}); look for differences in data preparation, seeds or library versions")
        out.append(f"{name} {migrated:g} vs {legacy:g}")
    pred = parity.get("predictions") or {}
    if pred and pred.get("agreeing") != pred.get("sample_rows"):
        return failed(f"the models' predictions differ on {_count(pred)} of {pred.get('sample_rows')} sample rows "
                      "although the metrics agree: compare preprocessing and the model's parameters")
    report = artifact(ctx, ev, "parity_report")
    if report is None:
        return failed("the parity report artifact was not produced: re-run the stage-7 parity notebook")
    return passed(f"parity within tolerance: {', '.join(out)}", report)


def _count(pred: dict[str, Any]) -> str:
    try:
        return str(int(pred["sample_rows"]) - int(pred["agreeing"]))
    except (KeyError, TypeError, ValueError):
        return "some"
