"""Local datastores: the folders that stand in for ADLS Gen2 / Blob containers on the local target.

A datastore `silver` on account `stchurndata`, container `silver` is the folder
`<project>/lake/stchurndata/silver/`; the asset path
`azureml://datastores/silver/paths/churn/1/` is `<project>/lake/stchurndata/silver/churn/1/`.
Two datastores on the same container share the folder, as they share the container in Azure, so
the layout copies one-to-one into the storage account (`azcopy copy lake/<account>/<container> ...`).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from . import DataPrepError

LAKE_DIR = "lake"


class Lake:
    def __init__(self, project_dir: str | Path, datastores: list[Any], layers: list[Any]):
        self.root = Path(project_dir).resolve() / LAKE_DIR
        self.stores = {d.name: d for d in datastores}
        self.store_of_layer = {x.layer: x.datastore for x in layers}
        self.layer_of_store = {x.datastore: x.layer for x in layers}

    def container_dir(self, datastore: str) -> Path:
        d = self.stores.get(datastore)
        if d is None:
            raise DataPrepError(f"datastore '{datastore}' is not declared under datastores")
        return self.root / d.account_name / d.container

    def layer_dir(self, layer: str) -> Path:
        store = self.store_of_layer.get(layer)
        if store is None:
            raise DataPrepError(f"no datastore holds the {layer} layer: add it under 'Data layers'")
        return self.container_dir(store)

    def local_path(self, azureml_path: str) -> Path:
        """The folder or file behind azureml://datastores/<ds>/paths/<p> (never outside its container)."""
        from ..settings.data import datastore_of

        store = datastore_of(azureml_path)
        if store is None:
            raise DataPrepError(f"'{azureml_path}' is not an azureml://datastores/<name>/paths/<path> URI")
        rel = PurePosixPath(azureml_path.split("/paths/", 1)[1])
        if rel.is_absolute() or ".." in rel.parts:
            raise DataPrepError(f"'{azureml_path}': the path may not leave its datastore ('..' or absolute)")
        return self.container_dir(store).joinpath(*rel.parts)
