"""Stage 7 codemod: one test per SDK v1 -> v2 mapping row (input snippet -> expected output), plus
what it leaves, what it cannot parse, idempotence and the original left untouched."""

import hashlib
import textwrap

import pytest

from mlops_accelerator.migration.codemod import add_mlflow, migrate_source, migrate_tree
from mlops_accelerator.migration.mapping import ROWS, mapping_markdown


def _migrate(code):
    return migrate_source(textwrap.dedent(code).lstrip("\n"))


def _same(result, expected):
    assert result.code == textwrap.dedent(expected).lstrip("\n"), result.code


def test_workspace_from_config_becomes_mlclient_with_telemetry_off():
    r = _migrate("""
        from azureml.core import Workspace

        ws = Workspace.from_config()  # config.json from the portal
        """)
    _same(r, """
        from azure.ai.ml import MLClient
        from azure.identity import DefaultAzureCredential

        ws = MLClient.from_config(credential=DefaultAzureCredential(), enable_telemetry=False)  # config.json from the portal
        """)  # noqa: E501
    assert [c.row for c in r.converted] == ["workspace"] and not r.left


def test_workspace_constructor_names_its_arguments_as_v2_does():
    r = _migrate("""
        from azureml.core import Workspace
        ws = Workspace(subscription_id=sub, resource_group="rg-ml", workspace_name="mlw")
        """)
    _same(r, """
        from azure.ai.ml import MLClient
        from azure.identity import DefaultAzureCredential

        ws = MLClient(credential=DefaultAzureCredential(), subscription_id=sub, resource_group_name="rg-ml", workspace_name="mlw", enable_telemetry=False)
        """)  # noqa: E501


def test_authentication_classes_become_azure_identity_credentials():
    r = _migrate("""
        from azureml.core import Workspace
        from azureml.core.authentication import ServicePrincipalAuthentication

        auth = ServicePrincipalAuthentication(tenant_id=t, service_principal_id=c, service_principal_password=s)
        ws = Workspace.from_config(auth=auth)
        """)
    _same(r, """
        from azure.ai.ml import MLClient
        from azure.identity import ClientSecretCredential

        auth = ClientSecretCredential(tenant_id=t, client_id=c, client_secret=s)
        ws = MLClient.from_config(credential=auth, enable_telemetry=False)
        """)
    assert {c.row for c in r.converted} == {"authentication", "workspace"}


def test_run_logging_becomes_mlflow_and_the_run_context_goes():
    r = _migrate("""
        from azureml.core import Run

        run = Run.get_context()
        run.log("accuracy", acc)  # of record
        run.log("loss", loss, description="train", step=3)
        run.tag("algorithm", "gbm")
        run.complete()
        """)
    _same(r, """
        import mlflow

        mlflow.log_metric("accuracy", acc)  # of record
        mlflow.log_metric("loss", loss, step=3)
        mlflow.set_tag("algorithm", "gbm")
        """)
    assert {c.row for c in r.converted} == {"run-logging"} and not r.left


def test_run_methods_without_an_mlflow_equivalent_are_left_with_the_reason():
    r = _migrate("""
        from azureml.core import Run
        run = Run.get_context()
        run.log("accuracy", acc)
        run.log_list("importances", values)
        """)
    assert "mlflow.log_metric(\"accuracy\", acc)" in r.code
    assert "run = Run.get_context()" in r.code and "from azureml.core import Run" in r.code
    left = {x["api"]: x for x in r.left}
    assert left["Run.log_list"]["row"] == "run-logging"
    assert "step=i" in left["Run.log_list"]["reason"]
    assert left["Run.log_list"]["link"] == "sdk-v1-to-v2-mapping.md#run-logging"
    # lines of what is left are lines of the migrated copy, where the person fixes them
    assert r.code.splitlines()[left["Run.log_list"]["line"] - 1] == 'run.log_list("importances", values)'


