"""Stage 3: the Azure ML specs of every deployed environment, built with azure-ai-ml and proven loadable.

For each environment of `environments_to_deploy` this writes, under `<out>/azureml/<env>/`:

    workspace.yml                    Workspace (name, region, resource group, tags, dependencies)
    compute/<name>.yml               AmlCompute clusters (scale to min nodes, idle scale-down) and
                                     ComputeInstances (idle shutdown, stop schedule)
    environments/<name>.yml          Environment assets: base image + conda file written alongside
                                     (or a Docker build context)
    config.json                      subscription_id, resource_group, workspace_name (no secrets)

plus `<out>/azureml/shared/registry.yml` (one Azure ML registry, replicated to every environment's
region, to share models, environments and components from dev to prod) and
`<out>/azureml/validation.json`.

azure-ai-ml constructors and `dump()` validate nothing, so every file is loaded back with the SDK's
own `load_workspace` / `load_compute` / `load_environment` / `load_registry` (config.json with
`MLClient.from_config`, which makes no network call) and its key fields compared with what was
meant. Names the SDK does not check (workspace, compute, registry) are checked against the Azure
naming rules here. azure-ai-ml is imported inside the functions only: it costs seconds to import.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..naming import COMPUTE_CLUSTER, COMPUTE_INSTANCE, WORKSPACE
from ..settings.shared import GUID_PATTERN, expand_tags

SPEC_ROOT = "azureml"
REGISTRY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{2,32}")
_GUID = re.compile(GUID_PATTERN)
CONFIG_KEYS = ("subscription_id", "resource_group", "workspace_name")

# Packages per environment purpose. Unpinned on purpose: pin them once the team has a working set
# (the conda file says so); python is pinned to the project's version.
CONDA_PACKAGES: dict[str, list[str]] = {
    "training": ["mlflow", "azureml-mlflow", "scikit-learn", "pandas"],
    "inference": ["azureml-inference-server-http", "mlflow", "azureml-mlflow", "scikit-learn", "pandas"],
    "data": ["pandas", "pyarrow", "mltable", "azureml-fsspec"],
}
DEFAULT_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"


# ---------------------------------------------------------------------------
# Settings in, plain plan out (no azure-ai-ml needed)


def as_settings(slug: str, value: Any) -> Any:
    """A stage's settings model from a model or a (partial) mapping of its values; defaults fill the rest."""
    from ..settings import schema_for

    cls = schema_for(slug)
    if isinstance(value, cls):
        return value
    return cls.model_validate(dict(value or {}))


