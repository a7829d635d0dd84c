"""The `mlops-accelerator` command line (contract: docs in README, design in product.md).

Exit codes: 0 success, 1 a run or check failed, 2 bad usage or invalid input (nothing
written). This module only parses options and prints; the work is in the library.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from .errors import AcceleratorError, InvalidSettings, UsageError


def _console(stderr: bool = False):
    import shutil

    from rich.console import Console

    # Logs and pipes get a readable width instead of rich's 80-column fallback.
    width = max(shutil.get_terminal_size((120, 24)).columns, 100)
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def _project(ctx: click.Context):
    from .workspace import Project

    return Project.find(ctx.obj["project_dir"])


def _stage(key: str):
    from .catalogue import load_catalogue

    return load_catalogue().stage(key)


class _Group(click.Group):
    """Turns library errors into a clear message and the contract's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InvalidSettings as exc:
            err = _console(stderr=True)
            err.print(f"[bold red]error:[/] {len(exc.errors)} invalid setting(s) in stage "
                      f"'{exc.stage}'; nothing was written:")
            for e in exc.errors:
                err.print(f"  [red]-[/] {exc.stage}.{e.field}: {e.message} [dim]\\[rule: {e.rule}][/] "
                          f"(got {e.value!r})", markup=True)
            ctx.exit(exc.exit_code)
        except AcceleratorError as exc:
            _console(stderr=True).print(f"[bold red]error:[/] {exc}", markup=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:  # read-only or full disk somewhere the library did not expect: no traceback
            from rich.markup import escape

            where = f"{exc.filename}: " if exc.filename else ""
            _console(stderr=True).print(f"[bold red]error:[/] {escape(where + (exc.strerror or str(exc)))}")
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "--project", "project_dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="MLOPS_ACCELERATOR_PROJECT", default=None,
              help="Project folder (default: the current folder or its nearest parent with a project).")
@click.version_option(package_name="mlops-accelerator")
@click.pass_context
def main(ctx: click.Context, project_dir: Path | None) -> None:
    """MLOps Accelerator for Azure ML: the seven-stage guided workflow."""
    ctx.ensure_object(dict)
    ctx.obj["project_dir"] = project_dir


# -- init ----------------------------------------------------------------------

def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    s = re.sub(r"^[^a-z]+", "", s)
    return (s or "mlops-project")[:31]


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="Project name: a short lowercase slug that prefixes Azure names.")
@click.option("--sample", is_flag=True, help="Fill in the bundled sample project's answers.")
@click.pass_context
def init(ctx: click.Context, directory: Path | None, name: str | None, sample: bool) -> None:
    """Create a project workspace in DIRECTORY (default: here). Refuses to clobber one."""
    from .workspace import Project

    root = directory or ctx.obj["project_dir"] or Path(".")
    settings = None
    if sample:
        from .sample import sample_settings

        settings = sample_settings()
        name = name or settings["foundations"]["project_name"]
    name = name or _slug(root.resolve().name)
    if settings and name != settings["foundations"].get("project_name"):
        settings["foundations"]["project_name"] = name
    project = Project.create(root, name, settings)
    if sample:
        from .sample import lay_out_legacy_project

        lay_out_legacy_project(project.root)  # the SDK v1 project stage 7 migrates
    out = _console()
    out.print(f"Created project [bold]{name}[/] in {project.root}")
    if sample:  # the sample's stage-4 sources: generated, deterministic (see sample/churn.py)
        from .sample.churn import write_sample_data

        folder = write_sample_data(project.root)
        out.print(f"  sample data: {folder.relative_to(project.root)}/ (customer churn, seeded)")
        from .modeling.project_code import write_sample_code  # stage 5 trains committed code

        code = write_sample_code(project.root)
        out.print(f"  training code: src/ and tests/ ({len(code)} files), committed to git")
    out.print(f"  settings: {project.path.name}   ledger: {project.ledger_path.relative_to(project.root)}")
    out.print("Next: 'mlops-accelerator status', then answer stage 1: "
              "'mlops-accelerator settings show foundations'.")


# -- status --------------------------------------------------------------------

