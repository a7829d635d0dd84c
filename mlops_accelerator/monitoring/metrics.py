"""Azure ML's model-monitoring metrics, vectorised with numpy, each defined exactly here.

Which side is which: `base` is always the reference (training data asset or a past production
window), `prod` the production window. Values are floats; `direction` says which way is bad.

Numerical features (nulls dropped first):
- jensen_shannon_distance: both samples counted on the *baseline's* bins (BINS equal-width bins from
  the baseline's min to max, as in the stage-4 profile, plus one open bin below and one above so
  production values outside the baseline's range count); proportions p (prod) and q (base);
  JSD = sqrt((KL(p||m) + KL(q||m)) / 2) with m = (p+q)/2 and log base 2, so 0 <= JSD <= 1.
  No smoothing is needed (0 * log 0 = 0). Reference: scipy.spatial.distance.jensenshannon(base=2).
- normalized_wasserstein_distance: the exact 1-Wasserstein (earth mover's) distance between the two
  empirical distributions (no binning) divided by the baseline's standard deviation (ddof=0), so a
  value of 0.1 means "the mass moved a tenth of a standard deviation". A constant baseline (std 0)
  divides by 1. Reference: scipy.stats.wasserstein_distance / std.
- population_stability_index: on the same bins as JSD, PSI = sum((p - q) * ln(p / q)) with every
  proportion below EPS raised to EPS (1e-4) so empty bins give a finite value. Symmetric in p, q.
  Reference: sum of scipy.special.rel_entr(p, q) + rel_entr(q, p) on the smoothed proportions.
- two_sample_kolmogorov_smirnov_test: the p-value of the two-sided two-sample KS test (statistic
  D = max |F_prod - F_base| over all observed values; p from the Kolmogorov distribution kstwo with
  n = round(n_base * n_prod / (n_base + n_prod)), scipy's "asymp" method). Lower is worse: an alert
  fires when the p-value falls *below* the threshold. Reference: scipy.stats.ks_2samp(method="asymp").

Categorical features (values as text, nulls dropped):
- jensen_shannon_distance: as above, on the category frequencies over the union of both sides'
  categories (a category only production has counts as its own bin).
- population_stability_index: as above on those frequencies, with the same EPS smoothing.
- pearsons_chi_squared_test: the p-value of Pearson's chi-squared test of homogeneity on the 2 x K
  table of counts (baseline row, production row; K = categories seen on either side), no Yates
  correction, dof = K - 1. Lower is worse. Reference: scipy.stats.chi2_contingency(correction=False).

Data quality (against the baseline's profile):
- null_value_rate: share of production rows whose value is null (NaN/None/NaT).
- data_type_error_rate: share of non-null production values whose type is not the baseline's kind
  (a numerical baseline: values that do not parse as numbers; a categorical baseline: values that
  are not text, e.g. numbers or booleans where the baseline had strings).
- out_of_bounds_rate: share of non-null production values outside the baseline's range (numerical:
  below its min or above its max; categorical: a category the baseline never had).
  Azure ML's default threshold for the three rates is 0.0: any such value alerts.

Feature attribution drift:
- normalized_discounted_cumulative_gain: NDCG of the production ranking of features by importance,
  with the baseline importances as relevance: DCG = sum(rel_i / log2(i + 1)) over features ordered
  by production importance, divided by the DCG of the baseline's own order. 1 = same ranking; lower
  is worse (the alert fires below the threshold). Importance here is model-free: the mutual
  information between the (binned) feature and the label (baseline: the training target;
  production: the model's predictions), where Azure ML fits a surrogate model; the ranking metric
  is the same.

Model performance (predictions joined to ground truth on an id):
- accuracy, precision, recall (binary: the positive class is 1/True, or the larger label; higher is
  better), mae, mse, rmse (regression; lower is better).
"""

from __future__ import annotations

from typing import Any

BINS = 20
EPS = 1e-4

# metric -> "higher" (alert when value > threshold) or "lower" (alert when value < threshold)
DIRECTION: dict[str, str] = {
    "jensen_shannon_distance": "higher", "normalized_wasserstein_distance": "higher",
    "population_stability_index": "higher", "two_sample_kolmogorov_smirnov_test": "lower",
    "pearsons_chi_squared_test": "lower", "null_value_rate": "higher", "data_type_error_rate": "higher",
    "out_of_bounds_rate": "higher", "normalized_discounted_cumulative_gain": "lower",
    "accuracy": "lower", "precision": "lower", "recall": "lower", "mae": "higher", "mse": "higher",
    "rmse": "higher",
}


def breached(metric: str, value: float, threshold: float) -> bool:
    """Whether `value` crosses `threshold` in the metric's bad direction (equal is not a breach)."""
    if value != value:  # NaN: not computed, never an alert
        return False
    return value < threshold if DIRECTION.get(metric, "higher") == "lower" else value > threshold


