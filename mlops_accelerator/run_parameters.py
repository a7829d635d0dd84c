"""What `run -p KEY=VALUE` (and a REST run's `parameters`) may override, checked before any kernel.

A run override must change something: a setting of a stage being run that one of its notebooks
takes as a parameter. Runner-owned parameters (project_dir, output_dir, target, run_id) and
anything else are refused with the list of what may be overridden, instead of being ignored.
"""

from __future__ import annotations

from typing import Any

from .errors import UsageError


def overridable(stages: list[str]) -> list[str]:
    """The parameters a run of these stages may override, sorted."""
    from .settings import schema_for
    from .templates import RUNNER_PARAMETERS, stage_templates

    names: set[str] = set()
    for slug in stages:
        fields = schema_for(slug).model_fields
        for template in stage_templates(slug):
            names |= {p.name for p in template.parameters if p.name in fields and p.name not in RUNNER_PARAMETERS}
    return sorted(names)


def check_overrides(stages: list[str], overrides: dict[str, Any] | None) -> None:
    """UsageError naming every override that would be ignored, and what may be overridden."""
    from .templates import RUNNER_PARAMETERS

    if not overrides:
        return
    allowed = overridable(stages)
    runner_owned = [k for k in overrides if k in RUNNER_PARAMETERS]
    unknown = [k for k in overrides if k not in allowed and k not in RUNNER_PARAMETERS]
    problems = []
    if runner_owned:
        problems.append(f"{', '.join(runner_owned)}: set by the runner for every run")
    if unknown:
        problems.append(f"{', '.join(unknown)}: not a parameter of the notebooks of stage(s) {', '.join(stages)}")
    if problems:
        raise UsageError(f"-p cannot override {'; '.join(problems)}. Parameters that may be overridden: "
                         f"{', '.join(allowed) or '(none)'}")
