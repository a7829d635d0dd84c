"""Turn the stage-4 feature table into clean model inputs."""

from __future__ import annotations

import pandas as pd

from . import LABEL

# Columns that identify a row but carry no signal a model may learn from.
ID_COLUMNS = ("customer_id", "snapshot_time")
AGE_RANGE = (18, 100)


def clean(df: pd.DataFrame) -> pd.DataFrame:
    """Rows with a label, impossible ages blanked, missing total charges estimated from the monthly ones."""
    out = df[df[LABEL].notna()].copy()
    out[LABEL] = out[LABEL].astype(int)
    age = pd.to_numeric(out["age"], errors="coerce")
    out["age"] = age.where(age.between(*AGE_RANGE))
    estimate = out["monthly_charges"] * out["tenure_months"]
    out["total_charges"] = out["total_charges"].fillna(estimate)
    return out.reset_index(drop=True)


def split_xy(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Inputs (without identifiers and label) and the label."""
    drop = [c for c in (*ID_COLUMNS, LABEL) if c in df.columns]
    return df.drop(columns=drop), df[LABEL]
