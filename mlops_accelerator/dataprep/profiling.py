"""Per-column statistics and distributions of an asset version: documentation and drift baseline.

`profile.json` is the baseline stage 6 compares production data against: for numerical columns
quantiles and a histogram with fixed bin edges (re-bin new data on the same edges), for categorical
columns the frequency of every category (the 50 most frequent, the rest as "(other)"), for
timestamps their range and rows per month. `distributions.png` draws the same histograms.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

BINS = 20
TOP = 50
MAX_CHARTS = 24


def _number(v: Any) -> Any:
    return None if v is None or v != v else float(v)


def column_profile(s: Any) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    out: dict[str, Any] = {"dtype": str(s.dtype), "count": int(s.notna().sum()), "nulls": int(s.isna().sum())}
    out["null_rate"] = round(out["nulls"] / len(s), 6) if len(s) else 0.0
    if pd.api.types.is_bool_dtype(s.dtype) or not (pd.api.types.is_numeric_dtype(s.dtype)
                                                   or pd.api.types.is_datetime64_any_dtype(s.dtype)):
        counts = s.astype("string").value_counts(dropna=True)
        top = counts.head(TOP)
        freq = {str(k): int(v) for k, v in top.items()}
        if len(counts) > TOP:
            freq["(other)"] = int(counts.iloc[TOP:].sum())
        return {**out, "kind": "categorical", "distinct": int(len(counts)), "frequencies": freq}
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        months = s.dropna().dt.strftime("%Y-%m").value_counts().sort_index()
        return {**out, "kind": "datetime", "min": str(s.min()), "max": str(s.max()),
                "rows_per_month": {k: int(v) for k, v in months.items()}}
    values = s.dropna().astype("float64").to_numpy()
    if not len(values):
        return {**out, "kind": "numerical"}
    q = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
    counts, edges = np.histogram(values, bins=BINS)
    return {**out, "kind": "numerical", "distinct": int(len(np.unique(values))), "mean": _number(values.mean()),
            "std": _number(values.std()), "min": _number(values.min()), "p05": _number(q[0]),
            "p25": _number(q[1]), "p50": _number(q[2]), "p75": _number(q[3]), "p95": _number(q[4]),
            "max": _number(values.max()), "histogram": {"edges": [float(e) for e in edges],
                                                       "counts": [int(c) for c in counts]}}


def profile(frame: Any) -> dict[str, Any]:
    return {"rows": int(len(frame)), "columns": {str(c): column_profile(frame[c]) for c in frame.columns}}


def _chart(prof: dict[str, Any], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    cols = [(c, p) for c, p in prof["columns"].items()
            if p.get("histogram") or p.get("frequencies") or p.get("rows_per_month")][:MAX_CHARTS]
    n = max(len(cols), 1)
    ncols = 3
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 2.6 * nrows), squeeze=False)
    for ax in axes.flat[len(cols):]:
        ax.axis("off")
    for ax, (name, p) in zip(axes.flat, cols, strict=False):
        if p.get("histogram"):
            h = p["histogram"]
            ax.stairs(h["counts"], h["edges"], fill=True, color="#4c72b0")
        else:
            freq = p.get("frequencies") or p.get("rows_per_month")
            items = list(freq.items())[:12]
            ax.bar(range(len(items)), [v for _, v in items], color="#55a868")
            ax.set_xticks(range(len(items)), [k[:12] for k, _ in items], rotation=45)
        ax.yaxis.set_major_locator(MaxNLocator(3))  # fewer labels: text layout is most of the drawing time
        ax.tick_params(labelsize=7)
        ax.set_title(f"{name} (nulls {p['null_rate']:.1%})", fontsize=9)
    fig.suptitle(title)
    # fixed spacing: tight_layout measured every label and took most of the profiling time
    fig.subplots_adjust(left=0.06, right=0.98, top=1 - 0.8 / (2.6 * nrows), bottom=0.9 / (2.6 * nrows),
                        hspace=0.85, wspace=0.3)
    fig.savefig(path, dpi=72)
    plt.close(fig)


def _rows(prof: dict[str, Any]) -> list[tuple[str, ...]]:
    def fmt(v: Any) -> str:
        return "" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)

    return [(c, p["kind"], p["dtype"], str(p["count"]), f"{p['null_rate']:.2%}", fmt(p.get("distinct")),
             fmt(p.get("mean")), fmt(p.get("min")), fmt(p.get("p50")), fmt(p.get("max")))
            for c, p in prof["columns"].items()]


HEAD = ("Column", "Kind", "Type", "Values", "Nulls", "Distinct", "Mean", "Min", "Median", "Max")


def write_profile(frame: Any, folder: Path, title: str) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    prof = profile(frame)
    files = {"json": folder / "profile.json", "chart": folder / "distributions.png",
             "markdown": folder / "profile.md", "html": folder / "profile.html"}
    files["json"].write_text(json.dumps(prof, indent=2))
    _chart(prof, files["chart"], title)
    table = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    table += ["| " + " | ".join(x.replace("|", "\\|") for x in row) + " |" for row in _rows(prof)]
    files["markdown"].write_text(f"# {title}\n\n{prof['rows']} rows.\n\n" + "\n".join(table)
                                 + "\n\n![distributions](distributions.png)\n", encoding="utf-8")
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in row) + "</tr>" for row in _rows(prof))
    files["html"].write_text(
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>"
        f"<p>{prof['rows']} rows.</p><table border='1' cellpadding='4'><tr>"
        + "".join(f"<th>{h}</th>" for h in HEAD) + f"</tr>{cells}</table>"
        "<p><img src='distributions.png' alt='distributions'></p>", encoding="utf-8")
    return files
