"""Steps: Guide -> Settings -> Review -> Save -> Generate & Run -> Deliverables; Back keeps input."""

from wizard_fixtures import to_settings, wizard, wproject  # noqa: F401

from mlops_accelerator.wizard.stage import STEPS


def test_steps_in_order_and_guide_content(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    assert [s for s, _ in STEPS] == ["guide", "settings", "review", "save", "run", "deliverables"]
    assert w.step_name == "guide" and w.back_button.disabled
    guide = w._panes["guide"].value
    for text in ("Why this stage", "Who takes part", "Tasks", "What this stage produces", "Deliverables",
                 "Solution Architect", "S2.T3"):
        assert text in guide


def test_back_never_loses_input(wproject):  # noqa: F811
    w = wizard(wproject, "foundations")
    to_settings(w)
    w.form.editor("business_use_case").control.value = "Forecast demand"
    w.form.editor("team_roster").add({"name": "Ada", "email": "ada@contoso.com", "roles": ["team_lead"]})
    assert w.next() and w.step_name == "review"
    assert w.back() and w.back() and w.step_name == "guide"
    assert w.next() and w.step_name == "settings"
    assert w.form.editor("business_use_case").get() == "Forecast demand"
    assert w.form.editor("team_roster.0.name").get() == "Ada"
    assert w.body.children[0] is w._panes["settings"]  # the same widgets, not rebuilt


def test_next_disabled_while_invalid_and_steps_locked(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    w.form.editor("key_vault_name").control.value = "kv--bad"
    assert w.next_button.disabled
    assert all(b.disabled for b in w.stepper_buttons[2:])
    assert not w.go(5)
    w.form.editor("key_vault_name").control.value = "kv-good"
    assert not w.next_button.disabled


def test_unsaved_changes_block_generate_and_run(wproject):  # noqa: F811
    w = wizard(wproject, "models")
    to_settings(w)
    ed = next(e for e in w.form.root.fields.values() if e.kind == "bool")
    ed.control.value = not ed.control.value
    if not w.form.valid:
        ed.control.value = not ed.control.value
        return
    w.next()
    w.next()
    assert w.step_name == "save" and w.next_button.disabled
    assert "Save your changes" in w.nav_hint.value
    w.save_button.click()
    assert not w.next_button.disabled


def test_review_shows_changes_against_saved(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    w.form.editor("storage_account_name").control.value = "stnewname"
    w.next()
    text = w.review.value
    assert "1 change" in text and "Storage account name" in text
    assert "stnewname" in text and "mlops-old" in text


def test_review_with_nothing_changed(wproject):  # noqa: F811
    w = wizard(wproject, "migrate")
    to_settings(w)
    w.next()
    assert "Nothing changed" in w.review.value
