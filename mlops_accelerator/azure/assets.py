"""Stages 4-6 on Azure, as far as they go: the data assets and the model monitor schedule created in
an environment's workspace from the very specs the local target writes (azure-ai-ml's own loaders
read them), then read back from Azure as evidence.

Each spec is one step: a failure names the spec and Azure's code and message, and what was created
before it stays in the returned evidence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


def create_data_assets(ml: Any, folder: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Every data-asset spec of one environment (`azureml-data/<env>/data-assets/*.yml`), created and
    read back. Returns (read-back assets, failures)."""
    from azure.ai.ml import load_data

    from .stage3 import _message

    assets: list[dict[str, Any]] = []
    failures: list[str] = []
    for path in sorted(folder.glob("*.yml")):
        try:
            spec = load_data(path)
            ml.data.create_or_update(spec)
            back = ml.data.get(spec.name, version=str(spec.version))
        except Exception as exc:  # an Azure error or a spec the loader refuses: named, the rest go on
            failures.append(f"data asset {path.stem}: {type(exc).__name__}: {_message(exc)}")
            continue
        assets.append({"name": back.name, "version": str(back.version), "type": _plain(back.type),
                       "path": str(back.path), "matches_spec": (back.name, str(back.version), _plain(back.type))
                       == (spec.name, str(spec.version), _plain(spec.type))})
    return assets, failures


def create_monitor_schedule(ml: Any, path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """The model monitor schedule (stage 6's `model-monitor.yml`), created and read back."""
    from azure.ai.ml.entities._load_functions import load_schedule

    from .stage3 import _message

    try:
        spec = load_schedule(path)
        ml.schedules.begin_create_or_update(spec).result()
        back = ml.schedules.get(spec.name)
    except Exception as exc:  # noqa: BLE001 - named in the failure, as the deployment's steps are
        return None, [f"monitor schedule {path.stem}: {type(exc).__name__}: {_message(exc)}"]
    monitor = getattr(back, "create_monitor", None)
    signals = {name: str(_plain(sig.type)) for name, sig in ((monitor.monitoring_signals or {}).items()
                                                             if monitor is not None else [])}
    return {"name": back.name, "cron": getattr(back.trigger, "expression", None),
            "enabled": bool(getattr(back, "is_enabled", True)), "signals": signals,
            "emails": list(getattr(getattr(monitor, "alert_notification", None), "emails", None) or [])}, []
