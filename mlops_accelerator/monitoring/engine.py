"""One monitoring pass over production windows: every configured signal, per feature, per window.

    baseline = Baseline.from_frame(training_df, label="churned", id_column="customer_id")
    result = evaluate(baseline, window, settings.monitor_signals)

Signals and metric names are the stage-6 settings' (Azure ML's); metric definitions are in
metrics.py. A problem with the input (a column missing, a new column, all nulls, too few rows, a
type change, no predictions, unmatched ground-truth ids) never stops the pass: the signal/feature
concerned is listed under `not_computed` with the reason, and the rest is computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import metrics as M

MIN_DRIFT_VALUES = 30  # fewer non-null production values than this: drift is not computed
CATEGORICAL_OUTPUT_MAX = 20  # an integer/bool model output with at most this many values is a class label


def _kind(series: Any) -> str:
    import pandas as pd

    dt = series.dtype
    if pd.api.types.is_bool_dtype(dt) or not pd.api.types.is_numeric_dtype(dt):
        return "categorical"
    return "numerical"


@dataclass
class FeatureBaseline:
    name: str
    kind: str  # numerical | categorical
    values: Any  # numerical: sorted float array without nulls; categorical: counts per category (Series)
    edges: Any = None
    std: float = 0.0
    lo: float = 0.0
    hi: float = 0.0
    categories: frozenset = frozenset()

    @classmethod
    def of(cls, name: str, series: Any, kind: str | None = None) -> FeatureBaseline:
        kind = kind or _kind(series)
        if kind == "numerical":
            v = series.dropna().to_numpy(dtype="float64", copy=True)
            v.sort()
            if not len(v):
                return cls(name, kind, v)
            return cls(name, kind, v, M.baseline_edges(v), float(v.std()), float(v[0]), float(v[-1]))
        # categorical: the category counts (hashing, not sorting: sorting text is the slow part)
        counts = series.dropna().astype(str).value_counts()
        return cls(name, kind, counts, categories=frozenset(counts.index))


@dataclass
class Baseline:
    """The reference data, summarised once per pass and reused for every window."""

    features: dict[str, FeatureBaseline]
    label: FeatureBaseline | None = None
    importance: dict[str, float] = field(default_factory=dict)
    rows: int = 0
    name: str = "baseline"

    @classmethod
    def from_frame(cls, frame: Any, *, label: str | None = None, id_column: str | None = None,
                   exclude: tuple[str, ...] = (), name: str = "baseline") -> Baseline:
        import pandas as pd

        skip = {label, id_column, *exclude}
        feats = {}
        for col in frame.columns:
            if col in skip or pd.api.types.is_datetime64_any_dtype(frame[col].dtype):
                continue  # ids, the target and timestamps are not features
            feats[str(col)] = FeatureBaseline.of(str(col), frame[col])
        lab = None
        importance: dict[str, float] = {}
        if label and label in frame.columns:
            lab = FeatureBaseline.of(label, frame[label], _output_kind(frame[label]))
            importance = attribution(frame, feats, frame[label])
        return cls(feats, lab, importance, int(len(frame)), name)


def _output_kind(series: Any) -> str:
    import pandas as pd

    if _kind(series) == "categorical":
        return "categorical"
    if pd.api.types.is_integer_dtype(series.dtype) and series.nunique() <= CATEGORICAL_OUTPUT_MAX:
        return "categorical"
    return "numerical"


def _codes(series: Any, fb: FeatureBaseline) -> Any:
    """Integer codes for mutual information: baseline bins (numerical) or category codes."""
    import numpy as np
    import pandas as pd

    if fb.kind == "numerical" and fb.edges is not None:
        x = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
        codes = np.zeros(len(x), dtype=np.int64)
        ok = ~np.isnan(x)
        lo, hi, k = fb.edges[0], fb.edges[-1], len(fb.edges) - 1
        codes[ok] = np.clip(np.floor((x[ok] - lo) * (k / (hi - lo))), -1, k).astype(np.int64) + 2
        return codes
    return pd.factorize(series.astype(str), use_na_sentinel=True)[0] + 1


def attribution(frame: Any, feats: dict[str, FeatureBaseline], target: Any) -> dict[str, float]:
    """Model-free feature importance: mutual information of each feature with the target (nats)."""
    import pandas as pd

    y = pd.factorize(target.astype(str))[0]
    return {name: M.mutual_information(_codes(frame[name], fb), y)
            for name, fb in feats.items() if name in frame.columns}


@dataclass
class Window:
    """One production window: model inputs, and where known the model's outputs and ground truth."""

    name: str
    inputs: Any  # DataFrame of feature columns (+ id)
    predictions: Any = None  # Series aligned with inputs, or None when no model outputs were collected
    ground_truth: Any = None  # DataFrame [id_column, label] arriving later, or None
    id_column: str | None = None
    source: str = ""


