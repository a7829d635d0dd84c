"""axe-core (npm, injected by Playwright) on every wizard step and the home page, light and dark themes:
no serious or critical violation (WCAG 2.1 A/AA and best practices, colour contrast included)."""

from __future__ import annotations

import pytest
from uihelpers import REPO, VOILA_TOKEN

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
STAGES = ["01-foundations", "02-design", "03-deploy", "04-data", "05-models", "06-monitor", "07-migrate"]
RUN = """async () => {
  const r = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']});
  const judged = r.passes.concat(r.violations).filter(v => v.id === 'color-contrast')
    .reduce((n, v) => n + v.nodes.length, 0);
  if (judged < 10) return [`color-contrast judged only ${judged} elements: the page was not really checked`];
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`);
}"""


def _axe(page) -> list[str]:
    if not page.evaluate("!!window.axe"):
        page.add_script_tag(content=AXE.read_text())
    return page.evaluate(RUN)


@pytest.fixture(scope="module")
def axe_ready():
    assert AXE.is_file(), f"{AXE} is missing: `jlpm install` installs axe-core (a devDependency)"


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("name", STAGES)
def test_every_step_has_no_serious_violation(page, voila_url, axe_ready, name, theme):
    page.goto(f"{voila_url}/voila/render/{name}.ipynb?theme={theme}&token={VOILA_TOKEN}")
    page.wait_for_selector(".mlops-wizard[data-ready][aria-busy=false]")
    found = {}
    for step in ("guide", "settings", "review", "deliverables"):
        if step != "guide":
            page.locator(f".mlops-step-{step}").click()
            page.wait_for_selector(f".mlops-step-{step}.mlops-step-current")
            page.wait_for_selector(".mlops-wizard[aria-busy=false]")
        if step == "settings":
            page.locator(".mlops-tasklink", has_text="All tasks").click()
        found[step] = _axe(page)
    assert found == {s: [] for s in found}


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_errors_shown_and_home_page_have_no_serious_violation(page, voila_url, axe_ready, theme):
    page.goto(f"{voila_url}/voila/render/02-design.ipynb?theme={theme}&token={VOILA_TOKEN}")
    page.wait_for_selector(".mlops-wizard[data-ready][aria-busy=false]")
    page.locator(".mlops-next").click()
    page.get_by_label("Storage account name", exact=True).fill("Not_Valid")
    page.wait_for_selector(".mlops-summary-errors")
    assert _axe(page) == []
    page.goto(f"{voila_url}/voila/render/home.ipynb?theme={theme}&token={VOILA_TOKEN}")
    page.wait_for_selector(".mlops-stage")
    assert _axe(page) == []
