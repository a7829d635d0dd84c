"""The SDK v1 -> v2 mapping rows the codemod applies or reports (from the stage digest, section 7.2).

Each row has an id (the anchor reports link to), the v1 APIs it covers, the v2 equivalent and,
when the codemod cannot rewrite a use mechanically, the reason a person has to.
"""

from __future__ import annotations

from dataclasses import dataclass

MAPPING_DOC = "sdk-v1-to-v2-mapping.md"


@dataclass(frozen=True)
class Row:
    id: str
    v1: tuple[str, ...]  # API names as the inventory spells them: Class, Class.method, Run.method
    v2: str
    automatic: bool  # True: the codemod rewrites the listed APIs (uses it cannot are still reported)
    reason: str = ""  # why a use stays for a person (always set for manual rows)

    @property
    def link(self) -> str:
        return f"{MAPPING_DOC}#{self.id}"


ROWS: tuple[Row, ...] = (
    Row("workspace", ("Workspace", "Workspace.from_config", "Workspace.get"),
        "`MLClient(credential=DefaultAzureCredential(), ..., enable_telemetry=False)` / `MLClient.from_config`",
        True, "only from_config(), get() and the constructor with keyword arguments are rewritten"),
    Row("authentication", ("InteractiveLoginAuthentication", "AzureCliAuthentication",
                           "ServicePrincipalAuthentication", "MsiAuthentication"),
        "azure-identity: `InteractiveBrowserCredential`, `AzureCliCredential`, `ClientSecretCredential`, "
        "`ManagedIdentityCredential`", True,
        "service principal secrets belong in environment variables or a federated identity"),
    Row("run-logging", ("Run", "Run.get_context", "Run.log", "Run.tag", "Run.set_tags", "Run.log_image",
                        "Run.upload_file", "Run.complete", "Run.experiment"),
        "MLflow in the job's run: `mlflow.log_metric`, `mlflow.set_tag(s)`, `mlflow.log_artifact`", True,
        "other Run methods (log_list, log_table, log_row, child runs, parent) have no one-to-one MLflow call: "
        "log each value with mlflow.log_metric(name, value, step=i)"),
    Row("command-job", ("ScriptRunConfig", "Experiment", "Experiment.submit", "Run.wait_for_completion",
                        "Run.get_metrics", "RunConfiguration", "Estimator"),
        "command job: `command(code=..., command='python ...', environment=..., compute=...)` submitted with "
        "`ml_client.jobs.create_or_update(job, experiment_name=...)`", True,
        "arguments that are not literals (e.g. dataset.as_named_input) must become job inputs by hand; "
        "metrics of a job are read with MLflow (mlflow.get_run(job.name).data.metrics)"),
    Row("environment", ("Environment", "Environment.from_conda_specification", "Environment.get",
                        "CondaDependencies"),
        "environment asset: `Environment(image=..., conda_file=...)`, `ml_client.environments.get/create_or_update`",
        True, "CondaDependencies objects: write the packages into a conda.yml file"),
    Row("data", ("Dataset", "Dataset.get_by_name", "Run.input_datasets", "Dataset.Tabular", "Dataset.File",
                 "Datastore"),
        "data asset (`uri_file`/`uri_folder`/`mltable`) passed as a job input; inside the job its path is "
        "`os.environ['AZURE_ML_INPUT_<name>']`; outside, `ml_client.data.get(name, version)`", True,
        "Dataset.Tabular/File factories and Datastore.register_*: create the data asset or datastore in stage 4 "
        "(YAML) and pass it as an input"),
    Row("model-register", ("Model", "Model.register", "Run.register_model"),
        "model asset: `ml_client.models.create_or_update(Model(path=..., name=..., type='custom_model'))`", True,
        "Model.get_model_path: an online deployment finds its model under os.environ['AZUREML_MODEL_DIR']; "
        "a job gets it as an input"),
    Row("compute", ("ComputeTarget", "AmlCompute", "AmlCompute.provisioning_configuration"),
        "compute by name on the job (`compute='cpu-cluster'`); clusters as compute YAML (stage 3)", True,
        "provisioning code: define the cluster in the compute YAML that stage 3 generates"),
    Row("pipeline", ("PythonScriptStep", "Pipeline", "PipelineData", "PublishedPipeline", "PipelineEndpoint",
                     "Schedule"),
        "pipeline job built from components (`@dsl.pipeline` of `command()` nodes); schedules as job "
        "schedules", True,
        "a Pipeline object becomes a @dsl.pipeline function calling the command nodes; PipelineData becomes "
        "a component output: restructure by hand"),
    Row("parallel", ("ParallelRunStep", "ParallelRunConfig"),
        "parallel job / parallel component (mini_batch_size, instance_count, max_concurrency_per_instance)",
        False, "entry-script contract (init/run) and output handling differ: port with azure.ai.ml.parallel"),
    Row("sweep-automl", ("HyperDriveConfig", "AutoMLConfig"),
        "sweep job / AutoML job (`automl.classification(...)`)", False,
        "search spaces and AutoML settings are renamed: rewrite with command(...).sweep() or automl.*"),
    Row("deployment", ("InferenceConfig", "Model.deploy", "AciWebservice", "AksWebservice", "Webservice",
                       "LocalWebservice"),
        "managed online endpoint + deployment YAML (`ManagedOnlineEndpoint`, `ManagedOnlineDeployment`); ACI "
        "has no v2 equivalent", False,
        "deployment moves to endpoint and deployment specs: stage 5 generates them"),
)

_BY_API = {api: row for row in ROWS for api in row.v1}


def row_for(api: str) -> Row | None:
    """The row covering an API use such as 'Dataset.get_by_name' (falls back to its class)."""
    if api in _BY_API:
        return _BY_API[api]
    return _BY_API.get(api.split(".")[0])


def mapping_markdown() -> str:
    """The mapping table as a Markdown document with one anchor per row (reports link to it)."""
    lines = ["# Azure ML SDK v1 -> v2 mapping used by the migration", "",
             "Rows the codemod rewrites are marked *automatic*; uses it leaves are listed in the rewrite "
             "report with the row's reason.", ""]
    for row in ROWS:
        lines += [f'<a id="{row.id}"></a>', f"## {row.id}", "",
                  f"- **SDK v1:** {', '.join(f'`{a}`' for a in row.v1)}",
                  f"- **SDK v2:** {row.v2}",
                  f"- **Codemod:** {'automatic' if row.automatic else 'by hand'}",
                  f"- **Left for a person:** {row.reason}", ""]
    return "\n".join(lines)
