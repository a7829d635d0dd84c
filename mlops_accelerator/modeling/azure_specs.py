"""What stage 5 looks like on Azure ML: the files a team needs to run the same there.

Built with azure-ai-ml entities, dumped to YAML, then loaded back with azure-ai-ml's own loaders
(the SDK validates nothing when it writes) and compared on the fields that matter:

    azureml-models/environment.yml               training + inference environment (conda)
    azureml-models/train-pipeline.yml            training method "pipeline": the settings' pipeline steps
    azureml-models/components/<step>.yml         (dataprep, train, evaluate, register, deploy), one command
                                                 component each (modeling/steps.py)
    azureml-models/train-job.yml                 other training methods: one command job running the steps
    azureml-models/settings.json                 the steps' settings, as a parameter file
    azureml-models/runtime/mlops_accelerator/    the accelerator's modules the steps import (RUNTIME_FILES),
                                                 shipped in the job's code snapshot
    azureml-models/model.yml                     the registered model (mlflow_model, required tags)
    azureml-models/<env>/online-endpoint.yml     managed online endpoint (auth mode)
    azureml-models/<env>/deployment-<name>.yml   blue/green deployments (mlflow model: no scoring script,
                                                 data collection of inputs and outputs on)
    azureml-models/<env>/online-endpoint-traffic.yml  the traffic split across deployments
    azureml-models/<env>/batch-endpoint.yml, batch-deployment.yml   (deployment_pattern batch or both; a
                                                 batch-only design gets no online endpoint)
Nothing is sent to Azure from here.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from ..artifacts.azureml_specs import _quiet_sdk as _quiet  # stage 3's azure-ai-ml log silencing
from . import ModelingError

IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
FOLDER = "azureml-models"




# The job's environment does not install the accelerator (it is not on PyPI, and its own dependencies,
# JupyterLab and checkov among them, have no place in a training image): the modules the pipeline steps
# import travel in the job's code snapshot instead, as azureml-models/runtime/mlops_accelerator, and
# the commands put that folder on PYTHONPATH. tests/test_stage5_pipeline.py runs every step with only
# these files and the environment's packages, so an import added to them fails there first.
RUNTIME = "runtime"
RUNTIME_FILES = ("__init__.py", "errors.py", "catalogue.py", "catalogue.yaml", "ci_safety.py", "naming.py", "roles.py",
                 "secret_scan.py", "settings/*.py", "modeling/__init__.py", "modeling/project_code.py",
                 "modeling/promotion.py", "modeling/training.py", "modeling/steps.py")
# What those modules import, pinned to the versions they ran with here; the deploy step also signs in
STEP_PACKAGES = ("mlflow", "scikit-learn", "skops", "pandas", "pyarrow", "optuna", "pydantic", "detect-secrets")
DEPLOY_PACKAGES = ("azure-ai-ml", "azure-identity")
SETTINGS = "settings.json"  # the steps' parameter file, beside the specs


def project_requirements(code_dir: str | Path | None) -> list[str]:
    """The training package's own dependencies ([project].dependencies of its pyproject.toml)."""
    import tomllib

    path = Path(code_dir) / "pyproject.toml" if code_dir else None
    if path is None or not path.is_file():
        return []
    return [str(r) for r in (tomllib.loads(path.read_text(encoding="utf-8")).get("project") or {}).get(
        "dependencies") or []]


def _conda(models: Any, requirements: list[str] = ()) -> dict[str, Any]:
    """The steps' packages pinned, then what the training package needs besides (as it declares it);
    a requirement the steps' pin does not satisfy is refused here rather than in Azure's image build."""
    import sys
    from importlib.metadata import version

    from packaging.requirements import Requirement  # mlflow's own dependency

    wanted = [*STEP_PACKAGES, *(DEPLOY_PACKAGES if "deploy" in models.pipeline_steps else ()),
              *(("pytest",) if models.training_method != "pipeline" else ())]  # the single job runs the tests
    pinned = {re.sub(r"[-_.]+", "-", p).lower(): version(p) for p in wanted}
    more = []
    for line in requirements:
        req = Requirement(line)
        have = pinned.get(re.sub(r"[-_.]+", "-", req.name).lower())
        if have is None:
            more.append(line)
        elif not req.specifier.contains(have, prereleases=True):
            raise ModelingError(f"the training package's pyproject.toml requires '{line}' ([project].dependencies), "
                                f"but the pipeline steps run with {req.name}=={have}: widen the requirement")
    # azureml-mlflow points MLflow at the workspace inside a job (not installed here, so not pinned)
    return {"name": "churn-model", "channels": ["conda-forge"],
            "dependencies": [f"python={sys.version_info.major}.{sys.version_info.minor}", "pip",
                             {"pip": [*(f"{p}=={v}" for p, v in zip(wanted, pinned.values(), strict=True)), *more,
                                      "azureml-mlflow"]}]}


