"""Sign-in and the endpoints: one credential, ARM and Azure ML clients per environment.

Sign-in is azure-identity's DefaultAzureCredential (Azure CLI, environment, workload identity in CI,
managed identity), or the device-code flow on request; no secret is ever stored in the project.
The subscription, resource group and region of each environment come from the Stage-2 design.
`MLOPS_ACCELERATOR_AZURE_ARM_ENDPOINT` points everything at another Resource Manager (a sovereign
cloud, or the test fake); every MLClient is created with enable_telemetry=False.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError

ARM_ENDPOINT_ENV = "MLOPS_ACCELERATOR_AZURE_ARM_ENDPOINT"
# A custom cloud's storage host suffix (Azure Stack Hub, a sovereign cloud, the test fake): blob URLs are
# https://<account>.blob.<suffix>
STORAGE_SUFFIX_ENV = "MLOPS_ACCELERATOR_AZURE_STORAGE_SUFFIX"
SIGN_IN_ENV = "MLOPS_ACCELERATOR_AZURE_SIGN_IN"  # "default" or "device_code"
PUBLIC_ARM = "https://management.azure.com"
SIGN_IN_MODES = ("default", "device_code")


class SignInError(UsageError):
    """Could not get a token: says which ways were tried and what to do."""


@dataclass(frozen=True)
class AzureEnv:
    """One environment of the design, as Azure knows it."""

    name: str
    subscription_id: str
    resource_group: str
    region: str


def arm_endpoint() -> str:
    return (os.environ.get(ARM_ENDPOINT_ENV) or PUBLIC_ARM).rstrip("/")


def credential(mode: str | None = None, tenant_id: str | None = None) -> Any:
    """The credential to sign in with; no network call happens until a token is needed."""
    mode = mode or os.environ.get(SIGN_IN_ENV) or "default"
    if mode not in SIGN_IN_MODES:
        raise UsageError(f"sign-in mode {mode!r} ({SIGN_IN_ENV}): use one of {', '.join(SIGN_IN_MODES)}")
    import azure.identity as identity

    if mode == "device_code":
        return identity.DeviceCodeCredential(tenant_id=tenant_id) if tenant_id else identity.DeviceCodeCredential()
    # Interactive browser sign-in stays off: a run in CI must never wait for a person.
    kwargs: dict[str, Any] = {"exclude_interactive_browser_credential": True}
    if tenant_id:
        kwargs["additionally_allowed_tenants"] = [tenant_id]
    return identity.DefaultAzureCredential(**kwargs)


def check_sign_in(cred: Any) -> None:
    """Get one token now, so a failed sign-in is one plain message instead of an error per call."""
    from azure.core.exceptions import ClientAuthenticationError

    try:
        cred.get_token(f"{arm_endpoint()}/.default")
    except ClientAuthenticationError as exc:
        raise SignInError(
            "could not sign in to Azure. Tried: " + " ".join(str(exc).split())[:600]
            + ". Do one of: 'az login' (then 'az account set -s <subscription>'); set AZURE_CLIENT_ID, "
            "AZURE_TENANT_ID and a federated token (workload identity in CI); run on a machine with a "
            f"managed identity; or sign in with a device code ({SIGN_IN_ENV}=device_code)") from None


def environments(project: Any, only: list[str] | None = None) -> list[AzureEnv]:
    """The environments stage 3 deploys (optionally only some), with the design's coordinates."""
    design, deploy = project.settings("design"), project.settings("deploy")
    by_name = {e.name: e for e in design.environments}
    names = list(deploy.environments_to_deploy)
    for n in only or []:
        if n not in by_name:
            raise UsageError(f"--env {n}: not an environment of the design ({', '.join(by_name)})")
    chosen = [n for n in names if not only or n in only] + [n for n in only or [] if n not in names]
    return [AzureEnv(n, by_name[n].subscription_id, by_name[n].resource_group, by_name[n].region)
            for n in chosen if n in by_name]


