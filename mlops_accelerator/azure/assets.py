"""Stages 4-6 on Azure, as far as they go: the data assets and the model monitor schedule created in
an environment's workspace from the very specs the local target writes (azure-ai-ml's own loaders
read them), then read back from Azure as evidence. A data asset's files go up from the local lake to
its datastore first, when the workspace does not have that version yet.

Each spec is one step: a failure names the spec and Azure's code and message, and what was created
before it stays in the returned evidence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


def create_data_assets(ml: Any, folder: Path, upload: Any = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Every data-asset spec of one environment (`azureml-data/<env>/data-assets/*.yml`), created and
    read back. `upload(spec)` first puts a version's files on its datastore when the workspace does not
    have that version yet (a registered version is immutable: its files are already there). Returns
    (read-back assets, failures)."""
    from azure.ai.ml import load_data
    from azure.core.exceptions import ResourceNotFoundError

    from .stage3 import _message

    assets: list[dict[str, Any]] = []
    failures: list[str] = []
    for path in sorted(folder.glob("*.yml")):
        uploaded = None
        try:
            spec = load_data(path)
            if upload is not None:
                try:
                    ml.data.get(spec.name, version=str(spec.version))
                    uploaded = "already on Azure"
                except ResourceNotFoundError:
                    uploaded = upload(spec)
            ml.data.create_or_update(spec)
            back = ml.data.get(spec.name, version=str(spec.version))
        except Exception as exc:  # an Azure error or a spec the loader refuses: named, the rest go on
            failures.append(f"data asset {path.stem}: {type(exc).__name__}: {_message(exc)}")
            continue
        assets.append({"name": back.name, "version": str(back.version), "type": _plain(back.type),
                       "path": str(back.path), "matches_spec": (back.name, str(back.version), _plain(back.type))
                       == (spec.name, str(spec.version), _plain(spec.type)),
                       **({"files": uploaded} if uploaded is not None else {})})
    return assets, failures


class UploadRefused(Exception):
    """The files of a data asset could not go up to its datastore; the message says why and what to do."""


def lake_uploader(cred: Any, project: Any) -> Any:
    """upload(spec): the data asset's files, from the local lake (`lake/<account>/<container>/<path>`,
    dataprep/lake.py) to the same path of its datastore's container on Azure, with the signed-in
    identity (Storage Blob Data Contributor on the account). Returns {"uploaded": files, "bytes": n}."""
    import os

    from ..dataprep.lake import Lake
    from ..naming import storage_suffix
    from .connection import STORAGE_SUFFIX_ENV

    data = project.settings("data")
    lake = Lake(project.root, data.datastores, data.data_layers)
    regions = [e.region for e in project.settings("design").environments]  # one cloud per project
    suffix = os.environ.get(STORAGE_SUFFIX_ENV) or storage_suffix(regions[0] if regions else "")

    def upload(spec: Any) -> dict[str, Any]:
        from azure.core.exceptions import HttpResponseError
        from azure.storage.blob import ContainerClient

        from ..dataprep import DataPrepError
        from ..settings.data import datastore_of

        try:
            local = lake.local_path(str(spec.path))
        except DataPrepError as exc:
            raise UploadRefused(str(exc)) from None
        store = lake.stores[datastore_of(str(spec.path))]
        files = [local] if local.is_file() else sorted(p for p in local.rglob("*") if p.is_file())
        if not files:
            raise UploadRefused(f"its files are not in the local lake ({local}): run stage 4 here first")
        prefix = str(spec.path).split("/paths/", 1)[1].strip("/")
        container = ContainerClient(f"https://{store.account_name}.blob.{suffix}", store.container,
                                    credential=cred)
        sent = 0
        try:
            for f in files:
                name = prefix if f == local else f"{prefix}/{f.relative_to(local).as_posix()}"
                size = f.stat().st_size
                with f.open("rb") as stream:  # streamed: a large file goes up in blocks, never whole in memory
                    container.upload_blob(name, stream, length=size, overwrite=True)  # no version names it yet
                sent += size
        except HttpResponseError as exc:
            if exc.status_code == 403:
                raise UploadRefused(f"{store.account_name}/{store.container} refused the upload "
                                    f"({exc.error_code}): the signed-in identity needs 'Storage Blob Data "
                                    "Contributor' on the account (stage 4's storage role assignments)") from None
            raise
        finally:
            container.close()
        return {"uploaded": len(files), "bytes": sent}
    return upload


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
