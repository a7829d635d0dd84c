"""Steps: Guide -> Settings -> Review & save -> Generate & run -> Deliverables; Back keeps input."""

from wizard_fixtures import browser_save, to_settings, wizard, wproject  # noqa: F401


def test_steps_in_order_and_guide_content(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    assert w.step_names == ["guide", "settings", "review", "run", "deliverables"]
    assert [s["label"] for s in w.app.meta["steps"]][2] == "Review & save"  # review and save are one step
    assert w.step_name == "guide" and w.app.ready_step == "guide"
    guide = w.app.meta["guide_html"]
    for text in ("Why this stage", "Who takes part", "Tasks", "What this stage produces", "Deliverables",
                 "Solution Architect", "S2.T3"):
        assert text in guide


def test_stages_without_notebooks_offer_no_run(wproject):  # noqa: F811
    from mlops_accelerator.templates import stage_templates

    for stage in ("foundations", "migrate"):
        w = wizard(wproject, stage)
        assert ("run" in w.step_names) == bool(stage_templates(stage))


def test_last_step_offers_the_next_stage(wproject):  # noqa: F811
    cont = wizard(wproject, "design").app.meta["continue"]
    assert cont["href"] == "03-deploy.ipynb" and cont["label"].startswith("Continue to stage 3: ")
    assert wizard(wproject, "migrate").app.meta["continue"]["href"] == "home.ipynb"


def test_back_never_loses_input(wproject):  # noqa: F811
    w = wizard(wproject, "foundations")
    to_settings(w)
    w.edit("business_use_case", "Forecast demand")
    assert w.back() and w.step_name == "guide"
    assert w.next() and w.step_name == "settings"
    assert w.values()["business_use_case"] == "Forecast demand"


def test_a_step_the_browser_asks_for_too_early_is_refused(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    w.edit("key_vault_name", "kv--bad")
    w.app.set_state({"step": "deliverables"})  # a stale or forged request from the page
    assert w.step_name == "settings" and w.app.ready_step == "settings"
    w.edit("key_vault_name", "kv-good")
    assert w.next() and w.step_name == "review"


def test_every_step_change_is_acknowledged_once_prepared(wproject):  # noqa: F811
    """The browser keeps Next disabled until ready_step equals step: a double click cannot skip."""
    w = wizard(wproject, "foundations")
    seen = []
    w.app.observe(lambda ch: seen.append((ch["name"], ch["new"])), names=["ready_step"])
    assert w.next()
    assert seen == [("ready_step", "settings")]
    assert w.go("deliverables")  # nothing to save: reachable
    assert w.app.ready_step == "deliverables" and w.below.children == (w.deliverables.widget,)


def test_unsaved_changes_block_generate_and_run(wproject):  # noqa: F811
    w = wizard(wproject, "foundations")
    to_settings(w)
    w.edit("business_use_case", "Forecast demand")
    assert w.next() and w.step_name == "review"
    assert not w.next()
    assert "Save your changes" in w.blocker("review")
    browser_save(w)
    assert w.app.save_state["title"] == "Saved." and w.app.changes == []
    assert w.next() and w.step_name == w.step_names[3]


def test_review_shows_changes_against_saved(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    w.edit("storage_account_name", "stnewname")
    (c,) = w.app.changes
    assert c == {"field": "storage_account_name", "label": "Storage account name", "old": "stmlops",
                 "new": "stnewname"}


def test_review_with_nothing_changed(wproject):  # noqa: F811
    w = wizard(wproject, "migrate")
    to_settings(w)
    assert w.next() and w.app.changes == []


def test_panels_are_closed_when_their_step_is_left(wproject):  # noqa: F811
    from mlops_accelerator.wizard.formwidget import count_widget_models

    w = wizard(wproject, "foundations")
    base = count_widget_models()
    w.go("deliverables")
    panel = w.deliverables
    assert count_widget_models() > base
    w.go("guide")
    assert panel.widget.comm is None and count_widget_models() == base