_STATE_STYLE = {"done": "green", "failed": "red", "awaiting_signoff": "yellow", "todo": "dim",
                "not_applicable": "dim"}


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--items", is_flag=True, help="List every deliverable with its state.")
@click.pass_context
def status(ctx: click.Context, as_json: bool, items: bool) -> None:
    """Stages, deliverables done/total, last runs."""
    from rich.table import Table

    from .report import status_data

    project = _project(ctx)
    events = list(project.events())  # the ledger, read once for the table and the monitoring lines
    data = status_data(project, events=events)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    table = Table(title=f"Project {data['project']}", title_justify="left")
    for col in ("#", "Stage", "Deliverables", "Failed", "Sign-off", "Settings", "Last run"):
        table.add_column(col, no_wrap=col in ("Stage", "Deliverables"))
    for s in data["stages"]:
        d = s["deliverables"]
        bar = _bar(d["done"], d["total"])
        run = s["last_run"]
        table.add_row(str(s["number"]), s["title"], f"{bar} {d['done']}/{d['total']}",
                      str(d["failed"] or ""), str(d["awaiting_signoff"] or ""),
                      "[green]valid[/]" if s["settings"]["valid"]
                      else f"[red]{len(s['settings']['errors'])} error(s)[/]",
                      f"{run['status']} {run['ts'][5:16].replace('T', ' ')}" if run else "-")
    out = _console()
    out.print(table)
    from .monitoring.report import monitoring_status  # stage 6: last pass, alerts, the retraining decision

    for line in monitoring_status(project, events):
        out.print(line, markup=False)
    if items:
        for s in data["stages"]:
            out.print(f"\n[bold]{s['number']}. {s['title']}[/]")
            for i in s["items"]:
                style = _STATE_STYLE[i["state"]]
                out.print(f"  [{style}]{i['state']:<16}[/] {i['id']}  {i['text']}")
                if i["state"] != "done":
                    out.print(f"  {'':<16} [dim]{i['reason']}[/]")
                for so in i["signoffs"]:
                    out.print(f"  {'':<16} signed off by {so['by']} ({so['role']}) {so['ts'][:16]}")
    total = sum(s["deliverables"]["total"] for s in data["stages"])
    done = sum(s["deliverables"]["done"] for s in data["stages"])
    out.print(f"{done} of {total} deliverables done. Details: 'mlops-accelerator status --items'.")


def _bar(done: int, total: int, width: int = 8) -> str:
    filled = round(width * done / total) if total else width
    return "[green]" + "█" * filled + "[/][dim]" + "░" * (width - filled) + "[/]"


# -- settings ------------------------------------------------------------------

@main.group()
def settings() -> None:
    """Show or change a stage's settings."""


@settings.command("show")
@click.argument("stage")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def settings_show(ctx: click.Context, stage: str, as_json: bool) -> None:
    """Every setting of STAGE (number or slug), defaults included."""
    st = _stage(stage)
    project = _project(ctx)
    values = project.effective_settings(st.slug)
    if as_json:
        click.echo(json.dumps(values, indent=2))
        return
    from io import StringIO

    from ruamel.yaml import YAML

    buf = StringIO()
    y = YAML()
    y.indent(mapping=2, sequence=4, offset=2)
    y.dump(values, buf)
    _, errors = project.settings_or_errors(st.slug)
    out = _console()
    out.print(f"[bold]# Stage {st.number}: {st.title}[/] ({st.slug})")
    out.print(buf.getvalue(), markup=False, highlight=False)
    for e in errors:
        out.print(f"[red]invalid:[/] {st.slug}.{e}", markup=True)


