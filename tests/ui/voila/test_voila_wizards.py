"""The wizards in a real browser, served by `mlops-accelerator serve` (Voila), fully offline."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from uihelpers import VOILA_TOKEN, shot

STAGES = ["foundations", "design", "deploy", "data", "models", "monitor", "migrate"]


def open_page(page, voila_url: str, notebook: str) -> None:
    page.goto(f"{voila_url}/voila/render/{notebook}?token={VOILA_TOKEN}")
    page.wait_for_selector(".mlops-app", state="visible")


def next_step(page, expect: str) -> None:
    page.locator(".mlops-next").click()
    page.wait_for_selector(f".mlops-step-{expect}.mlops-step-current")


def test_home_page(page, voila_url):
    open_page(page, voila_url, "home.ipynb")
    cards = page.locator(".mlops-stage")
    assert cards.count() == 7
    assert page.locator("text=contoso-churn").first.is_visible()
    assert page.locator(".jp-InputArea").count() == 0  # no code cells shown
    shot(page, "home")
    page.select_option(".mlops-role-filter select", label="Data Engineer")
    page.wait_for_selector("text=What is mine as Data Engineer?")
    assert page.locator(".mlops-stage.dim").count() >= 1
    shot(page, "home-data-engineer")
    href = page.locator(".mlops-stage[data-stage=design] a.open").get_attribute("href")
    assert href == "02-design.ipynb"


@pytest.mark.parametrize("number,slug", list(enumerate(STAGES, 1)))
def test_stage_wizard_renders(page, voila_url, number, slug):
    open_page(page, voila_url, f"{number:02d}-{slug}.ipynb")
    assert page.locator(".mlops-step-guide.mlops-step-current").is_visible()
    assert page.locator("text=What this stage produces").is_visible()
    shot(page, f"{number:02d}-{slug}-guide")
    next_step(page, "settings")
    page.wait_for_selector(".mlops-form .mlops-field")
    assert page.locator(".mlops-task-head").first.is_visible()
    shot(page, f"{number:02d}-{slug}-settings")


def test_maturity_radar_follows_the_levels(page, voila_url):
    open_page(page, voila_url, "01-foundations.ipynb")
    next_step(page, "settings")
    page.locator(".mlops-tasklink", has_text="S1.T2").click()
    radar = page.locator(".mlops-radar svg")
    radar.wait_for()
    page.locator(".mlops-radar-panel .mlops-add").click()
    page.wait_for_selector(".mlops-f-maturity_assessment-3-current_level select")
    before = radar.inner_html()
    page.select_option(".mlops-f-maturity_assessment-0-current_level select", label="2 · Automated training")
    page.select_option(".mlops-f-maturity_assessment-0-target_level select", label="3 · Automated model deployment")
    page.select_option(".mlops-f-maturity_assessment-2-current_level select", label="1 · DevOps but no MLOps")
    expect(page.locator(".mlops-radar-panel")).to_contain_text("Overall level: 0")
    assert radar.inner_html() != before  # redrawn as levels are chosen
    page.locator(".mlops-radar-panel").scroll_into_view_if_needed()
    shot(page, "01-foundations-maturity-radar")


def test_design_invalid_storage_name_then_fix_and_save(page, voila_url, cli):
    open_page(page, voila_url, "02-design.ipynb")
    next_step(page, "settings")
    field = page.locator(".mlops-f-storage_account_name")
    box = field.locator("input")
    box.fill("")
    box.type("StContoso")  # typed key by key, like a person
    error = field.locator(".mlops-error")
    expect(error).to_contain_text("lowercase letters and digits only")  # as you type
    expect(error).to_contain_text("rule: azure_storage_account_name")  # the rule is named
    expect(error).to_contain_text("got 'StContoso'")
    expect(page.locator(".mlops-next")).to_be_disabled()
    shot(page, "02-design-invalid-storage-name")
    box.fill("stcontoso42")
    field.locator(".mlops-error").wait_for(state="detached")
    expect(page.locator(".mlops-next")).to_be_enabled()
    next_step(page, "review")
    assert "stcontoso42" in page.locator(".mlops-review").inner_text()
    shot(page, "02-design-review")
    next_step(page, "save")
    page.locator(".mlops-save").click()
    page.wait_for_selector("text=Saved.")
    shot(page, "02-design-saved")
    out = cli("settings", "show", "design", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["storage_account_name"] == "stcontoso42"


def test_deliverables_step_and_signoff(page, voila_url, project):
    open_page(page, voila_url, "01-foundations.ipynb")
    page.locator(".mlops-step-deliverables").click()
    page.wait_for_selector(".mlops-deliverables table")
    page.locator(".mlops-signoff-form input[type=text]").fill("Grace Hopper")
    page.locator(".mlops-signoff").click()
    page.wait_for_selector("text=Signed off")
    shot(page, "01-foundations-deliverables")
    assert any(e["by"] == "Grace Hopper" for e in project.events("signoff"))


def test_run_stage_1_lists_outputs(page, voila_url):
    open_page(page, voila_url, "01-foundations.ipynb")
    for step in ("settings", "review", "save", "run"):
        next_step(page, step)
    page.locator(".mlops-run").click()
    page.wait_for_function(
        "() => /succeeded|failed/.test(document.querySelector('.mlops-run-state')?.innerText || '')",
        timeout=300_000)
    page.wait_for_timeout(1500)  # the last poll renders the outputs
    log = page.locator(".mlops-log").inner_text()
    if "no notebook templates" in log:
        shot(page, "01-foundations-run-no-templates")
        pytest.skip("stage 1 has no notebook templates yet")
    shot(page, "01-foundations-run")
    outputs = page.locator(".mlops-outputs").inner_text()
    assert re.search(r"Outputs \(\d+\)", outputs), outputs
    assert ".ipynb" in outputs
