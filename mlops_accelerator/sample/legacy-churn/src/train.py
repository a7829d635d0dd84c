"""Train the Contoso churn classifier on Azure ML (SDK v1).

submit_training.py sends this script to the cpu-cluster as a ScriptRunConfig. It reads the
registered churn-training dataset, logs its metrics on the run and leaves the model in ./outputs,
which Azure ML uploads with the run.
"""
import argparse
import os

import joblib
from azureml.core import Dataset, Run
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split

FEATURES = ["tenure_months", "monthly_spend", "visits_last_90d", "support_tickets", "loyalty_points"]
LABEL = "churned"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--n-estimators", type=int, default=100)
    args = parser.parse_args()

    run = Run.get_context()
    ws = run.experiment.workspace
    # The training data as registered by the data team (tabular dataset, version 1).
    dataset = Dataset.get_by_name(ws, name="churn-training", version="1")
    df = dataset.to_pandas_dataframe()

    x_train, x_test, y_train, y_test = train_test_split(
        df[FEATURES], df[LABEL], test_size=0.25, random_state=42, stratify=df[LABEL])
    model = GradientBoostingClassifier(
        learning_rate=args.learning_rate, n_estimators=args.n_estimators, max_depth=2, random_state=42)
    model.fit(x_train, y_train)

    predicted = model.predict(x_test)
    run.log("accuracy", accuracy_score(y_test, predicted))
    run.log("f1", f1_score(y_test, predicted))
    run.log("auc", roc_auc_score(y_test, model.predict_proba(x_test)[:, 1]))
    run.tag("algorithm", "gradient_boosting")

    os.makedirs("outputs", exist_ok=True)
    joblib.dump(model, "outputs/model.pkl")
    run.complete()


if __name__ == "__main__":
    main()