@dataclass
class WindowResult:
    window: str
    rows: int
    values: list[dict[str, Any]] = field(default_factory=list)  # one per signal x feature x metric
    not_computed: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def breaches(self) -> list[dict[str, Any]]:
        return [v for v in self.values if v["breached"]]

    def skip(self, signal: str, feature: str, reason: str) -> None:
        entry = {"signal": signal, "feature": feature, "reason": reason}
        if entry not in self.not_computed:
            self.not_computed.append(entry)


def _signal_rows(signals: list[Any]) -> dict[tuple[str, str], list[Any]]:
    """(signal name, signal type) -> its rows (one per feature type and metric)."""
    out: dict[tuple[str, str], list[Any]] = {}
    for s in signals:
        out.setdefault((s.effective_name, s.signal), []).append(s)
    return out


def _numeric(series: Any) -> tuple[Any, int]:
    """(float values without nulls, count of non-null values that are not numbers)."""
    import pandas as pd

    nonnull = series.dropna()
    if pd.api.types.is_bool_dtype(nonnull.dtype):
        return nonnull.to_numpy(dtype="float64")[:0], len(nonnull)
    if pd.api.types.is_numeric_dtype(nonnull.dtype):
        return nonnull.to_numpy(dtype="float64", copy=True), 0
    parsed = pd.to_numeric(nonnull, errors="coerce")
    return parsed.dropna().to_numpy(dtype="float64", copy=True), int(parsed.isna().sum())


def _text(series: Any) -> tuple[Any, int]:
    """(text values without nulls, as a Series; count of non-null values that are not text)."""
    import pandas as pd

    nonnull = series.dropna()
    if pd.api.types.is_string_dtype(nonnull.dtype) and not pd.api.types.is_object_dtype(nonnull.dtype):
        return nonnull, 0
    if pd.api.types.is_object_dtype(nonnull.dtype):
        is_text = nonnull.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        return nonnull[is_text], int((~is_text).sum())
    return nonnull.astype(str), len(nonnull)  # numbers/booleans where text was


def _drift(res: WindowResult, name: str, kind: str, fb: FeatureBaseline, series: Any, rows: list[Any],
           values_out: list[dict[str, Any]], signal: str, feature_label: str) -> None:
    metrics = {r.metric: r for r in rows if r.feature_type == fb.kind}
    if not metrics:
        return
    if fb.kind == "numerical":
        vals, bad = _numeric(series)
        if bad and not len(vals):
            res.skip(name, feature_label, f"production values are not numbers (type changed from the baseline's "
                     f"{fb.kind}; {bad} value(s)): drift not computed")
            return
        if len(vals) < MIN_DRIFT_VALUES:
            res.skip(name, feature_label, _too_few(len(vals), series))
            return
        if not len(fb.values):
            res.skip(name, feature_label, "the baseline has no values for this column")
            return
        vals.sort()
        got = M.numerical_drift(fb.values, vals, fb.edges, set(metrics), fb.std)
    else:
        vals, _bad = _text(series)
        if len(vals) < MIN_DRIFT_VALUES:
            res.skip(name, feature_label, _too_few(len(vals), series))
            return
        _cats, bc, pc = M.align_counts(fb.values, vals.astype(str).value_counts())
        got = M.categorical_drift(bc, pc, set(metrics))
    for metric, value in got.items():
        row = metrics[metric]
        values_out.append(_value(name, signal, feature_label, fb.kind, metric, value, row))


