"""The model: features, preprocessing and a logistic regression, plus the search space to tune it."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from .features import add_features, preprocessor

# Hyperparameters tuned by the accelerator's search (stage 5 hyperparameter_tuning settings).
SEARCH_SPACE: dict[str, list[Any]] = {
    "model__C": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0],
    "model__class_weight": [None, "balanced"],
}
DEFAULT_PARAMS: dict[str, Any] = {"model__C": 1.0, "model__class_weight": "balanced"}


def build_model(params: dict[str, Any] | None = None) -> Pipeline:
    """An unfitted pipeline from raw inputs to churn probability."""
    model = Pipeline([
        ("features", FunctionTransformer(add_features)),
        ("preprocess", preprocessor()),
        ("model", LogisticRegression(max_iter=500)),
    ])
    return model.set_params(**{**DEFAULT_PARAMS, **(params or {})})


def train(X: pd.DataFrame, y: pd.Series, params: dict[str, Any] | None = None) -> Pipeline:
    """The fitted pipeline."""
    return build_model(params).fit(X, y)
