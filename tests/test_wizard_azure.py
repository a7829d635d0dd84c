"""The wizards and the azureml target: the Run step offers the target where this release covers the
stage, and the last Azure pre-flight's findings reach the settings form beside the settings they name
(without blocking it)."""

from wizard_fixtures import FakeRuns, wizard, wproject  # noqa: F401


def test_run_step_offers_azureml_only_where_covered(wproject, monkeypatch):  # noqa: F811
    import mlops_accelerator.runs as runs
    from mlops_accelerator.wizard.run import RunPanel

    fake = FakeRuns(wproject)
    monkeypatch.setattr(runs, "start_background_run", fake.start_background_run)
    monkeypatch.setattr(runs, "run_progress", fake.run_progress)
    deploy = RunPanel(wproject, "deploy", autopoll=False)
    assert [v for _, v in deploy.target.options] == ["local", "azureml"]
    assert deploy.target in deploy.widget.children and deploy.target.value == "local"
    deploy.target.value = "azureml"
    deploy.start()
    assert fake.started[-1] == (["deploy"], {"target": "azureml"})
    data = RunPanel(wproject, "data", autopoll=False)  # stages 4-6: created on Azure and read back too
    assert [v for _, v in data.target.options] == ["local", "azureml"]
    migrate = RunPanel(wproject, "migrate", autopoll=False)  # stage 7: local only in this release
    assert migrate.target is None


def test_preflight_findings_shown_beside_their_settings_without_blocking(wproject):  # noqa: F811
    from mlops_accelerator.azure.preflight import Finding, save_findings

    w = wizard(wproject, "design")
    assert w.app.findings == []
    errors_before = w.app.errors
    save_findings(wproject, [
        Finding("dev", "names", "storage account name stcontoso is taken", "design.storage_account_name"),
        Finding("test", "providers", "Microsoft.Storage is NotRegistered", "design.environments.1.subscription_id"),
        Finding("dev", "quota", "not enough vCPUs", "deploy.compute_targets.0.max_nodes")])
    w.refresh_findings()
    got = {f["field"]: f["message"] for f in w.app.findings}
    assert got == {"storage_account_name": "Azure pre-flight (dev): storage account name stcontoso is taken",
                   "environments.1.subscription_id": "Azure pre-flight (test): Microsoft.Storage is NotRegistered"}
    assert w.app.errors == errors_before and w.step_valid("settings") == (not w.errors())  # informative only
    deploy = wizard(wproject, "deploy")
    assert [f["field"] for f in deploy.app.findings] == ["compute_targets.0.max_nodes"]
    save_findings(wproject, [])  # a clean pre-flight clears them
    w.refresh_findings()
    assert w.app.findings == []


def test_unreadable_findings_file_shows_nothing(wproject):  # noqa: F811
    from mlops_accelerator.azure.preflight import FINDINGS_FILE
    from mlops_accelerator.workspace import STATE_DIR

    (wproject.root / STATE_DIR / FINDINGS_FILE).write_text("{not json")
    assert wizard(wproject, "design").app.findings == []


def test_run_table_links_each_notebook_to_its_azure_ml_job(wproject, monkeypatch):  # noqa: F811
    import mlops_accelerator.runs as runs
    from mlops_accelerator.wizard.run import RunPanel

    fake = FakeRuns(wproject)
    monkeypatch.setattr(runs, "start_background_run", fake.start_background_run)
    monkeypatch.setattr(runs, "run_progress", fake.run_progress)
    panel = RunPanel(wproject, "foundations", autopoll=False)
    run_id = panel.start()
    panel.poll()
    assert "Azure ML job" not in panel.table.value  # a local run: no job column
    for status in ("NotStarted", "Running", "Completed"):
        wproject.record("azureml_job", run_id=run_id, key="01-foundations/01-maturity", job="mlops-x-1",
                        status=status, studio_url="https://ml.azure.com/runs/mlops-x-1?wsid=<ws>")
    wproject.record("azureml_job", run_id=run_id, key="01-foundations/02-charter", job="mlops-x-2", status="Queued")
    panel.poll()
    table = panel.table.value
    assert "<th>Azure ML job</th>" in table
    assert 'href="https://ml.azure.com/runs/mlops-x-1?wsid=&lt;ws&gt;"' in table and "· Completed" in table
    assert "<code>mlops-x-2</code> · Queued" in table  # still queued: no link yet, shown all the same
