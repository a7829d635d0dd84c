"""Stage 7 end to end on the sample's legacy SDK v1 project: inventory, command job, parity, cut-over,
checks - and a deliberately broken migration that parity catches."""

import hashlib
import os

import pytest

from mlops_accelerator.artifacts.azureml_specs import as_settings
from mlops_accelerator.checks import CheckContext, run_check
from mlops_accelerator.migration import cutover, inventory, parity, steps
from mlops_accelerator.sample import lay_out_legacy_project, sample_settings

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")


def _hashes(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    project = tmp_path_factory.mktemp("project")
    legacy = lay_out_legacy_project(project)
    settings = as_settings("migrate", sample_settings()["migrate"])
    return project, legacy, settings, _hashes(legacy)


@pytest.fixture(scope="module")
def migrated(sample):
    project, legacy, settings, _ = sample
    out = project / "out"
    out.mkdir()
    inv = steps.run_inventory(settings, project, out)
    rewrite = steps.run_rewrite(settings, inv, out)
    return out, inv, rewrite


def test_inventory_finds_every_kind_of_fact_with_file_and_line(migrated):
    out, inv, _ = migrated
    uses = {(u["file"], u["line"], u["api"]) for u in inv["sdk_v1"]}
    assert ("src/train.py", 26, "Run.get_context") in uses
    assert ("src/train.py", 29, "Dataset.get_by_name") in uses
    assert ("src/train.py", 39, "Run.log") in uses
    assert ("submit_training.py", 12, "ScriptRunConfig") in uses
    assert ("submit_training.py", 26, "Run.register_model") in uses
    assert ("deploy_aci.py", 12, "Model.deploy") in uses
    entry = {e["path"]: e["kind"] for e in inv["entry_points"]}
    assert entry["notebooks/explore-churn.ipynb"] == "notebook"
    assert "__main__" in entry["src/train.py"] and "ScriptRunConfig in submit_training.py:12" in entry["src/train.py"]
    reads = {(d["file"], d["how"]) for d in inv["data_reads"]}
    assert ("notebooks/explore-churn.ipynb", "pd.read_csv") in reads
    assert ("src/train.py", "Dataset.get_by_name") in reads
    assert {m["how"] for m in inv["metrics"]} >= {"Run.log", "print"}
    assert {"sklearn", "joblib", "pandas"} <= set(inv["dependencies"]["imported"])
    assert {"azureml-core", "scikit-learn"} <= {d["name"] for d in inv["dependencies"]["declared"]}
    assert inv["datasets"][0]["name"] == "churn-training"
    [bad] = inv["unparseable"]
    assert bad["file"] == "scripts/monthly_report.py" and "Python 2" in bad["error"]
    md, html = (out / "inventory.md").read_text(), (out / "inventory.html").read_text()
    assert "src/train.py:29" in md and "sdk-v1-to-v2-mapping.md#data" in md
    assert "src/train.py:29" in html and "<table>" in html


def test_rewrite_converts_the_sample_and_lists_the_deployment_for_a_person(migrated, sample):
    out, _, rewrite = migrated
    train = (out / "migrated" / "src" / "train.py").read_text()
    assert "azureml" not in train and 'os.environ["AZURE_ML_INPUT_churn_training"]' in train
    assert 'mlflow.log_metric("accuracy"' in train
    assert "# The training data as registered by the data team" in train  # comments survive
    left = {(x["file"], x["api"]) for x in rewrite["left"]}
    assert ("deploy_aci.py", "Model.deploy") in left and ("score.py", "Model.get_model_path") in left
    assert all(x["reason"] and x["row"] for x in rewrite["left"])
    assert (out / "migrated" / "notebooks" / "explore-churn.py").read_text().count("mlflow.start_run()") == 1
    assert "+++ b/src/train.py" in (out / "migration.diff").read_text()
    assert _hashes(sample[1]) == sample[3]  # the legacy project is untouched


def test_command_job_loads_with_azure_ai_ml(migrated, sample):
    from azure.ai.ml import load_job

    project, _, settings, _ = sample
    out, inv, rewrite = migrated
    job = steps.run_packaging(settings, inv, rewrite, project, out, "contoso-churn", "3.11")
    assert job["loads"], job["problems"]
    loaded = load_job(out / "azureml" / "job.yml")
    assert loaded.command == "python train.py --learning-rate 0.1 --n-estimators 100"
    assert loaded.compute == "cpu-cluster" and loaded.experiment_name == "churn-training"
    assert (out / "azureml" / loaded.code).resolve() == (out / "migrated" / "src").resolve()
    assert job["inputs"][0]["data_asset"] is None  # no stage-4 run in this project
    conda = (out / "azureml" / "conda.yml").read_text()
    assert "azureml-core" not in conda and "mlflow" in conda and "scikit-learn" in conda


def test_inputs_map_to_a_matching_stage4_data_asset(migrated, sample, tmp_path):
    from azure.ai.ml import load_job

    from mlops_accelerator.migration.packaging import write_job

    _, _, settings, _ = sample
    out, inv, rewrite = migrated
    asset = {"name": "training-data", "version": "3", "type": "uri_file",
             "path": "azureml://datastores/silver/paths/training-data/3/churn.csv"}
    job = write_job(tmp_path, out / "migrated", inv, rewrite["inputs"], local_data={}, legacy_root=inv["source"],
                    stage4_assets=[asset], configured_dataset="training-data", default_compute="c",
                    default_experiment="e")
    assert job["inputs"] == [{"dataset": "churn-training", "input": "churn_training",
                              "data_asset": "training-data:3", "path": "azureml:training-data:3"}]
    assert "path: azureml:training-data:3" in (tmp_path / "job.yml").read_text()
    assert job["loads"], job["problems"]
    assert load_job(tmp_path / "job.yml").inputs["churn_training"].path.endswith("training-data:3")


def test_parity_holds_on_the_sample_and_both_runs_are_in_mlflow(sample, tmp_path):
    from mlflow.tracking import MlflowClient

    project, legacy, settings, before = sample
    inv = inventory.scan(settings.migration_source, project)
    result = steps.run_parity(settings, inv, project, tmp_path, "contoso-churn")
    assert result["passed"], result
    assert set(result["metrics"]) == {"accuracy", "auc", "f1"}
    assert result["metrics"]["accuracy"]["legacy"] == result["metrics"]["accuracy"]["migrated"]
    assert result["predictions"]["agreeing"] == result["predictions"]["sample_rows"] == 100
    client = MlflowClient(result["tracking_uri"])
    runs = {s: client.get_run(r["mlflow_run_id"]) for s, r in result["sides"].items()}
    assert runs["legacy"].data.tags["mlops.side"] == "legacy" and runs["migrated"].data.metrics["auc"] > 0.5
    assert "PASSED" in (tmp_path / "parity.md").read_text()
    model = parity.register_migrated_model(result, "churn-model", "accuracy")
    assert model["tags"]["accuracy"] == f"{result['metrics']['accuracy']['migrated']:.6g}"
    plan = cutover.plan(settings.cutover_plan, result, sample_settings()["foundations"]["team_roster"],
                        settings.parity_tolerance)
    assert plan["blocked_by"] == []
    s708 = next(s for s in plan["signoffs"] if s["item"] == "S7-08")
    assert "Priya Nair" in s708["people"] and "Tom Becker" in s708["people"]
    assert _hashes(legacy) == before


def test_a_broken_migration_fails_parity_and_blocks_the_cutover_naming_the_metric(sample, tmp_path):
    project, legacy, settings, before = sample
    inv = inventory.scan(settings.migration_source, project)
    from mlops_accelerator.migration.codemod import migrate_tree

    res = migrate_tree(inv["source"], tmp_path / "migrated")
    train = tmp_path / "migrated" / "src" / "train.py"
    code = train.read_text()
    assert "learning_rate=args.learning_rate," in code
    train.write_text(code.replace("learning_rate=args.learning_rate,", "learning_rate=args.learning_rate * 8,"))
    result = parity.run_parity(
        legacy_root=legacy, migrated_root=tmp_path / "migrated", work_dir=tmp_path / "runs",
        entry_point="src/train.py", arguments=["--learning-rate", "0.1", "--n-estimators", "100"],
        data={"churn-training": "data/churn.csv"}, inputs=res["inputs"], model_file="outputs/model.pkl",
        label_column="churned", sample_rows=100, tolerance=settings.parity_tolerance, project_dir=project,
        experiment="broken-parity")
    assert not result["passed"] and result["differing"]
    metric = result["differing"][0]
    plan = cutover.plan(settings.cutover_plan, result, [], settings.parity_tolerance)
    switch = next(s for s in plan["steps"] if s["step"].startswith("Switch"))
    assert switch["status"].startswith("blocked") and f"{metric}: migrated" in switch["status"]
    assert f"{metric}: migrated" in cutover.report(plan).markdown()
    # The S7-07 check reads the same evidence the notebook records and names the metric.
    (tmp_path / "parity.html").write_text("report")
    ev = {"parity": steps.parity_evidence(result), "artifacts": {"parity_report": "parity.html"}}
    if settings.parity_tolerance.metric not in result["differing"]:
        ev["parity"]["metrics"] = {m: ev["parity"]["metrics"][m] for m in ["accuracy", metric]}
    ctx = CheckContext(settings={"migrate": settings, "models": None}, evidence={"migrate": ev},
                       project_dir=tmp_path)
    check = run_check("S7-07", ctx)
    assert not check.passed and not check.pending
    assert check.reason.startswith(metric) or metric in check.reason, check.reason
    # As the parity notebook records it: the training ran, the model was not registered, and why.
    ev["training_pipeline"] = {"status": "succeeded", "where": "local", "model": {},
                               "not_registered": "parity failed: " + "; ".join(plan["blocked_by"])}
    s703 = run_check("S7-03", ctx)
    assert not s703.passed and "not registered" in s703.reason and f"{metric}: migrated" in s703.reason
    assert _hashes(legacy) == before


def test_stage7_runs_through_the_runner_on_the_sample(tmp_path):
    from mlops_accelerator.deliverables import run_checks, sign_off, statuses
    from mlops_accelerator.errors import UsageError
    from mlops_accelerator.runner import run_stages
    from mlops_accelerator.workspace import Project

    settings = sample_settings()
    project = Project.create(tmp_path / "p", "contoso-churn", settings)
    lay_out_legacy_project(project.root)
    # No cut-over approval before parity is proven: refused, naming S7-07, nothing recorded.
    with pytest.raises(UsageError, match=r"S7-08 can be signed off only once S7-07 is done; now S7-07 is todo"):
        sign_off(project, "S7-08", "Priya Nair", "product_owner")
    assert not list(project.events("signoff"))
    result = run_stages(project, ["migrate"], jobs=2, timeout=300)
    assert result.status == "succeeded", [(n.key, n.error) for n in result.notebooks]
    run_checks(project, [7])
    state = {s.id: s for s in statuses(project)}
    assert state["S7-07"].state == "done", state["S7-07"].reason
    sign_off(project, "S7-08", "Priya Nair", "product_owner")  # parity proven: the approval is accepted
    assert {s.id: s for s in statuses(project)}["S7-08"].state == "done"
    assert state["S7-03"].state == "done", state["S7-03"].reason
    assert state["S7-06"].state == "awaiting_signoff", state["S7-06"].reason
    for item in ("S7-01", "S7-02", "S7-04", "S7-05"):
        assert state[item].state == "todo" and state[item].reason.startswith("needs Azure"), state[item].reason


def test_bad_sources_and_paths_are_refused_with_the_field_named(tmp_path):
    from pydantic import ValidationError

    from mlops_accelerator.migration.inventory import SourceError, resolve_source
    from mlops_accelerator.settings.migrate import ParityRun

    with pytest.raises(SourceError, match="migration_source: 'https://github.com/x/y.git' is a remote"):
        resolve_source("https://github.com/x/y.git", tmp_path)
    with pytest.raises(SourceError, match="migration_source: 'nope' is not a folder"):
        resolve_source("nope", tmp_path)
    for bad in ("../outside.py", "/etc/passwd", "src/../../x.py"):
        with pytest.raises(ValidationError) as info:
            ParityRun(entry_point=bad)
        assert info.value.errors()[0]["type"] == "relative_path_inside_source"


def test_a_legacy_script_using_what_the_shim_does_not_replay_fails_its_side_with_the_api_named(tmp_path):
    from mlops_accelerator.settings.migrate import ParityTolerance

    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "data.csv").write_text("x,label\n1,0\n2,1\n")
    (legacy / "train.py").write_text("from azureml.core import Run\nrun = Run.get_context()\n"
                                     "run.log('accuracy', 0.5)\nprint(run.get_details())\n")
    migrated = tmp_path / "migrated"
    migrated.mkdir()
    (migrated / "train.py").write_text("import mlflow\nmlflow.log_metric('accuracy', 0.5)\n")
    result = parity.run_parity(
        legacy_root=legacy, migrated_root=migrated, work_dir=tmp_path / "runs", entry_point="train.py",
        arguments=[], data={"d": "data.csv"}, inputs={"d": "d"}, model_file="model.pkl", label_column="label",
        sample_rows=2, tolerance=ParityTolerance(), project_dir=tmp_path, experiment="shim")
    legacy_side = result["sides"]["legacy"]
    assert legacy_side["status"] == "failed" and "Run.get_details is not replayed" in legacy_side["stderr"]
    assert legacy_side["metrics"] == {"accuracy": 0.5}  # what it logged before failing is kept
    assert not result["passed"]
    plan = cutover.plan(as_settings("migrate", {}).cutover_plan, result, [], ParityTolerance())
    assert "the legacy training run failed" in plan["blocked_by"]


