"""A local HTTPS fake of Azure Resource Manager and Azure ML for the azureml target's tests."""

from . import jobs  # noqa: F401,I001  (registers the job, code upload and artifact routes)
from . import models  # noqa: F401,I001  (the default datastore, its secrets, model versions)
from . import pipelines  # noqa: F401,I001  (pipeline jobs, the workspace's MLflow store, output read-back)
from . import registries  # noqa: F401,I001  (registry discovery, sharing a model into a registry)
from .credential import FakeCredential
from .server import FakeAzure

__all__ = ["FakeAzure", "FakeCredential"]
