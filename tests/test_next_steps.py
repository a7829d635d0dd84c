"""Every "how to fix" message names a command that exists and does what it says.

Walks every automatic check's advice on the sample project, runs each command it names (for real:
the stage runs execute their notebooks), and re-checks, until no new command is named. A command
that exits 2 (bad usage: unknown stage, refused target, no notebooks) fails the test.
"""

import re
import shlex

from click.testing import CliRunner

from mlops_accelerator.cli import main
from mlops_accelerator.deliverables import run_checks
from mlops_accelerator.modeling.project_code import write_sample_code
from mlops_accelerator.sample import sample_settings
from mlops_accelerator.sample.churn import write_sample_data
from mlops_accelerator.templates import stage_templates
from mlops_accelerator.workspace import Project

COMMAND = re.compile(r"'mlops-accelerator ([^']+)'")


def cli(project, args):
    result = CliRunner().invoke(main, ["-C", str(project.root), *args], catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def advice(project):
    """Command (as argv) -> the items whose reason names it."""
    named: dict[tuple[str, ...], set[str]] = {}
    for item, result in run_checks(project):
        for text in COMMAND.findall(result.reason):
            named.setdefault(tuple(shlex.split(text)), set()).add(item.id)
    return named


def test_every_command_named_in_check_advice_exists_and_works(tmp_path):
    s = sample_settings()
    project = Project.create(tmp_path / "sample", s["foundations"]["project_name"], s)
    write_sample_data(project.root)  # as 'init --sample' does: the stage-4 sources
    write_sample_code(project.root)  # and the committed stage-5 training code
    ran: dict[tuple[str, ...], int] = {}
    for _ in range(3):
        new = {cmd: items for cmd, items in advice(project).items() if cmd not in ran}
        if not new:
            break
        for cmd, items in sorted(new.items()):
            if any("..." in part or "<" in part for part in cmd):  # a template: the subcommand must exist
                code, out = cli(project, [*[p for p in cmd if "=" not in p], "--help"])
            else:
                code, out = cli(project, list(cmd))
            assert code in (0, 1), f"{' '.join(cmd)} (advised by {', '.join(sorted(items))}) exited {code}: {out}"
            ran[cmd] = code
    assert ("run", "foundations") in ran and ("run", "design") in ran and ("run", "deploy") in ran
    for slug in ("data", "models", "monitor", "migrate"):  # no notebooks yet: advice points at the settings
        assert (("run", slug) if stage_templates(slug) else ("settings", "show", slug)) in ran, slug
    # "run" did what it said: no item still waits for a run of a stage that has run
    waiting = [f"{item.id}: {r.reason}" for item, r in run_checks(project)
               if "no run evidence yet: run stage" in r.reason]
    assert not waiting, waiting
