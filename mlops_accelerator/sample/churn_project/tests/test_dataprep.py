import pytest

from churn_model import LABEL
from churn_model.dataprep import ID_COLUMNS, clean, split_xy


@pytest.mark.data_prep_functions
def test_clean_blanks_impossible_ages_and_fills_total_charges(raw):
    out = clean(raw)
    assert out["age"].dropna().between(18, 100).all()
    assert out["age"].isna().sum() == 1
    assert out["total_charges"].notna().all()


@pytest.mark.data_prep_functions
def test_clean_drops_unlabelled_rows(raw):
    raw.loc[:9, LABEL] = None
    assert len(clean(raw)) == len(raw) - 10


@pytest.mark.data_prep_functions
def test_split_xy_removes_identifiers_and_label(raw):
    X, y = split_xy(clean(raw))
    assert not set(ID_COLUMNS) & set(X.columns) and LABEL not in X.columns
    assert len(X) == len(y)
