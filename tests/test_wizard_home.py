"""Home: the project at a glance, a role filter, links into each stage; or create a project."""

from wizard_fixtures import wproject  # noqa: F401

from mlops_accelerator.wizard import home


def test_dashboard_lists_seven_stages_with_links(wproject):  # noqa: F811
    h = home(wproject.root)
    cards = h.cards.value
    for i, slug in enumerate(["foundations", "design", "deploy", "data", "models", "monitor", "migrate"], 1):
        assert f'href="{i:02d}-{slug}.ipynb"' in cards
    assert "contoso-churn" in h.header.value and "deliverables done" in h.header.value
    assert h.board.value.count('class="mlops-col"') == 7


def test_role_filter_shows_what_is_mine(wproject):  # noqa: F811
    h = home(wproject.root)
    assert h.mine.value == ""
    h.role.value = "data_engineer"
    assert "What is mine as Data Engineer" in h.mine.value
    assert "Ingest data" in h.mine.value and "S4-02" in h.mine.value
    assert 'data-stage="data"' in h.cards.value and "mlops-stage mine" in h.cards.value
    assert "mlops-stage dim" in h.cards.value  # stages without the role are dimmed
    assert "mine" in h.board.value  # items they may sign are outlined


def test_progress_follows_the_ledger(wproject):  # noqa: F811
    from mlops_accelerator.deliverables import sign_off

    wproject.set_values("foundations", {"team_roster": [  # sign-offs are by people on the roster
        {"name": "Ada", "email": "ada@contoso.com", "roles": ["team_lead"]}]})
    sign_off(wproject, "S1-02", "Ada", "team_lead")
    h = home(wproject.root)
    assert "1/65" in h.header.value or "1/" in h.header.value
    assert "S1-02" in h.board.value and "mlops-item done" in h.board.value


def test_no_project_offers_to_create_one(tmp_path):
    h = home(tmp_path / "new-folder")
    assert h.project is None
    assert "Start a project" in h.body.children[0].children[0].value
    h.name.value = "Bad Name"
    assert h.create_button.disabled and "project_slug" in h.name_error.value
    h.name.value = "fabrikam-demand"
    assert not h.create_button.disabled
    h.create_button.click()
    assert (tmp_path / "new-folder" / "mlops-accelerator.yaml").is_file()
    assert h.project is not None and "fabrikam-demand" in h.header.value


def test_env_var_selects_the_project(wproject, monkeypatch):  # noqa: F811
    from mlops_accelerator.wizard import stage_wizard

    monkeypatch.setenv("MLOPS_ACCELERATOR_PROJECT", str(wproject.root))
    assert home().project.root == wproject.root
    assert stage_wizard("design").project.root == wproject.root


def test_stage_wizard_without_project_points_home(tmp_path, monkeypatch):
    from mlops_accelerator.wizard import stage_wizard

    monkeypatch.setenv("MLOPS_ACCELERATOR_PROJECT", str(tmp_path))
    w = stage_wizard("design")
    assert "home.ipynb" in w.children[1].value
