"""The evidence contract: checks read only what notebooks of the stage write (or Azure gives),
through one pydantic model per stage; notebooks write through it and fail on a bad key or type."""

import json

import pytest

from mlops_accelerator.catalogue import stage_folder, stage_slugs
from mlops_accelerator.checks import CheckContext, run_check
from mlops_accelerator.evidence import Evidence, EvidenceError, EvidenceRecord, UndeclaredEvidence, read_evidence
from mlops_accelerator.evidence.contract import check_reads, notebook_writes, project_contract
from mlops_accelerator.evidence.models import evidence_model
from mlops_accelerator.resources import templates_dir


def test_every_key_a_check_reads_is_written_by_a_notebook_or_comes_from_azure():
    contracts = project_contract()
    problems = [p for c in contracts.values() for p in c.problems()]
    assert not problems, "\n".join(problems)
    # the scan really sees both sides (a contract over nothing would pass vacuously)
    assert "repository" in contracts["foundations"].reads and "repository" in contracts["foundations"].writes
    assert {"iac", "artifacts.iac"} <= set(contracts["design"].reads) & set(contracts["design"].writes)
    assert "inventory" in contracts["deploy"].reads and "inventory" in evidence_model("deploy").fields_from_azure()


def test_stages_without_notebooks_are_reported_and_bound_once_templates_exist():
    """A stage with no templates yet is exempt from 'written by a notebook'; its keys must still be
    declared. The moment a template lands, every key its checks read must be written."""
    contracts = project_contract()
    for slug in stage_slugs():
        has = any((templates_dir() / stage_folder(slug)).glob("*.ipynb"))
        assert contracts[slug].has_templates == has
    data = contracts["data"]
    data.writes = {}  # as if stage 4's notebooks wrote nothing
    assert any("'ingestion_runs', which no notebook of the stage writes" in p for p in data.problems())


def test_contract_fails_on_a_broken_copy(tmp_path):
    """Deliberately broken copies: a check reading a key nobody writes, a notebook that stops writing."""
    checks = tmp_path / "checks"
    checks.mkdir()
    real_checks = project_contract.__globals__["Path"](__file__).resolve().parents[1] / "mlops_accelerator" / "checks"
    for slug in stage_slugs():
        text = (real_checks / f"{slug}.py").read_text()
        if slug == "foundations":
            text += ('\n\ndef sprint_plan(ctx):\n    ev = ctx.run_evidence("foundations", 1)\n'
                     '    return need(ev, "sprint_plan", 1, "foundations", "the sprint plan")\n')
        (checks / f"{slug}.py").write_text(text)
    templates = tmp_path / "templates"
    for folder in templates_dir().iterdir():
        if folder.is_dir():
            (templates / folder.name).mkdir(parents=True)
            for nb in folder.glob("*.ipynb"):
                text = nb.read_text()
                if nb.name == "03-delivery-model.ipynb":  # stop recording the repository probe
                    text = text.replace('evidence[\\"repository\\"] = repository', "pass")
                (templates / folder.name / nb.name).write_text(text)
    problems = [p for c in project_contract(checks, templates).values() for p in c.problems()]
    assert any("foundations.sprint_plan read(s) 'sprint_plan', which FoundationsEvidence does not declare" in p
               for p in problems), problems
    assert any("read(s) 'repository', which no notebook of the stage writes" in p for p in problems), problems


def test_reads_are_attributed_to_the_stage_whose_evidence_is_read():
    src = ('def f(ctx):\n    ev = ctx.run_evidence("design", 2)\n    return artifact(ctx, ev, "iac"), ev.get("x")\n'
           'def g(ctx):\n    return _ev(ctx).get("y"), need(_ev(ctx), "z", 3, "deploy", "")\n')
    reads = check_reads(src, "deploy")
    assert set(reads["design"]) == {"artifacts.iac", "x"} and set(reads["deploy"]) == {"y", "z"}
    nb = json.dumps({"cells": [{"cell_type": "code", "source": [
        'ev = Evidence(out, "n")\n', 'ev["a"] = 1\n', 'ev.artifact("b", "b.md")\n', 'if ev["c"] == 2: pass\n',
        'ev.update({"d": 1}, e=2)\n', '%matplotlib inline\n', 'other = {}\n', 'other["f"] = 1\n']}]})
    assert notebook_writes(nb) == {"a", "artifacts.b", "d", "e"}


# -- the writer ----------------------------------------------------------------------


def stage_dir(tmp_path, slug):
    folder = tmp_path / "runs" / "r1" / stage_folder(slug)
    folder.mkdir(parents=True)
    return folder