def step_command(step: str, args: list[str]) -> str:
    """One pipeline step's command, run from the code snapshot's root (the repository)."""
    return " ".join([f"PYTHONPATH={FOLDER}/{RUNTIME} python -m mlops_accelerator.modeling.steps", step, *args])


def write_runtime(base: Path) -> None:
    """azureml-models/runtime/mlops_accelerator: the accelerator's modules the steps import."""
    import shutil

    package = Path(__file__).resolve().parent.parent
    target = base / RUNTIME / package.name
    if target.exists():
        shutil.rmtree(target)  # a file the new version no longer ships does not linger
    for pattern in RUNTIME_FILES:
        for src in sorted(package.glob(pattern)):
            dest = target / src.relative_to(package)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)


def training_environment(models: Any, project: str, requirements: list[str] = ()) -> tuple[Any, str]:
    """The steps' environment and how the jobs name it. Its version is a digest of what it installs:
    Azure ML never changes an environment version once created, so new pins need a new version
    (a fixed "1" would be refused, or worse, reused with the old packages)."""
    import hashlib

    from azure.ai.ml.entities import Environment

    conda = _conda(models, requirements)
    version = hashlib.sha256(json.dumps({"image": IMAGE, "conda": conda}, sort_keys=True).encode()).hexdigest()[:12]
    environment = Environment(name=f"{project}-models-env", version=version, image=IMAGE, conda_file=conda,
                              description="Training and inference environment of the stage-5 model")
    return environment, f"azureml:{environment.name}:{version}"


def entities(models: Any, data_asset: str, env: str, project: str, model_version: str | None,
             requirements: list[str] = ()) -> dict[str, Any]:
    """relative path -> (azure-ai-ml entity, fields to compare after loading back)."""
    from azure.ai.ml.entities import Model

    reg = models.model_registration
    environment, env_ref = training_environment(models, project, requirements)
    tags = {t: f"<set at registration: {t}>" for t in reg.required_tags}
    out: dict[str, Any] = {
        "environment.yml": (environment, ("name", "version", "image")),
        "model.yml": (Model(name=reg.name, version=model_version, type=reg.type, path="./model",
                            tags=tags, description="The stage-5 model, as registered by the pipeline"),
                      ("name", "type")),
    }
    out.update({} if models.training_method == "pipeline" else _command_job(models, data_asset, env, project,
                                                                             env_ref))
    return {**out, **_endpoints(models, env, model_version, project)}


def _command_job(models: Any, data_asset: str, env: str, project: str, env_ref: str) -> dict[str, Any]:
    from azure.ai.ml import Input
    from azure.ai.ml.entities import CommandJob

    reg = models.model_registration
    name, version = data_asset.split(":", 1)
    job = CommandJob(
        display_name=f"train {reg.name}", experiment_name=models.experiment_name.replace(
            "{project}", project).replace("{env}", env).replace("{purpose}", "training"),
        code=".", command=" && ".join(["python -m pytest tests", *SINGLE_JOB]),
        inputs={"training_data": Input(type="mltable", path=f"azureml:{name}:{version}")},
        environment=env_ref, compute=models.compute_name,
        tags={"data_asset": data_asset, "stage": "5"})
    return {"train-job.yml": (job, ("compute", "experiment_name"))}


# The training method "command_job": the pipeline's steps one after another in one job, their
# folders under ./outputs (which Azure ML keeps with the job)
_S = f"{FOLDER}/{SETTINGS}"
SINGLE_JOB = (step_command("dataprep", ["--settings", _S, "--data", "${{inputs.training_data}}", "--prepared",
                                        "outputs/prepared"]),
              step_command("train", ["--settings", _S, "--prepared", "outputs/prepared", "--model", "outputs/model"]),
              step_command("evaluate", ["--settings", _S, "--prepared", "outputs/prepared", "--model",
                                        "outputs/model", "--evaluation", "outputs/evaluation"]),
              step_command("register", ["--settings", _S, "--model", "outputs/model", "--evaluation",
                                        "outputs/evaluation", "--registration", "outputs/registration"]))


