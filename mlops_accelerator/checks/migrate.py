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
"""

from __future__ import annotations

from typing import Any

from . import CheckContext, CheckResult, artifact, auto_check, failed, listing, need, passed, succeeded


def _ev(ctx: CheckContext) -> dict[str, Any]:
    return ctx.run_evidence("migrate", 7)


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
    if model.get("name") != s.config_mapping.model or not model.get("version"):
        return failed(f"the pipeline registered '{model.get('name')}', not the configured model "
                      f"'{s.config_mapping.model}' (AML_MODEL)")
    metric = s.parity_tolerance.metric
    if metric not in (model.get("tags") or {}):
        return failed(f"model {model['name']}:{model['version']} has no '{metric}' metric tag: register.py "
                      "must tag the model with its metric (evaluate compares against it)")
    return passed(f"training pipeline ran end to end; {model['name']}:{model['version']} tagged "
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


def _within(tol: Any, legacy: float, migrated: float) -> bool:
    diff = abs(migrated - legacy)
    if tol.absolute > 0 and diff > tol.absolute:
        return False
    return not (tol.relative_pct > 0 and diff > abs(legacy) * tol.relative_pct / 100)


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
    report = artifact(ctx, ev, "parity_report")
    if report is None:
        return failed("the parity report artifact was not produced: re-run the stage-7 parity notebook")
    return passed(f"parity within tolerance: {', '.join(out)}", report)
