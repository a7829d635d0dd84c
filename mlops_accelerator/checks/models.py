"""Automatic checks of stage 5 (Build ML Models): S5-01 to S5-10.

They read the stage-5 settings (`ctx.stage("models")`), for S5-03 the stage-4 data assets, and the
evidence of the latest successful stage-5 run (`ctx.run_evidence("models", 5)`). The notebooks of
stage 5 must record exactly these keys (artifact paths through `Evidence.artifact`):

    {
      "training_job": {                            # S5-01, S5-02, S5-06 (threshold metrics)
        "name": "train-20240501", "status": "Completed",
        "compute": "cpu-cluster",                  #   "local" when it ran on this machine
        "git": {"repository": "https://github.com/contoso/churn.git", "commit": "3f2a1c9"},
        "metrics": {"accuracy": 0.91}, "params": {"n_estimators": 200}},
      "model": {                                   # S5-03, S5-06, S5-10: the version just registered
        "name": "baseline-classifier", "version": "3", "type": "custom_model",
        "tags": {"stage": "champion", "primary_metric": "0.91", "data_asset": "training-data:1",
                 "git_commit": "3f2a1c9"}},
      "unit_tests": {"passed": 24, "failed": 0, "errors": 0,          # S5-04 (from the JUnit file)
                     "kinds": ["model_io_shapes", "..."]},            #   configured kinds that ran
      "code_quality": {"flake8": {"violations": 0}, "pylint": {"violations": 0}},   # S5-05
      "coverage_pct": 82.5,                                                         # S5-05
      "evaluation": {"metric": "accuracy", "candidate": 0.91,        # S5-06
                     "champion": 0.89, "decision": "promote"},       #   champion null for a first model
      "responsible_ai": {"components": ["error_analysis", "explanations"]},        # S5-07
      "endpoint_smoke_test": {"passed": true, "status_code": 200,    # S5-08 (realtime/both)
                              "schema_valid": true, "environment": "dev"},
      "batch_job": {"status": "Completed", "output": "azureml://datastores/.../predictions.csv"},  # S5-08
      "pipeline_specs": [{"path": "pipelines/train.yml", "valid": true, "error": null}],  # S5-09
      "ci": {"status": "succeeded", "url": "..."},                                 # S5-09
      "cd": {"status": "succeeded", "url": "..."},                                 # S5-09
      "approval": {"approved": true, "by": "Ana Lima", "role": "product_owner",    # S5-10
                   "model": "baseline-classifier:3"},
      "artifacts": {"unit_test_junit": "models/junit.xml",                         # S5-04
                    "responsible_ai_report": "models/rai.html"}                    # S5-07
    }

`decision` is "promote" or "reject"; the model's "stage" tag is "champion" or "challenger".

The azureml target adds what it read back from Azure (azure/target.py): "azure_training" (S5-01:
{"job", "env", "status", "studio_url", "registration", "model"} of the training it submitted to Azure
ML; when present it decides S5-01) and "azure_endpoints" (S5-08, per environment).
"""

from __future__ import annotations

from typing import Any

from . import (
    CheckContext,
    CheckResult,
    artifact,
    auto_check,
    failed,
    listing,
    need,
    passed,
    succeeded,
)


def _ev(ctx: CheckContext) -> dict[str, Any]:
    return ctx.run_evidence("models", 5)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@auto_check("S5-01")