def _arm_id(sub: str, rg: str, provider: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{provider}/{name}"


_UAMI = "Microsoft.ManagedIdentity/userAssignedIdentities"


def _dependency_id(design: Any, sub: str, rg: str, names: Mapping[str, str], field: str, provider: str) -> str:
    """A dependency's id as the IaC links it: new (per-environment name) or existing (exact name, own group)."""
    if getattr(design, f"{field}_option", "new") == "existing":
        return _arm_id(sub, getattr(design, f"{field}_resource_group") or rg, provider,
                       getattr(design, f"{field}_name"))
    return _arm_id(sub, rg, provider, names[f"{field}_name"])


def _identity_and_cmk(design: Any, sub: str, rg: str) -> dict[str, Any]:
    """The workspace identity and customer-managed key of the design, as the IaC template sets them
    (issue 14 item 3: workspace.yml must carry every property the design and the template set)."""
    out: dict[str, Any] = {}
    uamis = []
    if "userAssigned" in design.workspace_identity_type:
        out["primary_user_assigned_identity"] = _arm_id(sub, design.primary_uami_resource_group or rg, _UAMI,
                                                        design.primary_uami_name)
        uamis.append(out["primary_user_assigned_identity"])
    if design.encryption_status == "Enabled":
        if design.cmk_uami_name:
            uamis.append(_arm_id(sub, rg, _UAMI, design.cmk_uami_name))
        out["customer_managed_key"] = {k: v for k, v in {
            "key_vault": design.cmk_keyvault, "key_uri": design.resource_cmk_uri,
            "cosmosdb_id": design.encryption_cosmosdb_armid, "storage_id": design.encryption_storage_armid,
            "search_id": design.encryption_search_armid}.items() if v}
    system = "systemAssigned" in design.workspace_identity_type
    kind = ("system_assigned,user_assigned" if system and uamis else "system_assigned" if system
            else "user_assigned")
    out["identity"] = {"type": kind, "user_assigned_identities": list(dict.fromkeys(uamis))}
    return out


def _tags(design: Any, project: str, env: str) -> dict[str, str]:
    return expand_tags(design.tags, project, env)


def registry_name(project: str) -> str:
    """The shared registry's name: reg-<project>, cut to the 33-character limit."""
    return f"reg-{project}"[:33].rstrip("-_")


def starter_instance_name(project: str, env: str) -> str:
    """Name of the starter compute instance (3-24 chars, letter first, no trailing hyphen)."""
    stem = f"ci-{project}"[: 24 - len(env) - 1].rstrip("-")
    return f"{stem}-{env}"


def plan(design: Any, deploy: Any, foundations: Any) -> dict[str, Any]:
    """What to write per environment, as plain data (the tests and the notebook show it)."""
    from ..settings.design import resource_name

    design = as_settings("design", design)
    deploy = as_settings("deploy", deploy)
    foundations = as_settings("foundations", foundations)
    project = foundations.project_name
    by_name = {e.name: e for e in design.environments}
    envs: dict[str, Any] = {}
    skipped: list[str] = []
    for name in deploy.environments_to_deploy:
        env = by_name.get(name)
        if env is None:
            skipped.append(f"{name}: not an environment of the Stage-2 design, so it has no subscription, "
                           f"resource group or region")
            continue
        sub, rg = env.subscription_id, env.resource_group
        names = {f: resource_name(design, f, name) for f in
                 ("workspace_name", "storage_account_name", "key_vault_name", "container_registry_name",
                  "app_insights_name", "vnet_name")}
        workspace = {
            "name": names["workspace_name"], "location": env.region, "resource_group": rg,
            "display_name": f"{project} ({name})",
            "description": f"Azure ML workspace of {project}, environment {name}",
            "tags": _tags(design, project, name),
            "hbi_workspace": design.confidential_data,
            "public_network_access": design.public_network_access,
            "storage_account": _dependency_id(design, sub, rg, names, "storage_account",
                                              "Microsoft.Storage/storageAccounts"),
            "key_vault": _dependency_id(design, sub, rg, names, "key_vault", "Microsoft.KeyVault/vaults"),
            "application_insights": _dependency_id(design, sub, rg, names, "app_insights",
                                                   "Microsoft.Insights/components"),
            "container_registry": (None if design.container_registry_option == "none" else
                                   _arm_id(sub, rg, "Microsoft.ContainerRegistry/registries",
                                           names["container_registry_name"])),
            "managed_network": None if design.managed_vnet_isolation == "disabled" else design.managed_vnet_isolation,
            **_identity_and_cmk(design, sub, rg),
        }
        subnet = None
        if design.vnet_option != "none" and design.subnet_option != "none":
            vnet_rg = design.vnet_resource_group or rg
            subnet = {"vnet_name": names["vnet_name"],
                      "subnet": _arm_id(sub, vnet_rg, "Microsoft.Network/virtualNetworks",
                                        f"{names['vnet_name']}/subnets/{design.subnet_name}")}
        no_public_ip = design.compute_no_public_ip and (subnet is not None or workspace["managed_network"])
        computes, instance_skips = [], []
        for c in deploy.compute_targets:
            if c.env != name:
                continue
            if c.type == "kubernetes":
                skipped.append(f"{name}: {c.name} is an attached Kubernetes compute; it is attached with "
                               f"'az ml compute attach' once the AKS or Arc cluster exists, so no spec is written")
                continue
            computes.append(_compute_plan(c.model_dump(), design, subnet if no_public_ip else None, no_public_ip))
        has_instance = any(c["type"] == "computeinstance" for c in computes)
        if (name == deploy.cli_defaults_env and "aml_compute_instance" in design.experimentation_env
                and not has_instance):
            computes.append(_compute_plan(
                {"name": starter_instance_name(project, name), "type": "computeinstance",
                 "vm_size": design.allowed_vm_skus[0] if design.allowed_vm_skus else "Standard_DS3_v2",
                 "purpose": "development"}, design, subnet if no_public_ip else None, no_public_ip))
        skipped += instance_skips
        environments = [_software_env_plan(e.model_dump(), deploy.python_version)
                        for e in deploy.aml_software_environments]
        envs[name] = {"subscription_id": sub, "resource_group": rg, "region": env.region,
                      "workspace": workspace, "computes": computes, "environments": environments,
                      "config": ({"subscription_id": sub, "resource_group": rg,
                                  "workspace_name": names["workspace_name"]}
                                 if deploy.workspace_config_json else None)}
    regions = list(dict.fromkeys(e["region"] for e in envs.values()))
    prod = design.production_env()
    home = envs.get(prod.name) if prod is not None and prod.name in envs else next(iter(envs.values()), None)
    registry = None
    if home is not None:
        registry = {"name": registry_name(project), "location": home["region"],
                    "resource_group": home["resource_group"], "replication_locations": regions,
                    "description": f"Shares models, environments and components of {project} across "
                                   f"{', '.join(envs)}",
                    "tags": {"project": project},
                    "chosen_in_design": design.model_registry == "aml_registry"}
    return {"project": project, "environments": envs, "registry": registry, "skipped": skipped}


def _compute_plan(c: Mapping[str, Any], design: Any, subnet: dict[str, str] | None,
                  no_public_ip: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": c["name"], "type": c["type"], "size": c.get("vm_size") or "Standard_DS3_v2",
                           "description": f"{c.get('purpose', 'training').replace('_', ' ')} compute"}
    if c["type"] == "amlcompute":
        out.update(min_instances=c.get("min_nodes", 0), max_instances=c.get("max_nodes", 2),
                   idle_time_before_scale_down=c.get("idle_seconds_before_scaledown", 600),
                   tier=c.get("vm_priority", "dedicated"),
                   identity="system_assigned" if design.compute_cluster_identity == "system" else None)
    else:
        out.update(idle_time_before_shutdown_minutes=design.compute_instance_idle_shutdown_minutes,
                   stop_schedule=design.compute_instance_stop_schedule)
    out["network"] = subnet
    out["enable_node_public_ip"] = not no_public_ip
    return out


def _software_env_plan(e: Mapping[str, Any], python_version: str) -> dict[str, Any]:
    conda = e.get("conda_file") or ""
    if not conda and not e.get("dockerfile"):
        conda = f"environments/{e['purpose']}/conda.yml"
    return {"name": e["name"], "version": e.get("version") or "1", "purpose": e["purpose"],
            "image": "" if e.get("dockerfile") else (e.get("base_image") or DEFAULT_IMAGE),
            "conda_file": conda, "dockerfile": e.get("dockerfile") or "",
            "conda": {"name": e["name"], "channels": ["conda-forge"],
                      "dependencies": [f"python={python_version}", "pip",
                                       {"pip": list(CONDA_PACKAGES[e["purpose"]])}]}}


# ---------------------------------------------------------------------------
# Entities and files (azure-ai-ml imported here only)


@contextlib.contextmanager
def _quiet_sdk(*more: str) -> Iterator[None]:
    """Silence azure-ai-ml's 'experimental class' log lines (registries) while building and loading,
    and the loggers named in `more` (their children too).

    Entered before azure-ai-ml is imported: it also leaves out the IRI grammar (lean_imports.py),
    about half of what importing azure-ai-ml costs.
    """
    from ..lean_imports import skip_iri_grammar

    skip_iri_grammar()
    # The experimental logger itself: MLClient resets the level of its parent "azure.ai.ml".
    loggers = [logging.getLogger(n) for n in ("azure.ai.ml", "azure.ai.ml._utils._experimental", *more)]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _workspace_entity(w: Mapping[str, Any]) -> Any:
    from azure.ai.ml.entities import (
        CustomerManagedKey,
        IdentityConfiguration,
        ManagedIdentityConfiguration,
        ManagedNetwork,
        Workspace,
    )

    kwargs = {k: w[k] for k in ("name", "location", "resource_group", "display_name", "description", "tags",
                                "hbi_workspace", "public_network_access", "storage_account", "key_vault",
                                "application_insights") if w.get(k) is not None}
    if w.get("container_registry"):
        kwargs["container_registry"] = w["container_registry"]
    if w.get("managed_network"):
        kwargs["managed_network"] = ManagedNetwork(isolation_mode=w["managed_network"])
    if w.get("identity"):
        kwargs["identity"] = IdentityConfiguration(
            type=w["identity"]["type"],
            user_assigned_identities=[ManagedIdentityConfiguration(resource_id=i)
                                      for i in w["identity"]["user_assigned_identities"]] or None)
    if w.get("primary_user_assigned_identity"):
        kwargs["primary_user_assigned_identity"] = w["primary_user_assigned_identity"]
    if w.get("customer_managed_key"):
        kwargs["customer_managed_key"] = CustomerManagedKey(**w["customer_managed_key"])
    return Workspace(**kwargs)


def _compute_entity(c: Mapping[str, Any]) -> Any:
    from azure.ai.ml.entities import (
        AmlCompute,
        ComputeInstance,
        ComputeSchedules,
        ComputeStartStopSchedule,
        CronTrigger,
        IdentityConfiguration,
        NetworkSettings,
    )

    network = NetworkSettings(**c["network"]) if c.get("network") else None
    if c["type"] == "amlcompute":
        identity = IdentityConfiguration(type=c["identity"]) if c.get("identity") else None
        return AmlCompute(name=c["name"], size=c["size"], description=c["description"],
                          min_instances=c["min_instances"], max_instances=c["max_instances"],
                          idle_time_before_scale_down=c["idle_time_before_scale_down"], tier=c["tier"],
                          identity=identity, network_settings=network,
                          enable_node_public_ip=c["enable_node_public_ip"])
    schedules = None
    if c.get("stop_schedule"):
        schedules = ComputeSchedules(compute_start_stop=[ComputeStartStopSchedule(
            trigger=CronTrigger(expression=c["stop_schedule"], time_zone="UTC"), action="stop")])
    return ComputeInstance(name=c["name"], size=c["size"], description=c["description"],
                           idle_time_before_shutdown_minutes=c.get("idle_time_before_shutdown_minutes"),
                           schedules=schedules, network_settings=network,
                           enable_node_public_ip=c["enable_node_public_ip"])


def _registry_entity(r: Mapping[str, Any]) -> Any:
    from azure.ai.ml.entities import Registry, RegistryRegionDetails

    return Registry(name=r["name"], location=r["location"], description=r["description"], tags=r["tags"],
                    replication_locations=[RegistryRegionDetails(location=loc)
                                           for loc in r["replication_locations"]])


# The Azure ML CLI v2 `$schema` line of each spec kind, so editors validate the files as they are edited.
SCHEMA_BASE = "https://azuremlschemas.azureedge.net/latest/"
SCHEMA_FILES = {"workspace": "workspace.schema.json", "amlcompute": "amlCompute.schema.json",
                "computeinstance": "computeInstance.schema.json", "environment": "environment.schema.json",
                "registry": "registry.schema.json"}


def _add_schema_line(path: Path, kind: str) -> None:
    """Put `$schema: <url>` first in a spec written by the SDK (its loaders accept the key)."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("$schema:"):
        path.write_text(f"$schema: {SCHEMA_BASE}{SCHEMA_FILES[kind]}\n" + text, encoding="utf-8")


def _dump_yaml(data: Any, path: Path) -> None:
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))


def _conda_text(conda: Mapping[str, Any]) -> str:
    import yaml

    return ("# Written by the MLOps Accelerator (stage 3). Pin the package versions once the team has a\n"
            "# working set: a pinned environment is what makes a run reproducible.\n"
            + yaml.safe_dump(dict(conda), sort_keys=False))


def write_specs(out_dir: str | Path, design: Any, deploy: Any, foundations: Any) -> dict[str, Any]:
    """Write every spec (see the module docstring) and return the validation report."""
    out = Path(out_dir)
    root = out / SPEC_ROOT
    p = plan(design, deploy, foundations)
    written: list[dict[str, Any]] = []
    with _quiet_sdk():
        for env, e in p["environments"].items():
            base = root / env
            ws_path = base / "workspace.yml"
            ws_path.parent.mkdir(parents=True, exist_ok=True)
            _workspace_entity(e["workspace"]).dump(ws_path)
            _add_schema_line(ws_path, "workspace")
            written.append({"env": env, "kind": "workspace", "path": ws_path, "expected": e["workspace"]})
            for c in e["computes"]:
                path = base / "compute" / f"{c['name']}.yml"
                path.parent.mkdir(parents=True, exist_ok=True)
                _compute_entity(c).dump(path)
                _add_schema_line(path, c["type"])
                written.append({"env": env, "kind": "compute", "path": path, "expected": c})
            for s in e["environments"]:
                path = base / "environments" / f"{s['name']}.yml"
                written.append({"env": env, "kind": "environment", "path": path, "expected": s})
                _write_environment(base, path, s)
                _add_schema_line(path, "environment")
            if e["config"] is not None:
                path = base / "config.json"
                path.write_text(json.dumps(e["config"], indent=2) + "\n")
                written.append({"env": env, "kind": "config", "path": path, "expected": e["config"]})
        if p["registry"] is not None:
            path = root / "shared" / "registry.yml"
            path.parent.mkdir(parents=True, exist_ok=True)
            _registry_entity(p["registry"]).dump(path)
            _add_schema_line(path, "registry")
            written.append({"env": "shared", "kind": "registry", "path": path, "expected": p["registry"]})
    report = validate_specs(out, written)
    report["skipped"] = p["skipped"]
    report["registry_chosen_in_design"] = bool(p["registry"] and p["registry"]["chosen_in_design"])
    (root / "validation.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _write_environment(base: Path, path: Path, s: Mapping[str, Any]) -> None:
    """Dump the Environment entity, then point it at the conda file / build context written alongside.

    `Environment.dump` inlines the conda file; the spec should reference the file the team edits.
    """
    from azure.ai.ml.entities import BuildContext, Environment

    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"name": s["name"], "version": s["version"],
                              "description": f"{s['purpose']} environment",
                              "tags": {"purpose": s["purpose"]}}
    conda_path = base / s["conda_file"] if s["conda_file"] else None
    if conda_path is not None:
        conda_path.parent.mkdir(parents=True, exist_ok=True)
        conda_path.write_text(_conda_text(s["conda"]))
        kwargs["conda_file"] = str(conda_path)
    if s["dockerfile"]:
        context = base / s["dockerfile"]
        context.mkdir(parents=True, exist_ok=True)
        docker = context / "Dockerfile"
        if not docker.exists():
            docker.write_text(f"FROM {DEFAULT_IMAGE}\n# Add system packages here; python packages go in the "
                              f"conda file.\n")
        kwargs["build"] = BuildContext(path=str(context))
    else:
        kwargs["image"] = s["image"]
    data = json.loads(json.dumps(Environment(**kwargs)._to_dict()))  # plain dicts for yaml
    if conda_path is not None:
        data["conda_file"] = Path(os.path.relpath(conda_path, path.parent)).as_posix()
    if s["dockerfile"]:
        data["build"] = {"path": Path(os.path.relpath(base / s["dockerfile"], path.parent)).as_posix()}
    _dump_yaml(data, path)


# ---------------------------------------------------------------------------
# Validation: load back with the SDK's own loaders and compare


def _same(a: Any, b: Any) -> bool:
    norm = lambda v: re.sub(r"[_\s-]", "", str(v)).lower() if v is not None else None  # noqa: E731
    return norm(a) == norm(b)


def _compare(loaded: Any, expected: Mapping[str, Any], fields: tuple[str, ...]) -> list[str]:
    errors = []
    for f in fields:
        want = expected.get(f)
        got = getattr(loaded, f, None)
        if isinstance(want, dict) or isinstance(got, dict):
            if (got or {}) != (want or {}):
                errors.append(f"{f} is {got!r}, expected {want!r}")
        elif not _same(got, want):
            errors.append(f"{f} is {got!r}, expected {want!r}")
    return errors


def _check_workspace(path: Path, w: Mapping[str, Any]) -> list[str]:
    from azure.ai.ml import load_workspace

    loaded = load_workspace(str(path))
    errors = _compare(loaded, w, ("name", "location", "resource_group", "tags", "hbi_workspace",
                                  "public_network_access", "storage_account", "key_vault",
                                  "application_insights", "container_registry"))
    got_net = getattr(getattr(loaded, "managed_network", None), "isolation_mode", None)
    if w.get("managed_network") and not _same(got_net, w["managed_network"]):
        errors.append(f"managed_network is {got_net!r}, expected {w['managed_network']!r}")
    errors += _identity_problems(loaded, w)
    problem = WORKSPACE.problem(loaded.name)
    if problem:
        errors.append(f"workspace name {loaded.name} {problem}")
    return errors


def _identity_problems(loaded: Any, w: Mapping[str, Any]) -> list[str]:
    """Identity, primary identity and customer-managed key survive the round trip through the loader."""
    errors = []
    want = w.get("identity")
    if want:
        ident = getattr(loaded, "identity", None)
        got_type = str(getattr(ident, "type", "") or "")
        if got_type.lower().replace(" ", "").replace("_", "") != want["type"].replace("_", ""):
            errors.append(f"identity type is {got_type!r}, expected {want['type']!r}")
        got_ids = sorted(str(getattr(u, "resource_id", "")).lower()
                         for u in (getattr(ident, "user_assigned_identities", None) or []))
        if got_ids != sorted(i.lower() for i in want["user_assigned_identities"]):
            errors.append(f"user-assigned identities are {got_ids}, expected {want['user_assigned_identities']}")
    if (getattr(loaded, "primary_user_assigned_identity", None) or None) != w.get("primary_user_assigned_identity"):
        errors.append(f"primary_user_assigned_identity is {loaded.primary_user_assigned_identity!r}, expected "
                      f"{w.get('primary_user_assigned_identity')!r}")
    cmk = getattr(loaded, "customer_managed_key", None)
    for key, value in (w.get("customer_managed_key") or {}).items():
        if getattr(cmk, key, None) != value:
            errors.append(f"customer_managed_key.{key} is {getattr(cmk, key, None)!r}, expected {value!r}")
    return errors


def _check_compute(path: Path, c: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    from azure.ai.ml import load_compute

    loaded = load_compute(str(path))
    errors, warnings = [], []
    if not _same(loaded.type, c["type"]):
        errors.append(f"type is {loaded.type}, expected {c['type']}")
    rule = COMPUTE_CLUSTER if c["type"] == "amlcompute" else COMPUTE_INSTANCE
    problem = rule.problem(loaded.name)
    if problem:
        errors.append(f"{rule.resource} name {loaded.name} {problem}")
    if c["type"] == "amlcompute":
        errors += _compare(loaded, c, ("name", "size", "min_instances", "max_instances",
                                       "idle_time_before_scale_down", "tier"))
        if loaded.min_instances != 0:
            warnings.append(f"{loaded.name} keeps {loaded.min_instances} node(s) running when idle "
                            f"(min_nodes 0 costs nothing when idle)")
    else:
        errors += _compare(loaded, c, ("name", "size", "idle_time_before_shutdown_minutes"))
        stops = [s.trigger.expression for s in (getattr(loaded.schedules, "compute_start_stop", None) or [])]
        if c.get("stop_schedule") and stops != [c["stop_schedule"]]:
            errors.append(f"stop schedule is {stops}, expected [{c['stop_schedule']!r}]")
        if not loaded.idle_time_before_shutdown_minutes:
            warnings.append(f"{loaded.name} has no idle shutdown: it costs money until someone stops it")
    if c.get("network") and not _same(getattr(loaded.network_settings, "subnet", None), c["network"]["subnet"]):
        errors.append(f"subnet is {getattr(loaded.network_settings, 'subnet', None)}, "
                      f"expected {c['network']['subnet']}")
    return errors, warnings


def _check_environment(path: Path, s: Mapping[str, Any]) -> list[str]:
    import yaml
    from azure.ai.ml import load_environment

    loaded = load_environment(str(path))
    errors = _compare(loaded, s, ("name", "version"))
    if s["image"] and loaded.image != s["image"]:
        errors.append(f"image is {loaded.image!r}, expected {s['image']!r}")
    if s["conda_file"]:
        written = yaml.safe_load((path.parent / yaml.safe_load(path.read_text())["conda_file"]).read_text())
        if loaded.conda_file != written:
            errors.append("the conda file the SDK loaded differs from the one written alongside")
        if loaded.conda_file != s["conda"]:
            errors.append("the conda file does not hold the planned dependencies")
    if s["dockerfile"]:
        # The SDK keeps build.path as written (relative to the YAML file), not to the working folder.
        context = Path(loaded.build.path) if loaded.build else None
        if context is not None and not context.is_absolute():
            context = path.parent / context
        if context is None or not (context / "Dockerfile").is_file():
            errors.append(f"the Docker build context {context} has no Dockerfile")
    return errors


def _check_registry(path: Path, r: Mapping[str, Any]) -> list[str]:
    from azure.ai.ml import load_registry

    loaded = load_registry(str(path))
    errors = _compare(loaded, r, ("name", "location", "description"))
    got = [d.location for d in loaded.replication_locations or []]
    if got != list(r["replication_locations"]):
        errors.append(f"replication locations are {got}, expected {r['replication_locations']}")
    if not REGISTRY_NAME.fullmatch(loaded.name):
        errors.append(f"registry name {loaded.name} must be 3-33 letters, digits, '-' or '_', starting with a "
                      f"letter or digit")
    return errors


class _NoNetworkCredential:
    """A credential that never issues a token: from_config must not need one."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise RuntimeError("config.json validation must not request a token")


def _check_config(path: Path, cfg: Mapping[str, Any]) -> list[str]:
    import io
    from contextlib import redirect_stdout

    from azure.ai.ml import MLClient

    data = json.loads(path.read_text())
    errors = []
    if sorted(data) != sorted(CONFIG_KEYS):
        errors.append(f"keys are {sorted(data)}, expected exactly {list(CONFIG_KEYS)} (no secrets belong here)")
    if not _GUID.fullmatch(str(data.get("subscription_id", ""))):
        errors.append("subscription_id is not a GUID")
    with redirect_stdout(io.StringIO()):  # from_config prints where it found the file
        client = MLClient.from_config(credential=_NoNetworkCredential(), path=str(path), enable_telemetry=False)
    got = {"subscription_id": client.subscription_id, "resource_group": client.resource_group_name,
           "workspace_name": client.workspace_name}
    if got != dict(cfg):
        errors.append(f"MLClient.from_config read {got}, expected {dict(cfg)}")
    return errors


def validate_specs(out_dir: str | Path, written: list[dict[str, Any]]) -> dict[str, Any]:
    """Load each written spec with azure-ai-ml's own loaders; compare with what was meant."""
    out = Path(out_dir)
    files = []
    with _quiet_sdk():
        for item in written:
            path: Path = item["path"]
            errors: list[str] = []
            warnings: list[str] = []
            loaded = False
            try:
                kind = item["kind"]
                if kind == "workspace":
                    errors = _check_workspace(path, item["expected"])
                elif kind == "compute":
                    errors, warnings = _check_compute(path, item["expected"])
                elif kind == "environment":
                    errors = _check_environment(path, item["expected"])
                elif kind == "registry":
                    errors = _check_registry(path, item["expected"])
                else:
                    errors = _check_config(path, item["expected"])
                loaded = True
            except Exception as exc:  # marshmallow ValidationError and friends: the spec is not loadable
                errors = [f"{type(exc).__name__}: {str(exc).strip()[:1500]}"]
            files.append({"env": item["env"], "kind": item["kind"], "path": path.relative_to(out).as_posix(),
                          "loaded": loaded, "errors": errors, "warnings": warnings})
    return {"ok": all(f["loaded"] and not f["errors"] for f in files), "files": files,
            "loader": "azure-ai-ml " + _sdk_version()}


def _sdk_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("azure-ai-ml")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def summary_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per file for a table in the notebook."""
    return [{"environment": f["env"], "kind": f["kind"], "file": f["path"],
             "loads": "yes" if f["loaded"] else "NO",
             "problems": "; ".join(f["errors"] + f["warnings"]) or "-"} for f in report["files"]]
