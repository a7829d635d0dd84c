"""Offline stand-in for Azure ML SDK v1 (`azureml-core`), used only by stage 7's parity run.

Put on PYTHONPATH of a subprocess, it lets a legacy training script run on this machine: the
`Run` records what SDK v1 would have logged, `Dataset.get_by_name` reads the local file mapped to
the dataset's name. Anything else raises an error naming the API. Never imported by the product.
"""
