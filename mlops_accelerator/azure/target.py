"""The runner's hook for `--target azureml`: after the notebooks ran here, sign in and run the
pre-flight (once per run), deploy stage 3 and read it back, then create what stages 4-6 wrote as
Azure ML specs in each environment's workspace and read that back (azure/stages456.py), stage 5
training on Azure ML first (azure/training.py); each stage's read-back joins its evidence."""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

READBACK_FILE = "azureml-readback.json"  # in the stage's evidence/ folder, merged like a notebook's


def _on_azure() -> tuple[str, ...]:
    """The stages with something to create on Azure: stage 3 (deploy) up to the last the target covers."""
    from ..catalogue import stage_slugs
    from ..targets import AZUREML_UP_TO_STAGE

    return tuple(stage_slugs()[2:AZUREML_UP_TO_STAGE])


def _design_iac(project: Any, stages_out: dict[str, dict[str, Any]]) -> str | None:
    from ..deliverables import latest_evidence

    design = stages_out.get("design")
    ev = (design or {}).get("evidence") if design and design["status"] == "succeeded" else \
        latest_evidence(project.events()).get("design")
    return ((ev or {}).get("artifacts") or {}).get("iac")


def _fail(outcome: dict[str, Any], message: str) -> None:
    outcome["status"] = "failed"
    outcome["error"] = message


class _WithoutPollDots(io.TextIOBase):
    """stdout/stderr without what azure-ai-ml prints there while it works: a '.' on every status poll
    of a long-running operation (AzureMLPolling.update_status) and the bare colour reset after each
    upload (_blob_storage_helper). The runner's own lines pass unchanged."""

    CHATTER = re.compile(r"(?:\.|\x1b\[[0-9;]*m)+")

    def __init__(self, out: Any) -> None:
        self.out, self.dropped = out, False

    def write(self, text: str) -> int:
        if self.CHATTER.fullmatch(text.strip()) or (self.dropped and text == "\n"):
            self.dropped = not text.endswith("\n")  # print()'s separate newline goes with it
            return len(text)
        self.dropped = False
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()


def after_local_stages(project: Any, run_dir: Path, run_id: str, stages_out: dict[str, dict[str, Any]]) -> None:
    """Create on Azure what the stages' notebooks wrote, without azure-ai-ml's progress chatter
    (info logs such as "Check: endpoint ... exists", polling dots) between the runner's lines."""
    from ..artifacts.azureml_specs import _quiet_sdk

    with _quiet_sdk("azure.ai.ml.operations"), contextlib.redirect_stdout(_WithoutPollDots(sys.stdout)), \
            contextlib.redirect_stderr(_WithoutPollDots(sys.stderr)):  # an upload ends with a colour reset there
        _create_on_azure(project, run_dir, run_id, stages_out)


def _create_on_azure(project: Any, run_dir: Path, run_id: str, stages_out: dict[str, dict[str, Any]]) -> None:
    from ..catalogue import stage_folder
    from . import connection
    from .preflight import as_dicts, run_preflight, save_findings

    todo = [s for s in _on_azure() if (stages_out.get(s) or {}).get("status") == "succeeded"]
    if not todo:
        return  # nothing to create (or the notebooks failed: their error stands)
    if "deploy" in todo and not _design_iac(project, stages_out):
        _fail(stages_out["deploy"], "on Azure: no generated infrastructure code to deploy: run stage 2 first "
                                    "('mlops-accelerator run design')")
        todo.remove("deploy")
        if not todo:
            return
    try:
        cred = connection.credential()
        connection.check_sign_in(cred)
    except connection.SignInError as exc:
        for slug in todo:
            _fail(stages_out[slug], f"on Azure: {exc}")
        return
    findings = run_preflight(project, cred)
    save_findings(project, findings)
    for slug in todo:
        (run_dir / stage_folder(slug) / "azureml-preflight.json").write_text(
            json.dumps({"findings": as_dicts(findings)}, indent=2))
    if findings:
        for slug in todo:
            _fail(stages_out[slug], f"on Azure: pre-flight found {len(findings)} problem(s), nothing was "
                                    "deployed: " + "; ".join(f.text() for f in findings))
        return
    for slug in todo:
        stage_dir = run_dir / stage_folder(slug)
        if slug == "deploy":
            from .stage3 import deploy_and_read_back

            specs = (stages_out[slug].get("evidence", {}).get("artifacts") or {}).get("azureml_specs")
            ev, failures = deploy_and_read_back(project, cred, iac_folder=_design_iac(project, stages_out) or "",
                                                specs_folder=specs, run_id=run_id)
        else:
            ev, failures = _stage_on_azure(project, cred, stage_dir, slug, stages_out[slug], run_id)
        _keep(project, stage_dir, slug, stages_out[slug], ev, failures)


def _keep(project: Any, stage_dir: Path, slug: str, outcome: dict[str, Any], ev: dict[str, Any],
          failures: list[str]) -> None:
    """The read-back joins the stage's evidence, partial or not; failures fail the stage, named."""
    from ..evidence import merge_stage_evidence

    folder = stage_dir / "evidence"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / READBACK_FILE).write_text(json.dumps(ev, indent=2, default=str))
    outcome["evidence"] = merge_stage_evidence(stage_dir, project.root, slug)
    if failures:
        _fail(outcome, "on Azure: " + "; ".join(failures) + f" (what was read back is kept in "
                       f"{(folder / READBACK_FILE).relative_to(project.root)})")


