"""UI hints of the settings schemas: how the wizards show a value, declared once, beside the data.

Choice labels are declared here (not guessed from ids): a product name keeps its own spelling
("GitHub", "MLflow"), an acronym stays upper case ("TDSP"). A field declares its own hints with
`setting(..., ui={...})`; they land in the JSON Schema as `x-ui-*` keys:

    labels      {value: label}    labels of this field's choices (override CHOICE_LABELS)
    show_if     {field: value}    shown only when a sibling field has that value (or one of a list)
    widget      "textarea" | "matrix"
    matrix      {row, col, cell[, col_source]}   a record list as a row x column grid
    order       [field, ...]      column / field order of a record
    placeholder "text"
    item        "noun"            what one row of a record list is called ("member")
"""

from __future__ import annotations

from typing import Any

# value -> label, for values whose plain-English spelling is not "first letter upper case"
CHOICE_LABELS: dict[str, str] = {
    "github": "GitHub", "github_actions": "GitHub Actions", "github_flow": "GitHub flow", "gitlab": "GitLab",
    "bitbucket": "Bitbucket", "git": "Git", "git_flow": "Git flow",
    "azure_repos": "Azure Repos", "azure_devops": "Azure DevOps", "azure_devops_pipelines": "Azure DevOps Pipelines",
    "mlflow": "MLflow", "mlflow_model": "MLflow model", "databricks_mlflow": "Databricks MLflow",
    "databricks_mlflow_registry": "Databricks MLflow registry",
    "aml_experiments_mlflow": "Azure ML experiments (MLflow)",
    "tdsp": "TDSP", "dslp": "DSLP", "crisp_dm_agile": "CRISP-DM (agile)",
    "dstoolkit_mlops_base": "DS Toolkit MLOps base", "dev_main_pr": "dev/main with pull requests",
    "oidc_federated_credential": "OIDC federated credential",
    "workload_identity_federation": "Workload identity federation (OIDC)",
    "service_principal_secret": "Service principal secret",
    "aks": "AKS", "acr": "ACR", "arm": "ARM", "api": "API", "cli": "CLI", "azure_cli": "Azure CLI", "vm": "VM",
    "cpu": "CPU", "gpu": "GPU", "fpga": "FPGA", "onnx": "ONNX", "csv": "CSV", "mpi": "MPI", "r": "R",
    "automl": "AutoML", "pytorch": "PyTorch", "tensorflow": "TensorFlow", "xgboost": "XGBoost",
    "lightgbm": "LightGBM", "scikit-learn": "scikit-learn", "vscode": "VS Code", "coco": "COCO",
    "mltable": "MLTable", "uri_file": "URI file", "uri_folder": "URI folder",
    "aml_compute": "Azure ML compute", "amlcompute": "Azure ML compute cluster", "computeinstance": "Compute instance",
    "aml_pipelines": "Azure ML pipelines", "aml_model_registry": "Azure ML model registry",
    "aml_registry": "Azure ML registry", "aml_data_assets": "Azure ML data assets",
    "aml_data_import": "Azure ML data import",
    "aml_serverless_spark": "Azure ML serverless Spark", "aml_run_log": "Azure ML run log",
    "aml_token": "Azure ML token", "aad_token": "Microsoft Entra ID token",
    "aml_acceleration_template": "Azure ML acceleration template", "azure_ai_ml": "azure-ai-ml (SDK v2)",
    "azure_blob": "Azure Blob Storage", "azure_file": "Azure Files", "azure_data_lake_gen2": "Azure Data Lake Gen2",
    "azure_stack_hci": "Azure Stack HCI", "stack_hub": "Azure Stack Hub", "stack_edge": "Azure Stack Edge",
    "azure_monitor_action_group": "Azure Monitor action group", "azure_monitor_app_insights": "Application Insights",
    "azure_dashboards": "Azure dashboards", "power_bi": "Power BI", "synapse_spark": "Synapse Spark",
    "databricks": "Databricks", "databricks_delta": "Databricks Delta", "adf_copy_activity": "ADF copy activity",
    "event_grid": "Event Grid", "ml_extension": "Azure ML extension", "bicep": "Bicep", "terraform": "Terraform",
    "v1": "v1", "v2": "v2", "v1_dataset_monitor": "v1 dataset monitor", "v2_model_monitor": "v2 model monitor",
    "v1_dataset": "v1 dataset", "sas_token": "SAS token", "semver": "SemVer", "ruff": "Ruff", "pylint": "Pylint",
    "flake8": "flake8", "black": "Black", "bandit": "Bandit", "pydocstyle": "pydocstyle",
    "triton": "Triton", "triton_model": "Triton model", "on_prem_server": "On-premises server",
    "L0": "L0 · unit", "L1": "L1 · integration", "L2": "L2 · system", "L3": "L3 · end-to-end",
    "1_year": "1 year", "3_year": "3 years", "na": "n/a", "not_applicable": "Not applicable",
    "two_limited_vs_prod_data": "Two: limited vs production data", "single_shared": "Single shared",
    "per_solution_per_env": "Per solution, per environment",
    "StorageBlobDataContributor": "Storage Blob Data Contributor",
    "StorageBlobDataReader": "Storage Blob Data Reader", "ai_standards": "AI standards",
}