def test_a_v1_pipeline_becomes_a_pipeline_job_that_loads(tmp_path):
    from azure.ai.ml import load_job

    from mlops_accelerator.migration.codemod import migrate_tree
    from mlops_accelerator.migration.packaging import write_pipeline

    legacy = tmp_path / "legacy"
    (legacy / "steps").mkdir(parents=True)
    (legacy / "steps" / "prep.py").write_text("print('prep')\n")
    (legacy / "steps" / "train.py").write_text("print('train')\n")
    (legacy / "requirements.txt").write_text("azureml-core\nscikit-learn==1.5.0\n")
    (legacy / "pipeline.py").write_text(
        "from azureml.pipeline.core import Pipeline\n"
        "from azureml.pipeline.steps import PythonScriptStep\n"
        "prep = PythonScriptStep(name='Prep data', script_name='prep.py', source_directory='steps', "
        "compute_target='cpu')\n"
        "train = PythonScriptStep(name='train', script_name='train.py', arguments=['--lr', 0.05], "
        "source_directory='steps')\n"
        "pipeline = Pipeline(workspace=ws, steps=[prep, train])\n")
    inv = inventory.scan(legacy)
    assert [s["config"]["name"] for s in inv["steps"]] == ["Prep data", "train"]
    migrate_tree(legacy, tmp_path / "migrated")
    res = write_pipeline(tmp_path / "azureml", tmp_path / "migrated", inv, default_compute="cpu-cluster",
                         default_experiment="exp", name="training-pipeline")
    assert res["loads"], res["problems"]
    assert res["steps"] == [{"name": "prep_data", "command": "python prep.py"},
                            {"name": "train", "command": "python train.py --lr 0.05"}]
    loaded = load_job(tmp_path / "azureml" / "pipeline.yml")
    assert list(loaded.jobs) == ["prep_data", "train"] and loaded.compute == "cpu-cluster"
    assert loaded.jobs["prep_data"].compute == "cpu"
    conda = (tmp_path / "azureml" / "conda.yml").read_text()
    assert "scikit-learn==1.5.0" in conda and "azureml-core" not in conda


def test_the_checks_say_needs_azure_for_exactly_the_keys_the_evidence_model_marks_from_azure():
    from mlops_accelerator.checks.migrate import _FROM_AZURE
    from mlops_accelerator.evidence.models import MigrateEvidence

    assert set(_FROM_AZURE) == MigrateEvidence.fields_from_azure()
