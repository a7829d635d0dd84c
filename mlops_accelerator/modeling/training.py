"""Training on the local target: a stage-4 data asset in, a tuned model tracked in MLflow out.

One parent MLflow run per training: parameters, held-out metrics, the data asset `name:version` as
an MLflow dataset input, the git commit (MLflow's own source tags), our tags, and the model in
MLflow format with its signature and an input example. With tuning on, the settings' sampling picks
the parameters on the validation split over the package's SEARCH_SPACE (grid or random: sklearn's
GridSearchCV / RandomizedSearchCV; bayesian: optuna's TPE sampler), up to max concurrent trials at
once, and every trial is a child run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ModelingError
from .project_code import CodeVersion, checkout_for_run, describe, import_code

# Metrics training logs for a binary classifier (name -> how it is computed, see _metrics).
LOGGED_METRICS = ("accuracy", "balanced_accuracy", "roc_auc", "auc", "f1", "f1_score", "precision", "recall",
                  "log_loss")
# Primary metric -> sklearn scorer used by the search.
SCORERS = {"accuracy": "accuracy", "balanced_accuracy": "balanced_accuracy", "roc_auc": "roc_auc", "auc": "roc_auc",
           "f1": "f1", "f1_score": "f1", "precision": "precision", "recall": "recall", "log_loss": "neg_log_loss"}
SEED = 42
SEARCH_ROWS = 15_000  # training rows each search trial fits on


def check_metric_names(models: Any) -> None:
    """Every metric the settings compare on is one training logs: fail before any work otherwise."""
    named = [("primary_metric.name", models.primary_metric.name)]
    named += [(f"metric_thresholds[{i}].metric", t.metric) for i, t in enumerate(models.metric_thresholds)]
    for where, metric in named:
        if metric not in LOGGED_METRICS:
            raise ModelingError(f"models.{where} is '{metric}', which training never logs (it logs "
                                f"{', '.join(LOGGED_METRICS)}): pick one of those")


def parse_asset_ref(ref: str, where: str = "models.training_data") -> tuple[str, str | None]:
    name, _, version = ref.partition(":")
    if not name:
        raise ModelingError(f"{where} '{ref}' is not a data asset reference: write <name>:<version>")
    return name, (version if version not in ("", "latest") else None)


def load_asset(project_dir: Path, ref: str) -> tuple[Any, dict[str, Any]]:
    """The asset version's table (pandas) and its registry record; the files are re-hashed first."""
    import pandas as pd

    from ..dataprep import DataPrepError
    from ..dataprep.versioning import Registry

    name, version = parse_asset_ref(ref)
    registry = Registry(project_dir)
    try:
        record = registry.get(name, version)
    except DataPrepError as exc:
        raise ModelingError(f"models.training_data '{ref}': {exc}. Run stage 4 ('mlops-accelerator run data') "
                            "or name a registered version ('mlops-accelerator data list')") from None
    problems = registry.verify(record)
    if problems:
        raise ModelingError(f"data asset {name}:{record['version']} does not match its registered hashes: "
                            + "; ".join(problems))
    where = project_dir / record["local_path"]
    files = sorted(where.glob("*.parquet")) if where.is_dir() else [where]
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True), record


def split(df: Any, label: str, splits: Any) -> tuple[Any, Any, Any]:
    """Train, validation and test frames as stage 4's data_splits say (time-based or random)."""
    from sklearn.model_selection import train_test_split

    n = len(df)
    n_val, n_test = round(n * splits.validation_pct / 100), round(n * splits.test_pct / 100)
    if splits.strategy == "time_based" and splits.time_column in df.columns:
        ordered = df.sort_values(splits.time_column, kind="stable").reset_index(drop=True)
        train_end = n - n_val - n_test
        return ordered.iloc[:train_end], ordered.iloc[train_end:train_end + n_val], ordered.iloc[train_end + n_val:]
    stratify = df[label] if getattr(splits, "strategy", "") in ("stratified", "random") else None
    rest, test = train_test_split(df, test_size=n_test, random_state=SEED, stratify=stratify)
    train, val = train_test_split(rest, test_size=n_val, random_state=SEED,
                                  stratify=rest[label] if stratify is not None else None)
    return train, val, test