def training_from_source_control(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("models")
    job = need(_ev(ctx), "training_job", 5, "models", "the latest training job")
    if not succeeded(job.get("status")):
        return failed(f"the latest training job {job.get('name')} ended {job.get('status')}: fix it and "
                      "re-run stage 5")
    git = job.get("git") or {}
    if not git.get("repository") or not git.get("commit"):
        return failed(f"training job {job.get('name')} records no git repository/commit: submit it from a "
                      "clone of the project repository (Azure ML captures git info from the working folder)")
    if git.get("dirty"):
        return failed(f"training job {job.get('name')} ran uncommitted code ({listing(git.get('dirty_files') or [])})"
                      ": commit it and re-run stage 5 ('mlops-accelerator run models')")
    on_azure = _ev(ctx).get("azure_training")
    if on_azure is not None:  # the azureml target submitted the same commit's training to Azure ML
        if on_azure.get("status") != "Completed":
            return failed(f"training job {on_azure.get('job')} on Azure ML ended {on_azure.get('status')}: fix it "
                          "and re-run 'mlops-accelerator run models --target azureml'"
                          + (f" ({on_azure['studio_url']})" if on_azure.get("studio_url") else ""))
        return passed(f"training job {on_azure.get('job')} ran on Azure ML compute '{s.compute_name}' in "
                      f"{on_azure.get('env')} from {git['repository']}@{str(git['commit'])[:12]}")
    if job.get("compute") == "local" and s.training_compute != "local":
        from ..targets import available

        if available("azureml"):
            return failed(f"the latest training job ran locally, not on Azure ML compute '{s.compute_name}': "
                          "run stage 5 with 'mlops-accelerator run models --target azureml'")
        # This release runs notebooks on the local target only: what it can prove, it proves.
        return passed(f"training job {job.get('name')} ran on local compute from the committed code at "
                      f"{git['repository']}@{str(git['commit'])[:12]}; on the azureml target the same job runs "
                      f"on '{s.compute_name}' and Azure ML records the git properties on the job itself")
    return passed(f"training job {job.get('name')} ran on {job.get('compute')} from "
                  f"{git['repository']}@{str(git['commit'])[:12]}")


@auto_check("S5-02")
def metrics_logged(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("models")
    job = need(_ev(ctx), "training_job", 5, "models", "the latest training job")
    metric = s.primary_metric.name
    value = _number((job.get("metrics") or {}).get(metric))
    if value is None:
        logged = sorted(job.get("metrics") or {})
        return failed(f"training job {job.get('name')} did not log the primary metric '{metric}' "
                      f"(logged: {listing(logged) or 'none'}): call mlflow.log_metric('{metric}', ...)")
    if not job.get("params"):
        return failed(f"training job {job.get('name')} logged no parameters: log them with mlflow.log_params "
                      "or mlflow.autolog()")
    return passed(f"{metric}={value:g} and {len(job['params'])} parameter(s) logged to MLflow "
                  f"({s.tracking})")


@auto_check("S5-03")
def model_registered(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("models")
    model = need(_ev(ctx), "model", 5, "models", "the registered model")
    reg = s.model_registration
    if model.get("name") != reg.name:
        return failed(f"the run registered '{model.get('name')}', not the configured model '{reg.name}'")
    if not model.get("version"):
        return failed(f"model {reg.name} has no version: register it through the model registry")
    tags = model.get("tags") or {}
    missing = [t for t in reg.required_tags if t not in tags]
    if missing:
        return failed(f"model {reg.name}:{model['version']} lacks required tag(s) {', '.join(missing)}: set "
                      "them in the registration step")
    ref = tags.get("data_asset")
    if ref is not None:
        known = _known_assets(ctx)
        if ref not in known:
            return failed(f"the model's data_asset tag '{ref}' does not resolve to a stage-4 data asset "
                          f"(known: {listing(sorted(known)) or 'none'}); tag it as <name>:<version>")
    return passed(f"model {reg.name}:{model['version']} registered with tags {', '.join(sorted(tags))}",
                  f"{reg.name}:{model['version']}")


def _known_assets(ctx: CheckContext) -> set[str]:
    known: set[str] = set()
    data = ctx.settings.get("data")
    if data is not None:
        known |= {f"{a.name}:{a.version}" for a in data.data_assets}
    for a in (ctx.evidence.get("data") or {}).get("data_assets") or []:
        known.add(f"{a.get('name')}:{a.get('version')}")
    return known


@auto_check("S5-04")
def unit_tests_pass(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("models")
    ev = _ev(ctx)
    ut = need(ev, "unit_tests", 5, "models", "unit-test results")
    junit = artifact(ctx, ev, "unit_test_junit")
    if junit is None:
        return failed("no JUnit results file was recorded: run pytest with --junitxml in CI and record it")
    bad = int(ut.get("failed") or 0) + int(ut.get("errors") or 0)
    if bad:
        return failed(f"{bad} unit test(s) fail or error: see {junit}")
    if not int(ut.get("passed") or 0):
        return failed("no unit test ran: add tests under operation/tests/unit")
    missing = [k for k in s.unit_tests if k not in (ut.get("kinds") or [])]
    if missing:
        return failed(f"configured unit-test kinds have no tests: {', '.join(missing)}")
    return passed(f"{ut['passed']} unit test(s) pass", junit)


@auto_check("S5-05")
def code_quality_and_coverage(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("models")
    ev = _ev(ctx)
    cq = need(ev, "code_quality", 5, "models", "linter results")
    problems = []
    for tool in s.code_quality_checks:
        result = cq.get(tool)
        if result is None:
            problems.append(f"{tool} did not run")
        elif int(result.get("violations") or 0):
            problems.append(f"{tool} reports {result['violations']} violation(s)")
    coverage = _number(need(ev, "coverage_pct", 5, "models", "test coverage"))
    if coverage is None or coverage < s.coverage_threshold_pct:
        problems.append(f"coverage {coverage if coverage is not None else '?'} % is below "
                        f"{s.coverage_threshold_pct} %")
    if problems:
        return failed(f"code-quality gate fails: {'; '.join(problems)}")
    return passed(f"{', '.join(s.code_quality_checks) or 'no linters'} clean; coverage {coverage:g} % >= "
                  f"{s.coverage_threshold_pct} %")


def _better(s: Any, candidate: float, champion: float) -> bool:
    from ..modeling.promotion import is_better  # the rule the evaluation step applies

    rule = s.promotion_rule
    return is_better(s.primary_metric.goal, rule.margin, rule.margin_type, candidate, champion)


def _meets(threshold: Any, value: float) -> bool:
    return value >= threshold.value if threshold.direction == "at_least" else value <= threshold.value


@auto_check("S5-06")
def evaluated_against_champion(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("models")
    if not s.promotion_rule.compare_to_champion:
        return passed("not applicable: champion/challenger comparison is turned off (promotion_rule)")
    ev = _ev(ctx)
    e = need(ev, "evaluation", 5, "models", "the evaluation step's comparison")
    metric = s.primary_metric.name
    if e.get("metric") != metric:
        return failed(f"the evaluation compared '{e.get('metric')}', not the primary metric '{metric}'")
    cand, champ = _number(e.get("candidate")), _number(e.get("champion"))
    if cand is None:
        return failed("the evaluation recorded no candidate value: log the primary metric before evaluating")
    metrics = {**((ev.get("training_job") or {}).get("metrics") or {}), metric: cand}
    missed = [f"{t.metric} {t.direction} {t.value:g}" for t in s.metric_thresholds
              if _number(metrics.get(t.metric)) is None or not _meets(t, float(metrics[t.metric]))]
    should = "promote" if not missed and (champ is None or _better(s, cand, champ)) else "reject"
    decision = e.get("decision")
    if decision != should:
        why = (f"thresholds missed: {', '.join(missed)}" if missed else
               f"candidate {cand:g} vs champion {champ if champ is None else f'{champ:g}'} "
               f"({s.primary_metric.goal}, margin {s.promotion_rule.margin:g})")
        return failed(f"the evaluation decided '{decision}' but the promotion rule says '{should}' ({why}): "
                      "fix the evaluate step (check maximise/minimise)")
    tag = ((ev.get("model") or {}).get("tags") or {}).get("stage")
    expected_tag = "champion" if should == "promote" else "challenger"
    if should == "reject" and s.promotion_rule.on_not_better == "cancel_run":
        return passed(f"candidate rejected ({cand:g} vs {champ}) and the run cancelled, as configured")
    if tag != expected_tag:
        return failed(f"the registered model's stage tag is '{tag}', expected '{expected_tag}': set it in "
                      "the registration step")
    return passed(f"candidate {metric}={cand:g} vs champion {champ if champ is not None else 'none'}: "
                  f"{should}, tagged {tag}")


@auto_check("S5-07")
def responsible_ai_report(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("models")
    wanted = s.responsible_ai.components
    if not wanted:
        return passed("not applicable: no Responsible AI components are configured")
    ev = _ev(ctx)
    report = artifact(ctx, ev, "responsible_ai_report")
    if report is None:
        return failed("the Responsible AI report was not produced: re-run the stage-5 Responsible AI "
                      "notebook")
    done = (ev.get("responsible_ai") or {}).get("components") or []
    missing = [c for c in wanted if c not in done]
    if missing:
        return failed(f"the Responsible AI report lacks {', '.join(missing)}: enable them in the RAI "
                      "notebook")
    return passed(f"Responsible AI report with {', '.join(wanted)} produced; it still needs a review "
                  "sign-off", report)


@auto_check("S5-08")
def deployed_and_smoke_tested(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("models")
    ev = _ev(ctx)
    facts = []
    if s.serves_online:
        t = need(ev, "endpoint_smoke_test", 5, "models", "the online endpoint smoke test")
        if not (t.get("passed") and t.get("status_code") == 200 and t.get("schema_valid")):
            return failed(f"the smoke test of endpoint {s.online_endpoint.name} failed (HTTP "
                          f"{t.get('status_code')}, schema valid: {t.get('schema_valid')}): check the "
                          "scoring script and the deployment logs")
        facts.append(f"endpoint {s.online_endpoint.name} answered 200 with valid output"
                     + (f" in {t['environment']}" if t.get("environment") else ""))
    if s.serves_batch:
        b = need(ev, "batch_job", 5, "models", "the batch scoring job")
        if not succeeded(b.get("status")) or not b.get("output"):
            return failed(f"batch scoring on {s.batch_endpoint.name} ended {b.get('status')} "
                          f"{'with' if b.get('output') else 'without'} output: check the job logs "
                          "(logs/job_progress_overview)")
        facts.append(f"batch endpoint {s.batch_endpoint.name} produced {b['output']}")
    on_azure = ev.get("azure_endpoints")
    if on_azure is not None:  # the azureml target created the endpoints and read them back
        problems = _azure_endpoint_problems(s, on_azure)
        if problems:
            return failed("on Azure: " + "; ".join(problems) + " (run 'mlops-accelerator run models --target "
                          "azureml' and read its error)")
        facts.append(f"read back from Azure in {', '.join(sorted(on_azure))}: endpoints and deployments "
                     "Succeeded, traffic as configured")
    return passed("; ".join(facts))


def _azure_endpoint_problems(s: Any, on_azure: dict[str, Any]) -> list[str]:
    if not on_azure:
        return ["no environment was read back"]
    problems = []
    want = {d.name: d.traffic for d in s.online_endpoint.deployments}
    for env, got in sorted(on_azure.items()):
        kinds = [("online_endpoint", "online")] if s.serves_online else []
        kinds += [("batch_endpoint", "batch")] if s.serves_batch else []
        for key, kind in kinds:
            ep = got.get(key)
            if not ep:
                problems.append(f"{env}: no {kind} endpoint")
                continue
            bad = [f"{d.get('name')} {d.get('state')}" for d in ep.get("deployments") or []
                   if not succeeded(d.get("state"))]
            if not succeeded(ep.get("state")) or bad or not ep.get("deployments"):
                problems.append(f"{env}: {kind} endpoint {ep.get('name')} is {ep.get('state')}"
                                + (f", deployment(s) {listing(bad)}" if bad else "")
                                + ("" if ep.get("deployments") else ", without deployments"))
            elif kind == "online" and ep.get("traffic") != want:
                problems.append(f"{env}: traffic of {ep.get('name')} is {ep.get('traffic')}, not {want}")
    return problems


@auto_check("S5-09")
def automated_with_cicd(ctx: CheckContext) -> CheckResult:
    ctx.stage("models")
    ev = _ev(ctx)
    specs = need(ev, "pipeline_specs", 5, "models", "pipeline definition validation")
    if not specs:
        return failed("no pipeline definitions were generated: generate stage 5 ('mlops-accelerator generate "
                      "models')")
    invalid = [f"{x.get('path')}: {x.get('error')}" for x in specs if not x.get("valid")]
    if invalid:
        return failed(f"pipeline definitions do not validate: {listing(invalid)}")
    runs = []
    for kind in ("ci", "cd"):
        r = need(ev, kind, 5, "models", f"the last {kind.upper()} run")
        if not succeeded(r.get("status")):
            return failed(f"the last {kind.upper()} run is {r.get('status')}: fix it"
                          + (f" ({r['url']})" if r.get("url") else ""))
        runs.append(f"{kind.upper()} {r.get('status')}")
    return passed(f"{len(specs)} pipeline definition(s) validate; {', '.join(runs)}",
                  *[str(x.get("path")) for x in specs])


@auto_check("S5-10")
def approval_recorded(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("models")
    ev = _ev(ctx)
    a = need(ev, "approval", 5, "models", "the model approval record")
    model = ev.get("model") or {}
    ref = f"{model.get('name')}:{model.get('version')}"
    if ((model.get("tags") or {}).get("stage")) == "challenger":
        return passed(f"model {ref} stays a challenger: it does not go to production, so it needs no approval "
                      "(the champion keeps its own)")
    if not a.get("approved"):
        return failed(f"model {ref} is not approved for production"
                      + (f": {a['reason']}" if a.get("reason") else ""))
    if model and a.get("model") != ref:
        return failed(f"the approval is for {a.get('model')}, not for the registered model {ref}")
    if s.model_approval in ("manual", "hybrid"):
        if not a.get("by") or a.get("role") != s.approver_role:
            return failed(f"{s.model_approval} approval needs a named person with role {s.approver_role} "
                          f"(recorded: {a.get('by') or 'nobody'}, {a.get('role') or 'no role'})")
    return passed(f"model {ref} approved ({s.model_approval}) by {a.get('by') or 'the automatic gate'}")
