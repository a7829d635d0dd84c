"""Execution targets. `local` runs everything on this machine. `azureml` (stages 1-6 so far): the
notebooks run as Azure ML command jobs once the workspace exists (on this machine before that), then
stage 3 is deployed to Azure, and what stages 4-6 wrote as Azure ML specs (datastores, data assets,
endpoints, deployments, traffic, the monitor schedule) is created there; each is read back from Azure
(mlops_accelerator/azure/). Stage 7 on Azure ML comes later."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import UsageError

TARGETS = ("local", "azureml")
AVAILABLE = ("local",)  # what `run --target` accepts for every stage in this release
AZUREML_UP_TO_STAGE = 6  # the azureml target covers stages 1-6 so far (by catalogue number)


def azureml_stages() -> tuple[str, ...]:
    from .catalogue import stage_slugs

    return tuple(stage_slugs()[:AZUREML_UP_TO_STAGE])


def available(target: str, stage: str | None = None) -> bool:
    """Whether `target` runs `stage` (no stage: every stage) in this release."""
    if target in AVAILABLE:
        return True
    return target == "azureml" and stage is not None and stage in azureml_stages()


def check_target(target: str, stages: Iterable[str] | None = None) -> str:
    """Refuse targets that are not available, loudly, instead of silently running locally."""
    if target == "local":
        return target
    if target == "azureml":
        covered = azureml_stages()
        beyond = [s for s in stages or () if s not in covered]
        if beyond:
            raise UsageError(f"target 'azureml' covers stages {', '.join(covered)} in this release "
                             f"(stages 3-6 are created on Azure and read back); stage(s) {', '.join(beyond)} "
                             f"run only with --target local for now")
        return target
    raise UsageError(f"unknown target {target!r}; targets: {', '.join(TARGETS)}")
