"""A wizard that finds the settings changed under it says so instead of overwriting."""

from wizard_fixtures import save_through_steps, saved, to_settings, wizard, wproject  # noqa: F401


def test_cli_save_meanwhile_is_reported_not_overwritten(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    w.form.editor("storage_account_name").control.value = "stfromwizard"
    # meanwhile, the CLI (or another tab) changes another setting of the same stage
    wproject.set_values("design", {"key_vault_name": "kv-from-cli"}, via="cli")
    assert not save_through_steps(w)
    assert "changed by someone else" in w.save_message.value
    assert "kv-from-cli" in w.save_message.value  # their change is shown
    s = saved(wproject, "design")
    assert s["key_vault_name"] == "kv-from-cli" and s["storage_account_name"] != "stfromwizard"
    assert w.form.editor("storage_account_name").get() == "stfromwizard"  # my answer kept


def test_save_step_warns_before_saving(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    w.form.editor("storage_account_name").control.value = "stfromwizard"
    wproject.set_values("design", {"key_vault_name": "kv-from-cli"}, via="cli")
    w.next()
    w.next()
    assert w.step_name == "save" and "Someone else" in w.save_summary.value


def test_load_theirs_then_save_mine(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    wproject.set_values("design", {"key_vault_name": "kv-from-cli"}, via="cli")
    w.form.editor("storage_account_name").control.value = "stfromwizard"
    assert not save_through_steps(w)
    w.reload_button.click()
    assert w.form.editor("key_vault_name").get() == "kv-from-cli"
    w.form.editor("storage_account_name").control.value = "stfromwizard"
    w.save_button.click()
    s = saved(wproject, "design")
    assert s["key_vault_name"] == "kv-from-cli" and s["storage_account_name"] == "stfromwizard"


def test_explicit_overwrite(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    wproject.set_values("design", {"key_vault_name": "kv-from-cli"}, via="cli")
    w.form.editor("storage_account_name").control.value = "stfromwizard"
    assert not save_through_steps(w)
    w.overwrite_button.click()
    assert "Saved" in w.save_message.value
    assert saved(wproject, "design")["key_vault_name"] != "kv-from-cli"


def test_two_tabs_on_different_stages_do_not_interfere(wproject):  # noqa: F811
    a, b = wizard(wproject, "design"), wizard(wproject, "data")
    to_settings(a)
    to_settings(b)
    a.form.editor("storage_account_name").control.value = "sttaba"
    b.form.editor("data_profile").control.value = False
    assert save_through_steps(a) and save_through_steps(b)
    assert saved(wproject, "design")["storage_account_name"] == "sttaba"
    assert saved(wproject, "data")["data_profile"] is False