def metrics(y_true: Any, proba: Any) -> dict[str, float]:
    from sklearn import metrics as m

    pred = (proba >= 0.5).astype(int)
    out = {
        "accuracy": m.accuracy_score(y_true, pred),
        "balanced_accuracy": m.balanced_accuracy_score(y_true, pred),
        "roc_auc": m.roc_auc_score(y_true, proba),
        "f1": m.f1_score(y_true, pred, zero_division=0),
        "precision": m.precision_score(y_true, pred, zero_division=0),
        "recall": m.recall_score(y_true, pred, zero_division=0),
        "log_loss": m.log_loss(y_true, proba, labels=[0, 1]),
    }
    out["auc"], out["f1_score"] = out["roc_auc"], out["f1"]
    return {k: round(float(v), 6) for k, v in out.items()}


@dataclass
class TrainingResult:
    run_id: str
    experiment: str
    model_uri: str
    metrics: dict[str, float]
    params: dict[str, Any]
    trials: list[dict[str, Any]]
    data_asset: str
    code: CodeVersion
    model: Any
    test: Any  # held-out frame (label included) for evaluation, RAI and batch scoring
    label: str
    modules: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)

    def job_evidence(self, compute: str = "local") -> dict[str, Any]:
        return {"name": self.run_id, "experiment": self.experiment, "status": "Completed", "compute": compute,
                "git": self.code.as_evidence(), "metrics": self.metrics, "params": self.params,
                "data_asset": self.data_asset, "trials": len(self.trials), "model_uri": self.model_uri}


def experiment_name(models: Any, project: str, purpose: str) -> str:
    env = models.promotion_path[0] if models.promotion_path else "dev"
    return (models.experiment_name.replace("{project}", project).replace("{env}", env)
            .replace("{purpose}", purpose))


def concurrent_trials(tuning: Any) -> int:
    """Trials at once: the settings' max concurrent trials, bounded by this machine's cores."""
    import os

    return max(1, min(tuning.max_concurrent_trials, os.cpu_count() or 1))


