"""Execution targets. `local` runs everything on this machine. `azureml` (stages 1-3 so far): the
notebooks still run here, then stage 3 is deployed to Azure and read back from it
(mlops_accelerator/azure/); stages 4-7 on Azure ML come later."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import UsageError

TARGETS = ("local", "azureml")
AVAILABLE = ("local",)  # what `run --target` accepts for every stage in this release
AZUREML_STAGES = ("foundations", "design", "deploy")  # stages the azureml target covers so far


def available(target: str, stage: str | None = None) -> bool:
    """Whether `target` runs `stage` (no stage: every stage) in this release."""
    if target in AVAILABLE:
        return True
    return target == "azureml" and stage is not None and stage in AZUREML_STAGES


def check_target(target: str, stages: Iterable[str] | None = None) -> str:
    """Refuse targets that are not available, loudly, instead of silently running locally."""
    if target == "local":
        return target
    if target == "azureml":
        beyond = [s for s in stages or () if s not in AZUREML_STAGES]
        if beyond:
            raise UsageError(f"target 'azureml' covers stages {', '.join(AZUREML_STAGES)} in this release "
                             f"(stage 3 is deployed to Azure and read back); stage(s) {', '.join(beyond)} "
                             f"run only with --target local for now")
        return target
    raise UsageError(f"unknown target {target!r}; targets: {', '.join(TARGETS)}")