def model_reference(name: str, version: str | None, registry: str | None = None) -> str:
    """How a deployment names its model. Azure ML takes `name:version` or `name@latest` only (no other
    alias): the version this run registered, else @latest, the newest version when the deployment is
    created (a run that registered nothing leaves the choice to the registry at deploy time). With a
    shared registry (models.cross_env_model_transfer: aml_registry) every environment deploys the
    registry's copy: azureml://registries/<registry>/models/<name>/versions/<v> (or labels/latest)."""
    if registry:
        where = f"versions/{version}" if version else "labels/latest"
        return f"azureml://registries/{registry}/models/{name}/{where}"
    return f"azureml:{name}:{version}" if version else f"azureml:{name}@latest"


def _endpoints(models: Any, env: str, model_version: str | None = None, project: str = "") -> dict[str, Any]:
    from azure.ai.ml.entities import DataCollector, DeploymentCollection, ManagedOnlineDeployment, ManagedOnlineEndpoint

    from ..settings.models import endpoint_in

    reg = models.model_registration
    out: dict[str, Any] = {}
    ep = models.online_endpoint
    ep_name = endpoint_in(ep.name, env)  # endpoint names are unique per region: one per environment
    from ..artifacts.azureml_specs import registry_name

    shared = registry_name(project) if project and models.cross_env_model_transfer == "aml_registry" else None
    model = model_reference(reg.name, model_version, shared)
    auth = {"key": "key", "aml_token": "aml_token", "aad_token": "aad_token"}[ep.auth_mode]
    if not models.serves_online:  # no online endpoint: it bills per instance-hour, unused
        out.update(_batch(models, env, model))
        return out
    out[f"{env}/online-endpoint.yml"] = (ManagedOnlineEndpoint(
        name=ep_name, auth_mode=auth, description=f"{reg.name} realtime endpoint ({env})",
        tags={"rollout": ep.rollout_strategy}), ("name", "auth_mode"))
    for d in ep.deployments:
        collector = DataCollector(collections={"model_inputs": DeploymentCollection(enabled="true"),
                                               "model_outputs": DeploymentCollection(enabled="true")})
        dep = ManagedOnlineDeployment(
            name=d.name, endpoint_name=ep_name, model=model,
            instance_type=d.instance_type, instance_count=d.instance_count, data_collector=collector,
            tags={"traffic": str(d.traffic)})
        out[f"{env}/deployment-{d.name}.yml"] = (dep, ("name", "endpoint_name", "instance_type", "instance_count"))
    out[f"{env}/online-endpoint-traffic.yml"] = (ManagedOnlineEndpoint(
        name=ep_name, auth_mode=auth, traffic={d.name: d.traffic for d in ep.deployments}), ("name", "traffic"))
    if models.serves_batch:
        out.update(_batch(models, env, model))
    return out


def _batch(models: Any, env: str, model: str) -> dict[str, Any]:
    from azure.ai.ml.entities import BatchDeployment, BatchEndpoint

    from ..settings.models import endpoint_in

    reg, b = models.model_registration, models.batch_endpoint
    b_name = endpoint_in(b.name, env)
    return {f"{env}/batch-endpoint.yml": (BatchEndpoint(name=b_name, description=f"{reg.name} batch scoring"),
                                          ("name",)),
            f"{env}/batch-deployment.yml": (BatchDeployment(
                name="default", endpoint_name=b_name, model=model, compute=b.compute,
                instance_count=b.instance_count, max_concurrency_per_instance=b.max_concurrency_per_instance,
                mini_batch_size=b.mini_batch_size, error_threshold=b.error_threshold, output_action=b.output_action,
                output_file_name="predictions.csv"), ("name", "endpoint_name", "compute"))}


