"""Validation as you type: the CLI's validator judges every edit; errors go to the browser by field."""

from wizard_fixtures import errors_at, sent_errors, to_settings, wizard, wproject  # noqa: F401


def test_invalid_storage_account_name_is_sent_for_the_field(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    w.edit("storage_account_name", "StBad")
    (e,) = sent_errors(w, "storage_account_name")
    assert "lowercase letters and digits only" in e["message"]
    assert e["rule"] == "azure_storage_account_name"  # the rule is named
    assert e["got"] == "'StBad'" and e["label"] == "Storage account name"
    assert w.app.checked_rev == w.app.rev  # the browser knows this edit was judged
    assert not w.next() and w.step_name == "settings"
    assert w.blocker("settings") == "Fix 1 setting to continue."
    w.edit("storage_account_name", "stcontoso")
    assert sent_errors(w, "storage_account_name") == []
    assert w.next() and w.step_name == "review"


def test_same_errors_as_the_cli_validator(wproject):  # noqa: F811
    from mlops_accelerator.settings import validate_settings

    w = wizard(wproject, "design")
    to_settings(w)
    w.edit("storage_account_name", "St_Bad")
    _, cli_errors = validate_settings("design", w.values(), wproject.other_stages("design"))
    assert w.errors() == cli_errors
    assert [e["field"] for e in w.app.errors] == [e.field for e in cli_errors]


def test_value_and_rev_in_one_message_are_validated_once_whole(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    values = w.values()
    values["key_vault_name"] = "kv--bad"
    w.app.set_state({"rev": 7, "value": values})  # the order of keys in a message must not matter
    assert w.app.checked_rev == 7
    assert [e["field"] for e in w.app.errors] == ["key_vault_name"]


def test_negative_budget_names_the_rule_and_saves_nothing(wproject):  # noqa: F811
    before = wproject.path.read_text()
    w = wizard(wproject, "design")
    to_settings(w)
    w.edit("budgets.0.amount", -100.0)
    (e,) = errors_at(w, "budgets.0.amount")
    assert e.rule == "greater_than"
    assert sent_errors(w, "budgets.0.amount")[0]["label"] == "Budgets and spend alerts › #1 › Amount"
    assert not w.next()  # Next refused
    assert not w.save()  # and saving refuses too
    assert w.app.save_state["kind"] == "bad"
    assert wproject.path.read_text() == before


def test_text_where_a_number_belongs_is_an_error_not_a_crash(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    w.edit("budgets.0.amount", "twelve")  # the browser sends what it cannot parse as typed
    (e,) = errors_at(w, "budgets.0.amount")
    assert e.rule == "float_parsing"


def test_roster_member_without_roles_is_refused(wproject):  # noqa: F811
    before = wproject.path.read_text()
    w = wizard(wproject, "foundations")
    to_settings(w)
    w.edit("team_roster", [{"name": "Ada", "email": "ada@contoso.com", "roles": []}])
    (e,) = errors_at(w, "team_roster.0.roles")
    assert e.rule == "too_short"
    assert not w.next() and not w.save()
    assert wproject.path.read_text() == before


def test_cross_field_error_lands_on_the_field_to_change(wproject):  # noqa: F811
    w = wizard(wproject, "foundations")
    to_settings(w)
    w.edit("source_control_platform", "gitlab")
    w.edit("cicd_platform", "github_actions")
    assert [e["rule"] for e in sent_errors(w, "cicd_platform")] == ["cicd_needs_github"]
    assert sent_errors(w, "source_control_platform") == []
    w.edit("team_roster", [{"name": "Ada", "email": "ada@contoso.com", "roles": ["team_lead"]},
                           {"name": "Ada B", "email": "ADA@contoso.com", "roles": ["data_engineer"]}])
    assert [e["rule"] for e in sent_errors(w, "team_roster.1.email")] == ["roster_email_unique"]
    assert sent_errors(w, "team_roster.0.email") == []


def test_design_wizard_flags_a_roster_without_the_roles_stage_2_needs(wproject):  # noqa: F811
    wproject.set_values("foundations", {"team_roster": [
        {"name": "Mei Chen", "email": "mei@contoso.com", "roles": ["data_scientist"]},
        {"name": "Dana Lee", "email": "dana@contoso.com", "roles": ["team_lead"]}]})
    before = wproject.path.read_bytes()
    w = wizard(wproject, "design")
    # sent with the form as soon as it opens, naming the rule and the missing role
    assert [e.rule for e in errors_at(w, "design_approver_roles")] == ["approver_role_on_roster"]
    assert "solution_architect" in sent_errors(w, "design_approver_roles")[0]["message"]
    assert w.next() and not w.next()  # Settings opens; Review does not
    assert wproject.path.read_bytes() == before
