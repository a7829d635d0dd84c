"""Stage 5 on the local target: committed code, MLflow tracking, gates, champion/challenger, endpoint."""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from mlops_accelerator.catalogue import stage_slugs
from mlops_accelerator.dataprep.pipeline import run_pipeline
from mlops_accelerator.modeling import ModelingError, endpoint, promotion, quality, rai, training
from mlops_accelerator.modeling.project_code import checkout_for_run, code_version, write_sample_code
from mlops_accelerator.sample import sample_settings
from mlops_accelerator.sample.churn import write_sample_data
from mlops_accelerator.settings import default_settings
from mlops_accelerator.settings.parameters import from_parameters

SMALL = 3000

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")


def _settings(**models_changes) -> dict:
    values = copy.deepcopy(sample_settings())
    for rule in values["data"]["data_quality_rules"]:
        if rule["rule"] == "row_count":
            rule["min"] = SMALL * 0.8
    values["models"]["hyperparameter_tuning"]["max_trials"] = 2
    values["models"]["hyperparameter_tuning"]["max_concurrent_trials"] = 1
    # the test copy has 3,000 customers: a lower bar than the sample's
    values["models"]["metric_thresholds"] = [{"metric": "roc_auc", "direction": "at_least", "value": 0.55}]
    values["models"].update(models_changes)
    return {s: {**default_settings(s), **values.get(s, {})} for s in stage_slugs()}


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args], cwd=root,
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A committed sample project with stage 4's assets registered (small data)."""
    root = tmp_path_factory.mktemp("proj")
    write_sample_data(root, n_customers=SMALL)
    s = _settings()
    run_pipeline(from_parameters("data", s), root, root / "runs" / "r4", run_id="r4", notebook="04-data/x")
    (root / "mlops-accelerator.yaml").write_text("schema_version: 1\n")
    write_sample_code(root)
    return root


@pytest.fixture
def proj(base, tmp_path):
    target = tmp_path / "p"
    shutil.copytree(base, target, symlinks=True)
    return target


def _train(proj: Path, run: str = "run1", **changes):
    s = _settings(**changes)
    models, data = from_parameters("models", s), from_parameters("data", s)
    return models, training.train(proj, proj / "runs" / run, models, data, "contoso-churn")


def test_init_sample_commits_the_training_package(base):
    assert "init --sample" in _git(base, "log", "--format=%s")
    assert not _git(base, "status", "--porcelain")  # runs, lake and data assets are ignored
    assert {p.name for p in (base / "src" / "churn_model").glob("*.py")} >= {"dataprep.py", "features.py",
                                                                            "train.py", "score.py"}


def test_uncommitted_training_code_is_refused_by_name_and_allowed_for_exploration(proj):
    (proj / "src" / "churn_model" / "train.py").write_text("# changed\n", encoding="utf-8")
    (proj / "tests" / "test_new.py").write_text("", encoding="utf-8")
    with pytest.raises(ModelingError, match=r"src/churn_model/train.py, tests/test_new.py"):
        checkout_for_run(proj, proj / "runs" / "x")
    code = checkout_for_run(proj, proj / "runs" / "x", allow_dirty=True)
    assert code.dirty and code.code_dir == proj.resolve()
    assert not (proj / "runs" / "x" / "code").exists()


