"""Execution targets. `local` runs everything on this machine; `azureml` comes later."""

from __future__ import annotations

from .errors import UsageError

TARGETS = ("local", "azureml")
AVAILABLE = ("local",)  # what `run --target` accepts in this release


def available(target: str) -> bool:
    return target in AVAILABLE


def check_target(target: str) -> str:
    """Refuse targets that are not available, loudly, instead of silently running locally."""
    if target == "local":
        return target
    if target == "azureml":
        raise UsageError("target 'azureml' is not yet supported in this release: the notebooks run "
                         "only with --target local for now (Azure ML job submission is planned)")
    raise UsageError(f"unknown target {target!r}; targets: {', '.join(TARGETS)}")