# Pipeline steps that run as components, each with the step it needs before it, its inputs and its
# outputs (the command-line option of modeling/steps.py is the port name).
COMPONENT_STEPS = {
    "dataprep": (None, {"settings": "uri_file", "data": "mltable"}, {"prepared": "uri_folder"}),
    "train": ("dataprep", {"settings": "uri_file", "prepared": "uri_folder"}, {"model": "uri_folder"}),
    "evaluate": ("train", {"settings": "uri_file", "prepared": "uri_folder", "model": "uri_folder"},
                 {"evaluation": "uri_folder"}),
    "register": ("evaluate", {"settings": "uri_file", "model": "uri_folder", "evaluation": "uri_folder"},
                 {"registration": "uri_folder"}),
    "deploy": ("register", {"settings": "uri_file", "registration": "uri_folder", "environment": "string"}, {}),
}
STEP_TITLES = {"dataprep": "Clean and split the data asset", "train": "Tune and train",
               "evaluate": "Evaluate: thresholds and champion/challenger", "register": "Register the model",
               "deploy": "Deploy a new champion to the idle deployment"}


def pipeline_steps(models: Any) -> list[str]:
    """The settings' steps that run in the Azure ML pipeline, each after the step it needs."""
    steps = [s for s in models.pipeline_steps if s in COMPONENT_STEPS]
    for step in steps:
        needs = COMPONENT_STEPS[step][0]
        if needs and needs not in steps:
            raise ModelingError(f"models.pipeline_steps {list(models.pipeline_steps)}: '{step}' needs '{needs}' "
                                "before it in the Azure ML pipeline")
    if "train" not in steps:
        raise ModelingError(f"models.pipeline_steps {list(models.pipeline_steps)} has no 'train' step: the "
                            "training pipeline needs dataprep and train at least")
    return steps


def _component(step: str, project: str, env_ref: str) -> Any:
    from azure.ai.ml import Input, Output, command

    _needs, inputs, outputs = COMPONENT_STEPS[step]
    ports = [f"--{n} ${{{{inputs.{n}}}}}" for n in inputs] + [f"--{n} ${{{{outputs.{n}}}}}" for n in outputs]
    return command(name=f"{project.replace('-', '_').lower()}_{step}", display_name=STEP_TITLES[step], code=".",
                   command=step_command(step, ports),
                   inputs={n: Input(type=t) for n, t in inputs.items()},
                   outputs={n: Output(type=t) for n, t in outputs.items()},
                   environment=env_ref)


def pipeline_job(models: Any, project: str, first_env: str, env_ref: str) -> Any:
    """The training pipeline (azure-ai-ml's dsl): one command component per step, wired by outputs."""
    from azure.ai.ml import Input, dsl

    steps = pipeline_steps(models)
    components = {step: _component(step, project, env_ref) for step in steps}
    name, version = models.training_data.split(":", 1)

    @dsl.pipeline(name=f"{project}-training", compute=models.compute_name, display_name=f"train {project}",
                  experiment_name=models.experiment_name.replace("{project}", project).replace(
                      "{env}", first_env).replace("{purpose}", "training"),
                  description="Stage 5: " + " -> ".join(steps))
    def training(settings, data, environment):  # no annotations: the dsl reads them as port types
        made: dict[str, Any] = {"settings": settings, "data": data, "environment": environment}
        for step in steps:
            node = components[step](**{n: made[n] for n in COMPONENT_STEPS[step][1]})
            node.name = step
            made.update({n: node.outputs[n] for n in COMPONENT_STEPS[step][2]})
        # the register step's verdict is the pipeline's output: CD downloads it to promote the champion
        return {"registration": made["registration"]} if "registration" in made else {}

    job = training(settings=Input(type="uri_file", path=f"./{SETTINGS}"),
                   data=Input(type="mltable", path=f"azureml:{name}:{version}"), environment=first_env)
    job.tags = {"data_asset": models.training_data, "stage": "5"}
    return job, steps


