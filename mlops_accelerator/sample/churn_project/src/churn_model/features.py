"""Derived features and the preprocessing every model shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["age", "tenure_months", "monthly_charges", "total_charges", "support_calls",
           "charges_per_month_of_tenure", "support_calls_per_year"]
CATEGORICAL = ["region", "contract", "payment_method", "internet_service"]


def add_features(df: pd.DataFrame) -> pd.DataFrame:
    """Ratios that make tenure-dependent columns comparable across customers."""
    out = df.copy()
    months = out["tenure_months"].clip(lower=1)
    out["charges_per_month_of_tenure"] = out["total_charges"] / months
    out["support_calls_per_year"] = out["support_calls"] * 12 / months
    return out.replace([np.inf, -np.inf], np.nan)


def preprocessor() -> ColumnTransformer:
    """Impute and scale numbers; one-hot encode categories (unknown ones are ignored at scoring)."""
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                            ("encode", OneHotEncoder(handle_unknown="ignore"))])
    return ColumnTransformer([("numeric", numeric, NUMERIC), ("categorical", categorical, CATEGORICAL)])
