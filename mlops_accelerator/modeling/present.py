"""Markdown the stage-5 notebook displays: what ran, on what, and what was decided."""

from __future__ import annotations

from typing import Any


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "_none_"
    cols = list(rows[0])
    esc = lambda v: str(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    return "\n".join(["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols),
                      *["| " + " | ".join(esc(r.get(c, "")) for c in cols) + " |" for r in rows]])


def code_md(code: Any) -> str:
    state = (f"**uncommitted changes** in {', '.join(code.dirty_files)}: exploration run, nothing will be "
             "registered" if code.dirty else "clean: the commit's code was exported into this run's `code/`")
    return (f"Training package `{code.package}` from {code.repository} at commit `{code.commit[:12]}` "
            f"(branch {code.branch}); working tree {state}.")


def training_md(r: Any, models: Any) -> str:
    pm = models.primary_metric.name
    rows = [{"metric": k, "held-out value": f"{v:.4f}"} for k, v in r.metrics.items() if k not in ("auc", "f1_score")]
    trials = _table([{"trial": t["trial"], **t["params"], f"validation {pm}": f"{abs(t['validation_score']):.4f}"}
                     for t in r.trials]) if r.trials else "_tuning off_"
    t = r.timings
    t = r.timings
    return (f"MLflow run `{r.run_id}` in experiment **{r.experiment}**, data asset **{r.data_asset}** "
            f"(logged as the run's dataset input).\n\n**Held-out metrics** (test split, "
            f"{r.params.get('test_rows')} rows):\n\n{_table(rows)}\n\n**Search trials** (child runs):\n\n{trials}\n\n"
            f"Time: data and code {t.get('load_s')} s, tracking store and dataset {t.get('tracking_setup_s')} s, "
            f"search {t.get('search_s')} s, final fit {t.get('fit_s')} s, "
            f"model logging {t.get('log_model_s')} s; total {t.get('total_s')} s.")


def gates_md(gates: dict[str, Any], blocking: list[str], models: Any) -> str:
    ut = gates["unit_tests"]
    lint = "; ".join(f"{k} (via {v.get('tool')}): {v.get('violations')} violation(s)"
                     for k, v in gates["code_quality"].items()) or "no linters configured"
    kinds = ", ".join(ut.get("kinds", [])) or "none"
    verdict = ("**All gates pass.**" if not blocking else "**Blocking registration:**\n\n"
               + "\n".join(f"- {b}" for b in blocking))
    return (f"Unit tests: {ut.get('passed')} passed, {ut.get('failed')} failed, {ut.get('errors')} errors "
            f"(kinds covered: {kinds}); JUnit XML `quality/junit.xml`.\n\nCoverage: {ut.get('coverage_pct')} % "
            f"(threshold {models.coverage_threshold_pct} %); Cobertura XML `quality/coverage.xml`.\n\n"
            f"Lint: {lint}.\n\n{verdict}")


def decision_md(d: Any, name: str) -> str:
    champ = "none yet" if d.champion is None else f"v{d.champion_version}: {d.champion:.4f}"
    reg = (f"registered **{name}:{d.registered_version}** with alias **{d.stage_tag}**" if d.registered_version
           else "**not registered**")
    return (f"Candidate {d.metric} = {d.candidate:.4f}; champion {champ}. Decision: **{d.decision}** "
            f"({d.reason}); {reg}.")


def rai_md(rai: dict[str, Any]) -> str:
    parts = [f"Components run: {', '.join(rai.get('components', []))} on {rai.get('rows')} held-out rows."]
    for f, r in (rai.get("fairness") or {}).items():
        parts.append(f"**Fairness by {f}** (largest difference between groups): "
                     + ", ".join(f"{k} {v:.3f}" for k, v in r["difference"].items()))
    imp = (rai.get("explanations") or {}).get("importance") or {}
    if imp:
        parts.append("**Most important inputs** (permutation importance): "
                     + ", ".join(f"{k} ({v:.3f})" for k, v in list(imp.items())[:5]))
    ea = rai.get("error_analysis")
    if ea:
        worst = ea["worst_cohorts"][:3]
        parts.append(f"**Error analysis**: overall error rate {ea['overall_error_rate']:.1%}; worst cohorts: "
                     + "; ".join(f"{c['feature']}={c['cohort']} {c['error_rate']:.1%} ({c['rows']} rows)"
                                 for c in worst))
    for n in rai.get("not_run", []):
        parts.append(f"Not run locally: {n}")
    return "\n\n".join(parts)


def endpoint_md(state: dict[str, Any], smoke: dict[str, Any], collected: dict[str, Any]) -> str:
    ok = "passed" if smoke.get("passed") else f"**FAILED** ({smoke.get('error')})"
    return (f"Endpoint {state.get('endpoint')}/{state.get('deployment')} served `{state.get('model_uri')}` at "
            f"{state.get('url')} (pid {state.get('pid')}). Smoke test {ok}: HTTP {smoke.get('status_code')}, "
            f"{smoke.get('rows')} rows in {smoke.get('latency_ms')} ms, correlation id "
            f"`{smoke.get('correlation_id')}`.\n\nData collector: {collected.get('requests')} request(s) in "
            f"`{collected.get('folder')}` (model_inputs and model_outputs, one JSON line per request).")


def specs_md(files: list[dict[str, Any]]) -> str:
    return _table([{"file": f"`{f['path']}`", "validates": "yes" if f["valid"] else f"**no**: {f['error']}"}
                   for f in files])
