"""`mlops-accelerator export --to DIR`: the generated infrastructure and pipelines as a repository.

The pipelines of stage 3 deploy `infra/<tool>/...` and read `infra/pipeline/tags.<env>.txt`; stage 2
writes the IaC into its run folder as `design/iac/<tool>/`. Export copies, from the latest successful
run of each stage, exactly that layout:

    infra/<arm|bicep|terraform>/...       stage 2 (runs/<id>/02-design/design/iac/<tool>/)
    infra/pipeline/tags.<env>.txt         stage 3 (runs/<id>/03-deploy/infra/pipeline/)
    .github/workflows/deploy-infra.yml    stage 3
    azure-pipelines/deploy-infra.yml      stage 3
    cicd/SETUP.md                         stage 3

and then checks that every file a pipeline references exists in DIR. An existing file with other
content is not overwritten unless asked (`force`): a repository's own edits are never lost silently.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..errors import AcceleratorError, UsageError
from . import cicd


class ExportError(AcceleratorError):
    """Nothing to export yet, or the exported layout misses a file a pipeline needs."""


def _latest_stage_dir(project: Any, slug: str, number: int) -> Path:
    run_dir = None
    for event in project.events("run_finished"):
        if (event.get("stages") or {}).get(slug, {}).get("status") == "succeeded":
            run_dir = event.get("run_dir")
    if run_dir is None:
        raise ExportError(f"stage {number} ({slug}) has no successful run yet: run "
                          f"'mlops-accelerator run {slug}' first")
    from ..catalogue import stage_folder

    return project.root / run_dir / stage_folder(slug)


def repository_layout(project: Any) -> dict[str, Path]:
    """Repository path -> the generated file it comes from."""
    tool = project.effective_settings("deploy").get("iac_tool", "arm")
    design_dir = _latest_stage_dir(project, "design", 2)
    deploy_dir = _latest_stage_dir(project, "deploy", 3)
    iac = design_dir / "design" / "iac" / tool
    if not iac.is_dir() or not any(iac.iterdir()):
        raise ExportError(f"the latest stage-2 run generated no {tool} files ({iac.relative_to(project.root)}): "
                          f"re-run stage 2 ('mlops-accelerator run design')")
    files = {f"infra/{tool}/{p.relative_to(iac).as_posix()}": p for p in sorted(iac.rglob("*")) if p.is_file()}
    for rel in (cicd.GITHUB_WORKFLOW, cicd.ADO_PIPELINE, cicd.SETUP_GUIDE):
        files[rel] = deploy_dir / rel
    data = deploy_dir / cicd.PIPELINE_DATA_DIR
    files.update({f"{cicd.PIPELINE_DATA_DIR}/{p.name}": p for p in sorted(data.glob("*")) if p.is_file()})
    missing = [rel for rel, src in files.items() if not src.is_file()]
    if missing:
        raise ExportError(f"the latest stage-3 run lacks {', '.join(missing)}: re-run stage 3 "
                          f"('mlops-accelerator run deploy')")
    return files


def missing_references(folder: Path) -> list[str]:
    """Files the exported pipelines reference that are not in `folder`."""
    from ruamel.yaml import YAML

    problems = []
    for rel in (cicd.GITHUB_WORKFLOW, cicd.ADO_PIPELINE):
        data = YAML(typ="safe").load((folder / rel).read_text(encoding="utf-8"))
        envs = ([j.get("env") or {} for j in (data.get("jobs") or {}).values()] if rel == cicd.GITHUB_WORKFLOW
                else [st.get("env") or {} for stage in data.get("stages") or [] for job in stage.get("jobs") or []
                      for st in (((job.get("strategy") or {}).get("runOnce") or {}).get("deploy") or {}).get("steps")
                      or [] if isinstance(st, dict)])
        for env in envs:
            problems += [f"{rel} references {f}, which is not in {folder}" for f in cicd._referenced_files(env)
                         if not (folder / f).is_file()]
    return sorted(set(problems))


def export_repository(project: Any, to: str | Path, *, force: bool = False) -> dict[str, Any]:
    """Copy the layout into `to`; returns {"files": [...], "unchanged": [...]}; raises on conflicts."""
    target = Path(to).resolve()
    if target == project.root or project.root in target.parents and (project.root / "runs") in target.parents:
        raise UsageError(f"export into a folder outside the project's runs/, not {target}")
    files = repository_layout(project)
    conflicts = [rel for rel, src in files.items()
                 if (target / rel).exists() and (target / rel).read_bytes() != src.read_bytes()]
    if conflicts and not force:
        raise UsageError(f"{len(conflicts)} file(s) in {target} differ from the generated ones and would be "
                         f"overwritten: {', '.join(conflicts[:5])}; use --force to replace them")
    written, unchanged = [], []
    for rel, src in files.items():
        dest = target / rel
        if dest.exists() and dest.read_bytes() == src.read_bytes():
            unchanged.append(rel)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        written.append(rel)
    problems = missing_references(target)
    if problems:
        raise ExportError("the exported pipelines reference missing files: " + "; ".join(problems))
    return {"to": str(target), "files": written, "unchanged": unchanged}
