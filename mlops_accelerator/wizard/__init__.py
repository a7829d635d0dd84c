"""Wizards generated from the settings schemas (usable in JupyterLab and served by Voila).

Each stage's form is one widget drawn in the browser from the stage's JSON Schema (formwidget.py).
Importing this package is cheap: ipywidgets and the library only; the runner, papermill and
plotting are never imported here.

    from mlops_accelerator.wizard import stage_wizard, home
    stage_wizard("design")      # the last expression of a notebook cell displays it
"""

from __future__ import annotations

from typing import Any

__all__ = ["stage_wizard", "home", "StageWizard", "HomeWizard", "WizardWidget"]


def stage_wizard(stage: str | int, project: Any = None, **kwargs: Any):
    """The wizard of one stage (number, id or slug) for the current project."""
    from ..errors import UsageError
    from .stage import StageWizard

    try:
        return StageWizard(stage, project, **kwargs)
    except UsageError as exc:  # no project here: say so, and point to the home page
        import html

        import ipywidgets as W

        from .style import note, stylesheet

        box = W.VBox([stylesheet(), W.HTML(note("warn", f"{html.escape(str(exc))}. Open the "
                                                 '<a href="home.ipynb">home page</a> to create a project.'))])
        box.add_class("mlops-app")
        return box


def home(project_dir: Any = None):
    """The home page: the project at a glance, or a form creating one."""
    from .home import HomeWizard

    return HomeWizard(project_dir)


def __getattr__(name: str) -> Any:
    if name == "StageWizard":
        from .stage import StageWizard

        return StageWizard
    if name == "HomeWizard":
        from .home import HomeWizard

        return HomeWizard
    if name == "WizardWidget":
        from .formwidget import WizardWidget

        return WizardWidget
    raise AttributeError(name)
