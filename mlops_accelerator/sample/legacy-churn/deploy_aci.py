"""Deploy the registered churn model as an ACI web service (SDK v1), for the CRM team's tests."""
from azureml.core import Environment, Workspace
from azureml.core.model import InferenceConfig, Model
from azureml.core.webservice import AciWebservice

ws = Workspace.from_config()
model = Model(ws, name="churn-model")
env = Environment.get(ws, name="churn-train-env")

inference_config = InferenceConfig(entry_script="score.py", source_directory=".", environment=env)
aci_config = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1)
service = Model.deploy(ws, "churn-aci", [model], inference_config, aci_config)
service.wait_for_deployment(show_output=True)
print(service.scoring_uri)