# -- numerical -------------------------------------------------------------------------------


def baseline_edges(base: Any, bins: int = BINS) -> Any:
    """BINS equal-width edges over the baseline's range (a constant baseline gets one unit bin)."""
    import numpy as np

    lo, hi = float(base.min()), float(base.max())
    if hi <= lo:
        hi = lo + 1.0
    return np.linspace(lo, hi, bins + 1)


def binned_counts(values: Any, edges: Any) -> Any:
    """Counts on [-inf, e0), [e0, e1), ..., [e_last-1, e_last], (e_last, inf): len(edges) + 1 bins.

    Equal-width edges make this O(n) arithmetic rather than a search per value."""
    import numpy as np

    lo, hi, k = edges[0], edges[-1], len(edges) - 1
    idx = np.floor((values - lo) * (k / (hi - lo))).astype(np.int64)
    np.clip(idx, -1, k, out=idx)
    idx[values == hi] = k - 1  # the top edge belongs to the last inner bin, as in np.histogram
    idx += 1
    return np.bincount(idx, minlength=k + 2)


def _proportions(counts: Any) -> Any:
    total = counts.sum()
    return counts / total if total else counts.astype(float)


def jensen_shannon(p_counts: Any, q_counts: Any) -> float:
    import numpy as np

    p, q = _proportions(p_counts), _proportions(q_counts)
    m = (p + q) / 2

    def kl(a: Any) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return float(np.sqrt(max((kl(p) + kl(q)) / 2, 0.0)))


def psi(p_counts: Any, q_counts: Any) -> float:
    import numpy as np

    p = np.maximum(_proportions(p_counts), EPS)
    q = np.maximum(_proportions(q_counts), EPS)
    return float(np.sum((p - q) * np.log(p / q)))


def _ecdfs(base_sorted: Any, prod_sorted: Any) -> tuple[Any, Any, Any]:
    """All observed values (sorted) and both empirical CDFs just right of each.

    The two inputs are already sorted, so a stable argsort of their concatenation is a linear merge
    (timsort); cumulative counts then give both CDFs without a search per value. Inside a run of
    equal values the counts are partial, so those positions are replaced by the run's last one."""
    import numpy as np

    n = len(base_sorted)
    allv = np.concatenate([base_sorted, prod_sorted])
    order = np.argsort(allv, kind="stable")
    allv = allv[order]
    from_base = order < n
    fb = np.cumsum(from_base) / n
    fp = np.cumsum(~from_base) / len(prod_sorted)
    last = np.empty(len(allv), dtype=bool)
    last[:-1] = allv[1:] != allv[:-1]
    last[-1] = True
    if not last.all():  # ties: every position takes the CDF values at the end of its run of equal values
        ends = np.flatnonzero(last)
        run_end = ends[np.searchsorted(ends, np.arange(len(allv)))]
        fb, fp = fb[run_end], fp[run_end]
    return allv, fb, fp


def numerical_drift(base_sorted: Any, prod_sorted: Any, edges: Any, metrics: set[str],
                    base_std: float) -> dict[str, float]:
    """The asked numerical drift metrics; inputs are null-free float arrays, already sorted."""
    import numpy as np

    out: dict[str, float] = {}
    if {"jensen_shannon_distance", "population_stability_index"} & metrics:
        pc, qc = binned_counts(prod_sorted, edges), binned_counts(base_sorted, edges)
        if "jensen_shannon_distance" in metrics:
            out["jensen_shannon_distance"] = jensen_shannon(pc, qc)
        if "population_stability_index" in metrics:
            out["population_stability_index"] = psi(pc, qc)
    if "normalized_wasserstein_distance" in metrics:
        w = wasserstein_sorted(base_sorted, prod_sorted)
        out["normalized_wasserstein_distance"] = w / (base_std if base_std > 0 else 1.0)
    if "two_sample_kolmogorov_smirnov_test" in metrics:
        _allv, fb, fp = _ecdfs(base_sorted, prod_sorted)
        out["two_sample_kolmogorov_smirnov_test"] = ks_pvalue(float(np.abs(fb - fp).max()), len(base_sorted),
                                                              len(prod_sorted))
    return out


