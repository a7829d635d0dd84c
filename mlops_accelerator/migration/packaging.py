"""The migrated experiment as an Azure ML command job: built with azure-ai-ml entities, loaded back.

Writes `<out>/job.yml` (code = the migrated source folder, the command the legacy ScriptRunConfig
ran, its compute and experiment), `<out>/conda.yml` (the legacy dependencies without azureml-core,
plus MLflow) and, per v1 dataset, a job input: the stage-4 data asset when one matches, else the
local file (Azure ML uploads local input paths when the job is submitted).
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path
from typing import Any

from .codemod import DEFAULT_IMAGE

V1_PACKAGES = ("azureml-core", "azureml-defaults", "azureml-sdk", "azureml-dataset-runtime", "azureml-pipeline")
ADDED_PACKAGES = ("mlflow", "azureml-mlflow")


def match_data_assets(inputs: dict[str, str], stage4_assets: list[dict[str, Any]],
                      configured: str | None) -> dict[str, dict[str, Any]]:
    """v1 dataset name -> the stage-4 data asset it maps to (same name, or the configured AML_DATASET
    when there is a single input); datasets without a match are absent."""
    by_name = {a.get("name"): a for a in stage4_assets or [] if a.get("name")}
    out = {}
    for v1 in inputs:
        asset = by_name.get(v1) or (by_name.get(configured) if len(inputs) == 1 else None)
        if asset and asset.get("version"):
            out[v1] = asset
    return out


def _conda(legacy_conda: Path | None, requirements: list[str], python_version: str) -> dict[str, Any]:
    import yaml

    data: dict[str, Any] = {}
    if legacy_conda and legacy_conda.is_file():
        data = yaml.safe_load(legacy_conda.read_text(encoding="utf-8")) or {}
    deps = list(data.get("dependencies") or [f"python={python_version}", "pip"])
    pip: list[str] = []
    rest = []
    for d in deps:
        if isinstance(d, dict) and "pip" in d:
            pip += [str(p) for p in d["pip"]]
        else:
            rest.append(d)
    def name(req: str) -> str:
        return re.split(r"[<>=!~\[; ]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")

    listed = {name(p) for p in pip}
    pip += [r for r in requirements if name(r) not in listed]  # the conda file's pins win
    pip = [p for p in pip if not name(p).startswith(V1_PACKAGES)]
    pip += [p for p in ADDED_PACKAGES if p not in {name(x) for x in pip}]
    if "pip" not in rest:
        rest.append("pip")
    return {"name": data.get("name") or "migrated-env", "channels": data.get("channels") or ["conda-forge"],
            "dependencies": [*rest, {"pip": pip}]}


def write_conda(out: Path, migrated_root: str | Path, inventory: dict[str, Any], conda_src: str | None,
                python_version: str) -> Path:
    """conda.yml: the legacy conda file (or requirements) without the SDK v1 packages, plus MLflow."""
    import yaml

    reqs = [f"{d['name']}{d['spec']}" for d in inventory["dependencies"]["declared"]
            if d["file"].startswith("requirements")]
    conda = _conda(Path(migrated_root) / conda_src if conda_src else None, reqs, python_version)
    path = out / "conda.yml"
    path.write_text(yaml.safe_dump(conda, sort_keys=False), encoding="utf-8")
    return path


def _step_command(cfg: dict[str, Any]) -> str | None:
    script, args = cfg.get("script_name"), cfg.get("arguments") or []
    if not isinstance(script, str) or not isinstance(args, list) or any(isinstance(a, dict) for a in args):
        return None
    return " ".join(shlex.quote(str(w)) for w in ["python", script, *args])


def write_pipeline(out_dir: str | Path, migrated_root: str | Path, inventory: dict[str, Any], *,
                   default_compute: str, default_experiment: str, name: str,
                   python_version: str = "3.11") -> dict[str, Any]:
    """The legacy PythonScriptSteps as one pipeline job of command steps (`pipeline.yml`), loaded back.

    v1 steps ordered by PipelineData become v2 steps linked by outputs/inputs: that data flow is not
    inferred here, so steps without links run in parallel; the result says so.
    """
    import yaml
    from azure.ai.ml import command, dsl, load_job
    from azure.ai.ml.entities import Environment

    from ..artifacts.azureml_specs import _quiet_sdk

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    steps = inventory.get("steps") or []
    if not steps:
        return {"written": False, "reason": "the legacy code has no PythonScriptStep", "steps": []}
    conda = out / "conda.yml"
    if not conda.is_file():
        write_conda(out, migrated_root, inventory, None, python_version)
    planned, skipped = [], []
    for i, st in enumerate(steps):
        cfg = st["config"]
        line = _step_command(cfg)
        step_name = cfg.get("name") if isinstance(cfg.get("name"), str) else f"step_{i + 1}"
        step_name = re.sub(r"\W", "_", step_name).lower()
        if line is None:
            skipped.append(f"{st['file']}:{st['line']} {step_name}: script or arguments are not literals")
            continue
        folder = cfg.get("source_directory") if isinstance(cfg.get("source_directory"), str) else "."
        compute = (st.get("compute") or {}).get("args", {}).get("name") if isinstance(st.get("compute"), dict) \
            else cfg.get("compute_target") if isinstance(cfg.get("compute_target"), str) else None
        planned.append({"name": step_name, "command": line, "code": Path(migrated_root) / folder, "compute": compute})
    env = Environment(image=DEFAULT_IMAGE, conda_file=str(conda))
    with _quiet_sdk():
        nodes = {p["name"]: command(name=p["name"], code=str(p["code"]), command=p["command"], environment=env,
                                    compute=p["compute"]) for p in planned}

        @dsl.pipeline(name=name, compute=default_compute, experiment_name=default_experiment)
        def migrated_pipeline() -> None:
            for step_name, node in nodes.items():
                node().name = step_name

        data = json.loads(json.dumps(migrated_pipeline()._to_dict()))
    for p in planned:  # relative paths so the folder can move; one conda file for every step
        job = data["jobs"][p["name"]]
        job["environment"] = {"image": DEFAULT_IMAGE, "conda_file": "conda.yml"}
        job["component"]["environment"] = dict(job["environment"])
        job["component"]["code"] = os.path.relpath(p["code"], out)
    path = out / "pipeline.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    problems = []
    try:
        with _quiet_sdk():
            loaded = load_job(path)
            valid = loaded._validate()
        if not valid.passed:
            problems.append(str(valid.error_messages))
        if list(loaded.jobs) != [p["name"] for p in planned]:
            problems.append(f"steps load as {list(loaded.jobs)}")
    except Exception as exc:  # the SDK's loader refused the file
        problems.append(f"{type(exc).__name__}: {exc}")
    return {"written": True, "file": "pipeline.yml", "steps": [{k: p[k] for k in ("name", "command")} for p in planned],
            "skipped": skipped, "loads": not problems, "problems": problems,
            "note": "steps linked by PipelineData in v1 need outputs/inputs in v2; without them they run in parallel"}


def write_job(out_dir: str | Path, migrated_root: str | Path, inventory: dict[str, Any], inputs: dict[str, str],
              *, local_data: dict[str, str], legacy_root: str | Path, stage4_assets: list[dict[str, Any]],
              configured_dataset: str | None, default_compute: str, default_experiment: str,
              python_version: str = "3.11") -> dict[str, Any]:
    """Write job.yml and conda.yml for the first ScriptRunConfig of the inventory; load them back."""
    import yaml
    from azure.ai.ml import Input, command, load_job
    from azure.ai.ml.entities import Environment

    from ..artifacts.azureml_specs import _quiet_sdk

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not inventory.get("runs"):
        return {"written": False, "reason": "the legacy code submits no ScriptRunConfig: write the job's "
                                            "command by hand (python <entry point> ...)", "files": []}
    run = inventory["runs"][0]
    cfg = run["config"]
    if not isinstance(cfg.get("script"), str):
        return {"written": False, "reason": "the ScriptRunConfig's script is not a literal", "files": []}
    args = cfg.get("arguments") or []
    if any(isinstance(a, dict) for a in args):
        return {"written": False, "reason": "ScriptRunConfig arguments are not all literals", "files": []}
    line = " ".join(shlex.quote(str(w)) for w in ["python", cfg["script"], *args])
    source_dir = Path(migrated_root) / (cfg.get("source_directory") if isinstance(cfg.get("source_directory"), str)
                                        else ".")
    compute = (run.get("compute") or {}).get("args", {}).get("name") if isinstance(run.get("compute"), dict) else None
    env_args = (run.get("environment") or {}).get("args", {}) if isinstance(run.get("environment"), dict) else {}
    conda_src = env_args.get("file_path") if isinstance(env_args.get("file_path"), str) else None
    exp = next((e.get("name") for e in inventory.get("experiments", []) if isinstance(e.get("name"), str)), None)
    write_conda(out, migrated_root, inventory, conda_src, python_version)

    matched = match_data_assets(inputs, stage4_assets, configured_dataset)
    job_inputs, mapping = {}, []
    for v1, name in sorted(inputs.items()):
        if v1 in matched:
            a = matched[v1]
            job_inputs[name] = Input(type=a.get("type") or "uri_file", path=f"azureml:{a['name']}:{a['version']}")
            mapping.append({"dataset": v1, "input": name, "data_asset": f"{a['name']}:{a['version']}",
                            "path": job_inputs[name].path})
        elif v1 in local_data:
            rel = os.path.relpath(Path(legacy_root) / local_data[v1], out)
            job_inputs[name] = Input(type="uri_file", path=rel)
            mapping.append({"dataset": v1, "input": name, "data_asset": None, "path": rel})
        else:
            mapping.append({"dataset": v1, "input": name, "data_asset": None, "path": None})
    with _quiet_sdk():
        node = command(code=str(source_dir), command=line, inputs=job_inputs, compute=compute or default_compute,
                       environment=Environment(image=DEFAULT_IMAGE, conda_file=str(out / "conda.yml")),
                       experiment_name=exp or default_experiment, display_name=Path(cfg["script"]).stem)
        data = json.loads(json.dumps(node._to_job()._to_dict()))
    # Paths relative to the YAML so the folder can move (the SDK dumps them absolute).
    data["code"] = os.path.relpath(source_dir, out)
    data["environment"] = {"image": DEFAULT_IMAGE, "conda_file": "conda.yml"}
    for m in mapping:  # local input paths stay local (the SDK prefixes them with azureml:)
        if m["path"] and not m["data_asset"]:
            data["inputs"][m["input"]]["path"] = m["path"]
    job_path = out / "job.yml"
    job_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    problems = []
    try:
        with _quiet_sdk():
            loaded = load_job(job_path)
            valid = loaded._validate()
        if not valid.passed:
            problems.append(str(valid.error_messages))
        if loaded.command != line:
            problems.append(f"command loads as {loaded.command!r}")
        if sorted(loaded.inputs) != sorted(job_inputs):
            problems.append(f"inputs load as {sorted(loaded.inputs)}")
        code = Path(loaded.code)
        if not (code if code.is_absolute() else job_path.parent / code).resolve() == source_dir.resolve():
            problems.append(f"code loads as {loaded.code}")
    except Exception as exc:  # the SDK's loader refused the file: report it, do not pretend
        problems.append(f"{type(exc).__name__}: {exc}")
    return {"written": True, "files": ["job.yml", "conda.yml"], "command": line, "compute": data.get("compute"),
            "experiment_name": data.get("experiment_name"), "inputs": mapping, "loads": not problems,
            "problems": problems}
