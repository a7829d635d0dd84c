import pytest

from churn_model.dataprep import clean, split_xy
from churn_model.score import INPUT_COLUMNS, score
from churn_model.train import train


@pytest.mark.scoring_script_contract
def test_score_returns_probability_and_prediction(raw):
    X, y = split_xy(clean(raw))
    out = score(train(X, y), X)
    assert list(out.columns) == ["churn_probability", "prediction"]
    assert out["churn_probability"].between(0, 1).all()


@pytest.mark.scoring_script_contract
def test_score_names_missing_columns(raw):
    X, y = split_xy(clean(raw))
    with pytest.raises(ValueError, match="region"):
        score(train(X, y), X.drop(columns=["region"]))
    assert "region" in INPUT_COLUMNS