def _sklearn_search(build_model: Any, space: dict[str, list[Any]], tuning: Any, scorer: str, cv: Any,
                    X: Any, y: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """sklearn's grid or random search over the package's space, validated on the fixed split."""
    from joblib import parallel_config
    from sklearn.model_selection import GridSearchCV, ParameterGrid, RandomizedSearchCV

    grid_size = len(ParameterGrid(space))
    n_jobs = concurrent_trials(tuning)
    if tuning.sampling == "grid" and grid_size <= tuning.max_trials:
        search = GridSearchCV(build_model(), space, scoring=scorer, cv=cv, refit=False, n_jobs=n_jobs)
    else:
        search = RandomizedSearchCV(build_model(), space, n_iter=min(tuning.max_trials, grid_size), scoring=scorer,
                                    cv=cv, refit=False, random_state=SEED, n_jobs=n_jobs)
    # Threads, not processes: the project's package is imported from the run's code folder, which a
    # worker process could not import.
    with parallel_config(backend="threading"):
        search.fit(X, y)
    trials = [{"trial": i, "params": params, "validation_score": float(search.cv_results_["mean_test_score"][i])}
              for i, params in enumerate(search.cv_results_["params"])]
    return dict(search.best_params_), trials


def _optuna_search(build_model: Any, space: dict[str, list[Any]], tuning: Any, scorer: str, fit: tuple[Any, Any],
                   val: tuple[Any, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Bayesian sampling: optuna's TPE sampler learns from the finished trials which values to try next."""
    import optuna
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import ParameterGrid

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    score = get_scorer(scorer)  # sklearn scorers are greater-is-better (neg_log_loss for log_loss)

    def objective(trial: Any) -> float:
        params = {name: trial.suggest_categorical(name, values) for name, values in space.items()}
        return float(score(build_model(params).fit(*fit), *val))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=SEED))
    study.optimize(objective, n_trials=min(tuning.max_trials, len(ParameterGrid(space))),
                   n_jobs=concurrent_trials(tuning))
    done = sorted((t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE), key=lambda t: t.number)
    trials = [{"trial": t.number, "params": dict(t.params), "validation_score": float(t.value)} for t in done]
    return dict(study.best_params), trials


def tune(build_model: Any, space: dict[str, list[Any]], tuning: Any, scorer: str, train: tuple[Any, Any],
         val: tuple[Any, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(best parameters, trials) of the settings' search, each trial fitted on a sample of the
    training split (fast feedback) and scored on the validation split; the final fit uses all rows."""
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import PredefinedSplit

    (X_train, y_train), (X_val, y_val) = train, val
    X_fit = X_train.sample(min(len(X_train), SEARCH_ROWS), random_state=SEED)
    y_fit = y_train.loc[X_fit.index]
    if tuning.sampling == "bayesian":
        return _optuna_search(build_model, space, tuning, scorer, (X_fit, y_fit), (X_val, y_val))
    cv = PredefinedSplit(np.r_[np.full(len(X_fit), -1), np.zeros(len(X_val))])
    return _sklearn_search(build_model, space, tuning, scorer, cv, pd.concat([X_fit, X_val]),
                           pd.concat([y_fit, y_val]))


def _requirements() -> list[str]:
    """The serving environment, pinned to what trained the model (MLflow's own inference is slow)."""
    from importlib.metadata import version

    return [f"{p}=={version(p)}" for p in ("mlflow", "scikit-learn", "skops", "pandas", "numpy")]


def train(project_dir: str | Path, run_dir: str | Path, models: Any, data: Any, project_name: str, *,
          code: CodeVersion | None = None, allow_dirty: bool = False) -> TrainingResult:
    """Train the project's committed code on the configured data asset and track it in MLflow."""
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    from ..tracking import experiment_id, use_project_tracking

    t0 = time.perf_counter()
    project_dir, run_dir = Path(project_dir).resolve(), Path(run_dir).resolve()
    check_metric_names(models)
    if not models.training_data:
        raise ModelingError("models.training_data is empty: name the stage-4 data asset to train on, "
                            "as <name>:<version> (see 'mlops-accelerator data list')")
    df, record = load_asset(project_dir, models.training_data)
    asset_ref = f"{record['name']}:{record['version']}"
    label = data.feature_table.label_column or "label"
    if label not in df.columns:
        raise ModelingError(f"data asset {asset_ref} has no label column '{label}' (data.feature_table."
                            f"label_column); its columns: {', '.join(map(str, df.columns))}")
    code = code or checkout_for_run(project_dir, run_dir, allow_dirty)
    mods = import_code(code)
    timings = {"load_s": time.perf_counter() - t0}

    def project_call(what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ModelingError:
            raise
        except Exception as exc:  # the project's own code failed: say which function and where
            raise ModelingError(f"the training code failed in {code.package}.{what}: {describe(exc)}") from exc

    clean = project_call("dataprep.clean", mods["dataprep"].clean, df)
    train_df, val_df, test_df = split(clean, label, data.data_splits)
    X_train, y_train = project_call("dataprep.split_xy", mods["dataprep"].split_xy, train_df)
    X_val, y_val = project_call("dataprep.split_xy", mods["dataprep"].split_xy, val_df)
    X_test, y_test = project_call("dataprep.split_xy", mods["dataprep"].split_xy, test_df)

    t_track = time.perf_counter()
    use_project_tracking(project_dir)
    purpose = "explore" if code.dirty else "training"
    exp_name = experiment_name(models, project_name, purpose)
    exp_id = experiment_id(exp_name, project_dir)
    tags = {"mlflow.source.git.commit": code.commit, "mlflow.source.git.repoURL": code.repository,
            "mlflow.source.git.branch": code.branch, "mlflow.source.type": "PROJECT", "git_commit": code.commit,
            "git_dirty": str(code.dirty).lower(), "data_asset": asset_ref, "purpose": purpose,
            "training_compute": "local", "framework": models.framework}
    trials: list[dict[str, Any]] = []
    space = getattr(mods["train"], "SEARCH_SPACE", {}) or {}
    tuning = models.hyperparameter_tuning
    scorer = SCORERS[models.primary_metric.name]
    with mlflow.start_run(experiment_id=exp_id, run_name=f"train-{code.commit[:8]}", tags=tags) as run:
        # The local copy is the source MLflow can resolve; the Azure ML path is kept as a run tag.
        import warnings

        warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
        dataset = mlflow.data.from_pandas(df, source=(project_dir / record["local_path"]).as_uri(),
                                          name=asset_ref, targets=label)
        mlflow.log_input(dataset, context="training")
        mlflow.set_tag("data_asset_path", record.get("path", ""))
        best: dict[str, Any] = {}
        timings["tracking_setup_s"] = time.perf_counter() - t_track
        t1 = time.perf_counter()
        if tuning.enabled and space:
            best, found = project_call("train.build_model (search)", tune, mods["train"].build_model, space, tuning,
                                       scorer, (X_train, y_train), (X_val, y_val))
            for t in found:
                trial = {**t, "params": {k: str(v) for k, v in t["params"].items()}}
                trials.append(trial)
                with mlflow.start_run(experiment_id=exp_id, run_name=f"trial-{t['trial']}", nested=True,
                                      tags={"mlflow.parentRunId": run.info.run_id, "trial": str(t["trial"])}):
                    mlflow.log_params(t["params"])
                    mlflow.log_metric(f"validation_{models.primary_metric.name}", abs(t["validation_score"]))
        timings["search_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        model = project_call("train.build_model", mods["train"].build_model, best)
        project_call("fit", model.fit, pd.concat([X_train, X_val]), pd.concat([y_train, y_val]))
        proba = project_call("predict_proba", model.predict_proba, X_test)[:, 1]
        scores = metrics(y_test, proba)
        timings["fit_s"] = time.perf_counter() - t2
        params = {k: str(v) for k, v in {**model.get_params(deep=False), **best}.items()
                  if not k.startswith("steps") and not k.startswith("memory")}
        params.update({"sampling": tuning.sampling if tuning.enabled else "none", "trials": str(len(trials)),
                       "concurrent_trials": str(concurrent_trials(tuning)) if trials else "0",
                       "search_rows": str(min(len(X_train), SEARCH_ROWS)) if trials else "0",
                       "train_rows": str(len(X_train)), "validation_rows": str(len(X_val)),
                       "test_rows": str(len(X_test)), "split_strategy": data.data_splits.strategy})
        mlflow.log_params(params)
        mlflow.log_metrics(scores)
        example = X_test.head(5)
        # Integer inputs are declared as doubles: a missing value at scoring time is then valid input.
        as_float = {c: "float64" for c in example.columns if pd.api.types.is_integer_dtype(example[c])}
        example = example.astype(as_float)
        signature = infer_signature(example, model.predict(example))
        t3 = time.perf_counter()
        # skops format (no arbitrary pickle); the types it flags are this commit's own functions, so
        # they are trusted, and the package travels with the model (code_paths) for serving.
        import skops.io

        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
        info = mlflow.sklearn.log_model(model, name="model", signature=signature, input_example=example,
                                        skops_trusted_types=trusted, pip_requirements=_requirements(),
                                        code_paths=[str(code.code_dir / "src" / code.package)])
        mlflow.set_tag("skops_trusted_types", ",".join(trusted))
        timings["log_model_s"] = time.perf_counter() - t3
    timings["total_s"] = time.perf_counter() - t0
    return TrainingResult(run.info.run_id, exp_name, info.model_uri, scores, params, trials, asset_ref, code,
                          model, test_df, label, mods, {k: round(v, 2) for k, v in timings.items()})