def _too_few(n: int, series: Any) -> str:
    if len(series) and series.isna().all():
        return "all production values are null: drift not computed"
    return f"{n} non-null production value(s); drift needs at least {MIN_DRIFT_VALUES}"


def _value(name: str, signal: str, feature: str, kind: str, metric: str, value: float, row: Any) -> dict[str, Any]:
    return {"signal": name, "type": signal, "feature": feature, "feature_type": kind, "metric": metric,
            "value": round(float(value), 6), "threshold": row.threshold, "direction": M.DIRECTION.get(metric),
            "breached": M.breached(metric, float(value), row.threshold), "alert_enabled": row.alert_enabled}


def _quality(res: WindowResult, name: str, fb: FeatureBaseline, series: Any, rows: list[Any]) -> None:
    metrics = {r.metric: r for r in rows if r.feature_type == fb.kind}
    if not metrics:
        return
    n = len(series)
    nulls = int(series.isna().sum())
    if fb.kind == "numerical":
        vals, bad = _numeric(series)
        oob = int(((vals < fb.lo) | (vals > fb.hi)).sum()) if len(fb.values) else 0
    else:
        vals, bad = _text(series)
        oob = int((~vals.astype(str).isin(fb.categories)).sum()) if fb.categories else 0
    nonnull = n - nulls
    got = {"null_value_rate": nulls / n, "data_type_error_rate": bad / nonnull if nonnull else 0.0,
           "out_of_bounds_rate": oob / nonnull if nonnull else 0.0}
    for metric, row in metrics.items():
        if metric in got:
            res.values.append(_value(name, "data_quality", fb.name, fb.kind, metric, got[metric], row))


def evaluate(baseline: Baseline, window: Window, signals: list[Any],
             prediction_reference: FeatureBaseline | None = None) -> WindowResult:
    """Every configured signal on one window; problems become `not_computed` entries, never errors.

    Prediction drift compares the window's predictions with `prediction_reference` (the model's
    predictions on the earliest production window, as Azure ML compares with past production data)
    or, without one, with the baseline's label distribution."""
    import pandas as pd

    frame = window.inputs if window.inputs is not None else pd.DataFrame()
    res = WindowResult(window.name, int(len(frame)))
    by_signal = _signal_rows(signals)
    if not len(frame):
        for name, _sig in by_signal:
            res.skip(name, "*", "the production window has no rows (empty inference log or window)")
        return res
    skip_cols = {window.id_column, baseline.label.name if baseline.label else None}
    new = [c for c in frame.columns if c not in baseline.features and c not in skip_cols
           and not pd.api.types.is_datetime64_any_dtype(frame[c].dtype)]
    if new:
        res.notes.append(f"new column(s) not in the baseline, not monitored: {', '.join(map(str, new))}")
    for (name, signal), rows in by_signal.items():
        wanted = {f for r in rows for f in r.features}
        if signal in ("data_drift", "data_quality"):
            for feat, fb in baseline.features.items():
                if wanted and feat not in wanted:
                    continue
                if feat not in frame.columns:
                    res.skip(name, feat, "column missing from the production data")
                    continue
                if signal == "data_drift":
                    _drift(res, name, signal, fb, frame[feat], rows, res.values, signal, feat)
                else:
                    _quality(res, name, fb, frame[feat], rows)
            for feat in sorted(wanted - set(baseline.features)):
                res.skip(name, feat, "not a feature of the baseline data")
        elif signal == "prediction_drift":
            if window.predictions is None:
                res.skip(name, "prediction", "no model outputs in this production data (collected outputs come "
                         "from the stage-5 endpoint's data collector)")
            elif prediction_reference is not None and prediction_reference.name == window.name:
                res.skip(name, "prediction", "this window is the prediction-drift reference (the earliest "
                         "production window with predictions); later windows are compared with it")
            elif prediction_reference is None and baseline.label is None:
                res.skip(name, "prediction", "the baseline has no label column to compare predictions with")
            else:
                _drift(res, name, signal, prediction_reference or baseline.label, window.predictions, rows,
                       res.values, signal, "prediction")
        elif signal == "feature_attribution_drift":
            _attribution_signal(res, name, baseline, window, frame, rows)
        elif signal == "model_performance":
            _performance(res, name, baseline, window, rows)
        else:
            res.skip(name, "*", f"{signal} signals run a custom Azure ML component: not computed locally")
    return res


