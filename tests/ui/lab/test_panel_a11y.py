"""axe-core (npm, injected by Playwright) on the MLOps Accelerator sidebar in JupyterLab's light, dark
and (shipped with JupyterLab, offline) dark high-contrast themes: no serious or critical violation
(WCAG 2.1 A/AA and best practices, colour contrast included)."""

from __future__ import annotations

import pytest
from conftest import REPO
from test_panel import PANEL, expand, set_theme

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
THEMES = ["JupyterLab Light", "JupyterLab Dark", "JupyterLab Dark High Contrast"]
# JupyterLab's <html> and <body> are 0 px high (the app is absolutely positioned) and the body has
# overflow: hidden. Browsers clip nothing there, but axe takes them as clipping the whole app, judges
# every text invisible and skips colour contrast. Giving them the viewport's height draws the same page.
# Only the sidebar is ours: JupyterLab's own chrome is judged upstream.
RUN = """async (panel) => {
  document.documentElement.style.height = '100%';
  document.body.style.height = '100%';
  const r = await axe.run(panel, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']});
  const contrast = r.passes.concat(r.violations).filter(v => v.id === 'color-contrast')
    .reduce((n, v) => n + v.nodes.length, 0);
  return {contrast, serious: r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .flatMap(v => v.nodes.map(n => `${v.id} (${v.impact}): ${n.target.join(' ')} ${n.failureSummary}`))};
}"""


@pytest.fixture(scope="module")
def signed_item(lab):
    """A deliverable signed off, so its "done" state and signature are on show too."""
    _, status = lab.api("GET", "status")
    item = next(i for s in status["stages"] if s["number"] == 1 for i in s["items"]
                if i["verification"] == "signoff" and i["state"] != "not_applicable")
    if not item["signoffs"]:
        out = lab.cli("signoff", item["id"], "--by", "Grace Hopper", "--role", item["signoff_roles"][0])
        assert out.returncode == 0, out.stderr
    return item["id"]


@pytest.mark.parametrize("theme", THEMES)
def test_sidebar_has_no_serious_violation(page, theme, signed_item, screenshots):
    assert AXE.is_file(), f"{AXE} is missing: `jlpm install` installs axe-core (a devDependency)"
    page.locator(".jp-MLOpsAccelerator-refresh").click()
    page.locator(f"{PANEL} select.jp-MLOpsAccelerator-roleFilter").select_option("data_engineer")  # active chips
    try:
        set_theme(page, theme)
        for number in (1, 3):  # expanded stages: deliverables in several states, sign-off and run buttons
            expand(page, number)
        page.locator(f'{PANEL} [data-item="{signed_item}"] .jp-MLOpsAccelerator-signed').wait_for()
        # tall enough for the whole panel: axe judges what a person could scroll to, all on screen
        height = page.locator(PANEL).evaluate("p => p.scrollHeight + p.getBoundingClientRect().top + 40")
        page.set_viewport_size({"width": 1400, "height": int(min(max(height, 900), 8000))})
        page.add_script_tag(content=AXE.read_text())
        found = page.locator(PANEL).evaluate(RUN)
        page.screenshot(path=str(screenshots / f"lab-panel-axe-{theme.lower().replace(' ', '-')}.png"))
    finally:
        page.set_viewport_size({"width": 1400, "height": 900})
        set_theme(page, "JupyterLab Light")
    assert found["contrast"] > 50  # the texts of the panel were judged (not an empty or hidden panel)
    assert found["serious"] == []


@pytest.fixture(scope="module")
def wizard_page(browser, tmp_path_factory):
    """A lab of its own: after test_panel's tests leave five wizard tabs open in the shared lab, axe
    judged no text of the wizard at all (cause not found yet; alone it judges ~270 elements)."""
    from conftest import open_lab, start_lab, stop_lab

    from mlops_accelerator.azure.preflight import Finding, save_findings
    from mlops_accelerator.workspace import Project

    lab = start_lab(tmp_path_factory.mktemp("a11y-lab"))
    # a saved pre-flight finding, so its note beside the setting is judged too (its orange text was 2.7:1)
    save_findings(Project.find(lab.root), [Finding("prod", "names", "storage account name 'stcontosochurnprod' is "
                                                   "taken", "design.storage_account_name")])
    page = open_lab(browser, lab)
    yield page
    page.close()
    stop_lab(lab)


@pytest.mark.parametrize("theme", THEMES)
def test_wizard_in_jupyterlab_has_no_serious_violation(wizard_page, theme, screenshots):
    """The stage wizard drawn in a notebook takes JupyterLab's theme: judged on its settings step with
    an error shown (the error colours, the summary, the badges)."""
    from test_panel import rendered_wizard

    page = wizard_page

    expand(page, 2).locator('[data-action="wizard"]').click()
    wizard = rendered_wizard(page, "02-design")
    try:
        set_theme(page, theme)
        wizard.and_(page.locator(".mlops-wizard[data-ready][aria-busy=false]")).wait_for()
        if wizard.locator(".mlops-step-settings.mlops-step-current").count() == 0:
            wizard.locator(".mlops-next").click()
        box = wizard.get_by_label("Storage account name", exact=True)
        box.fill("Not_Valid")
        wizard.locator(".mlops-summary-errors").wait_for()
        wizard.locator(".mlops-f-storage_account_name .mlops-finding").wait_for()
        wizard.locator(".mlops-tasklink", has_text="All tasks").click()
        # the whole wizard on screen (axe skips what is scrolled out of the notebook's view)
        height = wizard.evaluate("w => w.getBoundingClientRect().height")
        page.set_viewport_size({"width": 1400, "height": int(min(height + 400, 8000))})
        wizard.evaluate("w => w.closest('.jp-WindowedPanel-outer').scrollTop = 0")
        page.add_script_tag(content=AXE.read_text())
        found = wizard.evaluate(RUN)
        page.screenshot(path=str(screenshots / f"lab-wizard-axe-{theme.lower().replace(' ', '-')}.png"))
        box.fill("stvalid01")  # leave the shared project's wizard valid for the next theme
        wizard.locator(".mlops-summary-errors").wait_for(state="detached")
    finally:
        page.set_viewport_size({"width": 1400, "height": 900})
        set_theme(page, "JupyterLab Light")
    assert found["contrast"] > 50
    assert found["serious"] == []
