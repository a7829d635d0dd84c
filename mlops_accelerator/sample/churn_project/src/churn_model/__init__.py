"""Churn model: data preparation, features, training and scoring for the Contoso churn project.

The MLOps Accelerator's stage 5 imports this package at a recorded git commit, tunes and trains it,
tracks the run with MLflow and registers the model; `tests/` holds its unit tests.
"""

LABEL = "churned"
