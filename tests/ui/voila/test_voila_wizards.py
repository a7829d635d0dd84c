"""The wizards in a real browser, served by `mlops-accelerator serve` (Voila), fully offline."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from uihelpers import VOILA_TOKEN, shot

STAGES = ["foundations", "design", "deploy", "data", "models", "monitor", "migrate"]
FRESH_LOADS = 3  # per stage here; benchmarks/settings_loads.py does 20


def open_page(page, voila_url: str, notebook: str) -> None:
    page.goto(f"{voila_url}/voila/render/{notebook}?token={VOILA_TOKEN}")
    page.wait_for_selector(".mlops-app", state="visible")


def idle(page) -> None:
    """The wizard has finished the step it was asked for (Python acknowledged it)."""
    page.wait_for_selector(".mlops-wizard[data-ready][aria-busy=false]")


def next_step(page, expect: str) -> None:
    page.locator(".mlops-next").click()
    page.wait_for_selector(f".mlops-step-{expect}.mlops-step-current")
    idle(page)


def console_errors(page) -> list[str]:
    return [m for m in page.console_messages_seen if m.startswith(("error:", "pageerror:"))]


# Elements (a selector) cut by a box around them that hides overflow: [description], empty when none.
CLIPPED = """(selector) => {
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    for (let box = el.parentElement; box && r.width; box = box.parentElement) {
      if (getComputedStyle(box).overflowX === 'visible') continue;
      const b = box.getBoundingClientRect();
      const left = b.left + box.clientLeft;
      if (r.left < left - 0.5 || r.right > left + box.clientWidth + 0.5)
        out.push(`${el.className} ${el.dataset.stage || ''} cut by ${box.tagName}.${box.className}`);
    }
  }
  return out;
}"""


@pytest.fixture
def watched(page):
    page.console_messages_seen = []
    page.on("console", lambda m: page.console_messages_seen.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: page.console_messages_seen.append(f"pageerror: {e}"))
    return page


def test_home_page(page, voila_url):
    open_page(page, voila_url, "home.ipynb")
    cards = page.locator(".mlops-stage")
    assert cards.count() == 7
    assert page.locator("text=contoso-churn").first.is_visible()
    assert page.locator(".jp-InputArea").count() == 0  # no code cells shown
    expect(page.locator(".mlops-role-filter select")).to_have_value(re.compile(r".+"))  # never an empty box
    assert page.locator(".mlops-role-filter select option:checked").inner_text().replace("\xa0", " ") == \
        "Everyone: show all stages"
    for width in (1280, 1400):  # no stage card cut by a box around it (a 2 px margin once cut the last column)
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_function(f"() => document.documentElement.clientWidth === {width}")
        assert page.evaluate(CLIPPED, ".mlops-stage") == [], width
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, "home")
    page.select_option(".mlops-role-filter select", label="Data Engineer")
    page.wait_for_selector("text=What is mine as Data Engineer?")
    expect(page.locator(".mlops-stage.dim")).not_to_have_count(0)  # the cards are another widget: wait for them
    shot(page, "home-data-engineer")
    href = page.locator(".mlops-stage[data-stage=design] a.open").get_attribute("href")
    assert href == "02-design.ipynb"


@pytest.mark.parametrize("number,slug", list(enumerate(STAGES, 1)))
def test_settings_step_renders_on_every_fresh_load(watched, voila_url, number, slug):
    """The failure users hit: the Settings step replaced by 'widget model not found'. Never again."""
    page = watched
    for attempt in range(FRESH_LOADS):
        open_page(page, voila_url, f"{number:02d}-{slug}.ipynb")
        idle(page)
        assert page.locator(".mlops-step-guide.mlops-step-current").is_visible()
        if attempt == 0:
            assert page.locator("text=What this stage produces").is_visible()
        next_step(page, "settings")
        page.wait_for_selector(".mlops-settings-pane .mlops-form .mlops-field")
        assert page.locator(".mlops-task-head").first.is_visible()
        assert page.get_by_text("Click to show javascript error").count() == 0
        assert page.locator(".mlops-settings-pane h2").evaluate("e => e === document.activeElement")  # focus
    assert console_errors(page) == []
    assert not any("widget model not found" in m for m in page.console_messages_seen)
    shot(page, f"{number:02d}-{slug}-settings")


# Everything drawn in a task card, checked against the card: nothing reaches past its right edge, and no
# box (a record table's scroll wrapper, an input) hides content sideways.
OVERFLOWS = """() => {
  const out = [];
  for (const card of document.querySelectorAll('.mlops-settings-pane .mlops-task:not([hidden])')) {
    const edge = card.getBoundingClientRect().right;
    for (const el of card.querySelectorAll('*')) {
      if (el.closest('.mlops-visually-hidden, [hidden]')) continue;
      const r = el.getBoundingClientRect();
      if (!r.width) continue;
      const name = `${card.dataset.task} ${el.tagName.toLowerCase()}.${el.className}`;
      if (r.right > edge + 0.5) out.push(`${name} ends ${Math.round(r.right - edge)} px past its card`);
      if (el.scrollWidth > el.clientWidth + 1 && !['visible', 'clip'].includes(getComputedStyle(el).overflowX))
        out.push(`${name} hides ${el.scrollWidth - el.clientWidth} px sideways`);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("number,slug", list(enumerate(STAGES, 1)))
def test_settings_step_fits_its_cards_at_1280_and_1400_px(page, voila_url, number, slug):
    open_page(page, voila_url, f"{number:02d}-{slug}.ipynb")
    next_step(page, "settings")
    page.locator(".mlops-tasklink", has_text="All tasks").click()  # every task card at once
    expect(page.locator(".mlops-settings-pane .mlops-task:not([hidden])")).not_to_have_count(0)
    found = {}
    for width in (1280, 1400):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_function(f"() => document.documentElement.clientWidth === {width}")
        found[width] = page.evaluate(OVERFLOWS)
    assert found == {1280: [], 1400: []}


def test_a_second_next_while_busy_does_not_skip_a_step(page, voila_url):
    open_page(page, voila_url, "03-deploy.ipynb")
    idle(page)
    page.locator(".mlops-next").dblclick()
    page.wait_for_selector(".mlops-step-settings.mlops-step-current")
    idle(page)  # a second step would have been taken in the browser, at the click, before this holds
    assert page.locator(".mlops-step-current").get_attribute("class").count("mlops-step-settings") == 1
    assert page.locator(".mlops-step-review.mlops-step-current").count() == 0


def test_record_lists_are_tables_and_off_features_hide_their_fields(page, voila_url):
    open_page(page, voila_url, "05-models.ipynb")
    next_step(page, "settings")
    nodes = page.locator(".mlops-f-distributed_training-node_count")
    expect(nodes).to_have_count(1)  # drawn, and
    expect(nodes).to_be_hidden()  # hidden: distributed training is off
    page.get_by_label("Enabled").first.check()
    expect(nodes).to_be_visible()
    open_page(page, voila_url, "01-foundations.ipynb")
    next_step(page, "settings")
    page.locator(".mlops-tasklink", has_text="S1.T3").click()
    roster = page.locator(".mlops-f-team_roster table")
    page.locator(".mlops-f-team_roster .mlops-add").click()
    expect(roster).to_be_visible()
    assert roster.locator("thead th").all_inner_texts()[1:3] == ["Name", "E-mail"] or \
        "Roles" in " ".join(roster.locator("thead th").all_inner_texts())
    roster.get_by_label(re.compile(r"^Name, .* 1$")).fill("Ada Lovelace")
    shot(page, "01-foundations-roster-table")


def test_rbac_mapping_is_a_role_by_environment_matrix(page, voila_url):
    open_page(page, voila_url, "02-design.ipynb")
    next_step(page, "settings")
    page.locator(".mlops-tasklink", has_text="S2.T4").click()
    matrix = page.locator(".mlops-f-role_mappings .mlops-matrix")
    expect(matrix).to_be_visible()
    assert matrix.locator("thead th").all_inner_texts() == ["Project role", "dev", "test", "prod"]
    cell = page.get_by_label("Project roles to Azure roles: Data Engineer in prod")
    expect(cell).to_have_value("Reader")
    cell.fill("Nonexistent Role")  # not a built-in or custom role: the rule shows in that cell
    expect(matrix.locator(".mlops-error")).to_contain_text("rule: role_defined")
    cell.fill("Reader")
    expect(matrix.locator(".mlops-error")).to_have_count(0)
    page.locator(".mlops-f-role_mappings .mlops-view-toggle").click()  # every column, as a table
    expect(page.locator(".mlops-f-role_mappings table.mlops-edit-table")).to_be_visible()


def test_maturity_radar_follows_the_levels(page, voila_url):
    open_page(page, voila_url, "01-foundations.ipynb")
    next_step(page, "settings")
    page.locator(".mlops-tasklink", has_text="S1.T2").click()
    radar = page.locator(".mlops-radar svg")
    radar.wait_for()
    before = radar.inner_html()
    table = page.locator(".mlops-f-maturity_assessment")
    while table.locator("tbody tr").count() < 4:
        n = table.locator("tbody tr").count()
        table.locator(".mlops-add").click()
        expect(table.locator("tbody tr")).to_have_count(n + 1)
    for i, dim in enumerate(["People", "Model creation", "Model release", "Application integration"]):
        page.select_option(f".mlops-f-maturity_assessment-{i}-dimension select", label=dim)
    page.select_option(".mlops-f-maturity_assessment-0-current_level select", label="2 · Automated training")
    page.select_option(".mlops-f-maturity_assessment-2-current_level select", label="1 · DevOps but no MLOps")
    # Wait for Python's redraw of these levels (the overall level alone was already 0 before them).
    def now(dimension: str):
        return page.locator(".mlops-radar-panel tbody tr").filter(
            has=page.locator("th", has_text=re.compile(f"^{dimension}$"))).locator("td").first

    expect(now("People")).to_have_text(re.compile(r"^2 · "))
    expect(now("Model release")).to_have_text(re.compile(r"^1 · "))
    expect(page.locator(".mlops-radar-panel")).to_contain_text("Overall level: 0")
    assert radar.inner_html() != before  # redrawn as levels are chosen
    shot(page, "01-foundations-maturity-radar")


def test_design_invalid_storage_name_then_fix_and_save(page, voila_url, cli):
    open_page(page, voila_url, "02-design.ipynb")
    next_step(page, "settings")
    field = page.locator(".mlops-f-storage_account_name")
    box = page.get_by_label("Storage account name", exact=True)
    box.fill("")
    box.type("StContoso")  # typed key by key, like a person
    error = field.locator(".mlops-error")
    expect(error).to_contain_text("lowercase letters and digits only")  # beside the field, as you type
    expect(error).to_contain_text("rule: azure_storage_account_name")  # the rule is named
    expect(error).to_contain_text("got 'StContoso'")
    expect(box).to_have_attribute("aria-invalid", "true")
    summary = page.locator(".mlops-summary-errors")
    expect(summary).to_contain_text("1 setting to fix")  # and in the summary
    expect(page.locator(".mlops-step-settings .mlops-badge")).to_have_text("1")  # the step's badge
    expect(page.locator(".mlops-next")).to_be_disabled()
    shot(page, "02-design-invalid-storage-name")
    page.locator(".mlops-tasklink", has_text="S2.T2").click()  # elsewhere in the form
    summary.get_by_role("link", name="Storage account name").click()  # the summary jumps back to the field
    expect(box).to_be_focused()
    box.fill("stcontoso42")
    field.locator(".mlops-error").wait_for(state="detached")
    expect(page.locator(".mlops-next")).to_be_enabled()
    next_step(page, "review")
    assert "stcontoso42" in page.locator(".mlops-review").inner_text()
    expect(page.locator(".mlops-next")).to_be_disabled()  # unsaved: Generate & run waits
    page.locator(".mlops-save").click()
    page.wait_for_selector("text=Saved.")
    expect(page.locator(".mlops-next")).to_be_enabled()
    shot(page, "02-design-saved")
    out = cli("settings", "show", "design", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["storage_account_name"] == "stcontoso42"


def test_last_step_continues_to_the_next_stage(page, voila_url):
    open_page(page, voila_url, "06-monitor.ipynb")
    idle(page)
    page.locator(".mlops-step-deliverables").click()
    page.wait_for_selector(".mlops-deliverables table")
    link = page.locator(".mlops-continue")
    expect(link).to_be_visible()
    assert link.get_attribute("href") == "07-migrate.ipynb"


def test_deliverables_step_and_signoff(page, voila_url, project):
    open_page(page, voila_url, "01-foundations.ipynb")
    idle(page)
    page.locator(".mlops-step-deliverables").click()
    page.wait_for_selector(".mlops-deliverables table")
    page.locator(".mlops-signoff-form input[type=text]").fill("Grace Hopper")
    page.locator(".mlops-signoff").click()
    page.wait_for_selector("text=Signed off")
    shot(page, "01-foundations-deliverables")
    assert any(e["by"] == "Grace Hopper" for e in project.events("signoff"))


def test_run_stage_1_lists_outputs(page, voila_url):
    open_page(page, voila_url, "01-foundations.ipynb")
    for step in ("settings", "review", "run"):
        next_step(page, step)
    page.locator(".mlops-run").click()
    page.wait_for_function(
        "() => /succeeded|failed/.test(document.querySelector('.mlops-run-state')?.innerText || '')",
        timeout=300_000)
    # The poll that reports the end renders the outputs (or the log's reason) just after the state.
    page.wait_for_function(
        "() => /Outputs \\(\\d+\\)/.test(document.querySelector('.mlops-outputs')?.innerText || '')"
        " || /no notebook templates/.test(document.querySelector('.mlops-log')?.innerText || '')",
        timeout=60_000)
    log = page.locator(".mlops-log").inner_text()
    if "no notebook templates" in log:
        shot(page, "01-foundations-run-no-templates")
        pytest.skip("stage 1 has no notebook templates yet")
    shot(page, "01-foundations-run")
    outputs = page.locator(".mlops-outputs").inner_text()
    assert re.search(r"Outputs \(\d+\)", outputs), outputs
    assert ".ipynb" in outputs


def test_leaving_with_unsaved_edits_asks_first(page, voila_url):
    open_page(page, voila_url, "07-migrate.ipynb")
    next_step(page, "settings")
    page.locator(".mlops-settings-pane input[type=text]").first.fill("changed by a person")
    page.wait_for_selector(".mlops-wizard[aria-busy=false]")
    expect(page.locator(".mlops-step-review")).to_be_enabled()
    # A reload is a leave the person can cancel. (Closing the page with run_before_unload and
    # dismissing raced Chromium's own close: once in five full runs the context was gone at teardown.)
    asked = []

    def stay(dialog):
        asked.append(dialog.type)
        dialog.dismiss()  # stay

    page.on("dialog", stay)
    page.evaluate("() => { setTimeout(() => location.reload(), 0); }")
    for _ in range(300):  # the dialog event is handled while Playwright waits: wait in steps
        if asked:
            break
        page.wait_for_timeout(100)
    assert asked == ["beforeunload"]
    # Nothing is lost: the same page, with the edit, still ready for more.
    expect(page.locator(".mlops-settings-pane input[type=text]").first).to_have_value("changed by a person")
    expect(page.locator(".mlops-step-review")).to_be_enabled()