def test_writer_takes_the_stage_from_its_folder_and_keeps_the_dict_api(tmp_path):
    out = stage_dir(tmp_path, "foundations")
    (out / "delivery-model.md").write_text("# note")
    ev = Evidence(out, "03-delivery-model")
    ev["repository"] = {"url": "https://x/y", "reachable": True, "folders": ["src"], "error": ""}
    ev.artifact("delivery_model_note", "delivery-model.md")
    saved = json.loads(ev.save().read_text())
    assert saved == {"artifacts": {"delivery_model_note": "delivery-model.md"},
                     "repository": {"url": "https://x/y", "reachable": True, "folders": ["src"], "error": ""}}


def test_writer_refuses_an_unknown_key_naming_it_and_the_known_ones(tmp_path):
    ev = Evidence(stage_dir(tmp_path, "foundations"), "01")
    with pytest.raises(EvidenceError, match=r"evidence key 'weeks' is not part of stage 'foundations'.*repository"):
        ev["weeks"] = 2
    with pytest.raises(EvidenceError, match=r"artifact key 'plan' is not part of stage 'foundations'"):
        ev.artifact("plan", "plan.md")
    with pytest.raises(EvidenceError, match="'weeks'"):
        ev.update(weeks=2)
    assert "weeks" not in ev


def test_writer_refuses_a_wrong_type_naming_the_key_and_the_problem(tmp_path):
    ev = Evidence(stage_dir(tmp_path, "design"), "02")
    with pytest.raises(EvidenceError) as exc:
        ev["iac"] = {"checkov": {"failed": "several"}, "parameter_files": {}}
    assert "evidence['iac']['checkov']['failed']" in str(exc.value) and "valid integer" in str(exc.value)
    with pytest.raises(EvidenceError, match=r"evidence\['iac'\]\['checkov'\]: Field required"):
        ev["iac"] = {"parameter_files": {}}


def test_writer_outside_a_stage_folder_asks_for_the_stage(tmp_path):
    with pytest.raises(EvidenceError, match="pass stage="):
        Evidence(tmp_path, "x")
    assert Evidence(tmp_path, "x", stage="deploy").model is evidence_model("deploy")


def test_stage_4_and_7_models_take_the_documented_keys():
    """Other notebooks write exactly the keys documented in checks/data.py and checks/migrate.py."""
    data = {"ingestion_runs": [{"source": "crm-db", "pipeline": "p.json", "status": "succeeded"}],
            "wrangling": {"pipeline": "src/dataprep.py", "layers_written": ["bronze"], "pii_columns_in_silver": []},
            "data_quality": [], "labeling": {"project": "l", "progress_pct": 100.0,
                                             "exported_asset": {"name": "labels", "version": "1"}},
            "datastores": [], "data_assets": [], "storage_role_assignments": [],
            "artifacts": {"lineage_report": "data/lineage.html"}}
    read_evidence("data", data)
    migrate = {k: {} for k in ("dataprep", "training_pipeline", "realtime_smoke_test", "batch_scoring",
                               "code_scan", "parity")}
    migrate |= {k: [] for k in ("setup_runs", "config_files", "cicd_runs")}
    read_evidence("migrate", migrate | {"artifacts": {"parity_report": "migrate/parity.html"}})


# -- the reader ------------------------------------------------------------------------


def test_checks_cannot_read_undeclared_keys():
    record = EvidenceRecord(evidence_model("foundations"), {"artifacts": {}})
    with pytest.raises(UndeclaredEvidence, match="'sprint_plan'"):
        record.get("sprint_plan")
    with pytest.raises(UndeclaredEvidence, match="artifact 'plan'"):
        record["artifacts"].get("plan")


def test_evidence_an_old_release_recorded_differently_asks_for_a_rerun():
    ctx = CheckContext(settings={}, evidence={"deploy": {"artifacts": {"iac": "deploy/infra"}}})
    from mlops_accelerator.checks import MissingInput

    with pytest.raises(MissingInput, match=r"cannot read .*'artifacts'\]\['iac'\].*mlops-accelerator run deploy"):
        ctx.run_evidence("deploy", 3)


def test_a_check_result_records_what_it_read():
    from mlops_accelerator.settings import schema_for

    model = schema_for("foundations").model_validate({"project_name": "proj", "test_levels": ["L0"]})
    ctx = CheckContext(settings={"foundations": model}, revisions={"foundations": "abc"})
    result = run_check("S1-04", ctx)
    assert result.inputs == {"settings": {"foundations": "abc"}, "evidence": {}}
    result = run_check("S1-05", ctx)
    assert result.pending and result.inputs["evidence"] == {"foundations": ""}
