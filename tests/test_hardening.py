"""Security and durability hardening (issue 9): each test failed before its fix.

Secrets refused on every door and found in run outputs; bounded input (text, lists, YAML
aliases, file size); finite numbers; one commit for the project file and its ledger event
(disk full changes nothing); clear errors on read-only projects; sign-offs by people on the
roster; ledger events validated on read; `-p` overrides that would be ignored are refused.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import time

import pytest

from mlops_accelerator.workspace import Project

# -- secrets (item 4) -------------------------------------------------------------------------

STORAGE_KEY = "Zm9vYmFyYmF6cXV4" * 5 + "Zm9vYm=="  # 88 base64 characters, like an account key
SECRETS = {
    "storage key": STORAGE_KEY,
    "storage connection string": f"DefaultEndpointsProtocol=https;AccountName=stcontoso;AccountKey={STORAGE_KEY};"
                                 "EndpointSuffix=core.windows.net",
    "service bus connection string": "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=root;"
                                     "SharedAccessKey=c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0",
    "github token in a URL": "https://ghp_" + "a1B2c3D4e5" * 3 + "abcdef@github.com/contoso/churn",
    "fine-grained github token": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "password assignment": "Server=tcp:sql.contoso.net;Database=churn;User ID=app;Password=Hunter2!x;",
    "sas token": "https://stcontoso.blob.core.windows.net/data?sv=2022-11-02&ss=b&srt=co&sp=rl"
                 "&se=2030-01-01&sig=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789%2BabcdE%3D",
    "pem private key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----",
    "entra client secret": "kX48Q~abcdefghijklmnopqrstuvwxyz0123456",
}
LEGITIMATE = [
    "00000000-1111-2222-3333-444444444444",
    "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-(dev)/providers/"
    "Microsoft.KeyVault/vaults/kv-contoso",
    "https://github.com/contoso/churn",
    "https://dev.azure.com/contoso/churn/_git/churn",
    "ada.lovelace@contoso.com",
    "Reduce churn #1 priority: keep the secret in Key Vault kv-contoso (secret name sql-password)",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "0 2 * * *",
    "Passwords and keys live in Key Vault; the pipeline signs in with a managed identity.",
]


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_secret_in_a_free_text_setting_is_refused_on_the_cli_without_echo(cli, project, kind):
    before, ledger_before = project.path.read_bytes(), project.ledger_path.read_bytes()
    secret = SECRETS[kind]
    code, out, err = cli("settings", "set", "foundations", f"business_use_case={secret}")
    assert code == 2, out
    assert "foundations.business_use_case" in err and "Key Vault" in err and "[rule: secret]" in err
    assert secret not in err and secret[:24] not in err and secret not in out
    assert project.path.read_bytes() == before and project.ledger_path.read_bytes() == ledger_before


def test_secret_in_repo_url_and_in_a_roster_record_is_refused(project):
    from mlops_accelerator.errors import InvalidSettings

    with pytest.raises(InvalidSettings) as exc:
        project.set_values("foundations", {
            "repo_url": SECRETS["github token in a URL"],
            "team_roster": [{"name": SECRETS["fine-grained github token"]}]})
    fields = {e.field: e for e in exc.value.errors}
    assert fields["repo_url"].rule == "secret" and fields["team_roster.0.name"].rule == "secret"
    assert all("github_pat_" not in json.dumps(e.to_dict()) for e in exc.value.errors)  # not even in a parent


@pytest.mark.parametrize("value", LEGITIMATE)
def test_everyday_values_are_not_mistaken_for_secrets(value):
    from mlops_accelerator.secret_scan import secret_kind

    assert secret_kind(value) is None


def test_the_sample_project_has_no_secret_shaped_setting():
    from mlops_accelerator.sample import sample_settings
    from mlops_accelerator.settings import validate_settings

    for stage, values in sample_settings().items():
        _, errors = validate_settings(stage, values)
        assert [e for e in errors if e.rule == "secret"] == []


def test_wizard_shows_the_secret_rule_beside_the_field(project):
    from wizard_fixtures import shown_error, to_settings, wizard

    w = wizard(project, "foundations")
    to_settings(w)
    w.form.editor("business_use_case").control.value = SECRETS["password assignment"]
    text = shown_error(w, "business_use_case")
    assert "Key Vault" in text and "Hunter2" not in text
    assert not w.save()


def test_secret_in_a_sign_off_comment_is_refused(project):
    from mlops_accelerator.deliverables import sign_off
    from mlops_accelerator.errors import UsageError

    _roster(project)
    before = project.ledger_path.read_bytes()
    with pytest.raises(UsageError, match="Key Vault") as exc:
        sign_off(project, "S1-01", "Dana Lee", "team_lead", f"key is {STORAGE_KEY}")
    assert STORAGE_KEY not in str(exc.value)
    assert project.ledger_path.read_bytes() == before


def _stage1_templates(tmp_path, monkeypatch, code: str):
    """One tiny stage-1 notebook template running `code` (MLOPS_ACCELERATOR_TEMPLATES)."""
    import nbformat

    folder = tmp_path / "templates" / "01-foundations"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('project_name = "x"\noutput_dir = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "01-summary.ipynb")
    monkeypatch.setenv("MLOPS_ACCELERATOR_TEMPLATES", str(folder.parent))


def test_a_run_whose_outputs_hold_a_secret_fails_naming_the_file(cli, project, tmp_path, monkeypatch):
    # The key is assembled at run time, so only the output (not the template) holds it.
    _stage1_templates(tmp_path, monkeypatch,
                      "import pathlib\nkey = 'AccountKey=' + 'Zm9vYmFy' * 11\n"
                      "pathlib.Path(output_dir, 'connection.txt').write_text('ok\\n' + key + '\\n')")
    code, out, err = cli("run", "foundations")
    assert code == 1, out + err
    assert "connection.txt, line 2" in out and "Key Vault" in out
    (finished,) = project.events("run_finished")
    assert finished["status"] == "failed"
    assert finished["stages"]["foundations"]["status"] == "failed"
    assert finished["stages"]["foundations"]["evidence"] == {}


def test_a_clean_run_passes_the_output_scan(cli, project, tmp_path, monkeypatch):
    _stage1_templates(tmp_path, monkeypatch,
                      "import pathlib\npathlib.Path(output_dir, 'summary.md').write_text('# ' + project_name)")
    code, out, err = cli("run", "foundations")
    assert code == 0, out + err


# -- size limits, finite numbers, control characters (items 6, 11) -----------------------------

def test_oversized_text_and_lists_are_refused(cli, project):
    from mlops_accelerator.settings.guards import MAX_ITEMS, MAX_TEXT

    before = project.path.read_bytes()
    code, _, err = cli("settings", "set", "foundations", "business_use_case=" + "x" * (MAX_TEXT + 1))
    assert code == 2 and "string_too_long" in err and f"{MAX_TEXT:,}" in err
    assert len(err) < 2000  # the value is not echoed in full
    code, _, err = cli("settings", "set", "foundations",
                       "ai_coe_activities=[" + ", ".join(["ai_standards"] * (MAX_ITEMS + 1)) + "]")
    assert code == 2 and "too_many_items" in err
    assert project.path.read_bytes() == before


def test_schema_carries_the_limits():
    from mlops_accelerator.settings import json_schema
    from mlops_accelerator.settings.guards import MAX_ITEMS, MAX_TEXT

    props = json_schema("foundations")["properties"]
    assert props["business_use_case"]["maxLength"] == MAX_TEXT
    assert props["team_roster"]["maxItems"] == MAX_ITEMS


@pytest.mark.parametrize("raw", [".inf", "-.inf", ".nan"])
def test_infinite_numbers_are_refused(cli, project, raw):
    code, _, err = cli("settings", "set", "design", f"budgets.0.amount={raw}")
    assert code == 2 and "finite_number" in err


def test_control_characters_are_refused():
    from mlops_accelerator.settings import validate_settings

    _, errors = validate_settings("foundations", {"business_use_case": "ok\x1b[31mred"})
    assert [e.rule for e in errors] == ["control_character"]
    _, errors = validate_settings("foundations", {"business_use_case": "line one\r\nline two\ttab"})
    assert errors == []


# -- YAML alias bomb and file size (item 5) ------------------------------------------------------

ALIAS_BOMB = "\n".join(
    ["schema_version: 1", "project: {name: bomb}", "stages:", "  foundations:", "    x0: &a0 [lol, lol, lol]"]
    + [f"    x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]) + "\n"


def test_alias_bomb_is_refused_quickly_with_the_line(tmp_path):
    from mlops_accelerator.errors import ProjectFileError

    project = Project.create(tmp_path / "p", "bomb")
    project.path.write_text(ALIAS_BOMB)
    start = time.monotonic()
    with pytest.raises(ProjectFileError, match="aliases") as exc:
        project.settings("foundations")
    assert time.monotonic() - start < 5
    assert "line " in str(exc.value)
    proc = subprocess.run([sys.executable, "-m", "mlops_accelerator.cli", "-C", str(project.root), "status"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "aliases" in proc.stderr and "Traceback" not in proc.stderr


def test_a_few_hand_written_aliases_still_work(tmp_path):
    project = Project.create(tmp_path / "p", "aliases")
    text = project.path.read_text().replace("  foundations:\n", "  foundations:\n    business_use_case: &uc churn\n"
                                            "    devops_capability_evidence: *uc\n", 1)
    project.path.write_text(text)
    assert project.settings("foundations").devops_capability_evidence == "churn"


def test_oversized_project_file_is_not_read(tmp_path):
    from mlops_accelerator.errors import ProjectFileError
    from mlops_accelerator.workspace import MAX_PROJECT_FILE_BYTES

    project = Project.create(tmp_path / "p", "big")
    with open(project.path, "a") as fh:
        fh.write("# " + "x" * MAX_PROJECT_FILE_BYTES + "\n")
    with pytest.raises(ProjectFileError, match="allowed"):
        project.read_document()


# -- one commit for file and ledger: disk full (item 8), read-only (item 12) ---------------------

class _DiskFull:
    """A file whose write puts half the bytes down, then fails like a full disk."""

    def __init__(self, fh):
        self._fh = fh

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()

    def write(self, data):
        self._fh.write(data[: len(data) // 2])
        self._fh.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._fh, name)


def test_disk_full_on_the_ledger_changes_nothing_and_says_so(cli, project, monkeypatch):
    import builtins

    from mlops_accelerator import ledger

    before, ledger_before = project.path.read_bytes(), project.ledger_path.read_bytes()
    monkeypatch.setattr(ledger, "open", lambda *a, **k: _DiskFull(builtins.open(*a, **k)), raising=False)
    code, out, err = cli("settings", "set", "foundations", "business_use_case=Reduce churn")
    assert code == 1 and "Traceback" not in err
    assert "No space left on device" in err and "nothing was changed" in err
    assert project.path.read_bytes() == before
    assert project.ledger_path.read_bytes() == ledger_before  # no torn line
    assert list(project.root.glob(".mlops-accelerator.yaml.*.tmp")) == []


def test_disk_full_on_the_project_file_changes_nothing(cli, project, monkeypatch):
    import mlops_accelerator.fsutil as fsutil

    before, ledger_before = project.path.read_bytes(), project.ledger_path.read_bytes()
    real_fdopen = os.fdopen
    monkeypatch.setattr(fsutil.os, "fdopen", lambda *a, **k: _DiskFull(real_fdopen(*a, **k)))
    code, _, err = cli("settings", "set", "foundations", "business_use_case=Reduce churn")
    assert code == 1 and "No space left on device" in err
    assert project.path.read_bytes() == before and project.ledger_path.read_bytes() == ledger_before


def test_failed_rename_takes_the_ledger_event_back(project, monkeypatch):
    from mlops_accelerator.errors import AcceleratorError

    before, ledger_before = project.path.read_bytes(), project.ledger_path.read_bytes()

    def refuse(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(AcceleratorError, match="nothing was changed"):
        project.set_values("foundations", {"business_use_case": "Reduce churn"})
    assert project.path.read_bytes() == before and project.ledger_path.read_bytes() == ledger_before


def test_read_only_project_is_a_clear_error(cli, project, monkeypatch):
    import filelock

    def read_only(self, *args, **kwargs):
        raise PermissionError(errno.EROFS, "Read-only file system", str(project.lock_path))

    monkeypatch.setattr(filelock.FileLock, "acquire", read_only)
    code, _, err = cli("settings", "set", "foundations", "business_use_case=Reduce churn")
    assert code == 1 and "Traceback" not in err and "Read-only file system" in err and "lock" in err
    code, _, err = cli("signoff", "S1-01", "--by", "Dana Lee", "--role", "team_lead")
    assert code in (1, 2) and "Traceback" not in err


def test_a_save_keeps_the_file_mode(cli, project):
    os.chmod(project.path, 0o644)
    assert cli("settings", "set", "foundations", "business_use_case=Reduce churn")[0] == 0
    assert stat.S_IMODE(project.path.stat().st_mode) == 0o644
    assert cli("report", "--format", "html")[0] == 0
    report = project.root / "deliverables-report.html"
    os.chmod(report, 0o640)
    assert cli("report", "--format", "html")[0] == 0
    assert stat.S_IMODE(report.stat().st_mode) == 0o640


# -- sign-offs bound to people (items 9, 16) ----------------------------------------------------

def _roster(project):
    project.set_values("foundations", {"team_roster": [
        {"name": "Dana Lee", "email": "dana@contoso.com", "roles": ["team_lead"]},
        {"name": "Sam Ortiz", "email": "sam@contoso.com", "roles": ["data_scientist"]}]})


def test_signoff_by_someone_not_on_the_roster_is_refused(cli, project):
    _roster(project)
    before = project.ledger_path.read_bytes()
    code, _, err = cli("signoff", "S1-01", "--by", "anyone", "--role", "team_lead")
    assert code == 2 and "not on the team roster" in err
    code, _, err = cli("signoff", "S1-01", "--by", "Sam Ortiz", "--role", "team_lead")
    assert code == 2 and "does not hold the role" in err
    assert project.ledger_path.read_bytes() == before


def test_cli_signoff_records_the_os_user_and_git_identity(cli, project, tmp_path, monkeypatch):
    import getpass

    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Dana L.\n\temail = dana@contoso.com\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    _roster(project)
    code, out, _ = cli("signoff", "S1-01", "--by", "dana@contoso.com", "--role", "team_lead")
    assert code == 0, out
    (event,) = project.events("signoff")
    assert event["by"] == "Dana Lee" and event["email"] == "dana@contoso.com"
    assert event["identity"]["user"] == getpass.getuser() and event["identity"]["via"] == "cli"
    import shutil

    if shutil.which("git"):
        assert event["identity"]["git_name"] == "Dana L." and event["identity"]["git_email"] == "dana@contoso.com"


def test_signoff_on_a_broken_project_file_is_refused(cli, project):
    _roster(project)
    before = project.ledger_path.read_bytes()
    project.path.write_text(project.path.read_text() + "\n  bad: [unclosed\n")
    code, _, err = cli("signoff", "S1-01", "--by", "Dana Lee", "--role", "team_lead")
    assert code == 2 and "not valid YAML" in err
    assert project.ledger_path.read_bytes() == before


# -- ledger events of the wrong shape (item 10) ---------------------------------------------------

def test_ledger_events_with_wrong_types_are_skipped_and_reported(cli, project, caplog):
    bad = [{"id": "x1", "ts": "2026-01-01T00:00:00+00:00", "type": "check_run", "item": 5, "passed": "yes"},
           {"id": "x2", "ts": "2026-01-01T00:00:00+00:00", "type": "run_finished", "run_id": "r", "status": "ok",
            "stages": ["design"]},
           {"id": "x3", "ts": 7, "type": "signoff"},
           {"id": "x4", "ts": "2026-01-01T00:00:00+00:00", "type": "signoff", "item": "S1-01", "by": None,
            "role": "team_lead"}]
    with open(project.ledger_path, "a") as fh:
        for event in bad:
            fh.write(json.dumps(event) + "\n")
    for command in (("status", "--json"), ("check",), ("report",)):
        code, out, err = cli(*command)
        assert code in (0, 1), err
    code, out, _ = cli("status", "--json")
    assert json.loads(out)["project"] == "contoso-churn"
    lines = {r.getMessage().split(": ledger")[0] for r in caplog.records if "ledger event skipped" in r.getMessage()}
    assert {f"{project.ledger_path}, line {n}" for n in (2, 3, 4, 5)} <= lines


# -- CLI values (items 17, 19) -------------------------------------------------------------------

def test_a_hash_in_a_value_is_kept(cli, project):
    assert cli("settings", "set", "foundations", "business_use_case=Reduce churn #1 priority")[0] == 0
    assert project.effective_settings("foundations")["business_use_case"] == "Reduce churn #1 priority"


def test_a_yaml_alias_in_a_cli_value_is_refused(cli, project):
    code, _, err = cli("settings", "set", "foundations", "ai_coe_activities=[&a ai_standards, *a]")
    assert code == 2 and "aliases" in err


@pytest.mark.parametrize("param, says", [("project_dir=/tmp", "set by the runner"),
                                         ("run_id=abc", "set by the runner"),
                                         ("no_such_thing=1", "not a parameter")])
def test_run_p_refuses_what_it_would_ignore(cli, project, param, says):
    code, _, err = cli("run", "foundations", "-p", param)
    assert code == 2 and says in err and "may be overridden" in err and "business_use_case" in err
    assert not list(project.events("run_started"))


def test_overridable_parameters_are_settings_the_notebooks_take():
    from mlops_accelerator.run_parameters import overridable
    from mlops_accelerator.settings import schema_for

    names = overridable(["foundations"])
    assert names and set(names) <= set(schema_for("foundations").model_fields)
    assert "project_dir" not in names


# -- a project inside another's outputs (item 15) ------------------------------------------------

def test_a_project_inside_another_projects_runs_is_refused(project):
    from mlops_accelerator.errors import UsageError

    with pytest.raises(UsageError, match="runs/"):
        Project.create(project.root / "runs" / "r1" / "nested", "nested")
    assert not (project.root / "runs" / "r1").exists()


def test_an_unexpected_os_error_is_a_clear_cli_error(cli, project, monkeypatch):
    from pathlib import Path

    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        if "runs" in self.parts:
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    code, _, err = cli("run", "foundations")
    assert code == 1 and "Read-only file system" in err and "runs" in err