def test_script_run_config_and_submit_become_a_command_job():
    r = _migrate("""
        from azureml.core import Experiment, ScriptRunConfig, Workspace

        ws = Workspace.from_config()
        src = ScriptRunConfig(source_directory="src", script="train.py", arguments=["--lr", 0.1],
                              compute_target="cpu-cluster", environment=env)
        exp = Experiment(workspace=ws, name="churn")
        run = exp.submit(src)
        run.wait_for_completion(show_output=True)
        """)
    _same(r, """
        from azure.ai.ml import MLClient, command
        from azure.identity import DefaultAzureCredential

        ws = MLClient.from_config(credential=DefaultAzureCredential(), enable_telemetry=False)
        src = command(code="src", command="python train.py --lr 0.1", compute="cpu-cluster", environment=env)
        exp = "churn"
        run = ws.jobs.create_or_update(src, experiment_name=exp)
        ws.jobs.stream(run.name)
        """)
    assert {c.row for c in r.converted} == {"workspace", "command-job"}


def test_script_run_config_with_a_dataset_argument_is_left_for_a_person():
    r = _migrate("""
        from azureml.core import ScriptRunConfig
        src = ScriptRunConfig(source_directory="src", script="train.py", arguments=["--data", ds.as_named_input("d")])
        """)
    assert "ScriptRunConfig(" in r.code
    assert r.left[0]["api"] == "ScriptRunConfig" and r.left[0]["row"] == "command-job"
    assert "job inputs by hand" in r.left[0]["reason"]


def test_environment_from_conda_becomes_an_environment_asset():
    r = _migrate("""
        from azureml.core import Environment
        env = Environment.from_conda_specification(name="train-env", file_path="environment.yml")
        """)
    _same(r, """
        from azure.ai.ml.entities import Environment

        env = Environment(name="train-env", conda_file="environment.yml", image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest")
        """)  # noqa: E501


def test_dataset_in_a_job_becomes_the_job_input_path():
    r = _migrate("""
        from azureml.core import Dataset, Run

        run = Run.get_context()
        ws = run.experiment.workspace
        dataset = Dataset.get_by_name(ws, name="churn-training", version="1")
        df = dataset.to_pandas_dataframe()
        """)
    _same(r, """
        import os
        import pandas as pd

        dataset = os.environ["AZURE_ML_INPUT_churn_training"]
        df = pd.read_csv(dataset)
        """)
    assert r.inputs == {"churn-training": "churn_training"}


def test_named_input_dataset_in_a_job_becomes_the_job_input_path():
    r = _migrate("""
        import pandas as pandas_lib
        from azureml.core import Run
        run = Run.get_context()
        ds = run.input_datasets["train data"]
        df = ds.to_pandas_dataframe()
        """)
    assert 'ds = os.environ["AZURE_ML_INPUT_train_data"]' in r.code
    assert "df = pandas_lib.read_csv(ds)" in r.code and "import pandas as pd" not in r.code
    assert "azureml" not in r.code and r.inputs == {"train data": "train_data"}


def test_dataset_outside_a_job_becomes_a_data_asset_lookup():
    r = _migrate("""
        from azureml.core import Dataset
        ds = Dataset.get_by_name(ws, name="churn-training")
        """)
    _same(r, """
        ds = ws.data.get(name="churn-training", label="latest")
        """)


def test_model_register_becomes_models_create_or_update():
    r = _migrate("""
        from azureml.core import Model
        model = Model.register(workspace=ws, model_path="outputs/model.pkl", model_name="churn-model",
                               tags={"accuracy": "0.88"})
        """)
    _same(r, """
        from azure.ai.ml.entities import Model

        model = ws.models.create_or_update(Model(path="outputs/model.pkl", name="churn-model", type="custom_model", tags={"accuracy": "0.88"}))
        """)  # noqa: E501


def test_run_register_model_registers_the_job_output():
    r = _migrate("""
        from azureml.core import Experiment
        exp = Experiment(ws, "churn")
        run = exp.submit(src)
        model = run.register_model(model_name="churn-model", model_path="outputs/model.pkl")
        """)
    assert ('model = ws.models.create_or_update(Model(path=f"azureml://jobs/{run.name}/outputs/artifacts/paths/'
            'outputs/model.pkl", name="churn-model", type="custom_model"))') in r.code
    assert not r.left


