"""A wizard that finds the settings changed under it says so instead of overwriting."""

from wizard_fixtures import browser_save, save_through_steps, saved, to_settings, wizard, wproject  # noqa: F401


def test_cli_save_meanwhile_is_reported_not_overwritten(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    w.edit("storage_account_name", "stfromwizard")
    # meanwhile, the CLI (or another tab) changes another setting of the same stage
    wproject.set_values("design", {"key_vault_name": "kv-from-cli"}, via="cli")
    assert not save_through_steps(w)
    state = w.app.save_state
    assert "changed by someone else" in state["title"] and state["conflict"] is True
    assert any(r["new"] == "kv-from-cli" for r in state["rows"])  # their change is shown
    s = saved(wproject, "design")
    assert s["key_vault_name"] == "kv-from-cli" and s["storage_account_name"] != "stfromwizard"
    assert w.values()["storage_account_name"] == "stfromwizard"  # my answer kept


def test_load_theirs_then_save_mine(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    wproject.set_values("design", {"key_vault_name": "kv-from-cli"}, via="cli")
    w.edit("storage_account_name", "stfromwizard")
    assert not save_through_steps(w)
    epoch = w.app.value_epoch
    w._on_msg(w.app, {"type": "load_theirs"}, [])
    assert w.values()["key_vault_name"] == "kv-from-cli"
    assert w.app.value_epoch == epoch + 1  # the browser redraws the form with their values
    w.edit("storage_account_name", "stfromwizard")
    browser_save(w)
    s = saved(wproject, "design")
    assert s["key_vault_name"] == "kv-from-cli" and s["storage_account_name"] == "stfromwizard"


def test_explicit_overwrite(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    wproject.set_values("design", {"key_vault_name": "kv-from-cli"}, via="cli")
    w.edit("storage_account_name", "stfromwizard")
    assert not save_through_steps(w)
    browser_save(w, overwrite=True)
    assert w.app.save_state["title"] == "Saved."
    assert saved(wproject, "design")["key_vault_name"] != "kv-from-cli"


def test_two_tabs_on_different_stages_do_not_interfere(wproject):  # noqa: F811
    a, b = wizard(wproject, "design"), wizard(wproject, "data")
    to_settings(a)
    to_settings(b)
    a.edit("storage_account_name", "sttaba")
    b.edit("data_profile", False)
    assert save_through_steps(a) and save_through_steps(b)
    assert saved(wproject, "design")["storage_account_name"] == "sttaba"
    assert saved(wproject, "data")["data_profile"] is False