def _train(project: Any, cred: Any, stage_dir: Path, envs: list[Any], run_id: str) -> tuple[dict[str, Any],
                                                                                     list[str], Any]:
    """The training job, in the first environment of the models' promotion path (as CD trains)."""
    from .stage3 import StepFailed, _message
    from .stages456 import workspace_client
    from .training import TRAINING_FOLDER, train_on_azure

    models = project.settings("models")
    first = next((e for name in models.promotion_path for e in envs if e.name == name), envs[0])
    try:
        ml = workspace_client(project, cred, first)
    except StepFailed as exc:
        return {"env": first.name}, [f"{first.name}: training: {exc}"], None
    except Exception as exc:  # the ARM call itself failed: say where
        return {"env": first.name}, [f"{first.name}: training: workspace: {type(exc).__name__}: {_message(exc)}"], None
    def recorded(job: str, status: str, url: str | None) -> None:  # the sidebar's and the wizards' job links
        project.record("azureml_job", run_id=run_id, key=f"{stage_dir.name}/{TRAINING_FOLDER}", job=job,
                       status=status, workspace=ml.workspace_name, compute=models.compute_name,
                       **({"studio_url": url} if url else {}))
    got, failures, trained = train_on_azure(ml, cred, first, stage_dir, models,
                                            project.settings("foundations").project_name, run_id,
                                            on_status=recorded)
    return got, [f"{first.name}: {f}" for f in failures], trained


def _stage_on_azure(project: Any, cred: Any, stage_dir: Path, slug: str, outcome: dict[str, Any],
                    run_id: str = "") -> tuple[dict[str, Any], list[str]]:
    """Stage 4, 5 or 6 in every environment it concerns; returns (read-back evidence, failures)."""
    from ..modeling.azure_specs import FOLDER as MODEL_SPECS
    from .assets import create_monitor_schedule, lake_uploader
    from .connection import environments
    from .stage3 import StepFailed
    from .stages456 import LocalModel, data_on_azure, models_on_azure, workspace_client

    artifacts = (outcome.get("evidence") or {}).get("artifacts") or {}
    local = LocalModel.from_evidence(outcome.get("evidence") or {}, project.root) if slug == "models" else None
    envs = environments(project)
    if not envs:
        return {}, [f"{slug}: no environment to create it in (deploy.environments_to_deploy is empty)"]
    failures: list[str] = []
    if slug == "monitor":  # one schedule, on production's endpoint: the last environment promoted to
        path = artifacts.get("monitor_schedule")
        if not path:
            return {}, ["monitor: this run wrote no monitor schedule spec (artifact monitor_schedule)"]
        path_ = project.root / path
        promoted = [e for e in project.settings("models").promotion_path if e in {x.name for x in envs}]
        envs = [x for x in envs if x.name == (promoted[-1] if promoted else envs[-1].name)]
    elif slug == "data":
        report = artifacts.get("azureml_data_assets")
        if not report:
            return {}, ["data: this run wrote no data asset specs (artifact azureml_data_assets)"]
        root = (project.root / report).parent
    else:
        root = stage_dir / MODEL_SPECS
    clients: dict[str, Any] = {}

    def registries(name: str) -> Any:  # one client per registry a deployment names, made when first needed
        from .connection import registry_client

        if name not in clients:
            clients[name] = registry_client(cred, name)
        return clients[name]
    uploader = lake_uploader(cred, project) if slug == "data" else None
    key = "azure_data" if slug == "data" else "azure_monitor" if slug == "monitor" else "azure_endpoints"
    ev: dict[str, Any] = {key: {}}
    deploy, trained = True, False
    # Train on Azure first when this run trained committed code (its notebook exported it to code/;
    # an exploration run on uncommitted code registers nothing): the endpoints deploy what that job
    # registered. Otherwise the specs' model version is deployed if the workspace has it.
    if slug == "models" and (stage_dir / "code" / "src").is_dir():
        training, failures, model = _train(project, cred, stage_dir, envs, run_id)
        ev["azure_training"] = training
        if failures:
            return ev, failures  # nothing trained there is deployed, and the local model is not either
        local, deploy, trained = model, model is not None, True
    for env in envs:
        try:
            ml = workspace_client(project, cred, env)
        except StepFailed as exc:
            failures.append(f"{env.name}: {exc}")
            continue
        except Exception as exc:  # the ARM call itself failed: say where
            from .stage3 import _message

            failures.append(f"{env.name}: workspace: {type(exc).__name__}: {_message(exc)}")
            continue
        if slug == "monitor":
            got, fails = create_monitor_schedule(ml, path_)
            ev[key] = {"env": env.name, **(got or {})} if got else None
        else:
            if not (root / env.name).is_dir():
                continue  # e.g. an environment outside the models' promotion path: nothing goes there
            got, fails = (data_on_azure(ml, root / env.name, uploader) if slug == "data" else
                          models_on_azure(ml, root / env.name, local, registries, deploy=deploy,
                                          trained=trained))
            ev[key][env.name] = got
        failures += [f"{env.name}: {f}" for f in fails]
    if trained and local is not None:
        local.close()  # the trained version's files, if they were downloaded for another workspace
    if slug != "monitor" and not ev[key] and not failures:
        failures.append(f"{slug}: this run wrote no Azure ML specs for any environment in "
                        f"{root.relative_to(project.root)}")
    return ev, failures
