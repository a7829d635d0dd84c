import pytest

from mlops_accelerator.errors import InvalidSettings, ProjectFileError, UsageError
from mlops_accelerator.workspace import PROJECT_FILE, Project, SettingsConflict


def test_create_writes_project_file_and_ledger(project):
    assert project.path.name == PROJECT_FILE
    assert project.name == "contoso-churn"
    assert [e["type"] for e in project.events()] == ["project_created"]
    assert project.effective_settings("foundations")["project_name"] == "contoso-churn"


def test_create_refuses_to_clobber(project):
    before = project.path.read_bytes()
    with pytest.raises(UsageError, match="already holds a project"):
        Project.create(project.root, "other-name")
    assert project.path.read_bytes() == before


def test_create_rejects_bad_project_name(tmp_path):
    with pytest.raises(InvalidSettings) as info:
        Project.create(tmp_path / "p", "Bad Name")
    assert info.value.errors[0].rule == "project_slug"
    assert not (tmp_path / "p").exists()


def test_find_searches_parent_folders(project):
    sub = project.root / "notebooks" / "deep"
    sub.mkdir(parents=True)
    assert Project.find(sub).root == project.root


def test_find_without_project_says_how_to_create_one(tmp_path):
    with pytest.raises(UsageError, match="mlops-accelerator init"):
        Project.find(tmp_path)


def test_comments_survive_a_rewrite(project):
    text = project.path.read_text()
    text = text.replace("stages:", "# the team agreed these on 2026-11-20\nstages:")
    text = text.replace("  foundations:", "  foundations:  # owned by the team lead")
    project.path.write_text(text)
    project.set_values("foundations", {"sprint_length_weeks": 3})
    after = project.path.read_text()
    assert "# the team agreed these on 2026-11-20" in after
    assert "# owned by the team lead" in after
    assert project.effective_settings("foundations")["sprint_length_weeks"] == 3


def test_invalid_save_writes_nothing(project):
    before = project.path.read_bytes()
    events_before = list(project.events())
    with pytest.raises(InvalidSettings) as info:
        project.set_values("foundations", {"sprint_length_weeks": 9, "no_such_setting": 1})
    rules = {e.field: e.rule for e in info.value.errors}
    assert rules["no_such_setting"] == "unknown_field"
    assert "sprint_length_weeks" in rules
    assert project.path.read_bytes() == before
    assert list(project.events()) == events_before


def test_save_records_a_diff_in_the_ledger(project):
    project.set_values("foundations", {"sprint_length_weeks": 3})
    event = list(project.events("settings_saved"))[-1]
    assert event["stage"] == "foundations"
    assert {"field": "sprint_length_weeks", "old": 2, "new": 3} in event["changes"]


def test_only_answers_that_differ_from_defaults_are_stored(project):
    project.set_values("foundations", {"sprint_length_weeks": 3})
    assert project.saved_settings("foundations") == {"project_name": "contoso-churn", "sprint_length_weeks": 3}


def test_stale_revision_is_a_conflict_not_an_overwrite(project):
    seen = project.revision("foundations")
    project.set_values("foundations", {"sprint_length_weeks": 3})  # someone else saves
    values = project.effective_settings("foundations") | {"sprint_length_weeks": 4}
    with pytest.raises(SettingsConflict, match="changed by someone else"):
        project.save_settings("foundations", values, base_revision=seen)
    assert project.effective_settings("foundations")["sprint_length_weeks"] == 3


def test_corrupt_project_file_names_file_and_line_and_is_not_overwritten(project):
    broken = project.path.read_text() + "stages: [unclosed\n"
    project.path.write_text(broken)
    with pytest.raises(ProjectFileError, match=rf"{PROJECT_FILE}, line \d+"):
        project.read_document()
    with pytest.raises(ProjectFileError):
        project.set_values("foundations", {"sprint_length_weeks": 3})
    assert project.path.read_text() == broken


def test_unknown_stage_in_file_names_the_line(project):
    text = project.path.read_text().replace("  design:", "  desgin:")
    project.path.write_text(text)
    with pytest.raises(ProjectFileError, match=r"line \d+: unknown stage 'desgin'"):
        project.read_document()


def test_newer_schema_version_is_refused(project):
    text = project.path.read_text().replace("schema_version: 1", "schema_version: 99")
    project.path.write_text(text)
    with pytest.raises(ProjectFileError, match="newer release"):
        project.read_document()


def test_hand_edited_invalid_value_is_reported_not_lost(project):
    text = project.path.read_text().replace("project_name: contoso-churn",
                                            "project_name: contoso-churn\n    sprint_length_weeks: 12")
    project.path.write_text(text)
    model, errors = project.settings_or_errors("foundations")
    assert model is None and errors[0].field == "sprint_length_weeks"
    # the invalid answer is still shown to the user to fix
    assert project.effective_settings("foundations")["sprint_length_weeks"] == 12
    project.set_values("foundations", {"sprint_length_weeks": 4})
    assert project.settings("foundations").sprint_length_weeks == 4


def test_dotted_paths_reach_into_lists_and_append(project):
    envs = project.effective_settings("design")["environments"]
    project.set_values("design", {"environments.0.resource_group": "rg-churn-dev"})
    assert project.effective_settings("design")["environments"][0]["resource_group"] == "rg-churn-dev"
    with pytest.raises(InvalidSettings) as info:
        project.set_values("design", {f"environments.{len(envs) + 5}.name": "qa"})
    assert info.value.errors[0].rule == "path"


def test_cross_stage_rule_roster_must_hold_the_design_approver_roles(project):
    project.set_values("foundations", {"team_roster": [
        {"name": "Mei Chen", "email": "mei@contoso.com", "roles": ["data_scientist"]},
        {"name": "Dana Lee", "email": "dana@contoso.com", "roles": ["team_lead"]}]})
    before = project.path.read_bytes()
    with pytest.raises(InvalidSettings) as info:
        project.set_values("design", {"design_version": "1.1"})
    error = info.value.errors[0]
    assert (error.field, error.rule, error.value) == ("design_approver_roles", "approver_role_on_roster",
                                                      ["solution_architect"])
    assert project.path.read_bytes() == before
    # status reports the stage's settings as invalid until the roster or the approver roles change
    assert project.settings_or_errors("design")[1][0].rule == "approver_role_on_roster"
    project.set_values("design", {"design_approver_roles": ["team_lead"], "design_version": "1.1"})
    assert project.settings_or_errors("design")[1] == []