def wasserstein_sorted(base_sorted: Any, prod_sorted: Any) -> float:
    """W1 = integral over t in [0, 1] of |Q_base(t) - Q_prod(t)|, from the two sorted samples.

    The quantile functions are step functions with steps at i/n and j/m; on the integer grid
    {i*m} U {j*n} (over n*m) both are constant between neighbours, so W1 is a weighted sum over
    that grid: one integer sort, no search per value (equal sizes need no grid at all)."""
    import numpy as np

    n, m = len(base_sorted), len(prod_sorted)
    if n == m:
        return float(np.mean(np.abs(base_sorted - prod_sorted)))
    grid = np.concatenate([np.arange(n, dtype=np.int64) * m, np.arange(m, dtype=np.int64) * n])
    grid.sort()
    widths = np.diff(grid, append=np.int64(n) * m)
    return float(np.dot(np.abs(base_sorted[grid // m] - prod_sorted[grid // n]), widths) / (n * m))


def ks_pvalue(d: float, n: int, m: int) -> float:
    from scipy.stats import kstwo

    en = round(n * m / (n + m))
    return float(min(max(kstwo.sf(d, en), 0.0), 1.0))


# -- categorical ------------------------------------------------------------------------------


def align_counts(base_counts: Any, prod_counts: Any) -> tuple[list[str], Any, Any]:
    """Two value_counts Series aligned on the union of their categories (baseline's first)."""
    import numpy as np

    cats = base_counts.index.append(prod_counts.index.difference(base_counts.index))
    b = base_counts.reindex(cats, fill_value=0).to_numpy(dtype=np.int64)
    p = prod_counts.reindex(cats, fill_value=0).to_numpy(dtype=np.int64)
    return [str(c) for c in cats], b, p


def category_counts(base_values: Any, prod_values: Any) -> tuple[list[str], Any, Any]:
    """(categories, baseline counts, production counts) over the union of categories."""
    import pandas as pd

    return align_counts(pd.Series(base_values).value_counts(), pd.Series(prod_values).value_counts())


def chi_squared_pvalue(base_counts: Any, prod_counts: Any) -> float:
    import numpy as np
    from scipy.stats import chi2

    table = np.vstack([base_counts, prod_counts]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0  # one category on both sides: nothing can differ
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    stat = float(np.sum((table - expected) ** 2 / expected))
    return float(chi2.sf(stat, table.shape[1] - 1))


def categorical_drift(base_counts: Any, prod_counts: Any, metrics: set[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    if "jensen_shannon_distance" in metrics:
        out["jensen_shannon_distance"] = jensen_shannon(prod_counts, base_counts)
    if "population_stability_index" in metrics:
        out["population_stability_index"] = psi(prod_counts, base_counts)
    if "pearsons_chi_squared_test" in metrics:
        out["pearsons_chi_squared_test"] = chi_squared_pvalue(base_counts, prod_counts)
    return out


# -- feature attribution ----------------------------------------------------------------------


def mutual_information(x_codes: Any, y_codes: Any) -> float:
    """I(X;Y) in nats from two integer-coded arrays (the joint table counted with bincount)."""
    import numpy as np

    if not len(x_codes):
        return 0.0
    kx, ky = int(x_codes.max()) + 1, int(y_codes.max()) + 1
    joint = np.bincount(x_codes * ky + y_codes, minlength=kx * ky).reshape(kx, ky) / len(x_codes)
    px, py = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float(np.sum(joint[nz] * np.log(joint[nz] / (px @ py)[nz])))


def ndcg(base_importance: dict[str, float], prod_importance: dict[str, float]) -> float:
    """NDCG of the production ranking with baseline importances as relevance (1 = same order)."""
    import numpy as np

    feats = [f for f in base_importance if f in prod_importance]
    if not feats:
        return float("nan")
    rel = np.array([max(base_importance[f], 0.0) for f in feats])
    discount = 1 / np.log2(np.arange(2, len(feats) + 2))
    order = np.argsort([-prod_importance[f] for f in feats], kind="stable")
    ideal = np.sort(rel)[::-1]
    idcg = float(np.sum(ideal * discount))
    return float(np.sum(rel[order] * discount) / idcg) if idcg > 0 else 1.0


# -- model performance ------------------------------------------------------------------------


def classification(y_true: Any, y_pred: Any, metrics: set[str]) -> dict[str, float]:
    import numpy as np

    t, p = np.asarray(y_true), np.asarray(y_pred)
    labels = np.unique(np.concatenate([t, p]))
    pos = True if labels.dtype == bool else (1 if 1 in labels else labels.max())
    tp = float(np.sum((p == pos) & (t == pos)))
    out: dict[str, float] = {}
    if "accuracy" in metrics:
        out["accuracy"] = float(np.mean(t == p)) if len(t) else float("nan")
    if "precision" in metrics:
        predicted = float(np.sum(p == pos))
        out["precision"] = tp / predicted if predicted else 0.0
    if "recall" in metrics:
        actual = float(np.sum(t == pos))
        out["recall"] = tp / actual if actual else 0.0
    return out


def regression(y_true: Any, y_pred: Any, metrics: set[str]) -> dict[str, float]:
    import numpy as np

    err = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)
    mse = float(np.mean(err ** 2)) if len(err) else float("nan")
    out = {"mae": float(np.mean(np.abs(err))) if len(err) else float("nan"), "mse": mse, "rmse": mse ** 0.5}
    return {k: v for k, v in out.items() if k in metrics}
