import numpy as np
import pytest

from churn_model.dataprep import clean, split_xy
from churn_model.train import SEARCH_SPACE, build_model, train


@pytest.mark.model_io_shapes
def test_probabilities_have_one_row_per_input_and_two_classes(raw):
    X, y = split_xy(clean(raw))
    proba = train(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert np.allclose(proba.sum(axis=1), 1)


@pytest.mark.weights_update_after_fit
def test_weights_change_when_fitted(raw):
    X, y = split_xy(clean(raw))
    model = build_model()
    with pytest.raises(AttributeError):
        model.named_steps["model"].coef_  # noqa: B018 - unfitted: no weights yet
    fitted = train(X, y)
    assert np.abs(fitted.named_steps["model"].coef_).sum() > 0


@pytest.mark.dummy_data_prediction_format
def test_dummy_prediction_is_binary(raw):
    X, y = split_xy(clean(raw))
    prediction = train(X, y).predict(X.head(5))
    assert set(prediction) <= {0, 1} and len(prediction) == 5


@pytest.mark.model_io_shapes
def test_search_space_names_real_parameters():
    params = build_model().get_params()
    assert set(SEARCH_SPACE) <= set(params)
