"""Validation as you type: the CLI's validator, messages beside the field, Next disabled."""

from wizard_fixtures import errors_at, shown_error, to_settings, wizard, wproject  # noqa: F401


def test_invalid_storage_account_name_is_shown_beside_the_field(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    w.form.editor("storage_account_name").control.value = "StBad"
    text = shown_error(w, "storage_account_name")
    assert "lowercase letters and digits only" in text
    assert "azure_storage_account_name" in text  # the rule is named
    assert "mlops-invalid" in w.form.editor("storage_account_name").widget._dom_classes
    assert w.next_button.disabled
    assert "Fix 1 setting" in w.nav_hint.value
    w.form.editor("storage_account_name").control.value = "stcontoso"
    assert shown_error(w, "storage_account_name") == ""
    assert not w.next_button.disabled


def test_same_messages_as_the_cli_validator(wproject):  # noqa: F811
    from mlops_accelerator.settings import validate_settings

    w = wizard(wproject, "design")
    to_settings(w)
    w.form.editor("storage_account_name").control.value = "St_Bad"
    _, cli_errors = validate_settings("design", w.form.values())
    assert w.form.errors == cli_errors


def test_negative_budget_names_the_rule_and_saves_nothing(wproject):  # noqa: F811
    before = wproject.path.read_text()
    w = wizard(wproject, "design")
    to_settings(w)
    w.form.editor("budgets.0.amount").control.value = -100.0
    (e,) = errors_at(w, "budgets.0.amount")
    assert e.rule == "greater_than"
    assert "greater_than" in shown_error(w, "budgets.0.amount")
    assert not w.next()  # Next refused
    assert not w.save()  # and saving refuses too
    assert wproject.path.read_text() == before


def test_roster_member_without_roles_is_refused(wproject):  # noqa: F811
    before = wproject.path.read_text()
    w = wizard(wproject, "foundations")
    to_settings(w)
    w.form.editor("team_roster").add({"name": "Ada", "email": "ada@contoso.com", "roles": []})
    (e,) = errors_at(w, "team_roster.0.roles")
    assert e.rule == "too_short"
    assert "too_short" in shown_error(w, "team_roster.0.roles")
    assert w.next_button.disabled and not w.save()
    assert wproject.path.read_text() == before


def test_cross_field_error_shows_where_it_applies(wproject):  # noqa: F811
    w = wizard(wproject, "foundations")
    to_settings(w)
    w.form.editor("source_control_platform").control.value = "gitlab"
    w.form.editor("cicd_platform").control.value = "github_actions"
    assert "cicd_needs_github" in shown_error(w, "cicd_platform")
    assert shown_error(w, "source_control_platform") == ""
    # inside a record list: the row's field carries it
    roster = w.form.editor("team_roster")
    roster.add({"name": "Ada", "email": "ada@contoso.com", "roles": ["team_lead"]})
    roster.add({"name": "Ada B", "email": "ADA@contoso.com", "roles": ["data_engineer"]})
    assert "roster_email_unique" in shown_error(w, "team_roster.1.email")
    assert shown_error(w, "team_roster.0.email") == ""


def test_list_level_error_lands_on_the_list(wproject):  # noqa: F811
    w = wizard(wproject, "data")
    to_settings(w)
    for i in range(3):
        w.form.editor(f"datastores.{i}.is_default").control.value = False
    assert "single_default_datastore" in w.form.editor("datastores").error_box.value


def test_summary_lists_all_errors_with_titles(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    w.form.editor("storage_account_name").control.value = "X"
    summary = w.form.general_errors.value
    assert "Storage account name" in summary and "1 setting to fix" in summary


def test_task_navigation_counts_errors(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    w.form.editor("storage_account_name").control.value = "X"
    labels = [b.description for b in w.task_buttons.values()]
    assert any("S2.T3" in t and "(1 to fix)" in t for t in labels)


def test_design_wizard_flags_a_roster_without_the_roles_stage_2_needs(wproject):  # noqa: F811
    wproject.set_values("foundations", {"team_roster": [
        {"name": "Mei Chen", "email": "mei@contoso.com", "roles": ["data_scientist"]},
        {"name": "Dana Lee", "email": "dana@contoso.com", "roles": ["team_lead"]}]})
    before = wproject.path.read_bytes()
    w = wizard(wproject, "design")
    to_settings(w)
    # shown beside the approver roles as soon as the form opens, naming the rule and the missing role
    assert [e.rule for e in errors_at(w, "design_approver_roles")] == ["approver_role_on_roster"]
    assert "solution_architect" in shown_error(w, "design_approver_roles")
    assert w.next_button.disabled
    assert wproject.path.read_bytes() == before
