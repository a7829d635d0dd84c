"""The last Azure pre-flight's findings (`mlops-accelerator preflight`, or a run with --target azureml),
as the settings form shows them: beside the setting each one names, without blocking the wizard
(they are facts about Azure, not invalid input)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def stage_findings(project_root: Path, slug: str) -> list[dict[str, Any]]:
    """This stage's findings: {field (stage-relative path), message, check, at}."""
    from ..azure.preflight import latest_findings

    data = latest_findings(project_root)
    out = []
    for f in data.get("findings") or []:
        setting = str(f.get("setting") or "") if isinstance(f, dict) else ""
        if setting.startswith(f"{slug}.") and len(setting) > len(slug) + 1:
            out.append({"field": setting[len(slug) + 1:], "check": str(f.get("check") or ""),
                        "message": f"Azure pre-flight ({f.get('env')}): {f.get('message')}",
                        "at": str(data.get("at") or "")})
    return out
