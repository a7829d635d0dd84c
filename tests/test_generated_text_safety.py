"""Generated CSV, Markdown and custom-role files keep settings as data (issue 9 items 13-14)."""

from __future__ import annotations

import copy
import csv
import io

from mlops_accelerator.artifacts import cost, design_doc, rbac
from mlops_accelerator.artifacts.escape import csv_cell, md_text
from mlops_accelerator.sample import sample_settings
from mlops_accelerator.settings import validate_settings

HTML = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def _models(design_changes=None, foundations_changes=None):
    s = copy.deepcopy(sample_settings())
    s["design"].update(design_changes or {})
    s["foundations"].update(foundations_changes or {})
    design, errors = validate_settings("design", s["design"])
    assert not errors, errors
    foundations, errors = validate_settings("foundations", s["foundations"])
    assert not errors, errors
    return design, foundations


def _role(name):
    return {"name": name, "description": "test role", "actions": ["Microsoft.MachineLearningServices/workspaces/read"]}


def test_custom_roles_whose_names_slug_alike_get_distinct_visible_files(tmp_path):
    design, foundations = _models({"custom_roles": [_role("MLOps Custom"), _role("MLOps-Custom"), _role("!!!"),
                                                    _role("Data Reader")]})
    written = rbac.write_rbac(design, foundations, tmp_path)
    names = [p.name for p in written["custom_roles"]]
    assert len(set(names)) == 4, names
    assert all(not n.startswith(".") and n != ".json" for n in names)
    assert "data-reader.json" in names  # a unique name keeps its plain slug
    import json
    roles = {json.loads(p.read_text())["Name"] for p in written["custom_roles"]}
    assert roles == {f"{n} (contoso-churn)" for n in ("MLOps Custom", "MLOps-Custom", "!!!", "Data Reader")}


def test_csv_cells_that_spreadsheets_would_evaluate_are_text():
    assert csv_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    for bad in ("+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(bad).startswith("'")
    assert csv_cell("rg-dev") == "rg-dev" and csv_cell(-3) == -3


def test_role_assignment_csv_has_no_formula_cells(tmp_path):
    design, foundations = _models()
    rows = rbac.role_assignments(design, foundations)
    rows[0] = {**rows[0], "justification": "=cmd|' /C calc'!A0", "members": "@SUM(1+1)"}
    text = rbac.assignments_csv(rows)
    for row in csv.DictReader(io.StringIO(text)):
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value


def test_cost_csv_has_no_formula_cells():
    design, foundations = _models()
    est = cost.estimate(design, foundations)
    env = next(iter(est["environments"].values()))
    env["items"][0] = {**env["items"][0], "item": "=1+1"}
    rows = list(csv.reader(io.StringIO(cost.estimate_csv(est))))
    assert all(not c.startswith(("=", "+", "@")) for r in rows for c in r)


def test_markdown_shows_html_in_settings_as_text():
    assert md_text(HTML).count("<") == 0
    assert md_text("see `a<b>` and <b>") == "see `a<b>` and &lt;b&gt;"
    design, foundations = _models({"tags": [{"key": "note", "value": HTML}]})
    blocks = [design_doc.Block("p", f"Tag note: {HTML}"), design_doc.Block("table", headers=["k"], rows=[[HTML]]),
              design_doc.Block("list", items=[HTML]), design_doc.Block("h", HTML)]
    md = design_doc.to_markdown(blocks)
    assert "<img" not in md and "<script" not in md
    assert "&lt;script&gt;" in md
    doc = design_doc.solution_design(design, foundations)
    assert "<script" not in doc.markdown and "<img" not in doc.markdown
    assert "&lt;script&gt;" in doc.markdown  # the value is in the document, as text
