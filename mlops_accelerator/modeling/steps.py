"""Stage 5 as an Azure ML pipeline: what each pipeline step runs (one command component per step).

    python -m mlops_accelerator.modeling.steps dataprep --settings S --data D --prepared P
    python -m mlops_accelerator.modeling.steps train    --settings S --prepared P --model M
    python -m mlops_accelerator.modeling.steps evaluate --settings S --prepared P --model M --evaluation E
    python -m mlops_accelerator.modeling.steps register --settings S --model M --evaluation E --registration R
    python -m mlops_accelerator.modeling.steps deploy   --settings S --registration R --environment ENV

A step runs in the job's code snapshot: the project repository, with the training package in
`src/<package>/` and the Azure ML files in `azureml-models/`. The settings arrive as a parameter file
(`azureml-models/settings.json`), never in the command line. Inputs and outputs are folders Azure ML
mounts; MLflow tracks to the workspace (Azure ML sets the tracking URI for the job), so the same
commands run locally against the project's MLflow store (tests do).

The steps reuse the local target's functions (split, tune, metrics, decide, register_version), so the
pipeline judges and registers a model exactly as `run models` does.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from . import ModelingError

SPLITS = ("train", "validation", "test")
MODEL_SUBDIR = "model"  # inside the model output: an MLflow model folder
CHAMPION_VERSION = "champion-version"  # in the registration output, written for a new champion only


def _git_commit(run: Any = None) -> str:
    """The commit trained: GIT_COMMIT when the caller sets it, else the one Azure ML records on the job
    (it tags runs submitted from a git checkout with mlflow.source.git.commit)."""
    if os.environ.get("GIT_COMMIT"):
        return os.environ["GIT_COMMIT"]
    tags = run.data.tags if run is not None else {}
    return tags.get("mlflow.source.git.commit") or "unknown"


def _settings(path: str) -> tuple[Any, Any]:
    from ..settings.parameters import from_parameters

    values = json.loads(Path(path).read_text(encoding="utf-8"))
    return from_parameters("models", values), from_parameters("data", values)


def _code(code_dir: str = ".") -> dict[str, Any]:
    from .project_code import CodeVersion, find_package, import_code

    root = Path(code_dir).resolve()
    version = CodeVersion(repository=os.environ.get("GIT_REPOSITORY", root.as_uri()), commit=_git_commit(),
                          branch="", code_dir=root)
    version.package = find_package(root)
    return import_code(version)


def _read_parquet(folder: Path, what: str) -> Any:
    import pandas as pd

    files = sorted(folder.rglob("*.parquet")) if folder.is_dir() else [folder]
    if not files or not files[0].is_file():
        raise ModelingError(f"{what} '{folder}' holds no Parquet file")
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def dataprep(settings: str, data: str, prepared: str, code: str = ".") -> dict[str, int]:
    """The data asset cleaned by the project's code and split as stage 4's data_splits say."""
    from .training import split

    models, data_settings = _settings(settings)
    label = data_settings.feature_table.label_column or "label"
    df = _read_parquet(Path(data), "training_data")
    if label not in df.columns:
        raise ModelingError(f"the training data has no label column '{label}' (data.feature_table.label_column)")
    clean = _code(code)["dataprep"].clean(df)
    out = Path(prepared)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, frame in zip(SPLITS, split(clean, label, data_settings.data_splits), strict=True):
        frame.to_parquet(out / f"{name}.parquet", index=False)
        counts[name] = len(frame)
    return counts


def _xy(mods: dict[str, Any], prepared: str, name: str) -> tuple[Any, Any]:
    return mods["dataprep"].split_xy(_read_parquet(Path(prepared) / f"{name}.parquet", f"prepared {name} split"))


def train(settings: str, prepared: str, model: str, code: str = ".") -> dict[str, Any]:
    """Tune as the settings say, fit on train + validation, save an MLflow model with its signature."""
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    from .training import SCORERS, tune

    models, _data = _settings(settings)
    mods = _code(code)
    X_train, y_train = _xy(mods, prepared, "train")
    X_val, y_val = _xy(mods, prepared, "validation")
    space = getattr(mods["train"], "SEARCH_SPACE", {}) or {}
    best, trials = {}, []
    if models.hyperparameter_tuning.enabled and space:
        best, trials = tune(mods["train"].build_model, space, models.hyperparameter_tuning,
                            SCORERS[models.primary_metric.name], (X_train, y_train), (X_val, y_val))
    fitted = mods["train"].build_model(best).fit(pd.concat([X_train, X_val]), pd.concat([y_train, y_val]))
    example = X_val.head(5)
    example = example.astype({c: "float64" for c in example.columns if pd.api.types.is_integer_dtype(example[c])})
    target = Path(model) / MODEL_SUBDIR
    import skops.io

    mlflow.sklearn.save_model(fitted, str(target), signature=infer_signature(example, fitted.predict(example)),
                              input_example=example,
                              skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(fitted)),
                              code_paths=[str(Path(mods["train"].__file__).parent)])
    with mlflow.start_run(nested=mlflow.active_run() is not None):
        mlflow.log_params({k: str(v) for k, v in best.items()} | {"trials": str(len(trials))})
    return {"best_params": {k: str(v) for k, v in best.items()}, "trials": len(trials)}


def _load(model: str) -> Any:
    import mlflow

    return mlflow.sklearn.load_model(str(Path(model) / MODEL_SUBDIR))


def evaluate(settings: str, prepared: str, model: str, evaluation: str, code: str = ".") -> dict[str, Any]:
    """Held-out metrics against the thresholds, then against the registry's champion."""
    import mlflow

    from .promotion import client, current_champion, decide
    from .training import metrics

    models, _data = _settings(settings)
    mods = _code(code)
    X_test, y_test = _xy(mods, prepared, "test")
    scores = metrics(y_test, _load(model).predict_proba(X_test)[:, 1])
    with mlflow.start_run(nested=mlflow.active_run() is not None):
        mlflow.log_metrics(scores)
    name = models.model_registration.name
    decision = decide(models, scores, current_champion(client(), name, models.primary_metric.name))
    out = {"metrics": scores, **decision.evidence()}
    Path(evaluation).mkdir(parents=True, exist_ok=True)
    (Path(evaluation) / "evaluation.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    return out


def register(settings: str, model: str, evaluation: str, registration: str, code: str = ".") -> dict[str, Any]:
    """Register the candidate with its tags and alias, as the evaluation decided; a candidate that
    missed a threshold is not registered and the step says which metric failed."""
    import mlflow

    from .promotion import Decision, register_version, registers

    models, _data = _settings(settings)
    decided = json.loads((Path(evaluation) / "evaluation.json").read_text(encoding="utf-8"))
    decision = Decision(decided["metric"], decided["candidate"], decided["champion"], decided["champion_version"],
                        decided["decision"], decided["reason"])
    stage = registers(models, decision)
    out: dict[str, Any] = {"registered": False, "reason": decision.reason}
    if stage is not None:
        with mlflow.start_run(nested=mlflow.active_run() is not None) as run:
            mlflow.log_artifacts(str(Path(model) / MODEL_SUBDIR), "model")  # the trained model, byte for byte
        commit = _git_commit(mlflow.tracking.MlflowClient().get_run(run.info.run_id))
        tags = {"stage": stage, "data_asset": models.training_data, "git_commit": commit,
                "git_repository": os.environ.get("GIT_REPOSITORY", ""), "training_run": run.info.run_id}
        register_version(mlflow.tracking.MlflowClient(), models, decision, f"runs:/{run.info.run_id}/model",
                         run.info.run_id, tags)
        out = {"registered": True, "name": models.model_registration.name, "version": decision.registered_version,
               "alias": stage, "reason": decision.reason}
    folder = Path(registration)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "registration.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    if out.get("alias") == "champion":
        # What CD promotes (modeling/workflows.py reads it): the version, a plain line a shell can read
        # as data; for copy_model_artifact also the model itself, to register in the next workspace.
        (folder / CHAMPION_VERSION).write_text(f"{out['version']}\n", encoding="utf-8")
        if models.cross_env_model_transfer == "copy_model_artifact":
            shutil.copytree(Path(model) / MODEL_SUBDIR, folder / MODEL_SUBDIR, dirs_exist_ok=True)
    if decided["decision"] == "reject" and decision.reason.startswith("not registered"):
        raise ModelingError(decision.reason)  # the pipeline fails here, naming the metric
    return out


def deploy(settings: str, registration: str, environment: str, specs: str = "azureml-models") -> dict[str, Any]:
    """A new champion goes to the online endpoint's idle deployment of `environment`, which then takes
    its traffic, and/or becomes the batch endpoint's default deployment (models.deployment_pattern).
    Uses the job's identity on the workspace Azure ML runs it in (AZUREML_ARM_* variables)."""
    models, _data = _settings(settings)
    done = json.loads((Path(registration) / "registration.json").read_text(encoding="utf-8"))
    if done.get("alias") != "champion":
        return {"deployed": False, "reason": "no new champion: the endpoint keeps serving the current one"}
    where = {k: os.environ.get(k, "") for k in ("AZUREML_ARM_SUBSCRIPTION", "AZUREML_ARM_RESOURCEGROUP",
                                                 "AZUREML_ARM_WORKSPACE_NAME")}
    missing = [k for k, v in where.items() if not v]
    if missing:
        raise ModelingError(f"the deploy step runs inside an Azure ML job: {', '.join(missing)} not set "
                            "(Azure ML sets them for every job)")
    import azure.ai.ml as aml
    from azure.identity import DefaultAzureCredential

    folder = Path(specs) / environment
    model = f"azureml:{done['name']}:{done['version']}"
    ml = aml.MLClient(DefaultAzureCredential(), *where.values(), enable_telemetry=False)
    out: dict[str, Any] = {"deployed": True, "model": model}
    if models.serves_online:
        deps = models.online_endpoint.deployments
        idle = next((d.name for d in deps if d.traffic == 0), deps[-1].name)
        ml.online_endpoints.begin_create_or_update(aml.load_online_endpoint(folder / "online-endpoint.yml")).result()
        deployment = aml.load_online_deployment(folder / f"deployment-{idle}.yml")
        deployment.model = model
        ml.online_deployments.begin_create_or_update(deployment).result()
        ml.online_endpoints.begin_create_or_update(
            aml.load_online_endpoint(folder / "online-endpoint-traffic.yml")).result()
        out["deployment"] = idle
    if models.serves_batch:  # the batch endpoint's default deployment
        endpoint = aml.load_batch_endpoint(folder / "batch-endpoint.yml")
        ml.batch_endpoints.begin_create_or_update(endpoint).result()
        deployment = aml.load_batch_deployment(folder / "batch-deployment.yml")
        deployment.model = model
        ml.batch_deployments.begin_create_or_update(deployment).result()
        endpoint = ml.batch_endpoints.get(endpoint.name)
        endpoint.defaults.deployment_name = deployment.name
        ml.batch_endpoints.begin_create_or_update(endpoint).result()
        out["batch_deployment"] = deployment.name
    return out


STEPS = {"dataprep": dataprep, "train": train, "evaluate": evaluate, "register": register, "deploy": deploy}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_accelerator.modeling.steps",
                                     description="One step of the stage-5 Azure ML pipeline")
    parser.add_argument("step", choices=list(STEPS))
    for option in ("settings", "data", "prepared", "model", "evaluation", "registration", "environment", "code",
                   "specs"):
        parser.add_argument(f"--{option}")
    args = vars(parser.parse_args(argv))
    step = STEPS[args.pop("step")]
    import inspect

    wanted = inspect.signature(step).parameters
    missing = [f"--{n}" for n, p in wanted.items() if p.default is inspect.Parameter.empty and not args.get(n)]
    if missing:
        parser.error(f"{step.__name__} needs {', '.join(missing)}")
    try:
        result = step(**{n: args[n] for n in wanted if args.get(n)})
    except ModelingError as exc:
        print(f"{step.__name__} failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
