"""What stage 5 looks like on Azure ML: the files a team needs to run the same there.

Built with azure-ai-ml entities, dumped to YAML, then loaded back with azure-ai-ml's own loaders
(the SDK validates nothing when it writes) and compared on the fields that matter:

    azureml-models/environment.yml               training + inference environment (conda)
    azureml-models/train-job.yml                 the training command job (project code, data asset input)
    azureml-models/model.yml                     the registered model (mlflow_model, required tags)
    azureml-models/<env>/online-endpoint.yml     managed online endpoint (auth mode)
    azureml-models/<env>/deployment-<name>.yml   blue/green deployments (mlflow model: no scoring script,
                                                 data collection of inputs and outputs on)
    azureml-models/<env>/online-endpoint-traffic.yml  the traffic split across deployments
    azureml-models/<env>/batch-endpoint.yml, batch-deployment.yml
Nothing is sent to Azure from here.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from ..artifacts.azureml_specs import _quiet_sdk as _quiet  # stage 3's azure-ai-ml log silencing
from . import ModelingError

IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
FOLDER = "azureml-models"




def _conda(python: str = "3.11") -> dict[str, Any]:
    from importlib.metadata import version

    pins = [f"{p}=={version(p)}" for p in ("mlflow", "scikit-learn", "skops", "pandas", "pyarrow")]
    return {"name": "churn-model", "channels": ["conda-forge"],
            "dependencies": [f"python={python}", "pip", {"pip": [*pins, "azureml-mlflow"]}]}


def entities(models: Any, data_asset: str, env: str, project: str, model_version: str | None) -> dict[str, Any]:
    """relative path -> (azure-ai-ml entity, fields to compare after loading back)."""
    from azure.ai.ml import Input
    from azure.ai.ml.entities import (
        BatchDeployment,
        BatchEndpoint,
        CommandJob,
        DataCollector,
        DeploymentCollection,
        Environment,
        ManagedOnlineDeployment,
        ManagedOnlineEndpoint,
        Model,
    )

    reg = models.model_registration
    name, version = data_asset.split(":", 1)
    env_name = f"{project}-models-env"
    environment = Environment(name=env_name, version="1", image=IMAGE, conda_file=_conda(),
                              description="Training and inference environment of the stage-5 model")
    tags = {t: f"<set at registration: {t}>" for t in reg.required_tags}
    out: dict[str, Any] = {
        "environment.yml": (environment, ("name", "version", "image")),
        "model.yml": (Model(name=reg.name, version=model_version, type=reg.type, path="./model",
                            tags=tags, description="The stage-5 model, as registered by the pipeline"),
                      ("name", "type")),
    }
    job = CommandJob(
        display_name=f"train {reg.name}", experiment_name=models.experiment_name.replace(
            "{project}", project).replace("{env}", env).replace("{purpose}", "training"),
        code=".", command="pip install -e . && python -m pytest tests && "
                           "mlops-accelerator run models --target local",
        inputs={"training_data": Input(type="mltable", path=f"azureml:{name}:{version}")},
        environment=f"azureml:{env_name}:1", compute=models.compute_name,
        tags={"data_asset": data_asset, "stage": "5"})
    out["train-job.yml"] = (job, ("compute", "experiment_name"))
    ep = models.online_endpoint
    auth = {"key": "key", "aml_token": "aml_token", "aad_token": "aad_token"}[ep.auth_mode]
    out[f"{env}/online-endpoint.yml"] = (ManagedOnlineEndpoint(
        name=ep.name, auth_mode=auth, description=f"{reg.name} realtime endpoint ({env})",
        tags={"rollout": ep.rollout_strategy}), ("name", "auth_mode"))
    for d in ep.deployments:
        collector = DataCollector(collections={"model_inputs": DeploymentCollection(enabled="true"),
                                               "model_outputs": DeploymentCollection(enabled="true")})
        dep = ManagedOnlineDeployment(
            name=d.name, endpoint_name=ep.name, model=f"azureml:{reg.name}@champion",
            instance_type=d.instance_type, instance_count=d.instance_count, data_collector=collector,
            tags={"traffic": str(d.traffic)})
        out[f"{env}/deployment-{d.name}.yml"] = (dep, ("name", "endpoint_name", "instance_type", "instance_count"))
    out[f"{env}/online-endpoint-traffic.yml"] = (ManagedOnlineEndpoint(
        name=ep.name, auth_mode=auth, traffic={d.name: d.traffic for d in ep.deployments}), ("name", "traffic"))
    if models.deployment_pattern in ("batch", "both"):
        b = models.batch_endpoint
        out[f"{env}/batch-endpoint.yml"] = (BatchEndpoint(name=b.name, description=f"{reg.name} batch scoring"),
                                            ("name",))
        out[f"{env}/batch-deployment.yml"] = (BatchDeployment(
            name="default", endpoint_name=b.name, model=f"azureml:{reg.name}@champion", compute=b.compute,
            instance_count=b.instance_count, max_concurrency_per_instance=b.max_concurrency_per_instance,
            mini_batch_size=b.mini_batch_size, error_threshold=b.error_threshold, output_action=b.output_action,
            output_file_name="predictions.csv"), ("name", "endpoint_name", "compute"))
    return out


LOADERS = {"environment.yml": "load_environment", "model.yml": "load_model", "train-job.yml": "load_job",
           "online-endpoint.yml": "load_online_endpoint", "online-endpoint-traffic.yml": "load_online_endpoint",
           "batch-endpoint.yml": "load_batch_endpoint", "batch-deployment.yml": "load_batch_deployment"}


def _loader(rel: str) -> Any:
    import azure.ai.ml as aml

    base = rel.rsplit("/", 1)[-1]
    return getattr(aml, LOADERS.get(base, "load_online_deployment"))


def _write_yaml(path: Path, data: Any) -> None:
    with path.open("w", encoding="utf-8") as f:
        YAML(typ="safe", pure=True).dump(data, f)


def write_specs(out_dir: str | Path, models: Any, environments: list[str], project: str,
                model_version: str | None = None) -> list[dict[str, Any]]:
    """Write every spec, load each back, compare; one {path, valid, error} per file."""
    if not models.training_data:
        raise ModelingError("models.training_data is empty: the training job needs the data asset to read")
    base = Path(out_dir) / FOLDER
    results = []
    with _quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK's deprecation notes on its own base classes
        written: dict[str, Any] = {}
        for env in environments:
            written.update(entities(models, models.training_data, env, project, model_version))
        for rel, (entity, fields) in written.items():
            path = base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            entity.dump(path)
            if not path.is_file():  # endpoints dump to nothing in this SDK version: write their dict
                _write_yaml(path, json.loads(json.dumps(entity._to_dict(), default=str)))
            if rel == "train-job.yml":  # the SDK writes code as an absolute path; the folder lives at the
                data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))  # repository root: code is ..
                data["code"] = ".."
                _write_yaml(path, data)
            error = None
            try:
                loaded = _loader(rel)(source=path)
                diff = [f for f in fields if str(getattr(loaded, f, None)) != str(getattr(entity, f, None))]
                if diff:
                    error = f"fields changed on load: {', '.join(diff)}"
            except Exception as exc:  # the SDK's own validation message
                error = f"{type(exc).__name__}: {str(exc)[:400]}"
            results.append({"path": f"{FOLDER}/{rel}", "valid": error is None, "error": error})
    return results
