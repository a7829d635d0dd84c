"""The Jupyter server extension's REST API, against a real (in-process) Jupyter server.

Each endpoint: its success path, 403 without a token, 400 with every field error for invalid
input (nothing written), a path outside the server root rejected, and a background run started
through the API that completes and is recorded in the ledger.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from mlops_accelerator import payloads

pytest.importorskip("jupyter_server")
from tornado.httpclient import HTTPClientError  # noqa: E402

pytest_plugins = ["pytest_jupyter.jupyter_server"]

NS = "mlops-accelerator"


@pytest.fixture
def jp_server_config(jp_root_dir):
    # A single-user server: whoever holds the token signs as Ada (see MLOpsAccelerator.signers).
    return {"ServerApp": {"jpserver_extensions": {"mlops_accelerator": True}},
            "MLOpsAccelerator": {"signers": {"*": "ada@contoso.com"}}}


def _put_ada_on_the_roster(project, roles=None):
    from mlops_accelerator.roles import ROLE_IDS

    project.set_values("foundations", {"team_roster": [
        {"name": "Ada Lovelace", "email": "ada@contoso.com", "roles": list(roles or ROLE_IDS)}]})


@pytest.fixture
def project(jp_root_dir):
    from mlops_accelerator.workspace import Project

    return Project.create(jp_root_dir, "contoso-churn")


@pytest.fixture
def api(jp_fetch, jp_serverapp):
    """Call the API; returns (status, json body) whatever the status."""

    async def call(method, *parts, body=None, params=None, headers=None):
        kwargs = {"method": method}
        if body is not None:
            kwargs["body"] = json.dumps(body)
        elif method in ("POST", "PUT", "PATCH"):
            kwargs["body"] = "{}"
        try:
            resp = await jp_fetch(NS, *parts, params=params, headers=headers, **kwargs)
        except HTTPClientError as exc:
            return exc.code, json.loads(exc.response.body) if exc.response and exc.response.body else None
        return resp.code, json.loads(resp.body)

    return call


def _ledger_types(project):
    return [e["type"] for e in project.events()]


# -- status -----------------------------------------------------------------------------------

async def test_status_lists_seven_stages(api, project):
    code, data = await api("GET", "status")
    assert code == 200
    assert data["project"] == "contoso-churn"
    assert [s["number"] for s in data["stages"]] == [1, 2, 3, 4, 5, 6, 7]
    assert data["path"] == ""
    assert data["root"] is None  # the server's absolute path is not disclosed
    assert {"id", "name"} <= set(data["roles"][0])
    first = data["stages"][0]
    assert first["deliverables"]["total"] > 0 and first["items"]


async def test_status_without_project_is_404_with_code(api, jp_root_dir):
    code, data = await api("GET", "status")
    assert code == 404
    assert data["code"] == "no_project"
    assert "create" in data["error"]


async def test_status_path_outside_root_is_rejected(api, project):
    for path in ("..", "../..", "/etc", "sub/../../x"):
        code, data = await api("GET", "status", params={"path": path})
        assert code == 400, path
        assert data["errors"][0]["field"] == "path"
        assert data["errors"][0]["rule"] == "inside_root"


async def test_status_of_a_subfolder_finds_the_project(api, project, jp_root_dir):
    (jp_root_dir / "sub").mkdir()
    code, data = await api("GET", "status", params={"path": "sub"})
    assert code == 200 and data["path"] == ""


# -- authentication ---------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", ("status",)),
    ("POST", ("project",)),
    ("GET", ("stages", "1")),
    ("PUT", ("stages", "1", "settings")),
    ("PATCH", ("stages", "1", "settings")),
    ("POST", ("stages", "1", "wizard")),
    ("POST", ("runs",)),
    ("GET", ("runs", "20250101-000000-abcd")),
    ("POST", ("checks",)),
    ("POST", ("signoffs",)),
]


@pytest.mark.parametrize("method,parts", ENDPOINTS, ids=["-".join((m, *p)) for m, p in ENDPOINTS])
async def test_every_endpoint_needs_a_token(api, project, method, parts):
    before = project.path.read_text(), _ledger_types(project)
    code, _ = await api(method, *parts, headers={"Authorization": ""})
    assert code == 403
    assert (project.path.read_text(), _ledger_types(project)) == before


async def test_routes_live_under_the_base_url(jp_serverapp, jp_base_url):
    from mlops_accelerator.server import handlers

    patterns = [p for p, _ in handlers(jp_serverapp.web_app.settings["base_url"])]
    assert all(p.startswith(jp_base_url.rstrip("/") + "/" + NS + "/") for p in patterns)


# -- project ----------------------------------------------------------------------------------

async def test_create_project(api, jp_root_dir):
    code, data = await api("POST", "project", body={"name": "fraud-detect", "path": "fraud"})
    assert code == 201, data
    assert data == {"project": "fraud-detect", "path": "fraud"}
    assert (jp_root_dir / "fraud" / "mlops-accelerator.yaml").is_file()
    code, data = await api("GET", "status", params={"path": "fraud"})
    assert code == 200 and data["project"] == "fraud-detect"


async def test_create_project_invalid_name_writes_nothing(api, jp_root_dir):
    code, data = await api("POST", "project", body={"name": "Bad Name!", "path": "bad"})
    assert code == 400
    assert data["errors"] and data["errors"][0]["field"] == "name"
    assert {"field", "rule", "value", "message"} <= set(data["errors"][0])
    assert not (jp_root_dir / "bad").exists()


async def test_create_project_refuses_to_clobber(api, project):
    before = project.path.read_text()
    code, data = await api("POST", "project", body={"name": "other-name"})
    assert code == 409 and data["code"] == "exists"
    assert project.path.read_text() == before


async def test_create_project_outside_root_is_rejected(api, jp_root_dir):
    code, data = await api("POST", "project", body={"name": "escape", "path": "../escaped"})
    assert code == 400 and data["errors"][0]["rule"] == "inside_root"
    assert not (jp_root_dir.parent / "escaped").exists()


# -- one stage --------------------------------------------------------------------------------

async def test_stage_by_number_and_slug(api, project):
    code, by_number = await api("GET", "stages", "1")
    assert code == 200
    code, by_slug = await api("GET", "stages", "foundations")
    assert code == 200
    assert by_number["stage"]["slug"] == by_slug["stage"]["slug"] == "foundations"
    assert by_number["stage"]["tasks"] and by_number["stage"]["roles"]
    settings = by_number["settings"]
    assert settings["values"]["project_name"] == "contoso-churn"
    assert settings["revision"] == project.revision("foundations")
    assert settings["schema"]["type"] == "object"
    assert by_number["deliverables"] and all(d["stage"] == 1 for d in by_number["deliverables"])
    assert by_number["last_runs"] == []


async def test_unknown_stage_is_404(api, project):
    code, data = await api("GET", "stages", "nine")
    assert code == 404 and "unknown stage" in data["error"]


# -- settings ---------------------------------------------------------------------------------

async def test_save_settings(api, project):
    code, stage = await api("GET", "stages", "foundations")
    values = stage["settings"]["values"]
    values["project_name"] = "contoso-churn2"
    code, data = await api("PUT", "stages", "foundations", "settings",
                           body={"values": values, "revision": stage["settings"]["revision"]})
    assert code == 200, data
    assert {"field": "project_name", "old": "contoso-churn", "new": "contoso-churn2"} in data["changes"]
    assert data["revision"] == project.revision("foundations")
    saved = [e for e in project.events("settings_saved")]
    assert saved[-1]["via"] == "jupyterlab"


async def test_invalid_settings_400_with_every_error_and_nothing_written(api, project):
    before = project.path.read_text(), _ledger_types(project)
    code, stage = await api("GET", "stages", "foundations")
    values = dict(stage["settings"]["values"], project_name="Not A Slug!!", no_such_setting=1)
    code, data = await api("PUT", "stages", "foundations", "settings", body={"values": values})
    assert code == 400
    fields = {e["field"] for e in data["errors"]}
    assert {"project_name", "no_such_setting"} <= fields
    for e in data["errors"]:
        assert {"field", "rule", "value", "message"} <= set(e)
    assert "traceback" not in json.dumps(data).lower()
    assert (project.path.read_text(), _ledger_types(project)) == before


async def test_settings_conflict_is_409(api, project):
    code, stage = await api("GET", "stages", "foundations")
    rev = stage["settings"]["revision"]
    project.set_values("foundations", {"project_name": "changed-elsewhere"})  # the CLI, another tab
    values = dict(stage["settings"]["values"], project_name="mine-now")
    before = project.path.read_text()
    code, data = await api("PUT", "stages", "foundations", "settings", body={"values": values, "revision": rev})
    assert code == 409 and data["code"] == "conflict"
    assert project.path.read_text() == before


async def test_patch_settings_with_dotted_assignments(api, project):
    code, data = await api("PATCH", "stages", "1", "settings",
                           body={"assignments": {"project_name": "patched-name"}})
    assert code == 200, data
    assert project.effective_settings("foundations")["project_name"] == "patched-name"
    code, data = await api("PATCH", "stages", "1", "settings", body={"assignments": {}})
    assert code == 400 and data["errors"][0]["field"] == "assignments"


async def test_settings_body_must_be_json_object(api, project, jp_fetch):
    with pytest.raises(HTTPClientError) as exc:
        await jp_fetch(NS, "stages", "1", "settings", method="PUT", body="not json")
    assert exc.value.code == 400
    assert "JSON" in json.loads(exc.value.response.body)["error"]


async def test_save_settings_outside_root_is_rejected(api, project):
    code, data = await api("PUT", "stages", "1", "settings",
                           body={"values": {}, "path": "../../elsewhere"})
    assert code == 400 and data["errors"][0]["rule"] == "inside_root"


async def test_broken_project_file_is_422_without_traceback(api, project):
    project.path.write_text("schema_version: [unclosed\n")
    code, data = await api("GET", "status")
    assert code == 422 and data["code"] == "project_file"
    assert "line" in data["error"] and "Traceback" not in data["error"]
    assert project.path.read_text() == "schema_version: [unclosed\n"  # never overwritten


# -- checks and sign-offs ---------------------------------------------------------------------

async def test_run_checks(api, project):
    code, data = await api("POST", "checks", body={"stage": 1})
    assert code == 200, data
    assert data["results"] and all(r["stage"] == 1 for r in data["results"])
    assert {"item", "passed", "reason"} <= set(data["results"][0])
    assert "check_run" in _ledger_types(project)


async def _signable(api):
    code, data = await api("GET", "status")
    for stage in data["stages"]:
        for item in stage["items"]:
            if item["signoff_roles"] and item["verification"] == "signoff":
                return item
    raise AssertionError("no sign-off item in the catalogue")


async def test_sign_off(api, project):
    _put_ada_on_the_roster(project)
    item = await _signable(api)
    role = item["signoff_roles"][0]
    code, data = await api("POST", "signoffs",
                           body={"item": item["id"], "by": "Ada Lovelace", "role": role, "comment": "ok"})
    assert code == 201, data
    assert data["item"] == item["id"] and data["by"] == "Ada Lovelace" and data["role"] == role
    code, status = await api("GET", "status")
    after = next(i for s in status["stages"] for i in s["items"] if i["id"] == item["id"])
    assert after["signoffs"][-1]["by"] == "Ada Lovelace"
    assert after["state"] == "done"


async def test_sign_off_wrong_role_or_missing_fields_writes_nothing(api, project):
    from mlops_accelerator.roles import ROLE_IDS

    item = await _signable(api)
    outsider = next(r for r in ROLE_IDS if r not in item["signoff_roles"])
    _put_ada_on_the_roster(project)
    before = _ledger_types(project)
    code, data = await api("POST", "signoffs", body={"item": item["id"], "role": outsider})
    assert code == 400 and "may be signed off only by" in data["error"]
    code, data = await api("POST", "signoffs", body={"item": item["id"]})
    assert code == 400 and {e["field"] for e in data["errors"]} == {"role"}
    assert _ledger_types(project) == before


async def test_sign_off_unknown_item_is_404(api, project):
    code, data = await api("POST", "signoffs", body={"item": "S9-99", "by": "Bob", "role": "team_lead"})
    assert code == 404


# -- wizard -----------------------------------------------------------------------------------

async def test_wizard_is_copied_into_the_project_and_trusted(api, project, jp_serverapp):
    import nbformat

    from mlops_accelerator.server import wizards_source

    source = wizards_source()
    if source is None or not (source / "01-foundations.ipynb").is_file():
        pytest.skip("wizard notebooks not present in this checkout yet")
    code, data = await api("POST", "stages", "1", "wizard")
    assert code == 200, data
    assert data["path"] == "wizards/01-foundations.ipynb"
    nb = nbformat.read(project.root / data["path"], as_version=4)
    assert jp_serverapp.contents_manager.notary.check_signature(nb)
    # the home page and the other stages beside it: the wizard's links open in JupyterLab too
    assert {p.name for p in (project.root / "wizards").glob("*.ipynb")} == {p.name for p in source.glob("*.ipynb")}
    home = nbformat.read(project.root / "wizards" / "home.ipynb", as_version=4)
    assert jp_serverapp.contents_manager.notary.check_signature(home)


async def test_wizard_unknown_stage_is_404(api, project):
    code, _ = await api("POST", "stages", "42", "wizard")
    assert code == 404


# -- runs -------------------------------------------------------------------------------------

async def test_run_request_is_validated(api, project):
    code, data = await api("POST", "runs", body={"stages": [1], "jobs": 0, "target": "mars"})
    assert code == 400 and {e["field"] for e in data["errors"]} == {"jobs", "target"}
    code, data = await api("POST", "runs", body={})
    assert code == 400 and data["errors"][0]["field"] == "stages"
    assert "run_started" not in _ledger_types(project)


async def test_unknown_run_is_404(api, project):
    code, _ = await api("GET", "runs", "20250101-000000-abcd")
    assert code == 404


async def test_run_outside_root_is_rejected(api, project):
    code, data = await api("POST", "runs", body={"stages": [1], "path": "../.."})
    assert code == 400 and data["errors"][0]["rule"] == "inside_root"


def _stub_templates_if_missing(base, monkeypatch):
    """Tiny stage-1 templates, used only while the repository ships none for stage 1."""
    from pathlib import Path

    import nbformat

    repo = Path(__file__).resolve().parents[1]
    if any((repo / "notebooks" / "01-foundations").glob("*.ipynb")):
        return
    folder = base / "templates" / "01-foundations"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('project_name = "x"\noutput_dir = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "import pathlib\npathlib.Path(output_dir, 'summary.md').write_text(project_name)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "01-summary.ipynb")
    monkeypatch.setenv("MLOPS_ACCELERATOR_TEMPLATES", str(folder.parent))


async def test_run_through_the_api_completes_and_is_in_the_ledger(api, project, tmp_path, monkeypatch):
    _stub_templates_if_missing(tmp_path, monkeypatch)
    code, data = await api("POST", "runs", body={"stages": ["foundations"]})
    assert code == 202, data
    run_id = data["run_id"]
    deadline = time.monotonic() + 240
    progress = None
    while time.monotonic() < deadline:
        code, progress = await api("GET", "runs", run_id)
        assert code == 200, progress
        if progress["state"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.5)
    assert progress and progress["state"] == "succeeded", progress
    assert progress["finished"] == progress["total"] and progress["total"] > 0
    assert progress["outputs"] and all(not o.startswith("/") for o in progress["outputs"])
    assert progress["log_tail"] and str(project.root) not in progress["log_tail"]  # no server paths
    assert any(o.endswith(".ipynb") for o in progress["outputs"])
    finished = [e for e in project.events("run_finished") if e.get("run_id") == run_id]
    assert finished and finished[-1]["status"] == "succeeded"
    code, stage = await api("GET", "stages", "foundations")
    assert stage["last_runs"][0]["run_id"] == run_id


async def test_project_dir_setting_points_at_a_subfolder(api, jp_serverapp, jp_root_dir):
    from mlops_accelerator.workspace import Project

    Project.create(jp_root_dir / "team" / "proj", "sub-project")
    jp_serverapp.web_app.settings["mlops_accelerator_config"].project_dir = "team/proj"
    code, data = await api("GET", "status")
    assert code == 200 and data["project"] == "sub-project" and data["path"] == "team/proj"


async def test_unexpected_error_is_500_without_details(api, project, monkeypatch):
    import mlops_accelerator.report as report

    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(report, "status_data", boom)
    code, data = await api("GET", "status")
    assert code == 500
    assert "secret internal detail" not in json.dumps(data) and "Traceback" not in json.dumps(data)
    assert data["error"].startswith("internal error")


# -- fresh statuses (the sidebar's door; the other doors in test_fresh_status.py) -----------------

async def test_a_changed_setting_makes_a_passed_check_stale_in_the_payload(api, jp_root_dir):
    from mlops_accelerator.deliverables import run_checks
    from mlops_accelerator.sample import sample_settings
    from mlops_accelerator.workspace import Project

    s = sample_settings()
    project = Project.create(jp_root_dir, s["foundations"]["project_name"], s)
    run_checks(project, [1])
    code, data = await api("GET", "status")
    s104 = next(i for st in data["stages"] for i in st["items"] if i["id"] == "S1-04")
    assert s104["state"] == "done" and s104["stale"] is None
    code, data = await api("PATCH", "stages", "1", "settings", body={"assignments": {"maturity_assessment": []}})
    assert code == 200, data
    code, data = await api("GET", "status")
    s104 = next(i for st in data["stages"] for i in st["items"] if i["id"] == "S1-04")
    assert s104["state"] == "todo" and "foundations changed since" in s104["stale"]
    assert s104["check"]["passed"] is True and s104["check"]["pending"] is False
    code, data = await api("GET", "stages", "1")
    s104 = next(i for i in data["deliverables"] if i["id"] == "S1-04")
    assert s104["state"] == "todo" and "stale" in s104["reason"]


async def test_answers_match_the_payload_models_the_typescript_is_generated_from(api, project):
    from mlops_accelerator import payloads
    from mlops_accelerator.catalogue import load_catalogue, stage_folder

    code, data = await api("GET", "status")
    assert code == 200
    payloads.Status.model_validate(data)
    code, data = await api("GET", "stages")
    assert code == 200
    catalogue = payloads.Catalogue.model_validate(data)
    assert [(s.number, s.slug, s.folder) for s in catalogue.stages] == [
        (s.number, s.slug, stage_folder(s.number)) for s in load_catalogue().stages]


# -- hardening (issue 9) ----------------------------------------------------------------------

async def test_secret_setting_is_refused_without_echo(api, project):
    key = "DefaultEndpointsProtocol=https;AccountName=st;AccountKey=" + "Zm9vYmFy" * 11
    before = project.path.read_bytes()
    code, data = await api("PATCH", "stages", "1", "settings", body={"assignments": {"business_use_case": key}})
    assert code == 400
    (error,) = data["errors"]
    assert error["field"] == "business_use_case" and error["rule"] == "secret" and "Key Vault" in error["message"]
    assert "Zm9vYmFy" not in json.dumps(data)
    assert project.path.read_bytes() == before


async def test_oversized_body_is_413_and_oversized_text_400(api, project, jp_fetch):
    big = json.dumps({"assignments": {"business_use_case": "x" * (2 * 1024 * 1024)}})
    with pytest.raises(HTTPClientError) as exc:
        await jp_fetch(NS, "stages", "1", "settings", method="PATCH", body=big)
    assert exc.value.code == 413
    assert "at most" in json.loads(exc.value.response.body)["error"]
    code, data = await api("PATCH", "stages", "1", "settings",
                           body={"assignments": {"business_use_case": "x" * 20_000}})
    assert code == 400 and data["errors"][0]["rule"] == "string_too_long"


async def test_deeply_nested_json_is_400_not_500(api, project, jp_fetch):
    deep = '{"assignments": {"business_use_case": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    with pytest.raises(HTTPClientError) as exc:
        await jp_fetch(NS, "stages", "1", "settings", method="PATCH", body=deep)
    assert exc.value.code == 400
    code, data = await api("PATCH", "stages", "1", "settings",
                           body={"assignments": {"team_roster": json.loads("[" * 200 + "]" * 200)}})
    assert code == 400 and data["errors"][0]["rule"] == "too_deep"


async def test_errors_and_run_logs_carry_no_absolute_server_paths(api, project, jp_root_dir):
    project.path.write_text("schema_version: [unclosed\n")
    code, data = await api("GET", "status")
    assert code == 422 and str(jp_root_dir) not in json.dumps(data)
    assert "mlops-accelerator.yaml" in data["error"]


async def test_infinite_number_in_a_hand_edited_file_is_valid_json(api, project):
    text = project.path.read_text().replace("  foundations:\n", "  foundations:\n    sprint_length_weeks: .inf\n", 1)
    project.path.write_text(text)
    code, data = await api("GET", "stages", "1")  # the client's JSON parser would fail on Infinity
    assert code == 200 and data["settings"]["valid"] is False
    assert any(e["rule"] == "finite_number" for e in data["settings"]["errors"])


async def test_doomed_runs_are_refused_up_front(api, project, tmp_path, monkeypatch):
    empty = tmp_path / "no-templates"
    empty.mkdir()
    monkeypatch.setenv("MLOPS_ACCELERATOR_TEMPLATES", str(empty))
    code, data = await api("POST", "runs", body={"stages": ["foundations"]})
    assert code == 400 and "no notebooks" in data["error"]
    monkeypatch.delenv("MLOPS_ACCELERATOR_TEMPLATES")
    code, data = await api("POST", "runs", body={"stages": ["foundations"], "parameters": {"run_id": "x"}})
    assert code == 400 and "may be overridden" in data["error"]
    project.path.write_text("schema_version: [unclosed\n")
    code, data = await api("POST", "runs", body={"stages": ["foundations"]})
    assert code == 422
    assert not list((project.root / "runs").glob("*"))


async def test_project_inside_a_runs_folder_is_refused(api, project):
    code, data = await api("POST", "project", body={"name": "nested", "path": "runs/r1/nested"})
    assert code == 400 and "runs/" in data["error"]


async def test_signer_is_the_signed_in_user_not_the_body(api, project):
    _put_ada_on_the_roster(project)
    item = await _signable(api)
    role = item["signoff_roles"][0]
    before = _ledger_types(project)
    code, data = await api("POST", "signoffs", body={"item": item["id"], "by": "Mallory", "role": role})
    assert code == 403 and data["code"] == "not_you"
    assert _ledger_types(project) == before
    code, data = await api("POST", "signoffs", body={"item": item["id"], "role": role})
    assert code == 201 and data["by"] == "Ada Lovelace"
    (event,) = project.events("signoff")
    assert event["identity"]["via"] == "jupyter" and event["identity"]["user"]


async def test_signer_not_on_the_roster_is_403(api, project, jp_serverapp):
    item = await _signable(api)
    jp_serverapp.web_app.settings["mlops_accelerator_config"].signers = {}
    code, data = await api("POST", "signoffs", body={"item": item["id"], "role": item["signoff_roles"][0]})
    assert code == 403 and data["code"] == "not_on_roster" and "MLOpsAccelerator.signers" in data["error"]


async def test_a_slow_project_read_does_not_block_the_server(api, project, jp_fetch, monkeypatch):
    import threading

    import mlops_accelerator.report as report

    release, entered = threading.Event(), threading.Event()
    real = report.status_data

    def slow(*args, **kwargs):
        entered.set()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(report, "status_data", slow)
    pending = asyncio.ensure_future(api("GET", "status"))
    try:
        for _ in range(200):
            if entered.is_set():
                break
            await asyncio.sleep(0.05)
        assert entered.is_set()
        resp = await asyncio.wait_for(jp_fetch("api", "status"), timeout=10)  # the loop still answers
        assert resp.code == 200 and not pending.done()
    finally:
        release.set()
    code, _ = await pending
    assert code == 200


async def test_status_carries_the_azureml_stages_and_the_last_preflight_findings(api, project):
    from mlops_accelerator.azure.preflight import Finding, save_findings
    from mlops_accelerator.targets import azureml_stages

    code, data = await api("GET", "status")
    assert code == 200 and data["preflight"] == [] and data["preflight_at"] is None
    assert data["azureml_stages"] == list(azureml_stages())  # the runner's own coverage, not a copy
    assert "deploy" in data["azureml_stages"] and "migrate" not in data["azureml_stages"]
    taken = Finding("dev", "names", "storage account name 'stx' is taken", "design.storage_account_name")
    save_findings(project, [taken])
    code, data = await api("GET", "status")
    assert data["preflight"] == [{"env": "dev", "check": "names", "message": "storage account name 'stx' is taken",
                                  "setting": "design.storage_account_name"}]
    assert data["preflight_at"]
    payloads.Status.model_validate(data)


def test_run_progress_lists_an_azureml_runs_jobs_with_their_latest_status(project):
    from mlops_accelerator.runs import run_progress

    for status in ("Queued", "Running"):
        project.record("azureml_job", run_id="r1", key="01-foundations/01-team", job="mlops-r1-01", status=status,
                       studio_url="https://ml.azure.com/runs/mlops-r1-01")
    project.record("azureml_job", run_id="r0", key="01-foundations/01-team", job="mlops-r0-01", status="Completed")
    (project.root / "runs" / "r1").mkdir(parents=True)
    progress = run_progress(project, "r1")
    assert progress["jobs"] == [{"key": "01-foundations/01-team", "job": "mlops-r1-01", "status": "Running",
                                 "studio_url": "https://ml.azure.com/runs/mlops-r1-01"}]  # only this run's
    payloads.RunProgress.model_validate(progress)