def test_compute_target_becomes_its_name():
    r = _migrate("""
        from azureml.core.compute import ComputeTarget
        cluster = ComputeTarget(workspace=ws, name="cpu-cluster")
        """)
    _same(r, """
        cluster = "cpu-cluster"
        """)


def test_python_script_step_becomes_a_command_node_and_the_pipeline_is_left():
    r = _migrate("""
        from azureml.pipeline.core import Pipeline
        from azureml.pipeline.steps import PythonScriptStep
        prep = PythonScriptStep(name="prep", script_name="prep.py", source_directory="src", compute_target="cpu")
        pipeline = Pipeline(workspace=ws, steps=[prep])
        """)
    assert 'prep = command(name="prep", code="src", command="python prep.py", compute="cpu")' in r.code
    assert [x["api"] for x in r.left] == ["Pipeline"]
    assert "@dsl.pipeline" in r.left[0]["reason"] and r.left[0]["link"].endswith("#pipeline")


@pytest.mark.parametrize("snippet, api, row", [
    ("from azureml.pipeline.steps import ParallelRunStep\nstep = ParallelRunStep(name='score')\n",
     "ParallelRunStep", "parallel"),
    ("from azureml.train.hyperdrive import HyperDriveConfig\nhd = HyperDriveConfig(run_config=src)\n",
     "HyperDriveConfig", "sweep-automl"),
    ("from azureml.core.webservice import AciWebservice\ncfg = AciWebservice.deploy_configuration(cpu_cores=1)\n",
     "AciWebservice.deploy_configuration", "deployment"),
])
def test_manual_rows_are_listed_with_reason_and_link(snippet, api, row):
    r = migrate_source(snippet)
    assert r.code == snippet  # nothing to rewrite mechanically
    assert [x["api"] for x in r.left] == [api]
    assert r.left[0]["row"] == row and r.left[0]["reason"] and r.left[0]["link"] == f"sdk-v1-to-v2-mapping.md#{row}"


def test_every_mapping_row_has_a_reason_and_an_anchor():
    doc = mapping_markdown()
    for row in ROWS:
        assert row.reason, row.id
        assert f'<a id="{row.id}"></a>' in doc


def test_code_without_sdk_v1_is_returned_byte_for_byte():
    code = "import pandas as pd\n\n\ndef f( x ):  # odd spacing kept\n    return x\n"
    assert migrate_source(code).code == code


def test_plain_script_gets_mlflow_around_its_entry_point_only():
    code = textwrap.dedent("""
        import sys


        def main():
            print("accuracy", 0.9)


        if __name__ == "__main__":
            main()
        """).lstrip()
    out = add_mlflow(code)
    assert out.startswith("import sys\nimport mlflow\n")
    assert 'if __name__ == "__main__":\n    mlflow.autolog()\n    with mlflow.start_run():\n        main()\n' in out
    assert 'def main():\n    print("accuracy", 0.9)\n' in out  # logic untouched
    assert add_mlflow(out) == out  # idempotent


