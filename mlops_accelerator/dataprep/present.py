"""Markdown tables the stage-4 notebooks display, so the notebooks stay a readable document."""

from __future__ import annotations

from typing import Any


def table(head: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        return str("" if v is None else v).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                     + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows])


def sources_md(data: Any) -> str:
    from .sources import needs_azureml

    rows = [[s.name, s.system_type, s.location or "(not set)", s.format, s.table or "", s.classification,
             "yes" if s.contains_pii else "no", "needs the azureml target" if needs_azureml(s) else "local"]
            for s in data.data_sources]
    return table(["Source", "System", "Location", "Format", "Table", "Classification", "Personal data", "Reads on"],
                 rows)


def ingestion_md(res: Any) -> str:
    return table(["Source", "Rows", "Bronze snapshot", "New?", "Definition"],
                 [[r["source"], f"{r['rows']:,}", r["snapshot"], "no (unchanged)" if r["reused"] else "yes",
                   r["pipeline"]] for r in res.ingestion])


def cleansing_md(res: Any) -> str:
    rows = []
    for c in res.cleansing:
        emptied = ", ".join(f"{k}: {v}" for k, v in c.values_emptied.items()) or "none"
        rows.append([c.source, f"{c.rows_in:,}", f"{c.rows_out:,}", c.duplicates_removed,
                     ", ".join(c.pii_dropped) or "-", ", ".join(f"{x} -> {x}_hash" for x in c.pii_hashed) or "-",
                     len(c.coerced), emptied])
    return table(["Source", "Rows in", "Rows out", "Duplicates removed", "Personal data dropped",
                  "Personal data hashed", "Columns typed", "Values that did not convert"], rows)


def quality_md(res: Any) -> str:
    from .quality import markdown

    blocking = [r for r in res.quality if r.blocking]
    warnings = [r for r in res.quality if not r.passed and not r.blocking]
    head = (f"**{len(res.quality)} rule evaluation(s): {sum(r.passed for r in res.quality)} passed, "
            f"{len(blocking)} blocking failure(s), {len(warnings)} warning(s).**\n\n")
    return head + markdown(res.quality)


def assets_md(res: Any) -> str:
    words = {"registered": "new version registered", "unchanged": "content unchanged: existing version",
             "blocked": "NOT registered"}
    return table(["Asset", "Layer", "Holds", "Outcome", "Version", "Path", "Why"],
                 [[a.name, a.layer, a.table, words[a.status], a.version or "-", a.path or "-", a.reason]
                  for a in res.assets])


def datastores_md(report: dict[str, Any]) -> str:
    return table(["Datastore", "Type", "Account", "Container", "Access"],
                 [[d["name"], d["type"], d["account_name"], d["container"], d["auth"]] for d in report["datastores"]])


def rbac_md(assignments: list[dict[str, Any]]) -> str:
    return table(["Principal", "Role", "Scope", "Datastore"],
                 [[r["principal"], r["role"], r["scope"], r["datastore"] or "(whole account)"] for r in assignments])


def spec_files_md(report: dict[str, Any]) -> str:
    return table(["Environment", "Kind", "File", "Loads", "Differences"],
                 [[f["environment"], f["kind"], f["path"], "yes" if f["loaded"] else "NO",
                   "; ".join(f["problems"]) or "none"] for f in report["files"]])
