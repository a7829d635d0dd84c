"""Scoring script of the ACI web service (SDK v1 entry script: init() and run())."""
import json

import joblib
import pandas as pd
from azureml.core.model import Model


def init():
    global model
    model = joblib.load(Model.get_model_path("churn-model"))


def run(raw_data):
    rows = pd.DataFrame(json.loads(raw_data)["data"])
    return model.predict_proba(rows)[:, 1].tolist()