def _attribution_signal(res: WindowResult, name: str, baseline: Baseline, window: Window, frame: Any,
                        rows: list[Any]) -> None:
    if window.predictions is None:
        res.skip(name, "*", "no model outputs in this production data: feature attribution needs predictions")
        return
    if not baseline.importance:
        res.skip(name, "*", "the baseline has no label column: no baseline feature importance")
        return
    if len(frame) < MIN_DRIFT_VALUES:
        res.skip(name, "*", f"{len(frame)} production row(s); feature attribution needs at least {MIN_DRIFT_VALUES}")
        return
    present = {f: fb for f, fb in baseline.features.items() if f in frame.columns}
    prod = attribution(frame, present, window.predictions.reset_index(drop=True))
    value = M.ndcg(baseline.importance, prod)
    for r in rows:
        if r.metric == "normalized_discounted_cumulative_gain":
            res.values.append(_value(name, "feature_attribution_drift", "*", "not_applicable", r.metric, value, r))


def _performance(res: WindowResult, name: str, baseline: Baseline, window: Window, rows: list[Any]) -> None:
    import pandas as pd

    if window.predictions is None:
        res.skip(name, "*", "no model outputs in this production data: model performance needs predictions")
        return
    gt = window.ground_truth
    if gt is None or not len(gt):
        res.skip(name, "*", "no ground truth has arrived for this window yet")
        return
    idc = window.id_column
    if not idc or idc not in window.inputs.columns or idc not in gt.columns:
        res.skip(name, "*", f"predictions and ground truth cannot be joined: id column {idc!r} missing")
        return
    label = [c for c in gt.columns if c != idc][0]
    pred = pd.DataFrame({idc: window.inputs[idc].to_numpy(), "_pred": window.predictions.to_numpy()})
    joined = pred.merge(gt[[idc, label]], on=idc, how="inner").dropna(subset=["_pred", label])
    if not len(joined):
        res.skip(name, "*", f"none of the {len(gt)} ground-truth id(s) match a prediction id: nothing to score")
        return
    if len(joined) < len(gt):
        res.notes.append(f"{name}: {len(gt) - len(joined)} of {len(gt)} ground-truth id(s) match no prediction")
    wanted = {r.metric for r in rows}
    kind = baseline.label.kind if baseline.label else _output_kind(joined[label])
    got = (M.classification(joined[label].to_numpy(), joined["_pred"].to_numpy(), wanted) if kind == "categorical"
           else M.regression(joined[label].to_numpy(), joined["_pred"].to_numpy(), wanted))
    for r in rows:
        if r.metric in got:
            res.values.append(_value(name, "model_performance", "*", "not_applicable", r.metric, got[r.metric], r))
        else:
            res.skip(name, r.metric, f"{r.metric} does not apply to a {kind} model output")
