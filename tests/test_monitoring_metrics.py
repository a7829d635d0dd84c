"""Each monitoring metric against an independent reference implementation (scipy) on the same data."""

import numpy as np
import pytest
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

from mlops_accelerator.monitoring import metrics as M


@pytest.fixture(scope="module")
def samples():
    rng = np.random.default_rng(7)
    base = np.sort(rng.normal(50, 10, 20_000))
    near = np.sort(rng.normal(50, 10, 5_000))
    shifted = np.sort(rng.normal(56, 12, 5_000))
    return base, near, shifted


def test_wasserstein_is_scipys_divided_by_the_baseline_std(samples):
    base, near, shifted = samples
    for prod in (near, shifted):
        got = M.numerical_drift(base, prod, M.baseline_edges(base), {"normalized_wasserstein_distance"}, base.std())
        ref = stats.wasserstein_distance(base, prod) / base.std()
        assert got["normalized_wasserstein_distance"] == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_ks_p_value_is_scipys_asymptotic_two_sample_test(samples):
    base, near, shifted = samples
    for prod in (near, shifted, near[:200]):
        got = M.numerical_drift(base, np.sort(prod), M.baseline_edges(base), {"two_sample_kolmogorov_smirnov_test"},
                                base.std())["two_sample_kolmogorov_smirnov_test"]
        ref = stats.ks_2samp(base, prod, method="asymp").pvalue
        assert got == pytest.approx(ref, rel=1e-6, abs=1e-300)
    assert M.breached("two_sample_kolmogorov_smirnov_test", 0.001, 0.05)  # low p-value = drift


def test_jsd_and_psi_on_the_baselines_bins_match_scipy(samples):
    base, _near, shifted = samples
    edges = M.baseline_edges(base)
    # the reference: np.histogram on the baseline's edges (top edge closed, as in the stage-4 profile),
    # plus the two open outer bins for values outside the baseline's range
    def ref_counts(x):
        return np.concatenate([[np.sum(x < edges[0])], np.histogram(x, edges)[0], [np.sum(x > edges[-1])]])

    pc, qc = ref_counts(shifted), ref_counts(base)
    assert M.binned_counts(base, edges).tolist() == qc.tolist()
    assert M.binned_counts(shifted, edges).tolist() == pc.tolist()
    got = M.numerical_drift(base, shifted, edges, {"jensen_shannon_distance", "population_stability_index"}, 1.0)
    p, q = pc / pc.sum(), qc / qc.sum()
    assert got["jensen_shannon_distance"] == pytest.approx(jensenshannon(p, q, base=2), rel=1e-9)
    ps, qs = np.maximum(p, M.EPS), np.maximum(q, M.EPS)
    assert got["population_stability_index"] == pytest.approx(
        float(np.sum(special.rel_entr(ps, qs) + special.rel_entr(qs, ps))), rel=1e-9)


def test_categorical_metrics_match_scipy():
    rng = np.random.default_rng(3)
    base = rng.choice(["a", "b", "c"], 8_000, p=[0.5, 0.3, 0.2])
    prod = rng.choice(["a", "b", "c", "new"], 3_000, p=[0.3, 0.3, 0.3, 0.1])
    cats, bc, pc = M.category_counts(base, prod)
    assert set(cats) == {"a", "b", "c", "new"} and bc[cats.index("new")] == 0
    got = M.categorical_drift(bc, pc, {"jensen_shannon_distance", "population_stability_index",
                                       "pearsons_chi_squared_test"})
    assert got["jensen_shannon_distance"] == pytest.approx(jensenshannon(pc / pc.sum(), bc / bc.sum(), base=2))
    ref = stats.chi2_contingency(np.vstack([bc, pc]), correction=False).pvalue
    assert got["pearsons_chi_squared_test"] == pytest.approx(ref, rel=1e-6, abs=1e-300)
    same = M.categorical_drift(bc, bc, {"pearsons_chi_squared_test", "jensen_shannon_distance"})
    assert same["pearsons_chi_squared_test"] == pytest.approx(1.0) and same["jensen_shannon_distance"] == 0.0


def test_ndcg_is_one_for_the_same_ranking_and_lower_when_it_changes():
    base = {"a": 0.5, "b": 0.3, "c": 0.1, "d": 0.05}
    assert M.ndcg(base, {"a": 9, "b": 5, "c": 2, "d": 1}) == pytest.approx(1.0)
    swapped = M.ndcg(base, {"a": 0.0, "b": 0.1, "c": 0.2, "d": 0.3})
    rel, disc = np.array([0.05, 0.1, 0.3, 0.5]), 1 / np.log2(np.arange(2, 6))
    assert swapped == pytest.approx(float(rel @ disc) / float(np.array([0.5, 0.3, 0.1, 0.05]) @ disc))
    assert M.breached("normalized_discounted_cumulative_gain", swapped, 0.9)


def test_mutual_information_matches_scipy_entropy():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 4, 5_000)
    y = (x + rng.integers(0, 2, 5_000)) % 3
    joint = np.histogram2d(x, y, bins=[4, 3])[0] / len(x)
    ref = stats.entropy(joint.sum(1)) + stats.entropy(joint.sum(0)) - stats.entropy(joint.ravel())
    assert M.mutual_information(x, y) == pytest.approx(ref, rel=1e-9)


def test_performance_metrics():
    t = np.array([1, 0, 1, 1, 0, 0, 1, 0])
    p = np.array([1, 0, 0, 1, 1, 0, 1, 0])
    got = M.classification(t, p, {"accuracy", "precision", "recall"})
    assert got == {"accuracy": 0.75, "precision": 0.75, "recall": 0.75}
    r = M.regression([1.0, 2.0, 4.0], [1.5, 2.0, 2.0], {"mae", "mse", "rmse"})
    assert r["mae"] == pytest.approx(2.5 / 3) and r["mse"] == pytest.approx(4.25 / 3)
    assert r["rmse"] == pytest.approx((4.25 / 3) ** 0.5)
    assert M.breached("accuracy", 0.6, 0.7) and not M.breached("mae", 0.1, 0.2)
    assert not M.breached("jensen_shannon_distance", float("nan"), 0.1)