def _tree(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def legacy(tmp_path):
    root = tmp_path / "legacy"
    (root / "src").mkdir(parents=True)
    (root / "src" / "train.py").write_text(
        "from azureml.core import Run\n\nrun = Run.get_context()\nrun.log('accuracy', 0.9)\n")
    (root / "old.py").write_text('print "python 2"\n')
    (root / "broken.py").write_text("def f(:\n")
    (root / "plain.py").write_text("x = 1\n")
    return root


def test_tree_migration_never_touches_the_source_and_is_idempotent(legacy, tmp_path):
    before = _tree(legacy)
    first = migrate_tree(legacy, tmp_path / "out1", ["plain.py"])
    second = migrate_tree(legacy, tmp_path / "out2", ["plain.py"])
    again = migrate_tree(legacy, tmp_path / "out1", ["plain.py"])  # over its own previous output
    assert _tree(legacy) == before
    assert _tree(tmp_path / "out1") == _tree(tmp_path / "out2")
    assert first["diff"] == second["diff"] == again["diff"]
    assert "+mlflow.log_metric('accuracy', 0.9)" in first["diff"]
    assert "--- a/src/train.py" in first["diff"] and "+++ b/src/train.py" in first["diff"]
    # the migrated output migrates to itself
    code = (tmp_path / "out1" / "src" / "train.py").read_text()
    assert migrate_source(code).code == code


def test_unparseable_files_get_a_message_each_and_the_rest_goes_on(legacy, tmp_path):
    res = migrate_tree(legacy, tmp_path / "out")
    bad = {u["file"]: u["error"] for u in res["unparseable"]}
    assert set(bad) == {"old.py", "broken.py"}
    assert bad["old.py"].startswith("line 1")
    assert (tmp_path / "out" / "src" / "train.py").read_text().startswith("import mlflow")
    assert (tmp_path / "out" / "old.py").read_text() == 'print "python 2"\n'  # copied as it was


def test_the_migrated_copy_cannot_go_inside_the_source(legacy):
    before = _tree(legacy)
    with pytest.raises(ValueError, match="must not go into the source"):
        migrate_tree(legacy, legacy / "migrated")
    with pytest.raises(ValueError):
        migrate_tree(legacy, legacy)
    assert _tree(legacy) == before


def test_inventory_of_a_git_clone_records_its_commit_and_goes_on_past_bad_files(legacy):
    import subprocess

    from mlops_accelerator.migration.inventory import scan

    git = ["git", "-C", str(legacy), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(legacy)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "legacy"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    inv = scan(legacy)
    assert inv["git_commit"] == head
    assert not any(f["path"].startswith(".git/") for f in inv["files"])
    assert {u["file"] for u in inv["unparseable"]} == {"old.py", "broken.py"}
    assert "Python 2" in next(u["error"] for u in inv["unparseable"] if u["file"] == "old.py")
    assert [(u["file"], u["line"], u["api"]) for u in inv["sdk_v1"]] == [
        ("src/train.py", 3, "Run.get_context"), ("src/train.py", 4, "Run.log")]


def test_hostile_names_and_arguments_stay_data():
    import ast
    import shlex

    r = _migrate("""
        from azureml.core import Dataset, Run, ScriptRunConfig
        run = Run.get_context()
        ds = Dataset.get_by_name(ws, name='x"]; import os; os.system("id") #')
        src = ScriptRunConfig(source_directory="src", script="train.py", arguments=["--note", "a'b $(id) \\"q\\""])
        """)
    tree = ast.parse(r.code)  # still Python
    assert "os.system" not in [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    assert list(r.inputs.values()) == ["x____import_os__os_system__id____"]
    [command] = [ast.literal_eval(k.value) for k in ast.walk(tree) if isinstance(k, ast.keyword) and k.arg == "command"]
    assert shlex.split(command) == ["python", "train.py", "--note", "a'b $(id) \"q\""]


def _fake_key():
    import base64
    import random

    return base64.b64encode(random.Random(3).randbytes(64)).decode()  # shaped like a storage key, not one


def test_code_scan_finds_secrets_names_and_data_paths_but_not_configuration(tmp_path):
    from mlops_accelerator.migration.scan import scan

    src = tmp_path / "src"
    (src / "configuration").mkdir(parents=True)
    (src / "train.py").write_text(
        'import pandas as pd\n'
        'df = pd.read_csv("/mnt/share/churn.csv")\n'
        'MODEL = "churn-model"\n'
        'key = "DefaultEndpointsProtocol=https;AccountName=st;AccountKey=' + _fake_key() + '"\n'
        'out = "outputs/model.pkl"\n')
    (src / "configuration" / "names.py").write_text('MODEL = "churn-model"\n')
    res = scan(tmp_path, "src", {"churn-model"})
    assert res["scanned_files"] == 1
    assert {(x["line"], x["literal"]) for x in res["hardcoded_names"]} == {(2, "/mnt/share/churn.csv"),
                                                                            (3, "churn-model")}
    assert [x["line"] for x in res["secrets"]] and all(x["file"] == "src/train.py" for x in res["secrets"])
