"""Shared fixtures; each test's ML unit-test kind (its marker) is recorded in the JUnit XML."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

KINDS = ("data_prep_functions", "feature_functions", "model_io_shapes", "weights_update_after_fit",
         "dummy_data_prediction_format", "scoring_script_contract")


@pytest.fixture(autouse=True)
def _record_kind(request, record_property):
    for marker in request.node.iter_markers():
        if marker.name in KINDS:
            record_property("ml_unit_test_kind", marker.name)


@pytest.fixture
def raw() -> pd.DataFrame:
    """A small feature table shaped like the stage-4 churn-features asset."""
    rng = np.random.default_rng(7)
    n = 200
    tenure = rng.integers(0, 72, n)
    monthly = rng.uniform(20, 120, n).round(2)
    total = (tenure * monthly).astype(float)
    total[::17] = np.nan
    age = rng.integers(18, 90, n).astype(float)
    age[3] = 150
    return pd.DataFrame({
        "customer_id": np.arange(n), "snapshot_time": pd.Timestamp("2024-01-01"),
        "age": age, "region": rng.choice(["north", "south", "east", "west"], n),
        "contract": rng.choice(["month-to-month", "one-year", "two-year"], n),
        "payment_method": rng.choice(["card", "bank", "check"], n),
        "internet_service": rng.choice(["fiber", "dsl", "none"], n),
        "tenure_months": tenure, "monthly_charges": monthly, "total_charges": total,
        "support_calls": rng.integers(0, 8, n), "churned": rng.integers(0, 2, n),
    })