def write_pipeline(base: Path, models: Any, data: Any, project: str, first_env: str,
                   env_ref: str) -> list[dict[str, Any]]:
    """components/<step>.yml and train-pipeline.yml, each loaded back with azure-ai-ml."""
    from azure.ai.ml import load_component, load_job

    job, steps = pipeline_job(models, project, first_env, env_ref)
    results = []
    (base / "components").mkdir(parents=True, exist_ok=True)
    for step in steps:
        path = base / "components" / f"{step}.yml"
        data_ = job.jobs[step].component._to_dict()
        data_["code"] = "../.."  # the repository root: src/ and azureml-models/ (dumped absolute)
        _write_yaml(path, json.loads(json.dumps(data_, default=str)))
        results.append(_check(f"components/{step}.yml", lambda p=path: load_component(source=p),
                              {"command": job.jobs[step].component.command, "name": job.jobs[step].component.name}))
    spec = json.loads(json.dumps(job._to_dict(), default=str))
    spec["inputs"]["settings"]["path"] = f"./{SETTINGS}"  # a local parameter file, uploaded with the job
    for step in steps:
        spec["jobs"][step]["component"] = f"./components/{step}.yml"
    _write_yaml(base / "train-pipeline.yml", spec)

    def load_and_compare() -> Any:
        loaded = load_job(source=base / "train-pipeline.yml")
        wiring = {s: loaded.jobs[s]._to_dict().get("inputs") for s in loaded.jobs}
        want = {s: job.jobs[s]._to_dict().get("inputs") for s in steps}
        if sorted(loaded.jobs) != sorted(steps) or wiring != want:
            raise ModelingError(f"the pipeline's steps or wiring changed on load: {wiring} vs {want}")
        return loaded

    results.append(_check("train-pipeline.yml", load_and_compare, {"compute": job.compute,
                                                                   "experiment_name": job.experiment_name}))
    return results


def _check(rel: str, load: Any, want: dict[str, Any]) -> dict[str, Any]:
    error = None
    try:
        loaded = load()
        diff = [f for f, v in want.items() if str(getattr(loaded, f, None)) != str(v)]
        if diff:
            error = f"fields changed on load: {', '.join(diff)}"
    except Exception as exc:  # the SDK's own validation message
        error = f"{type(exc).__name__}: {str(exc)[:400]}"
    return {"path": f"{FOLDER}/{rel}", "valid": error is None, "error": error}


LOADERS = {"environment.yml": "load_environment", "model.yml": "load_model", "train-job.yml": "load_job",
           "online-endpoint.yml": "load_online_endpoint", "online-endpoint-traffic.yml": "load_online_endpoint",
           "batch-endpoint.yml": "load_batch_endpoint", "batch-deployment.yml": "load_batch_deployment"}


def _loader(rel: str) -> Any:
    import azure.ai.ml as aml

    base = rel.rsplit("/", 1)[-1]
    return getattr(aml, LOADERS.get(base, "load_online_deployment"))


def _write_yaml(path: Path, data: Any) -> None:
    with path.open("w", encoding="utf-8") as f:
        yaml = YAML()  # keeps the order written (the pipeline's steps read top to bottom)
        yaml.width = 4096  # commands stay on one line
        yaml.dump(data, f)


def write_specs(out_dir: str | Path, models: Any, environments: list[str], project: str,
                model_version: str | None = None, data: Any = None,
                code_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Write every spec, load each back, compare; one {path, valid, error} per file. `code_dir`: the
    training package the run trained (its pyproject.toml's dependencies join the environment)."""
    if not models.training_data:
        raise ModelingError("models.training_data is empty: the training job needs the data asset to read")
    if data is None:
        raise ModelingError("the training steps' settings file needs the data stage's settings "
                            "(label column, splits): pass data=")
    if models.training_method == "pipeline":
        pipeline_steps(models)  # a broken chain of steps is refused before anything is written
    base = Path(out_dir) / FOLDER
    results = []
    with _quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK's deprecation notes on its own base classes
        written: dict[str, Any] = {}
        for env in environments:
            written.update(entities(models, models.training_data, env, project, model_version,
                                    project_requirements(code_dir)))
        for rel, (entity, fields) in written.items():
            path = base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            entity.dump(path)
            if not path.is_file():  # endpoints dump to nothing in this SDK version: write their dict
                _write_yaml(path, json.loads(json.dumps(entity._to_dict(), default=str)))
            if rel == "train-job.yml":  # the SDK writes code as an absolute path; the folder lives at the
                job = YAML(typ="safe").load(path.read_text(encoding="utf-8"))  # repository root: code is ..
                job["code"] = ".."
                _write_yaml(path, job)
            results.append(_check(rel, lambda p=path, r=rel: _loader(r)(source=p),
                                  {f: getattr(entity, f, None) for f in fields}))
        settings = {"models": models.model_dump(mode="json"), "data": data.model_dump(mode="json")}
        (base / SETTINGS).write_text(json.dumps(settings, indent=2), encoding="utf-8")
        write_runtime(base)
        if models.training_method == "pipeline":
            env_ref = training_environment(models, project, project_requirements(code_dir))[1]
            results += write_pipeline(base, models, data, project, environments[0] if environments else "dev",
                                      env_ref)
    return results