def test_train_tracks_everything_and_a_second_run_stays_challenger(proj):
    from mlflow.tracking import MlflowClient

    models, first = _train(proj)
    d1 = promotion.evaluate_and_register(models, first)
    assert d1.registered_version, (d1.reason, first.metrics)
    assert (d1.decision, d1.registered_version, d1.stage_tag) == ("promote", "1", "champion")
    client = MlflowClient()
    run = client.get_run(first.run_id)
    assert run.data.tags["mlflow.source.git.commit"] == code_version(proj).commit
    assert run.data.tags["data_asset"] == "churn-features:1"
    assert run.inputs.dataset_inputs[0].dataset.name == "churn-features:1"
    assert {"roc_auc", "recall", "accuracy"} <= set(run.data.metrics)
    assert run.data.params["sampling"] == "random"
    children = client.search_runs([run.info.experiment_id],
                                  filter_string=f"tags.mlflow.parentRunId = '{first.run_id}'")
    assert len(children) == len(first.trials) == 2
    import mlflow

    info = mlflow.models.get_model_info(first.model_uri)
    assert info.signature is not None and info.saved_input_example_info is not None
    v1 = client.get_model_version("churn-classifier", "1")
    assert {"stage", "primary_metric", "data_asset", "git_commit"} <= set(v1.tags)

    # unchanged code and data: equal metrics, the margin rule keeps the champion
    _, second = _train(proj, "run2")
    assert second.metrics == first.metrics
    d2 = promotion.evaluate_and_register(models, second)
    assert (d2.decision, d2.registered_version, d2.stage_tag) == ("reject", "2", "challenger")
    assert str(client.get_model_version_by_alias("churn-classifier", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("churn-classifier", "challenger").version) == "2"


def test_a_missed_threshold_is_never_registered_and_names_the_metric(proj):
    from mlflow.tracking import MlflowClient

    models, result = _train(proj, metric_thresholds=[{"metric": "roc_auc", "direction": "at_least", "value": 0.99}])
    d = promotion.evaluate_and_register(models, result)
    assert d.registered_version is None and d.decision == "reject"
    assert "roc_auc" in d.reason and "0.99" in d.reason
    assert not MlflowClient().search_model_versions("name='churn-classifier'")


def test_a_threshold_metric_training_never_logs_fails_before_training(proj):
    with pytest.raises(ModelingError, match=r"metric_thresholds\[1\]\.metric is 'mape'"):
        _train(proj, metric_thresholds=[{"metric": "roc_auc", "direction": "at_least", "value": 0.5},
                                        {"metric": "mape", "direction": "at_most", "value": 5}])
    assert not (proj / "runs" / "run1" / "code").exists()


def test_a_data_asset_version_that_does_not_exist(proj):
    with pytest.raises(ModelingError, match=r"churn-features:9.*no version 9 \(versions: 1\)"):
        _train(proj, training_data="churn-features:9")


def test_training_code_that_raises_is_named_with_file_and_line(proj):
    path = proj / "src" / "churn_model" / "train.py"
    path.write_text(path.read_text().replace('    """An unfitted pipeline from raw inputs to churn probability."""\n',
                                             '    """An unfitted pipeline."""\n    raise ValueError("boom")\n'))
    _git(proj, "commit", "-qam", "break training")
    with pytest.raises(ModelingError, match=r"churn_model\.train\.build_model.*ValueError: boom.*train\.py:\d+"):
        _train(proj)


def test_quality_gates_report_tests_kinds_coverage_and_lint(proj):
    code = checkout_for_run(proj, proj / "runs" / "q")
    gates = quality.start_gates(code.code_dir, proj / "runs" / "q" / "quality", ["flake8"]).result(timeout=600)
    ut = gates["unit_tests"]
    assert ut["passed"] >= 10 and not ut["failed"] and len(ut["kinds"]) == 6
    assert ut["coverage_pct"] >= 80 and (proj / "runs" / "q" / "quality" / "junit.xml").is_file()
    assert gates["code_quality"]["flake8"]["violations"] == 0
    assert quality.gate_failures(gates, 80) == []
    # a failing test and an unused import
    (proj / "tests" / "test_dataprep.py").write_text(
        (proj / "tests" / "test_dataprep.py").read_text() + "\n\ndef test_fails():\n    assert 1 == 2\n")
    score = proj / "src" / "churn_model" / "score.py"
    score.write_text(score.read_text() + "\nimport os\n")
    _git(proj, "commit", "-qam", "bad")
    code = checkout_for_run(proj, proj / "runs" / "q2")
    gates = quality.start_gates(code.code_dir, proj / "runs" / "q2" / "quality", ["flake8"]).result(timeout=600)
    problems = " ".join(quality.gate_failures(gates, 80))
    assert "test_fails" in problems and "F401" in problems


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_endpoint_serves_collects_and_a_killed_endpoint_fails_the_smoke_test_fast(proj):
    models, result = _train(proj)
    promotion.evaluate_and_register(models, result)
    X, _ = result.modules["dataprep"].split_xy(result.test)
    port = _free_port()
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", port))
    blocker.listen()
    try:
        with pytest.raises(ModelingError, match=f"port {port} on 127.0.0.1 is already in use"):
            endpoint.serve(proj, "models:/churn-classifier@champion", port, endpoint="ep", deployment="blue")
    finally:
        blocker.close()
    state = endpoint.serve(proj, "models:/churn-classifier@champion", port, endpoint="ep", deployment="blue")
    try:
        assert endpoint.status(proj)["healthy"]
        smoke = endpoint.smoke_test(state["url"], X.head(5))
        assert smoke["passed"] and smoke["status_code"] == 200, smoke
        lines = [json.loads(x) for f in (proj / "inference-log" / "ep" / "blue" / "model_inputs").rglob("*.jsonl")
                 for x in f.read_text().splitlines()]
        assert lines[-1]["correlationid"] == smoke["correlation_id"] and len(lines[-1]["data"]) == 5
        outputs = [json.loads(x) for f in (proj / "inference-log" / "ep" / "blue" / "model_outputs").rglob("*.jsonl")
                   for x in f.read_text().splitlines()]
        assert outputs[-1]["correlationid"] == smoke["correlation_id"] and len(outputs[-1]["data"]) == 5
        # a request that does not match the signature: a clear failure, not a crash
        bad = endpoint.smoke_test(state["url"], X.head(2).drop(columns=["region"]))
        assert not bad["passed"] and bad["status_code"] == 400 and "region" in bad["error"]
        # killed mid-run: the smoke test fails at once with the reason
        os.killpg(state["pid"], signal.SIGKILL)
        t0 = time.monotonic()
        dead = endpoint.smoke_test(state["url"], X.head(5), timeout=5)
        assert time.monotonic() - t0 < 6
        assert not dead["passed"] and dead["status_code"] == 0 and "no answer" in dead["error"]
        deadline = time.monotonic() + 10  # the killed process may take a moment to become a zombie
        while endpoint.status(proj)["running"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not endpoint.status(proj)["running"]
    finally:
        endpoint.stop(proj)
    assert not (proj / ".mlops-accelerator" / "endpoint.json").exists()


def test_batch_scoring_and_a_signature_mismatch(proj, tmp_path):
    models, result = _train(proj)
    promotion.evaluate_and_register(models, result)
    X, _ = result.modules["dataprep"].split_xy(result.test)
    out = endpoint.batch_score("models:/churn-classifier@champion", X, tmp_path / "predictions.csv")
    assert out["rows"] == len(X) and (tmp_path / "predictions.csv").read_text().count("\n") == len(X) + 1
    with pytest.raises(ModelingError, match="signature"):
        endpoint.batch_score("models:/churn-classifier@champion", X.drop(columns=["contract"]), tmp_path / "x.csv")


def test_responsible_ai_report(proj, tmp_path):
    models, result = _train(proj)
    X, y = result.modules["dataprep"].split_xy(result.test)
    out = rai.assess(result.model, X, y, ["fairness", "explanations", "error_analysis", "counterfactuals"],
                     ["age", "region"], "roc_auc", tmp_path, "RAI <test>")
    assert out["components"] == ["fairness", "explanations", "error_analysis"]
    assert "counterfactuals" in out["not_run"][0]
    assert set(out["fairness"]) == {"age", "region"} and len(out["fairness"]["region"]["by_group"]) >= 3
    page = (tmp_path / "rai-report.html").read_text()
    assert "RAI &lt;test&gt;" in page and "data:image/png;base64" in page
    with pytest.raises(ModelingError, match="'gender'"):
        rai.assess(result.model, X, y, ["fairness"], ["gender"], "roc_auc", tmp_path, "x")


@pytest.mark.parametrize("changes", [
    {},
    {"deployment_pattern": "realtime", "promotion_path": ["dev", "prod"],
     "online_endpoint": {"name": "other-ep", "auth_mode": "key", "rollout_strategy": "canary",
                         "deployments": [{"name": "blue", "traffic": 90}, {"name": "canary", "traffic": 10}]}},
])
def test_azure_ml_specs_and_workflows_validate(tmp_path, changes):
    from mlops_accelerator.artifacts.cicd import pipeline_plan
    from mlops_accelerator.modeling import azure_specs, workflows

    s = _settings(**changes)
    g = lambda slug: from_parameters(slug, s)  # noqa: E731
    models = g("models")
    plan = workflows.plan(models, pipeline_plan(g("design"), g("deploy"), g("foundations")), azure_specs.FOLDER)
    files = azure_specs.write_specs(tmp_path, models, [e["name"] for e in plan["environments"]], "contoso-churn",
                                    data=g("data"))
    files += workflows.write_workflows(tmp_path, plan)
    assert all(f["valid"] for f in files), [f for f in files if not f["valid"]]
    deps = {d["name"] for d in models.model_dump()["online_endpoint"]["deployments"]}
    assert {f"deployment-{d}.yml" for d in deps} <= {Path(f["path"]).name for f in files}
    cd = (tmp_path / ".github" / "workflows" / "models-cd.yml").read_text()
    assert "id-token: write" in cd and "secrets." not in cd and "environment: prod" in cd
    for env in models.promotion_path:  # a setting reaches the script as data; one endpoint per environment
        assert f"ENDPOINT: {models.online_endpoint.name}-{env}" in cd


def test_approval_is_recorded_in_the_ledger(tmp_path):
    from mlops_accelerator.modeling import approval
    from mlops_accelerator.workspace import Project

    project = Project.create(tmp_path / "p", "contoso-churn", None)
    models = from_parameters("models", _settings())
    auto = approval.decide(project, models, "churn-classifier:1", True, [])
    assert auto["approved"] and auto["ledger_event"]
    manual = from_parameters("models", _settings(model_approval="manual"))
    assert not approval.decide(project, manual, "churn-classifier:2", True, [])["approved"]
    project.record("model_approval", model="churn-classifier:2", approved=True, mode="manual", by="Ana",
                   role="product_owner", reason="reviewed")
    got = approval.decide(project, manual, "churn-classifier:2", True, [])
    assert got["approved"] and got["by"] == "Ana"


def test_cli_model_approve_and_endpoint_status(tmp_path):
    from click.testing import CliRunner

    from mlops_accelerator import ledger
    from mlops_accelerator.cli import main
    from mlops_accelerator.workspace import Project

    project = Project.create(tmp_path / "p", "contoso-churn", None)
    run = CliRunner().invoke
    bad = run(main, ["-C", str(project.root), "model", "approve", "m:1", "--by", "Ana", "--role", "tester"])
    assert bad.exit_code == 2 and "product_owner" in bad.output
    ok = run(main, ["-C", str(project.root), "model", "approve", "m:1", "--by", "Ana", "--role", "product_owner"])
    assert ok.exit_code == 0, ok.output
    events = [e for e in ledger.read(project.ledger_path) if e["type"] == "model_approval"]
    assert len(events) == 1 and events[0]["model"] == "m:1" and events[0]["by"] == "Ana"
    status = run(main, ["-C", str(project.root), "endpoint", "status"])
    assert status.exit_code == 0 and "not running" in status.output
    stop = run(main, ["-C", str(project.root), "endpoint", "stop"])
    assert stop.exit_code == 0 and "no local endpoint" in stop.output


@pytest.mark.parametrize("sampling", ["bayesian", "grid"])
def test_tuning_samples_as_the_settings_say_with_concurrent_trials(proj, sampling):
    """bayesian: optuna's TPE sampler; grid: sklearn's GridSearchCV; trials run two at a time (threads)
    as max_concurrent_trials says, and each trial is a child run with its parameters and score."""
    from mlflow.tracking import MlflowClient

    tuning = {"enabled": True, "sampling": sampling, "max_trials": 4, "max_concurrent_trials": 2,
              "early_termination": "none"}
    models, result = _train(proj, hyperparameter_tuning=tuning)
    assert result.params["sampling"] == sampling
    assert result.params["concurrent_trials"] == str(training.concurrent_trials(models.hyperparameter_tuning))
    assert len(result.trials) == 4 and len({tuple(sorted(t["params"].items())) for t in result.trials}) >= 2
    best = max(result.trials, key=lambda t: t["validation_score"])
    space = result.modules["train"].SEARCH_SPACE
    assert {k: str(v) for k, v in best["params"].items()}.keys() == space.keys()
    run = MlflowClient().get_run(result.run_id)
    for name, value in best["params"].items():  # the final model uses the best trial's values
        assert run.data.params[name] == str(value)
    children = MlflowClient().search_runs([run.info.experiment_id],
                                          filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'")
    assert len(children) == 4
    assert {c.data.tags["trial"] for c in children} == {str(t["trial"]) for t in result.trials}
    assert all("validation_roc_auc" in c.data.metrics for c in children)


def test_a_bayesian_trial_that_raises_is_named(proj):
    path = proj / "src" / "churn_model" / "train.py"
    path.write_text(path.read_text().replace("[0.01, 0.03, 0.1, 0.3, 1.0, 3.0]", "[-1.0]"))
    _git(proj, "commit", "-qam", "a value LogisticRegression refuses")
    tuning = {"enabled": True, "sampling": "bayesian", "max_trials": 2, "max_concurrent_trials": 1,
              "early_termination": "none"}
    with pytest.raises(ModelingError, match=r"churn_model\.train\.build_model \(search\): InvalidParameterError.*'C'"):
        _train(proj, hyperparameter_tuning=tuning)


def test_the_collector_records_before_the_caller_has_its_whole_answer():
    """MLflow's scoring app sits behind a middleware that streams: the whole body (Content-Length)
    first, then an empty last chunk. The caller can read its answer after the first chunk, so the
    record is written then, not after the empty chunk (a test reading the log raced it)."""
    import asyncio

    from mlops_accelerator.modeling.collector_app import CollectorMiddleware

    answer = json.dumps({"predictions": [1, 0]}).encode()
    events: list[str] = []

    async def app(scope, receive, send):
        await receive()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(answer)).encode())]})
        await send({"type": "http.response.body", "body": answer, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    class Collector:
        def record(self, cid, inputs, outputs):
            events.append(f"record {cid} {len(inputs)} {outputs}")

    async def receive():
        body = json.dumps({"dataframe_split": {"columns": ["a"], "data": [[1], [2]]}}).encode()
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        events.append(f"send {message['type']} {len(message.get('body', b''))}")

    scope = {"type": "http", "path": "/invocations", "headers": [(b"x-request-id", b"c-1")]}
    asyncio.run(CollectorMiddleware(app, Collector())(scope, receive, send))
    assert events == ["send http.response.start 0", "record c-1 2 [1, 0]", f"send http.response.body {len(answer)}",
                      "send http.response.body 0"]