# word -> spelling, for ids read as words ("private_dns_resolves" -> "Private DNS resolves")
WORDS: dict[str, str] = {w.lower(): w for w in (
    "SQL", "ADF", "DNS", "OK", "ML", "AKS", "API", "CPU", "GPU", "SKU", "VNet", "CI", "CD", "PR", "ID", "URL", "IP",
    "Azure", "MLflow", "GitHub", "ONNX", "CSV", "JSON", "YAML", "RBAC", "PII", "GDPR", "ACR", "HCI", "OIDC", "SAS",
    "Spark", "Databricks", "Synapse", "Delta", "BI", "DevOps", "MLOps", "Entra", "LRS", "GRS", "ZRS", "SSH", "TLS",
    "HTTPS", "HTTP", "VM", "VMs", "AutoML", "AI", "CoE", "SLA", "SLO", "UTC", "REST", "SDK", "IaC", "ARM", "TDSP",
    "Kubernetes", "Python", "R", "PyTorch", "TensorFlow", "Triton", "Git", "Event", "Grid", "Blob", "Key", "Vault",
    "MPI", "NCCL", "Gen2", "v1", "v2", "Power", "Apps", "Excel", "Teams", "Slack", "PagerDuty", "ServiceNow", "Jira")}
WORDS.update({"aml": "Azure ML", "cmk": "CMK", "io": "I/O", "adls": "ADLS", "dsvm": "DSVM", "hpc": "HPC",
              "iot": "IoT", "ner": "NER", "jit": "JIT", "vpn": "VPN", "skus": "SKUs", "e2e": "end-to-end",
              "expressroute": "ExpressRoute", "prem": "premises", "env": "environment"})


def choice_label(value: Any) -> str:
    """The declared label of a choice; plain ids read as sentences ("blue_green" -> "Blue green")."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if not isinstance(value, str):
        return str(value)
    if value in CHOICE_LABELS:
        return CHOICE_LABELS[value]
    from ..roles import ROLES_BY_ID

    if value in ROLES_BY_ID:
        return ROLES_BY_ID[value].name
    if value.islower() and value.replace("_", "").isalnum():
        words = [WORDS.get(w, w) for w in value.split("_")]
        words[0] = words[0][:1].upper() + words[0][1:]
        return " ".join(words)
    return value


def ui_extra(hints: dict[str, Any] | None) -> dict[str, Any]:
    """`ui={...}` of `setting()` as JSON Schema keys (x-ui-show-if, x-ui-labels, ...)."""
    return {f"x-ui-{k.replace('_', '-')}": v for k, v in (hints or {}).items()}
