"""Submit the churn training run to Azure ML and register the model (SDK v1, azureml-core 1.x).

Run from a machine where `az login` was done; config.json comes from the portal.
"""
from azureml.core import Environment, Experiment, ScriptRunConfig, Workspace
from azureml.core.compute import ComputeTarget

ws = Workspace.from_config()
cluster = ComputeTarget(workspace=ws, name="cpu-cluster")
env = Environment.from_conda_specification(name="churn-train-env", file_path="environment.yml")

src = ScriptRunConfig(
    source_directory="src",
    script="train.py",
    arguments=["--learning-rate", 0.1, "--n-estimators", 100],
    compute_target=cluster,
    environment=env,
)

experiment = Experiment(workspace=ws, name="churn-training")
run = experiment.submit(src)
run.wait_for_completion(show_output=True)

# Keep the model with its metric so the next training can be compared against it.
metrics = run.get_metrics()
model = run.register_model(
    model_name="churn-model",
    model_path="outputs/model.pkl",
    tags={"accuracy": str(metrics["accuracy"])},
)
print(model.name, model.version)
