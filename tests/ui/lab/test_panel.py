"""The MLOps Accelerator sidebar in a real JupyterLab, in headless Chromium."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

PANEL = "#mlops-accelerator-panel"
STAGE = f"{PANEL} .jp-MLOpsAccelerator-stage"


def expand(page, number: int):
    stage = page.locator(f'{STAGE}[data-stage="{number}"]')
    if "jp-mod-expanded" not in (stage.get_attribute("class") or ""):
        stage.locator(".jp-MLOpsAccelerator-stageHead").click()
    expect(stage.locator(".jp-MLOpsAccelerator-body")).to_be_visible()
    return stage


def set_theme(page, theme: str):
    page.evaluate("t => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme)
    # JupyterLab names the theme on <body> once its stylesheet is loaded
    page.wait_for_function("t => document.body.dataset.jpThemeName === t", arg=theme, timeout=60_000)


def test_sidebar_lists_seven_stages(page, lab):
    stages = page.locator(STAGE)
    expect(stages).to_have_count(7)
    titles = stages.locator(".jp-MLOpsAccelerator-title").all_inner_texts()
    code, status = lab.api("GET", "status")
    assert code == 200
    assert titles == [s["title"] for s in status["stages"]]
    expect(page.locator(f"{STAGE} .jp-MLOpsAccelerator-progress")).to_have_count(7)
    assert page.locator(f"{STAGE} .jp-MLOpsAccelerator-role").count() >= 7
    expect(page.locator(f"{PANEL} .jp-MLOpsAccelerator-project")).to_contain_text("contoso-churn")


def test_role_filter_narrows_stages(page, lab):
    _, status = lab.api("GET", "status")
    counts = {}
    for s in status["stages"]:
        for r in s["roles"]:
            counts[r] = counts.get(r, 0) + 1
    role = min(counts, key=counts.get)  # the role in fewest stages
    assert counts[role] < 7
    select = page.locator(f"{PANEL} select.jp-MLOpsAccelerator-roleFilter")
    select.select_option(role)
    expect(page.locator(STAGE)).to_have_count(counts[role])
    shown = [int(n) for n in page.locator(STAGE).evaluate_all("els => els.map(e => e.dataset.stage)")]
    assert shown == [s["number"] for s in status["stages"] if role in s["roles"]]
    expect(page.locator(f"{STAGE} .jp-MLOpsAccelerator-role.jp-mod-active")).to_have_count(counts[role])
    select.select_option("")
    expect(page.locator(STAGE)).to_have_count(7)


def test_sign_off_in_the_dialog_shows_in_panel_and_cli(page, lab):
    _, status = lab.api("GET", "status")
    item = next(i for s in status["stages"] for i in s["items"]
                if i["verification"] == "signoff" and i["state"] != "not_applicable" and not i["signoffs"])
    stage = expand(page, item["stage"])
    row = stage.locator(f'.jp-MLOpsAccelerator-item[data-item="{item["id"]}"]')
    row.locator('[data-action="signoff"]').click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible()
    # The role list offers exactly the roles allowed to sign this item.
    options = dialog.locator("select[name=role] option").evaluate_all("os => os.map(o => o.value)")
    assert options == item["signoff_roles"]
    dialog.locator("input[name=by]").fill("Grace Hopper")
    dialog.locator("select[name=role]").select_option(item["signoff_roles"][-1])
    dialog.locator("textarea[name=comment]").fill("reviewed in the UI test")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(dialog).to_have_count(0)
    expect(row.locator(".jp-MLOpsAccelerator-signed")).to_contain_text("signed by Grace Hopper")
    expect(row).to_have_class(re.compile("jp-mod-done"))

    out = lab.cli("status", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    cli_item = next(i for s in data["stages"] for i in s["items"] if i["id"] == item["id"])
    assert cli_item["state"] == "done"
    assert cli_item["signoffs"][-1]["by"] == "Grace Hopper"
    assert cli_item["signoffs"][-1]["role"] == item["signoff_roles"][-1]
    assert "Grace Hopper" in lab.cli("status", "--items").stdout


def test_panel_follows_changes_made_elsewhere(page, lab):
    """A sign-off made with the CLI appears without touching the panel (polling)."""
    _, status = lab.api("GET", "status")
    item = next(i for s in status["stages"] for i in s["items"]
                if i["verification"] == "signoff" and i["state"] != "not_applicable" and not i["signoffs"])
    stage = expand(page, item["stage"])
    out = lab.cli("signoff", item["id"], "--by", "Alan Turing", "--role", item["signoff_roles"][0])
    assert out.returncode == 0, out.stderr
    row = stage.locator(f'.jp-MLOpsAccelerator-item[data-item="{item["id"]}"]')
    expect(row.locator(".jp-MLOpsAccelerator-signed")).to_contain_text("Alan Turing", timeout=60_000)


def test_run_stage_one_shows_progress_then_outputs(page, lab, screenshots):
    stage = expand(page, 1)
    stage.locator('[data-action="run"]').click()
    run = stage.locator(".jp-MLOpsAccelerator-run")
    expect(run).to_be_visible()
    # While it runs: a progress bar and a disabled button.
    assert run.get_attribute("data-state") in ("queued", "running", "succeeded")
    expect(run).to_have_attribute("data-state", re.compile("^(succeeded|failed)$"), timeout=240_000)
    assert run.get_attribute("data-state") == "succeeded", run.inner_text()
    links = run.locator(".jp-MLOpsAccelerator-outputs a")
    assert links.count() > 0
    run.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "lab-panel-run.png"))
    notebook = run.locator('.jp-MLOpsAccelerator-outputs a[data-path$=".ipynb"]').first
    path = notebook.get_attribute("data-path")
    assert (lab.root / path).is_file()
    notebook.click()
    expect(page.locator(".jp-NotebookPanel").first).to_be_visible(timeout=120_000)
    expect(page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")).to_contain_text(
        path.split("/")[-1][:20])


def test_run_target_choice_posts_azureml_and_findings_show_beside_their_settings(page, lab, screenshots):
    from mlops_accelerator.azure.preflight import Finding, save_findings
    from mlops_accelerator.workspace import Project

    # The last pre-flight's findings, saved in the project as `preflight` and azureml runs keep them.
    save_findings(Project.find(lab.root), [
        Finding("dev", "quota", "standardDSv2Family has 4 of the 8 vCPUs the cluster needs in westeurope",
                "deploy.compute_targets.0.max_nodes"),
        Finding("prod", "names", "storage account name 'stcontosochurnprod' is taken",
                "design.storage_account_name")])
    page.locator(".jp-MLOpsAccelerator-refresh").click()
    stage = expand(page, 2)
    findings = stage.locator(".jp-MLOpsAccelerator-findings")
    expect(findings).to_have_attribute("data-findings", "1")  # only the one naming a stage-2 setting
    expect(findings.locator('li[data-setting="storage_account_name"]')).to_contain_text(
        "storage account name 'stcontosochurnprod' is taken")
    expect(stage.locator(".jp-MLOpsAccelerator-findingCount")).to_contain_text("1")  # seen while folded too
    expect(expand(page, 3).locator('li[data-setting="compute_targets.0.max_nodes"]')).to_contain_text("(dev, quota)")
    assert page.locator(f'{STAGE}[data-stage="1"] .jp-MLOpsAccelerator-findings').count() == 0

    # Where the azureml target covers the stage, a labelled choice; beyond it (stage 7 here), none.
    stage = expand(page, 1)
    target = stage.get_by_label("Run on")
    expect(target).to_have_value("local")
    assert target.evaluate("s => [...s.options].map(o => o.value)") == ["local", "azureml"]
    expect(expand(page, 7).locator('[data-action="target"]')).to_have_count(0)
    target.focus()
    page.keyboard.press("ArrowDown")  # reachable and usable from the keyboard
    expect(stage.get_by_label("Run on")).to_have_value("azureml")
    run_button = stage.locator('[data-action="run"]')
    expect(run_button).to_have_text("Run on Azure ML")
    with page.expect_request(lambda r: r.method == "POST" and r.url.split("?")[0].endswith("/mlops-accelerator/runs")) \
            as posted:
        run_button.click()
    assert posted.value.post_data_json == {"stages": ["foundations"], "target": "azureml"}
    # The run really started on the azureml target; here it stops at sign-in (Azure is out of reach).
    run = stage.locator(".jp-MLOpsAccelerator-run")
    expect(run).to_have_attribute("data-state", "failed", timeout=120_000)
    expect(run.locator(".jp-MLOpsAccelerator-log")).to_contain_text(
        re.compile(r"^error: could not sign in to Azure\..*Do one of: 'az login'"))  # the CLI's error line, whole
    for number in (1, 3, 7):  # folded again: stage 2's choice and finding in the picture
        page.locator(f'{STAGE}[data-stage="{number}"] .jp-MLOpsAccelerator-stageHead').click()
    page.locator(PANEL).evaluate("e => { e.scrollTop = 0; }")
    page.set_viewport_size({"width": 1400, "height": 1300})
    try:
        page.locator(PANEL).screenshot(path=str(screenshots / "lab-panel-azureml.png"))
    finally:
        page.set_viewport_size({"width": 1400, "height": 900})


def widen_sidebar(page, width: int = 380):
    box = page.locator(PANEL).bounding_box()
    x, y = box["x"] + box["width"] + 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(box["x"] + width, y, steps=5)
    page.mouse.up()


def test_screenshots_light_and_dark(page, lab, screenshots):
    widen_sidebar(page)
    expand(page, 3)
    page.wait_for_timeout(300)
    try:
        set_theme(page, "JupyterLab Light")
        page.screenshot(path=str(screenshots / "lab-panel-light.png"))
        set_theme(page, "JupyterLab Dark")
        page.screenshot(path=str(screenshots / "lab-panel-dark.png"))
        # In the dark theme the panel really is dark (it follows JupyterLab's CSS variables).
        bg = page.locator(PANEL).evaluate("e => getComputedStyle(e).backgroundColor")
        r, g, b = (int(x) for x in re.findall(r"\d+", bg)[:3])
        assert r + g + b < 3 * 100, bg
    finally:
        set_theme(page, "JupyterLab Light")
    assert (screenshots / "lab-panel-light.png").stat().st_size > 10_000
    assert (screenshots / "lab-panel-dark.png").stat().st_size > 10_000


def test_wizard_button_opens_the_trusted_wizard_notebook(page, lab):
    stage = expand(page, 2)
    stage.locator('[data-action="wizard"]').click()
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    expect(tab).to_contain_text("02-design", timeout=120_000)
    assert (lab.root / "wizards" / "02-design.ipynb").is_file()
    assert (lab.root / "wizards" / "home.ipynb").is_file()  # its "All stages" link has a target
    # Rendered, not a code cell with no hint to run it: the cell runs on open and its code is hidden.
    wizard = page.locator(".jp-NotebookPanel:visible .jp-OutputArea .mlops-wizard[data-ready]")
    expect(wizard).to_be_visible(timeout=120_000)
    expect(page.locator(".jp-NotebookPanel:visible .jp-Cell-inputWrapper .jp-InputArea-editor")).to_be_hidden()
    # Trusted: JupyterLab shows no "Not Trusted" indicator for it.
    expect(page.locator(".jp-NotebookPanel:visible .jp-StatusItem-trust, "
                        ".jp-NotebookPanel:visible [data-icon='ui-components:not-trusted']")).to_have_count(0)
    _, status = lab.api("GET", "status")
    if status["voila"]:
        href = page.evaluate("""async () => {
            const r = await fetch('/mlops-accelerator/stages/2/wizard', {method: 'POST',
              headers: {'X-XSRFToken': document.cookie.match(/_xsrf=([^;]+)/)[1]}});
            return (await r.json()).voila_url; }""")
        assert href.endswith("/voila/render/wizards/02-design.ipynb")
        expect(stage.locator('[data-action="voila"]')).to_be_visible()


def test_launcher_card_and_palette_commands(page, lab):
    page.evaluate("() => window.jupyterapp.commands.execute('launcher:create')")
    card = page.locator(".jp-LauncherCard", has_text="MLOps Accelerator")
    expect(card).to_be_visible(timeout=60_000)
    commands = page.evaluate("() => window.jupyterapp.commands.listCommands()")
    assert {"mlops-accelerator:open", "mlops-accelerator:refresh", "mlops-accelerator:open-wizard",
            "mlops-accelerator:run-stage"} <= set(commands)


def test_no_project_offers_create(browser, tmp_path):
    from conftest import open_lab, start_lab, stop_lab  # noqa: F401 - own rootdir

    lab = start_lab(tmp_path, with_project=False)
    try:
        page = browser.new_page()
        page.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url.split("/")[2]
                   else route.abort())
        page.goto(f"{lab.url}/lab?token={lab.token}")
        tab = page.locator('.jp-SideBar [data-id="mlops-accelerator-panel"]')
        tab.wait_for(timeout=120_000)
        if page.locator(PANEL).is_hidden():
            tab.click()
        button = page.locator(f'{PANEL} [data-action="create"]')
        expect(button).to_be_visible(timeout=120_000)
        page.locator(f"{PANEL} input[name=project-name]").fill("Bad Name")
        button.click()
        expect(page.locator(f"{PANEL} .jp-MLOpsAccelerator-errors li")).to_contain_text("name")
        page.locator(f"{PANEL} input[name=project-name]").fill("fresh-project")
        button.click()
        expect(page.locator(STAGE)).to_have_count(7, timeout=120_000)
        assert (lab.root / "mlops-accelerator.yaml").is_file()
        page.close()
    finally:
        stop_lab(lab)


def test_a_failing_notebook_shows_its_cell_and_error_in_the_sidebar(browser, tmp_path, screenshots):
    """The run's error is the server's {cell_index, ename, evalue}: shown as text, never [object Object]."""
    import nbformat
    from conftest import open_lab, start_lab, stop_lab  # noqa: F401 - own rootdir

    folder = tmp_path / "templates" / "01-foundations"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('project_name = "x"\noutput_dir = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("raise ValueError('the roster has no tester')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "01-fails.ipynb")
    lab = start_lab(tmp_path / "lab", templates=tmp_path / "templates")
    try:
        page = open_lab(browser, lab)
        stage = expand(page, 1)
        stage.locator('[data-action="run"]').click()
        run = stage.locator(".jp-MLOpsAccelerator-run")
        expect(run).to_have_attribute("data-state", "failed", timeout=120_000)
        error = run.locator('.jp-MLOpsAccelerator-runError[data-notebook="01-fails"]')
        # cell 3: the parameters cell, papermill's injected parameters, x = 1, then the failing cell
        expect(error).to_have_text("01-fails: cell 3: ValueError: the roster has no tester")
        assert "[object Object]" not in run.inner_text()
        page.screenshot(path=str(screenshots / "lab-panel-failed-run.png"))
        # A sign-off on settings changed afterwards asks for re-approval, with the diff, and can be given again.
        out = lab.cli("signoff", "S1-01", "--by", "Alan Turing", "--role", "team_lead")
        assert out.returncode == 0, out.stderr
        out = lab.cli("settings", "set", "foundations", "sprint_length_weeks=3")
        assert out.returncode == 0, out.stderr
        page.locator(".jp-MLOpsAccelerator-refresh").click()
        row = stage.locator('.jp-MLOpsAccelerator-item[data-item="S1-01"]')
        expect(row.locator(".jp-MLOpsAccelerator-reapproval")).to_contain_text("sprint_length_weeks: 2 → 3",
                                                                               timeout=60_000)
        expect(row.locator('[data-action="signoff"]')).to_be_visible()
        page.close()
    finally:
        stop_lab(lab)


def rendered_wizard(page, tab_name: str):
    """The notebook `tab_name` is the current tab, drawn (its cell ran) with its code hidden."""
    expect(page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")).to_contain_text(
        tab_name, timeout=120_000)
    # the current tab's own node (hidden tabs may keep no lm-mod-hidden class to tell them apart)
    current = page.locator("#" + page.evaluate("() => window.jupyterapp.shell.currentWidget.id"))
    app = current.locator(".jp-OutputArea .mlops-app").first
    expect(app).to_be_visible(timeout=120_000)
    expect(current.locator(".jp-Cell-inputWrapper .jp-InputArea-editor")).to_be_hidden()
    return app


def test_links_between_wizards_open_rendered_wizards_in_the_app(page, lab, screenshots):
    page.evaluate("window.mlopsSamePage = true")  # gone if a link left JupyterLab for a raw URL
    stage = expand(page, 2)
    stage.locator('[data-action="wizard"]').click()
    wizard = rendered_wizard(page, "02-design")
    wizard.locator(".mlops-header a", has_text="Stage 3").click()
    wizard = rendered_wizard(page, "03-deploy")
    expect(wizard.locator(".mlops-header h1")).to_have_text(lab.api("GET", "status")[1]["stages"][2]["title"])
    wizard.locator(".mlops-header a", has_text="All stages").click()
    home = rendered_wizard(page, "home")
    expect(home.locator(".mlops-stage")).to_have_count(7)
    page.screenshot(path=str(screenshots / "lab-wizard-home-from-link.png"))
    home.locator(".mlops-stage[data-stage=monitor] a.open").click()
    wizard = rendered_wizard(page, "06-monitor")
    wizard.and_(page.locator(".mlops-wizard[data-ready][aria-busy=false]")).wait_for()
    wizard.locator(".mlops-step-deliverables").click()
    wizard.locator(".mlops-continue").click()  # the last step's "Continue to stage 7"
    wizard = rendered_wizard(page, "07-migrate")
    page.screenshot(path=str(screenshots / "lab-wizard-continue-to-stage-7.png"))
    assert page.evaluate("window.mlopsSamePage === true")
    assert not (lab.root / "home.ipynb").exists()  # opened beside the wizards, not at the root