def _parse_value(raw: str) -> Any:
    """KEY=VALUE values are YAML scalars or flow collections: 5, true, [a, b], {k: v}.

    Unquoted text with a ' #' stays text (YAML would cut it there as a comment), and YAML
    aliases are refused (a few of them expand into gigabytes).
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import AliasEvent

    if raw == "":
        return ""
    if re.search(r"(^|\s)#", raw) and raw.strip()[:1] not in ("'", '"'):
        return raw
    try:
        if any(isinstance(e, AliasEvent) for e in YAML(typ="safe", pure=True).parse(raw)):
            raise UsageError(f"{raw[:60]!r}: YAML aliases (*name) are not accepted in a value; write it out")
        value = YAML(typ="safe").load(raw)
    except YAMLError:
        return raw
    return raw if value is None and raw.strip().lower() not in ("null", "~") else value


def _text_fields(slug: str) -> set[str]:
    """Top-level settings whose schema type is text (a string, or a choice among strings)."""
    from .settings import json_schema

    def is_text(p: dict[str, Any]) -> bool:
        enum = p.get("enum")
        return p.get("type") == "string" or (bool(enum) and all(isinstance(v, str) for v in enum))

    return {k for k, p in (json_schema(slug).get("properties") or {}).items() if is_text(p)}


@settings.command("set")
@click.argument("stage")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@click.pass_context
def settings_set(ctx: click.Context, stage: str, assignments: tuple[str, ...]) -> None:
    """Change settings of STAGE; all are validated together and nothing is written if any fails.

    KEY may be a dotted path into records and lists, e.g. environments.0.region=westeurope;
    VALUE is read as YAML: 5, true, [dev, prod].
    """
    st = _stage(stage)
    raw: dict[str, str] = {}
    for a in assignments:
        key, sep, value = a.partition("=")
        if not sep or not key:
            raise UsageError(f"expected KEY=VALUE, got {a!r}")
        raw[key.strip()] = value
    text = _text_fields(st.slug)  # a field typed as text takes the text typed: 3.10 stays "3.10"
    parsed = {k: v if k in text else _parse_value(v) for k, v in raw.items()}
    project = _project(ctx)
    try:
        result = project.set_values(st.slug, parsed)
    except InvalidSettings as exc:
        # A text field given something YAML reads as a number/date ("1.0"): keep the text.
        retry = {e.field for e in exc.errors if e.rule == "string_type" and e.field in raw
                 and not isinstance(parsed[e.field], str)}
        if not retry:
            raise
        parsed.update({k: raw[k] for k in retry})
        result = project.set_values(st.slug, parsed)
    out = _console()
    if not result.changes:
        out.print("No change: the settings already had these values.")
    for c in result.changes:
        out.print(f"  {st.slug}.{c['field']}: {c['old']!r} -> {c['new']!r}", markup=False)


# -- validate ------------------------------------------------------------------

@main.command()
@click.argument("stage", required=False)
@click.pass_context
def validate(ctx: click.Context, stage: str | None) -> None:
    """Validate the saved settings of STAGE (default: all stages); lists every error."""
    from .catalogue import load_catalogue

    project = _project(ctx)
    doc = project.read_document()
    stages = [_stage(stage)] if stage else list(load_catalogue().stages)
    out = _console()
    bad = 0
    for st in stages:
        _, errors = project.settings_or_errors(st.slug, doc)
        if errors:
            bad += len(errors)
            out.print(f"[red]✗[/] {st.number}. {st.title}: {len(errors)} error(s)")
            for e in errors:
                out.print(f"    - {st.slug}.{e}", markup=False)
        else:
            out.print(f"[green]✓[/] {st.number}. {st.title}")
    if bad:
        ctx.exit(2)


# -- check ---------------------------------------------------------------------

@main.command()
@click.argument("stage", required=False)
@click.pass_context
def check(ctx: click.Context, stage: str | None) -> None:
    """Run the automatic deliverable checks (of STAGE, default all) and record the results."""
    from .deliverables import run_checks

    project = _project(ctx)
    numbers = [_stage(stage).number] if stage else None
    results = run_checks(project, numbers)
    out = _console()
    failures = pending = 0
    for item, result in results:
        mark = "[green]pass[/]" if result.passed else "[dim]todo[/]" if result.pending else "[red]fail[/]"
        failures += not result.passed and not result.pending
        pending += result.pending
        out.print(f"{mark} {item.id} {item.text}")
        out.print(f"     [dim]{result.reason}[/]")
    out.print(f"{len(results) - failures - pending} passed, {failures} failed, {pending} to do (stage not run yet)")
    if failures or pending:
        ctx.exit(1)  # not every automatic deliverable is proven


# -- signoff -------------------------------------------------------------------

@main.command()
@click.argument("item")
@click.option("--by", required=True, help="Name or e-mail of the person signing off, as on the team roster.")
@click.option("--role", required=True, help="The role they sign in (id like team_lead, or its name).")
@click.option("--comment", default="", help="Why, conditions, links to evidence.")
@click.pass_context
def signoff(ctx: click.Context, item: str, by: str, role: str, comment: str) -> None:
    """Sign off checklist ITEM, such as S2-04, in a role allowed to sign it.

    The signer must be on the stage-1 team roster (by name or e-mail) with that role; the OS user
    and git identity running the command are recorded beside the name.
    """
    from .deliverables import local_identity, sign_off

    project = _project(ctx)
    event = sign_off(project, item, by, role, comment, identity=local_identity(project.root))
    _console().print(f"Signed off {event['item']} by {event['by']} ({event['role']}) at {event['ts']}")


# -- generate and run -----------------------------------------------------------

def _overrides(params: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for a in params:
        key, sep, value = a.partition("=")
        if not sep or not key:
            raise UsageError(f"-p expects KEY=VALUE, got {a!r}")
        out[key.strip()] = _parse_value(value)
    return out


def _stage_slugs(stages: tuple[str, ...], all_: bool) -> list[str]:
    from .catalogue import load_catalogue

    if all_ and stages:
        raise UsageError("give stages or --all, not both")
    if all_:
        return [s.slug for s in load_catalogue().stages if _has_templates(s.slug)]
    if not stages:
        raise UsageError("name the stage(s) to run (number or slug), or --all")
    return [_stage(s).slug for s in stages]


def _has_templates(slug: str) -> bool:
    from .templates import stage_templates

    return bool(stage_templates(slug))


@main.command()
@click.argument("stages", nargs=-1, required=True)
@click.option("-p", "--parameter", "params", multiple=True, metavar="KEY=VALUE",
              help="Override a setting for these notebooks (validated like 'settings set').")
@click.option("--target", type=click.Choice(["local", "azureml"]), default="local", show_default=True)
@click.option("--force", is_flag=True, help="Replace generated notebooks even if edited since.")
@click.pass_context
def generate(ctx: click.Context, stages: tuple[str, ...], params: tuple[str, ...], target: str,
             force: bool) -> None:
    """Write STAGES' parameterised notebooks into the project's notebooks/ folder."""
    from .run_parameters import check_overrides
    from .runner import generate as do_generate

    project = _project(ctx)
    slugs = [_stage(s).slug for s in stages]
    check_overrides(slugs, _overrides(params))  # refused, not ignored
    written = do_generate(project, slugs, overrides=_overrides(params),
                          target=target, force=force)
    out = _console()
    for path in written:
        out.print(f"  wrote {path.relative_to(project.root)}")
    out.print(f"{len(written)} notebook(s) ready to open and run.")


@main.command()
@click.argument("stages", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every stage that has notebooks, in stage order.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Notebooks run in parallel (worker processes).")
@click.option("--target", type=click.Choice(["local", "azureml"]), default="local", show_default=True)
@click.option("-p", "--parameter", "params", multiple=True, metavar="KEY=VALUE",
              help="Override a setting for this run (validated; not saved).")
@click.option("--timeout", type=click.FloatRange(min=1), default=900, show_default=True,
              help="Seconds one notebook may run before it is stopped.")
@click.option("--run-id", hidden=True, help="Use this run id (the wizards and the server pick one).")
@click.option("--cold-kernels", is_flag=True, hidden=True,
              help="Start each kernel only when its notebook starts (the runner before warm kernels; benchmarks).")
@click.pass_context
def run(ctx: click.Context, stages: tuple[str, ...], all_: bool, jobs: int, target: str,
        params: tuple[str, ...], timeout: float, run_id: str | None, cold_kernels: bool) -> None:
    """Execute the notebooks of STAGES (or --all) with papermill into a new run folder."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .run_parameters import check_overrides
    from .runner import run_stages

    project = _project(ctx)
    slugs = _stage_slugs(stages, all_)
    check_overrides(slugs, _overrides(params))  # refused, not ignored
    out = _console()
    with Progress(TextColumn("[bold]running[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=out, transient=True, disable=not out.is_terminal or out.is_dumb_terminal) as bar:
        task = bar.add_task("run", total=None)

        def on_result(res, done, total):
            bar.update(task, completed=done, total=total)
            mark = {"succeeded": "[green]ok[/]", "failed": "[red]FAILED[/]",
                    "skipped": "[yellow]skipped[/]", "interrupted": "[red]INTERRUPTED[/]"}[res.status]
            out.print(f"{mark:>8} {res.key} ({res.duration_s:.1f} s)")

        def on_status(key, job, status):  # --target azureml: each notebook's Azure ML job
            out.print(f"{'azureml':>8} {key}: job {job} {status}", markup=False, highlight=False)

        result = run_stages(project, slugs, jobs=jobs, target=target, overrides=_overrides(params),
                            timeout=timeout, run_id=run_id, on_result=on_result, warm_kernels=not cold_kernels,
                            on_status=on_status)
    if result.status == "cancelled":  # Ctrl-C: the runner stopped every kernel and recorded the run
        out.print(f"\nRun {result.run_id} cancelled: {len(result.notebooks)} notebook(s) finished or "
                  f"interrupted, the rest not started. Outputs so far: {result.run_dir}/")
        ctx.exit(130)
    failed = [r for r in result.notebooks if r.status != "succeeded"]
    out.print(f"\nRun {result.run_id}: {len(result.notebooks) - len(failed)} of "
              f"{len(result.notebooks)} notebooks succeeded. Outputs: {result.run_dir}/")
    for r in failed:
        e = r.error or {}
        cell = f"cell {e['cell_index']}: " if e.get("cell_index") is not None else ""
        out.print(f"  [red]{r.status}[/] {r.key}: {cell}{e.get('ename')}: {e.get('evalue')}", markup=True)
        if r.output:
            out.print(f"           partial output kept: {r.output}")
    leaked = {slug: o["error"] for slug, o in result.stages.items() if o.get("error")}
    for slug, message in leaked.items():
        out.print(f"  FAILED stage {slug}: {message}", markup=False, highlight=False)
    from .catalogue import load_catalogue
    from .deliverables import run_checks

    checks = run_checks(project, [load_catalogue().stage(s).number for s in slugs])
    passed_n = sum(res.passed for _, res in checks)
    out.print(f"Automatic checks of these stages: {passed_n} passed, {len(checks) - passed_n} not passed "
              "('mlops-accelerator status --items' for details)")
    if failed or leaked:
        ctx.exit(1)


# -- preflight (the azureml target, before anything is deployed) -------------------

@main.command()
@click.option("--env", "envs", multiple=True, help="Only this environment (repeatable); default: every "
              "environment stage 3 deploys.")
@click.option("--device-code", is_flag=True, help="Sign in with a device code instead of DefaultAzureCredential.")
@click.option("--tenant", help="Entra ID tenant to sign in to (default: the credential's own).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def preflight(ctx: click.Context, envs: tuple[str, ...], device_code: bool, tenant: str | None,
              as_json: bool) -> None:
    """Check Azure before deploying: permissions, providers, VM sizes, quota, global names."""
    from .azure import connection
    from .azure.preflight import as_dicts, run_preflight, save_findings

    project = _project(ctx)
    cred = connection.credential("device_code" if device_code else None, tenant)
    connection.check_sign_in(cred)
    findings = run_preflight(project, cred, list(envs) or None)
    save_findings(project, findings)  # the wizards show them beside the settings they name
    if as_json:
        click.echo(json.dumps({"findings": as_dicts(findings)}, indent=2))
    else:
        out = _console()
        for f in findings:
            out.print(f.text(), markup=False, highlight=False)
        out.print(f"Pre-flight: {len(findings)} finding(s)" if findings else "Pre-flight: clean, ready to deploy")
    if findings:
        ctx.exit(1)


# -- data (stage 4's registered data assets) --------------------------------------

@main.group()
def data() -> None:
    """Registered data assets: versions, lineage and integrity (stage 4)."""


def _registry(ctx: click.Context):
    from .dataprep.versioning import Registry

    return Registry(_project(ctx).root)


@data.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def data_list(ctx: click.Context, as_json: bool) -> None:
    """Every registered data asset with its versions."""
    reg = _registry(ctx)
    rows = [{"name": r["name"], "version": r["version"], "type": r["type"], "path": r["path"],
             "rows": r.get("rows"), "created_at": r.get("created_at"), "content_hash": r["content_hash"][:16],
             "intact": not reg.verify(r)}
            for name in reg.names() for r in reg.versions(name)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    out = _console()
    if not rows:
        out.print("No data assets registered yet: run stage 4 ('mlops-accelerator run data').")
        return
    from rich.table import Table

    table = Table("asset", "version", "type", "rows", "created", "content", "files", "path")
    for r in rows:
        table.add_row(r["name"], r["version"], r["type"], f"{r['rows']:,}" if r["rows"] is not None else "",
                      r["created_at"] or "", r["content_hash"],
                      "[green]intact[/]" if r["intact"] else "[red]CHANGED[/]", r["path"])
    out.print(table)


@data.command("show")
@click.argument("asset", metavar="NAME[:VERSION]")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def data_show(ctx: click.Context, asset: str, as_json: bool) -> None:
    """One asset version (the latest without :VERSION): files, tags, lineage and an integrity check."""
    from .dataprep import DataPrepError

    reg = _registry(ctx)
    name, _, version = asset.partition(":")
    try:
        rec = reg.get(name, version or None)
    except DataPrepError as exc:
        raise UsageError(str(exc)) from exc
    problems = reg.verify(rec)
    if as_json:
        click.echo(json.dumps({**rec, "integrity_problems": problems}, indent=2, default=str))
        return
    out = _console()
    lin = rec.get("lineage", {})
    out.print(f"[bold]{rec['name']}:{rec['version']}[/] ({rec['type']}) {rec.get('description') or ''}", markup=True)
    out.print(f"  path:      {rec['path']}", markup=False)
    out.print(f"  local:     {rec['local_path']}", markup=False)
    out.print(f"  content:   sha256 {rec['content_hash']} ({len(rec['files'])} file(s), {rec.get('rows', '?')} rows)",
              markup=False)
    out.print("  tags:      " + ", ".join(f"{k}={v}" for k, v in rec.get("tags", {}).items()), markup=False)
    out.print(f"  produced:  {rec.get('created_at', '')} by run {lin.get('run_id', '?')}, notebook "
              f"{lin.get('notebook', '?')}, commit {lin.get('git_commit') or '(not a git repository)'}", markup=False)
    out.print(f"  layer:     {lin.get('layer', '?')} (table {lin.get('table', '?')})", markup=False)
    for src in lin.get("sources", []):
        out.print(f"  source:    {src['name']}: {src['rows']} rows, bronze manifest {src['manifest']} "
                  f"(sha256 {src['manifest_sha256'][:16]}), content {src['content_hash'][:16]}", markup=False)
    failed = [q for q in rec.get("quality", []) if not q.get("passed")]
    out.print(f"  quality:   {len(rec.get('quality', []))} rule(s), {len(failed)} warning(s) failed"
              + "".join(f"; {q['rule']} on {q['column']} ({q['failed_rows']} rows)" for q in failed), markup=False)
    if problems:
        for p in problems:
            out.print(f"  [red]integrity:[/] {p}", markup=True, highlight=False)
        ctx.exit(1)
    out.print("  integrity: [green]every file matches its registered hash[/]", markup=True)


# -- endpoint and model (stage 5's local realtime endpoint and model approval) ----------

@main.group()
def endpoint() -> None:
    """The local realtime endpoint (MLflow scoring server + data collector) of stage 5."""


def _models_settings(ctx: click.Context) -> Any:
    from .catalogue import stage_slugs
    from .settings.parameters import from_parameters

    project = _project(ctx)
    return project, from_parameters("models", {s: project.effective_settings(s) for s in stage_slugs()})


def _endpoint_fail(ctx: click.Context, exc: Exception) -> None:
    _console().print(f"[red]error:[/] {exc}", markup=True, highlight=False)
    ctx.exit(2)


@endpoint.command("serve")
@click.option("--model", "model_uri", help="MLflow model URI (default: models:/<model name>@champion).")
@click.option("--port", type=click.IntRange(1024, 65535), help="Port on 127.0.0.1 (default: the setting).")
@click.pass_context
def endpoint_serve(ctx: click.Context, model_uri: str | None, port: int | None) -> None:
    """Serve the champion on 127.0.0.1 until 'endpoint stop'; every request is collected."""
    from .modeling import ModelingError
    from .modeling import endpoint as ep

    project, models = _models_settings(ctx)
    uri = model_uri or f"models:/{models.model_registration.name}@champion"
    try:
        state = ep.serve(project.root, uri, port or models.local_endpoint_port, endpoint=models.online_endpoint.name,
                         deployment=models.online_endpoint.deployments[0].name)
    except ModelingError as exc:
        _endpoint_fail(ctx, exc)
        return
    _console().print(f"Serving {uri} at {state['url']} (pid {state['pid']}); POST /invocations, GET /ping. "
                     f"Requests are collected in inference-log/. Stop: 'mlops-accelerator endpoint stop'.")


@endpoint.command("stop")
@click.pass_context
def endpoint_stop(ctx: click.Context) -> None:
    """Stop the local endpoint this project started."""
    from .modeling import endpoint as ep

    _console().print(ep.stop(_project(ctx).root)["message"])


@endpoint.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def endpoint_status(ctx: click.Context, as_json: bool) -> None:
    """Whether the local endpoint runs and answers /ping."""
    import json as _json

    from .modeling import endpoint as ep

    st = ep.status(_project(ctx).root)
    if as_json:
        click.echo(_json.dumps(st, indent=2))
    elif st.get("running"):
        _console().print(f"running: {st['model_uri']} at {st['url']} (pid {st['pid']}), "
                         f"{'healthy' if st.get('healthy') else 'NOT answering /ping'}")
    else:
        _console().print(f"not running ({st.get('message', 'the recorded process has ended')})")


@main.group()
def model() -> None:
    """Registered models of stage 5: approval for production."""


@model.command("approve")
@click.argument("model_ref", metavar="NAME:VERSION")
@click.option("--by", "by", required=True, help="The approver's name.")
@click.option("--role", required=True, help="The approver's role (the stage-5 approver_role).")
@click.option("--reject", is_flag=True, help="Record a rejection instead.")
@click.option("--reason", default="", help="Why (kept in the ledger).")
@click.pass_context
def model_approve(ctx: click.Context, model_ref: str, by: str, role: str, reject: bool, reason: str) -> None:
    """Record a person's approval (or rejection) of a model version for production in the ledger."""
    project, models = _models_settings(ctx)
    if role != models.approver_role:
        _endpoint_fail(ctx, ValueError(f"--role {role!r}: approval needs the role {models.approver_role!r} "
                                       "(models.approver_role)"))
        return
    if ":" not in model_ref:
        _endpoint_fail(ctx, ValueError(f"{model_ref!r}: write the model as NAME:VERSION"))
        return
    project.record("model_approval", model=model_ref, approved=not reject, mode=models.model_approval, by=by,
                   role=role, reason=reason or ("approved" if not reject else "rejected"))
    _console().print(f"{'Rejected' if reject else 'Approved'} {model_ref} by {by} ({role}); recorded in the ledger. "
                     "Re-run stage 5 or its checks to pick it up.")


# -- report --------------------------------------------------------------------

@main.command()
@click.option("--format", "fmt", type=click.Choice(["html", "md"]), default="html", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here (default: deliverables-report.<format> in the project).")
@click.pass_context
def report(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Write the deliverables report with evidence and sign-offs."""
    from .fsutil import atomic_write_text
    from .report import render_html, render_markdown, status_data

    project = _project(ctx)
    data = status_data(project)
    text = render_html(data) if fmt == "html" else render_markdown(data)
    target = output or project.root / f"deliverables-report.{fmt}"
    atomic_write_text(target, text)
    _console().print(f"Wrote {target}")


# -- export ----------------------------------------------------------------------

@main.command()
@click.option("--to", "to", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Repository folder to write infra/, .github/, azure-pipelines/ and cicd/ into.")
@click.option("--force", is_flag=True, help="Replace files in DIR that differ from the generated ones.")
@click.pass_context
def export(ctx: click.Context, to: Path, force: bool) -> None:
    """Copy the generated infrastructure and pipelines into a repository layout (DIR)."""
    from .artifacts.export import export_repository

    result = export_repository(_project(ctx), to, force=force)
    out = _console()
    for rel in result["files"]:
        out.print(f"  wrote {rel}", markup=False)
    out.print(f"Exported to {result['to']}: {len(result['files'])} written, {len(result['unchanged'])} unchanged; "
              f"every file the pipelines reference is there. Commit it and follow cicd/SETUP.md.", markup=False)


from .serve import serve  # noqa: E402  (light: the Voila app starts only when the command runs)

main.add_command(serve)

from .monitoring.cli import monitor  # noqa: E402  (light: pandas and scipy load when a pass runs)

main.add_command(monitor)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
