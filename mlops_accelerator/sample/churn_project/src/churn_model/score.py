"""Scoring: the contract between a trained model and its callers (endpoint and batch)."""

from __future__ import annotations

import pandas as pd

INPUT_COLUMNS = ["age", "region", "contract", "payment_method", "internet_service", "tenure_months",
                 "monthly_charges", "total_charges", "support_calls"]
THRESHOLD = 0.5


def score(model, df: pd.DataFrame) -> pd.DataFrame:
    """One row per input row: churn probability and the 0/1 prediction at THRESHOLD."""
    missing = [c for c in INPUT_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"scoring input lacks column(s) {', '.join(missing)}")
    probability = model.predict_proba(df[INPUT_COLUMNS])[:, 1]
    return pd.DataFrame({"churn_probability": probability, "prediction": (probability >= THRESHOLD).astype(int)},
                        index=df.index)
