"""Stage 5's Azure ML training pipeline (issue 11 item 7): one command component per settings step,
built with azure-ai-ml's dsl, loaded back with its loaders, and each component's own command run here,
in order, on the sample's data asset (Azure ML itself is unreachable: the deploy step says so).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from job_sandbox import conda_pins, sandbox_env
from test_stage5_models import _git, _settings, base, proj  # noqa: F401  (fixtures)

from mlops_accelerator.modeling import ModelingError, azure_specs
from mlops_accelerator.settings.parameters import from_parameters


def _specs(root: Path, **changes) -> tuple[object, list[dict]]:
    s = _settings(**changes)
    models, data = from_parameters("models", s), from_parameters("data", s)
    return models, azure_specs.write_specs(root, models, ["dev", "prod"], "contoso-churn", data=data, code_dir=root)


def test_the_pipeline_has_the_settings_steps_and_loads_back(tmp_path):
    from azure.ai.ml import load_component, load_job

    models, files = _specs(tmp_path)
    assert [f for f in files if not f["valid"]] == []
    specs = tmp_path / azure_specs.FOLDER
    job = load_job(specs / "train-pipeline.yml")
    assert job.type == "pipeline" and set(job.jobs) == {"dataprep", "train", "evaluate", "register", "deploy"}
    assert not (specs / "train-job.yml").exists()  # the single command job is for other training methods
    wiring = {name: node._to_dict()["inputs"] for name, node in job.jobs.items()}
    assert wiring["train"]["prepared"]["path"] == "${{parent.jobs.dataprep.outputs.prepared}}"
    assert wiring["evaluate"]["model"]["path"] == "${{parent.jobs.train.outputs.model}}"
    assert wiring["register"]["evaluation"]["path"] == "${{parent.jobs.evaluate.outputs.evaluation}}"
    assert wiring["deploy"]["registration"]["path"] == "${{parent.jobs.register.outputs.registration}}"
    assert job.inputs["data"].path.endswith("churn-features:1") and job.compute.endswith("cpu-cluster")
    assert list(job.outputs) == ["registration"]  # the register step's verdict, which CD downloads
    for step in job.jobs:
        component = load_component(specs / "components" / f"{step}.yml")
        assert component.command.startswith(f"PYTHONPATH=azureml-models/runtime python -m "
                                            f"mlops_accelerator.modeling.steps {step} ")
        assert "churn" not in component.command  # settings arrive as a parameter file, not in the command
    settings = json.loads((specs / "settings.json").read_text())
    assert settings["models"]["model_registration"]["name"] == "churn-classifier"


def test_steps_follow_the_settings_and_a_broken_chain_is_named(tmp_path):
    from azure.ai.ml import load_job

    _models, files = _specs(tmp_path, pipeline_steps=["update_data", "dataprep", "train", "evaluate"])
    assert all(f["valid"] for f in files)
    assert set(load_job(tmp_path / azure_specs.FOLDER / "train-pipeline.yml").jobs) == {"dataprep", "train",
                                                                                         "evaluate"}
    with pytest.raises(ModelingError, match=r"'register' needs 'evaluate'"):
        _specs(tmp_path / "b", pipeline_steps=["dataprep", "train", "register"])
    assert not (tmp_path / "b").exists()  # refused before anything is written
    _models, files = _specs(tmp_path / "c", training_method="command_job")
    assert (tmp_path / "c" / azure_specs.FOLDER / "train-job.yml").is_file() and all(f["valid"] for f in files)


def _run_component(step: str, specs: Path, ports: dict[str, Path | str], cwd: Path,
                   env: dict) -> subprocess.CompletedProcess:
    """The component's own command, with its ports filled, run in the project (the job's code snapshot)
    with only what the job's environment installs (job_sandbox): the installed accelerator is not
    importable, the runtime the specs ship is."""
    from azure.ai.ml import load_component

    command = load_component(specs / "components" / f"{step}.yml").command
    filled = re.sub(r"\$\{\{(inputs|outputs)\.(\w+)\}\}", lambda m: shlex.quote(str(ports[m.group(2)])), command)
    return subprocess.run(["bash", "-c", filled], cwd=cwd, env=_job_env(specs, cwd, env), capture_output=True,
                          text=True, timeout=600)


def _job_env(specs: Path, root: Path, env: dict) -> dict:
    from azure.ai.ml import load_environment

    pins = conda_pins(load_environment(specs / "environment.yml").conda_file)
    return sandbox_env(root.parent / f"sandbox-{root.name}", root, pins, env)


def test_each_component_command_runs_the_step_here(proj, tmp_path):  # noqa: F811

    from mlops_accelerator.dataprep.versioning import Registry
    from mlops_accelerator.tracking import project_client, tracking_env

    _models, files = _specs(proj)
    assert all(f["valid"] for f in files)
    specs = proj / azure_specs.FOLDER
    commit = _git(proj, "rev-parse", "HEAD").strip()
    env = {**os.environ, **tracking_env(proj), "GIT_COMMIT": commit,
           "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    for k in ("AZUREML_ARM_SUBSCRIPTION", "AZUREML_ARM_RESOURCEGROUP", "AZUREML_ARM_WORKSPACE_NAME"):
        env.pop(k, None)
    out = tmp_path / "outputs"
    ports = {"settings": specs / "settings.json", "data": proj / Registry(proj).get("churn-features")["local_path"],
             "prepared": out / "prepared", "model": out / "model", "evaluation": out / "evaluation",
             "registration": out / "registration", "environment": "dev"}
    for step in ("dataprep", "train", "evaluate", "register"):
        done = _run_component(step, specs, ports, proj, env)
        assert done.returncode == 0, (step, done.stderr[-2000:])
    assert {p.name for p in (out / "prepared").iterdir()} == {"train.parquet", "validation.parquet", "test.parquet"}
    assert (out / "model" / "model" / "MLmodel").is_file()
    evaluation = json.loads((out / "evaluation" / "evaluation.json").read_text())
    assert evaluation["decision"] == "promote" and evaluation["metrics"]["roc_auc"] > 0.55
    registration = json.loads((out / "registration" / "registration.json").read_text())
    assert registration["registered"] and registration["alias"] == "champion"
    # what CD promotes: the champion's version as a line of data; the model itself only for copy transfer
    assert (out / "registration" / "champion-version").read_text() == f"{registration['version']}\n"
    assert not (out / "registration" / "model").exists()
    version = project_client(proj).get_model_version_by_alias("churn-classifier", "champion")
    assert version.tags["git_commit"] == commit and version.tags["data_asset"] == "churn-features:1"
    assert version.tags["primary_metric"] == "roc_auc"
    # Azure ML is unreachable: the deploy step stops with what it needs, not a hang
    done = _run_component("deploy", specs, ports, proj, env)
    assert done.returncode == 1 and "AZUREML_ARM_SUBSCRIPTION" in done.stderr, done.stderr[-2000:]
    # copy_model_artifact: the registration output also carries the champion's MLflow folder, byte for byte
    settings = json.loads((specs / "settings.json").read_text())
    settings["models"]["cross_env_model_transfer"] = "copy_model_artifact"
    (out / "copy.json").write_text(json.dumps(settings))
    done = _run_component("register", specs, {**ports, "settings": out / "copy.json",
                                              "registration": out / "copied"}, proj, env)
    assert done.returncode == 0, done.stderr[-2000:]
    copied = sorted(p.relative_to(out / "copied" / "model") for p in (out / "copied" / "model").rglob("*"))
    assert copied == sorted(p.relative_to(out / "model" / "model") for p in (out / "model" / "model").rglob("*"))
    assert (out / "copied" / "model" / "MLmodel").read_bytes() == (out / "model" / "model" / "MLmodel").read_bytes()


def test_a_candidate_below_a_threshold_fails_the_register_step_naming_the_metric(proj, tmp_path):  # noqa: F811

    from mlops_accelerator.dataprep.versioning import Registry
    from mlops_accelerator.tracking import project_client, tracking_env

    _specs(proj, metric_thresholds=[{"metric": "roc_auc", "direction": "at_least", "value": 0.99}],
           hyperparameter_tuning={"enabled": False})
    specs = proj / azure_specs.FOLDER
    env = {**os.environ, **tracking_env(proj), "MLFLOW_DISABLE_TELEMETRY": "true"}
    out = tmp_path / "o"
    ports = {"settings": specs / "settings.json", "data": proj / Registry(proj).get("churn-features")["local_path"],
             "prepared": out / "p", "model": out / "m", "evaluation": out / "e", "registration": out / "r"}
    for step in ("dataprep", "train", "evaluate"):
        assert _run_component(step, specs, ports, proj, env).returncode == 0, step
    done = _run_component("register", specs, ports, proj, env)
    assert done.returncode == 1 and "roc_auc" in done.stderr and "0.99" in done.stderr
    assert not project_client(proj).search_model_versions("name='churn-classifier'")


def test_the_job_imports_the_accelerator_from_the_specs_runtime_only(proj, tmp_path):  # noqa: F811
    """The training image does not install the accelerator: its steps run from the modules the specs
    ship, with the packages the environment pins, and the sandbox refuses anything else."""
    from azure.ai.ml import load_environment

    _specs(proj)
    specs = proj / azure_specs.FOLDER
    pins = conda_pins(load_environment(specs / "environment.yml").conda_file)
    assert not [p for p in pins if p.startswith("mlops-accelerator")]  # not on PyPI: the image could not build
    assert {p.split("==")[0] for p in pins} >= {"mlflow", "pydantic", "azure-ai-ml", "azureml-mlflow"}
    shipped = specs / azure_specs.RUNTIME / "mlops_accelerator"
    assert (shipped / "modeling" / "steps.py").read_bytes() == Path(azure_specs.__file__).with_name(
        "steps.py").read_bytes()
    assert (shipped / "catalogue.yaml").is_file() and not (shipped / "wizard").exists()
    env = _job_env(specs, proj, {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"})

    def job(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", command], cwd=proj, env=env, capture_output=True, text=True, timeout=120)
    done = job("PYTHONPATH=azureml-models/runtime python -c 'import mlops_accelerator, sys; "
               "print(mlops_accelerator.__file__)'")
    assert done.returncode == 0 and done.stdout.strip() == str(shipped / "__init__.py"), done.stderr[-1500:]
    # the guard is real: what the environment lacks is refused, naming it
    done = job("python -c 'import jupyterlab'")
    assert done.returncode == 1 and "No module named 'jupyterlab'" in done.stderr, done.stderr[-1500:]
    done = job("python -m mlops_accelerator.modeling.steps dataprep --help")  # without the runtime on the path
    assert done.returncode == 1 and "No module named 'mlops_accelerator'" in done.stderr, done.stderr[-1500:]
    # a rewrite drops a file the new version no longer ships
    (shipped / "stale.py").write_text("")
    _specs(proj)
    assert not (shipped / "stale.py").exists()


def test_the_single_training_job_runs_the_tests_then_the_steps(proj, tmp_path):  # noqa: F811
    """training_method command_job: one job, the project's unit tests then the pipeline's steps, run in
    the project with only what the job's environment installs."""
    from azure.ai.ml import load_job

    from mlops_accelerator.dataprep.versioning import Registry
    from mlops_accelerator.tracking import project_client, tracking_env

    _specs(proj, training_method="command_job")
    specs = proj / azure_specs.FOLDER
    job = load_job(specs / "train-job.yml")
    assert "mlops-accelerator run" not in job.command and job.command.startswith("python -m pytest tests && ")
    data = proj / Registry(proj).get("churn-features")["local_path"]
    command = job.command.replace("${{inputs.training_data}}", shlex.quote(str(data)))
    env = {**os.environ, **tracking_env(proj), "GIT_COMMIT": _git(proj, "rev-parse", "HEAD").strip(),
           "MLFLOW_DISABLE_TELEMETRY": "true"}
    done = subprocess.run(["bash", "-c", command], cwd=proj, env=_job_env(specs, proj, env), capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert " passed" in done.stdout  # the project's tests ran first
    registration = json.loads((proj / "outputs" / "registration" / "registration.json").read_text())
    assert registration["alias"] == "champion"
    assert str(project_client(proj).get_model_version_by_alias("churn-classifier", "champion").version) == \
        str(registration["version"])


def test_the_training_packages_own_dependencies_join_the_environment(tmp_path):
    """What the project's pyproject.toml declares is installed in the job too; a requirement the steps'
    pins cannot satisfy is refused before anything is written, naming it."""
    from azure.ai.ml import load_environment

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "churn-model"\nversion = "1"\n'
                                             'dependencies = ["pandas>=2", "scikit-learn", "lightgbm>=4.3"]\n')
    _specs(tmp_path)
    pins = conda_pins(load_environment(tmp_path / azure_specs.FOLDER / "environment.yml").conda_file)
    assert "lightgbm>=4.3" in pins and not [p for p in pins if p in ("pandas>=2", "scikit-learn")]  # pinned already
    assert [p for p in pins if p.startswith("pandas==")]
    out = tmp_path / "other"
    out.mkdir()
    (out / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\ndependencies = ["pandas<2"]\n')
    with pytest.raises(ModelingError, match=r"requires 'pandas<2' \(\[project\]\.dependencies\).*pandas=="):
        _specs(out)
    assert not (out / azure_specs.FOLDER).exists()


@pytest.mark.parametrize("method", ["pipeline", "command_job"])
def test_the_environment_version_follows_what_it_installs(tmp_path, method):
    """Azure ML never changes an environment version once created: new pins get a new version, and
    every job and component names the version environment.yml declares."""
    from azure.ai.ml import load_component, load_environment, load_job

    def written(root: Path) -> tuple[str, set[str]]:
        _specs(root, training_method=method)
        specs = root / azure_specs.FOLDER
        env = load_environment(specs / "environment.yml")
        if method == "pipeline":
            used = {load_component(f).environment for f in (specs / "components").glob("*.yml")}
        else:
            used = {load_job(specs / "train-job.yml").environment}
        return f"azureml:{env.name}:{env.version}", {"azureml:" + str(u).removeprefix("azureml:") for u in used}

    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder in (first, second, other):
        folder.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\ndependencies = ["lightgbm>=4.3"]\n')
    ref, used = written(first)
    assert used == {ref} and not ref.endswith(":1")
    assert written(second) == (ref, used)  # the same content, the same version
    changed, used_changed = written(other)
    assert changed != ref and used_changed == {changed}
