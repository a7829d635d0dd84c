"""A local HTTPS fake of Azure Resource Manager and Azure ML for the azureml target's tests."""

from .credential import FakeCredential
from .server import FakeAzure

__all__ = ["FakeAzure", "FakeCredential"]
