"""The azureml target: sign-in, pre-flight checks, and stage 3 deployed and read back on Azure.

Everything here talks to Azure Resource Manager and Azure ML over their REST APIs (azure-core,
azure-mgmt-resource, azure-ai-ml). It is tested against a local HTTPS fake of those APIs
(tests/fake_azure/); the same tests run against a real subscription with `pytest -m live`.
Heavy SDKs are imported inside functions so `import mlops_accelerator.cli` stays instant.
"""
