import numpy as np
import pytest

from churn_model.dataprep import clean, split_xy
from churn_model.features import CATEGORICAL, NUMERIC, add_features, preprocessor


@pytest.mark.feature_functions
def test_add_features_has_no_infinities_for_new_customers(raw):
    raw["tenure_months"] = 0
    out = add_features(clean(raw))
    assert np.isfinite(out["charges_per_month_of_tenure"].dropna()).all()
    assert set(NUMERIC + CATEGORICAL) <= set(out.columns)


@pytest.mark.feature_functions
def test_preprocessor_output_is_complete(raw):
    X, _ = split_xy(clean(raw))
    matrix = preprocessor().fit_transform(add_features(X))
    assert matrix.shape[0] == len(X)
    assert not np.isnan(np.asarray(matrix.todense() if hasattr(matrix, "todense") else matrix)).any()
