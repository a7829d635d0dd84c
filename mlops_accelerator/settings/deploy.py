"""Stage 3, Deploy Services and Set Up the Environment: how the approved design is deployed.

Environment names here are the Stage-2 environment names (dev, test, prod): Stage 3 picks
which of them to deploy and what goes into each. The model cannot see Stage 2, so rules
that compare the two stages (every designed environment deployed, service connections
using designed identities, compute within the allowed VM sizes) are deliverable checks
(mlops_accelerator/checks/deploy.py); rules inside this stage live here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Literal

from pydantic import Field

from ..errors import FieldError
from ..naming import COMPUTE_CLUSTER, COMPUTE_INSTANCE, AssetName, NamingRule
from .base import Email, NonEmptyStr, Record, SemVer, StageSettings, err, setting
from .shared import EnvName, VmSize, pattern_type

# Compute naming rule by type: clusters and attached Kubernetes 2-16 chars, instances 3-24.
COMPUTE_NAMING: dict[str, NamingRule] = {
    "amlcompute": COMPUTE_CLUSTER,
    "kubernetes": COMPUTE_CLUSTER,
    "computeinstance": COMPUTE_INSTANCE,
}

LOCAL_TOOLS: dict[str, str] = {
    "azure_cli": "Azure CLI",
    "ml_extension": "Azure CLI 'ml' extension (v2; remove the old azure-cli-ml)",
    "python": "Python",
    "azure_ai_ml": "Azure ML Python SDK v2 (azure-ai-ml)",
    "vscode": "VS Code with the Azure Machine Learning extension",
    "docker": "Docker (debug endpoints locally)",
    "git": "Git",
}
LocalTool = Literal["azure_cli", "ml_extension", "python", "azure_ai_ml", "vscode", "docker", "git"]
# tool -> the tool it needs
TOOL_NEEDS: dict[str, str] = {"ml_extension": "azure_cli", "azure_ai_ml": "python"}

SMOKE_TESTS: dict[str, str] = {
    "workspace_reachable": "The workspace answers",
    "datastore_default_ok": "The default datastore can be read and written",
    "compute_scales_up": "A cluster scales up from zero",
    "private_dns_resolves": "Private endpoint names resolve to private addresses",
    "test_job_runs": "A tiny command job runs to completion",
    "role_assignments_present": "The designed role assignments exist",
}
SmokeTest = Literal["workspace_reachable", "datastore_default_ok", "compute_scales_up",
                    "private_dns_resolves", "test_job_runs", "role_assignments_present"]

AdoUrl = pattern_type(
    "ado_organization_url", "must be your Azure DevOps organisation URL, like https://dev.azure.com/contoso/",
    r"https://(?:dev\.azure\.com/[A-Za-z0-9][A-Za-z0-9-]{0,48}|[A-Za-z0-9][A-Za-z0-9-]{0,48}"
    r"\.visualstudio\.com)/?", optional=True)
GithubRepo = pattern_type(
    "github_repository", "must be owner/name, like contoso/churn-model",
    r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}", optional=True)
ImageRef = pattern_type(
    "container_image",
    "must be an image reference like mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest",
    r"[a-z0-9.-]+(?::[0-9]+)?/[a-z0-9._/-]+(?::[A-Za-z0-9_.-]+|@sha256:[0-9a-f]{64})?", optional=True)
AssetVersion = pattern_type("asset_version", "must be letters, digits, '.', '_' or '-', like 1 or 2024.06.1",
                            r"[A-Za-z0-9._-]{1,64}")
RelPath = pattern_type("relative_path",
                       "must be a path inside the project, like environments/training/conda.yml",
                       r"(?!/)(?!.*\.\.)[A-Za-z0-9_./-]+", optional=True)


# ---------------------------------------------------------------------------
# Records


class ServiceConnection(Record):
    """A pipeline's connection to Azure, using one of the design's automation identities."""

    name: NonEmptyStr = Field(title="Name", description="dstoolkit style: conn-<project>-<env>-rg / -aml.")
    env: EnvName = Field(title="Environment")
    scope: Literal["resource_group", "workspace"] = Field(title="Scope")
    identity: NonEmptyStr = Field(title="Identity",
                                  description="Name of an automation identity of the Stage-2 design.")
    auth: Literal["workload_identity_federation", "service_principal_secret", "managed_identity"] = Field(
        "workload_identity_federation", title="Authentication",
        description="Workload identity federation (OIDC) needs no stored secret.")


class ApprovalGate(Record):
    env: EnvName = Field(title="Environment")
    approvers: list[Email] = Field(min_length=1, title="Approvers")
    checks: list[Literal["branch_control", "business_hours", "required_template", "exclusive_lock"]] = Field(
        default_factory=list, title="Extra checks")
    timeout_hours: int = Field(72, ge=1, le=720, title="Timeout (hours)")


class ComputeTarget(Record):
    """An Azure ML compute target in one environment (configuration/compute/<env>-<name>.yml)."""

    env: EnvName = Field(title="Environment")
    name: NonEmptyStr = Field(title="Name", description="Cluster 2-16 chars, instance 3-24 chars.")
    type: Literal["amlcompute", "computeinstance", "kubernetes"] = Field("amlcompute", title="Type")
    purpose: Literal["training", "batch_inference", "realtime_inference", "development"] = Field(
        "training", title="Purpose")
    vm_size: VmSize = Field("Standard_DS3_v2", title="VM size")  # type: ignore[valid-type]
    vm_priority: Literal["dedicated", "low_priority"] = Field("dedicated", title="VM priority")
    min_nodes: int = Field(0, ge=0, title="Minimum nodes", description="0 = no cost when idle.")
    max_nodes: int = Field(2, ge=0, title="Maximum nodes")
    idle_seconds_before_scaledown: int = Field(600, ge=0, title="Idle seconds before scale-down")


class SoftwareEnvironment(Record):
    """An Azure ML environment asset: a base image plus conda file, or a Docker build context."""

    name: AssetName = Field(title="Name")  # type: ignore[valid-type]
    purpose: Literal["training", "inference", "data"] = Field(title="Purpose")
    version: AssetVersion = Field("1", title="Version")  # type: ignore[valid-type]
    base_image: ImageRef = Field("", title="Base image")  # type: ignore[valid-type]
    conda_file: RelPath = Field("", title="Conda file")  # type: ignore[valid-type]
    dockerfile: RelPath = Field("", title="Docker build context",  # type: ignore[valid-type]
                                description="Folder holding a Dockerfile; instead of a base image.")


# ---------------------------------------------------------------------------
# Defaults

_STARTER_ENVS = ("dev", "test", "prod")
_BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"


def _default_connections() -> list[ServiceConnection]:
    return [c for env in _STARTER_ENVS for c in (
        ServiceConnection(name=f"conn-mlops-{env}-rg", env=env, scope="resource_group",
                          identity=f"id-mlops-{env}-infra"),
        ServiceConnection(name=f"conn-mlops-{env}-aml", env=env, scope="workspace",
                          identity=f"id-mlops-{env}-aml"))]


def _default_compute() -> list[ComputeTarget]:
    # Experiments are cheap on pre-emptible nodes in dev; test and prod run on dedicated ones.
    return [ComputeTarget(env="dev", name="cpu-cluster", vm_priority="low_priority", max_nodes=2),
            ComputeTarget(env="test", name="cpu-cluster", max_nodes=2),
            ComputeTarget(env="prod", name="cpu-cluster", max_nodes=4)]


def _default_software_envs() -> list[SoftwareEnvironment]:
    return [SoftwareEnvironment(name="train-env", purpose="training", base_image=_BASE_IMAGE,
                                conda_file="environments/training/conda.yml"),
            SoftwareEnvironment(name="infer-env", purpose="inference", base_image=_BASE_IMAGE,
                                conda_file="environments/inference/conda.yml")]


# ---------------------------------------------------------------------------
# The settings


class Settings(StageSettings):
    """Stage 3: infrastructure as code, pipelines, Azure ML environments and local tooling."""

    stage: ClassVar[str] = "deploy"

    # --- S3.T1 Automate resource deployment ---------------------------------------------
    iac_tool: Literal["arm", "bicep", "terraform"] = setting(
        "arm", title="Infrastructure as code", task="S3.T1", provenance="SRC",
        help="The language the generated templates use: ARM (the accelerator's template), Bicep (its "
             "readable successor) or Terraform.")
    deployment_scope: Literal["resource_group", "subscription"] = setting(
        "resource_group", title="Deployment scope", task="S3.T1",
        help="resource_group: the pipeline creates each environment's resource group, then deploys into "
             "it; subscription: one deployment creates the groups too (needs subscription-level rights).")
    what_if_before_deploy: bool = setting(
        True, title="Preview changes (what-if) before deploying", task="S3.T1", provenance="DERIVED",
        help="Shows what a deployment would change, so drift from the approved design is caught first.")
    budget_deployment: bool = setting(
        True, title="Deploy the budgets", task="S3.T1",
        help="Deploys Stage 2's budgets and spend alerts with the infrastructure so cost control is real.")
    post_deploy_smoke_tests: list[SmokeTest] = setting(
        default_factory=lambda: list(SMOKE_TESTS), title="Smoke tests after deployment", task="S3.T1",
        help="Quick checks that the deployed environment works; their report is the evidence of Stage 3.")

    # --- S3.T2 Separate environments and deployment pipelines ----------------------------
    environments_to_deploy: list[EnvName] = setting(  # type: ignore[valid-type]
        default_factory=lambda: list(_STARTER_ENVS), title="Environments to deploy", task="S3.T2",
        min_length=1, provenance="SRC-MS",
        help="Which Stage-2 environments the pipeline deploys: starters use dev + prod, experienced "
             "teams dev + test + prod.")
    cicd_infra_platform: Literal["azure_devops", "github_actions"] = setting(
        "azure_devops", title="Pipeline platform", task="S3.T2",
        help="Where the infrastructure pipeline runs; normally the CI/CD platform chosen in Stage 1.")
    ado_organization_url: AdoUrl = setting(  # type: ignore[valid-type]
        "", title="Azure DevOps organisation URL", task="S3.T2", provenance="SRC-MS",
        help="https://dev.azure.com/<org>/: needed when the pipelines run in Azure DevOps.")
    ado_project: str = setting(
        "", title="Azure DevOps project", task="S3.T2", provenance="SRC-MS", max_length=64,
        help="The project holding the pipelines and service connections.")
    github_repository: GithubRepo = setting(  # type: ignore[valid-type]
        "", title="GitHub repository", task="S3.T2", provenance="DERIVED",
        help="owner/name of the repository whose workflows deploy (GitHub Actions); federated "
             "credentials are issued to it.")
    service_connections: list[ServiceConnection] = setting(
        default_factory=_default_connections, title="Service connections", task="S3.T2",
        scope="environment",
        help="How pipelines authenticate: one resource-group-scoped connection (deploys infrastructure) "
             "and one workspace-scoped connection (runs Azure ML) per environment.")
    approval_gates: list[ApprovalGate] = setting(
        default_factory=list, title="Approval gates", task="S3.T2", scope="environment",
        help="Deployments into these environments wait for an approver: at least production, with an "
             "audit trail of who approved what.")

    # --- S3.T3 Organise Azure ML environments ----------------------------------------------
    compute_targets: list[ComputeTarget] = setting(
        default_factory=_default_compute, title="Compute targets", task="S3.T3", scope="environment",
        help="Clusters and instances per environment. Minimum 0 nodes means no cost when idle; "
             "low-priority nodes are cheaper but can be pre-empted.")
    aml_software_environments: list[SoftwareEnvironment] = setting(
        default_factory=_default_software_envs, title="Azure ML software environments", task="S3.T3",
        help="Versioned training and inference environments make every run reproducible.")

    # --- S3.T4 Local development environment -----------------------------------------------
    local_tooling: list[LocalTool] = setting(
        default_factory=lambda: list(LOCAL_TOOLS), title="Local tools", task="S3.T4", provenance="SRC-MS",
        help="What every developer installs; the local-environment check verifies each of them.")
    azure_cli_min_version: SemVer = setting(
        "2.38.0", title="Minimum Azure CLI version", task="S3.T4", provenance="V2",
        help="The 'ml' v2 extension needs a recent Azure CLI.")
    python_version: Literal["3.10", "3.11", "3.12"] = setting(
        "3.11", title="Python version", task="S3.T4", provenance="V2",
        help="Same version locally, in CI and in the Azure ML environments avoids 'works on my machine'.")
    cli_defaults_env: EnvName = setting(  # type: ignore[valid-type]
        "dev", title="Environment for az CLI defaults", task="S3.T4", provenance="SRC-MS",
        help="'az configure --defaults' points group, workspace and location at this environment, so "
             "developers type less and never hit production by accident.")
    workspace_config_json: bool = setting(
        True, title="Write config.json", task="S3.T4",
        help="Writes config.json (subscription, resource group, workspace) per environment so notebooks "
             "connect with MLClient.from_config.")

    # -----------------------------------------------------------------------------------
    def cross_field_errors(self) -> Iterator[FieldError]:
        deployed = set(self.environments_to_deploy)
        seen: set[str] = set()
        for i, env in enumerate(self.environments_to_deploy):
            if env in seen:
                yield err(f"environments_to_deploy.{i}", "environment_name_unique", env,
                          f"'{env}' is listed twice")
            seen.add(env)
        if self.cli_defaults_env not in deployed:
            yield err("cli_defaults_env", "environment_deployed", self.cli_defaults_env,
                      _not_deployed(self.cli_defaults_env, deployed))
        yield from self._pipeline_errors(deployed)
        yield from self._compute_errors(deployed)
        yield from self._software_env_errors()
        for i, tool in enumerate(self.local_tooling):
            need = TOOL_NEEDS.get(tool)
            if need and need not in self.local_tooling:
                yield err(f"local_tooling.{i}", "tool_dependency", tool, f"{tool} needs {need}: add it")

    def _pipeline_errors(self, deployed: set[str]) -> Iterator[FieldError]:
        names: set[str] = set()
        for i, c in enumerate(self.service_connections):
            if c.name in names:
                yield err(f"service_connections.{i}.name", "connection_name_unique", c.name,
                          f"connection '{c.name}' is listed twice")
            names.add(c.name)
            if c.env not in deployed:
                yield err(f"service_connections.{i}.env", "environment_deployed", c.env,
                          _not_deployed(c.env, deployed))
        gated: set[str] = set()
        for i, g in enumerate(self.approval_gates):
            if g.env in gated:
                yield err(f"approval_gates.{i}.env", "gate_env_unique", g.env,
                          f"'{g.env}' already has a gate: merge the approvers")
            gated.add(g.env)
            if g.env not in deployed:
                yield err(f"approval_gates.{i}.env", "environment_deployed", g.env,
                          _not_deployed(g.env, deployed))

    def _compute_errors(self, deployed: set[str]) -> Iterator[FieldError]:
        seen: set[tuple[str, str]] = set()
        for i, c in enumerate(self.compute_targets):
            rule = COMPUTE_NAMING[c.type]
            problem = rule.problem(c.name)
            if problem:
                yield err(f"compute_targets.{i}.name", rule.id, c.name,
                          f"{rule.resource} name {problem} (Azure naming rule for type {c.type})")
            if (c.env, c.name.lower()) in seen:
                yield err(f"compute_targets.{i}.name", "compute_name_unique", c.name,
                          f"'{c.name}' already exists in '{c.env}'")
            seen.add((c.env, c.name.lower()))
            if c.env not in deployed:
                yield err(f"compute_targets.{i}.env", "environment_deployed", c.env,
                          _not_deployed(c.env, deployed))
            if c.type == "computeinstance":
                if c.vm_priority != "dedicated":
                    yield err(f"compute_targets.{i}.vm_priority", "compute_instance_dedicated", c.vm_priority,
                              "compute instances run on dedicated VMs only")
            elif c.max_nodes < max(c.min_nodes, 1):
                yield err(f"compute_targets.{i}.max_nodes", "cluster_max_ge_min", c.max_nodes,
                          f"must be at least 1 and at least the minimum ({c.min_nodes})")

    def _software_env_errors(self) -> Iterator[FieldError]:
        seen: set[tuple[str, str]] = set()
        for i, e in enumerate(self.aml_software_environments):
            if (e.name, e.version) in seen:
                yield err(f"aml_software_environments.{i}.version", "environment_version_unique", e.version,
                          f"{e.name}:{e.version} is defined twice: raise the version")
            seen.add((e.name, e.version))
            if bool(e.base_image) == bool(e.dockerfile):
                yield err(f"aml_software_environments.{i}.base_image", "environment_image_source",
                          e.base_image, f"{e.name}: give either a base image or a Docker build context, not "
                          f"{'both' if e.base_image else 'neither'}")
            if e.conda_file and e.dockerfile:
                yield err(f"aml_software_environments.{i}.conda_file", "environment_image_source",
                          e.conda_file,
                          f"{e.name}: with a Docker build context, install packages in the Dockerfile")


def _not_deployed(env: str, deployed: set[str]) -> str:
    return f"'{env}' is not in environments_to_deploy ({', '.join(sorted(deployed))})"