def arm_client(cred: Any) -> Any:
    """azure-core's ARM pipeline (bearer token, retries that honour Retry-After, ARM error format)."""
    from azure.core.configuration import Configuration
    from azure.core.pipeline import policies
    from azure.mgmt.core import ARMPipelineClient
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

    config: Any = Configuration()
    config.authentication_policy = ARMChallengeAuthenticationPolicy(cred, f"{arm_endpoint()}/.default")
    config.retry_policy = policies.RetryPolicy(retry_total=4, retry_backoff_factor=0.2)
    config.user_agent_policy = policies.UserAgentPolicy(sdk_moniker="mlops-accelerator")
    config.headers_policy = policies.HeadersPolicy()
    config.logging_policy = policies.NetworkTraceLoggingPolicy()
    config.redirect_policy = policies.RedirectPolicy()
    config.proxy_policy = policies.ProxyPolicy()
    config.custom_hook_policy = policies.CustomHookPolicy()
    config.http_logging_policy = policies.HttpLoggingPolicy()
    return ARMPipelineClient(base_url=arm_endpoint(), config=config)


def deployments_client(cred: Any, subscription_id: str) -> Any:
    """azure-mgmt-resource-deployments: validate, what-if and deploy ARM templates."""
    from azure.mgmt.resource.deployments import DeploymentsMgmtClient

    return DeploymentsMgmtClient(cred, subscription_id, base_url=arm_endpoint(),
                                 credential_scopes=[f"{arm_endpoint()}/.default"], polling_interval=1)


def _cloud() -> dict[str, Any]:
    """MLClient's custom-cloud arguments when not on the public cloud (base_url is ignored by MLClient)."""
    endpoint = arm_endpoint()
    if endpoint == PUBLIC_ARM:
        return {}
    storage = os.environ.get(STORAGE_SUFFIX_ENV) or "core.windows.net"
    name = "MlopsAccelerator" + hashlib.sha1(f"{endpoint} {storage}".encode()).hexdigest()[:8]
    return {"cloud": name, "cloud_metadata": {
        "azure_portal": f"{endpoint}/", "resource_manager": f"{endpoint}/",
        "active_directory": f"{endpoint}/", "aml_resource_id": f"{endpoint}/",
        "storage_endpoint": storage, "registry_discovery_endpoint": f"{endpoint}/"}}


@contextmanager
def _current_cloud(name: str | None = None) -> Iterator[None]:
    """AZUREML_CURRENT_CLOUD set to `name` (if given) inside, put back as it was afterwards: the
    process's kernels inherit it and would not know a custom cloud."""
    before = os.environ.get("AZUREML_CURRENT_CLOUD")
    if name:
        os.environ["AZUREML_CURRENT_CLOUD"] = name
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("AZUREML_CURRENT_CLOUD", None)
        else:
            os.environ["AZUREML_CURRENT_CLOUD"] = before


def in_cloud() -> Any:
    """Uploads to the workspace's storage inside this: azure-ai-ml builds the storage URL from the
    process's current cloud, not the client's (and ml_client puts that back)."""
    return _current_cloud(_cloud().get("cloud"))


def _client_cloud() -> dict[str, Any]:
    """MLClient's cloud arguments: the custom cloud's metadata the first time, then only its name."""
    from azure.ai.ml import _azure_environments as clouds

    extra = _cloud()
    if extra and extra["cloud"] in clouds._environments:  # registered once per process
        extra = {"cloud": extra["cloud"]}
    return extra


def ml_client(cred: Any, env: AzureEnv, workspace_name: str | None = None, **options: Any) -> Any:
    from azure.ai.ml import MLClient

    # A custom cloud sets AZUREML_CURRENT_CLOUD for the whole process: put back once the client exists.
    with _current_cloud():
        return MLClient(cred, env.subscription_id, env.resource_group, workspace_name,
                        enable_telemetry=False, **_client_cloud(), **options)


def registry_client(cred: Any, name: str) -> Any:
    """An MLClient on the Azure ML registry `name`: registry discovery (in the current cloud) finds its
    subscription, resource group and region."""
    from azure.ai.ml import MLClient

    with in_cloud():
        return MLClient(cred, registry_name=name, enable_telemetry=False, **_client_cloud())
