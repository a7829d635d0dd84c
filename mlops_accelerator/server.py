"""Jupyter server extension: a REST API under `<base_url>/mlops-accelerator/` over the library.

Every handler is authenticated (token or cookie + XSRF, as jupyter_server enforces) and only
translates HTTP to library calls and library errors to JSON:

    {"error": "<sentence>", "errors": [FieldError dicts]}   400 invalid input (every field error)
                                                            404 unknown stage, item, run or project
                                                            409 settings changed meanwhile / project exists
                                                            422 broken project file; 500 never a traceback

Paths in requests (`path`, query or body) are relative to the server root; one that resolves
outside it is rejected. Paths in responses are relative to the server root too, so the front end
can open them directly.

Routes (all JSON):
    GET    stages                            the stage catalogue: number, slug, title, folder
    GET    status[?path=]                    project status (report.status_data) + roles, user
    POST   project          {name, path?}    create a project                        -> 201
    GET    stages/<stage>                    catalogue, settings, deliverables, last runs
    PUT    stages/<stage>/settings {values, revision?}     save (validated, conflict-checked)
    PATCH  stages/<stage>/settings {assignments}           dotted-path assignments
    POST   stages/<stage>/wizard             locate/copy the stage's wizard notebook (trusted)
    POST   runs             {stages, jobs?, target?, parameters?}  start a background run -> 202
    GET    runs/<run_id>                     run progress and result
    POST   checks           {stage?}         run automatic checks
    POST   signoffs         {item, role, comment?}   record a sign-off by the signed-in user -> 201
                                                     (their team-roster entry; see MLOpsAccelerator.signers)

Request bodies are capped (MLOpsAccelerator.max_body_bytes, 413 beyond); handlers do their
work in a worker thread, so a slow or hostile project file never blocks the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
import shutil
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from traitlets import Dict, Int, Unicode
from traitlets.config import Configurable

from .errors import AcceleratorError, FieldError, InvalidSettings, ProjectFileError, UsageError
from .workspace import PROJECT_FILE, Project, SettingsConflict

NAMESPACE = "mlops-accelerator"


class MLOpsAccelerator(Configurable):
    """Configuration of the server extension (`--MLOpsAccelerator.project_dir=...`)."""

    project_dir = Unicode(
        "", config=True,
        help="Folder of the project, relative to the server root (default: the root itself).")
    signers = Dict(
        {}, config=True,
        help="Who signs off: Jupyter user name -> the e-mail (or name) of their entry on the team roster. "
             "The key '*' stands for every user of this server: use it on a single-user server, where the "
             "shared token does not say who is at the keyboard. Without an entry, the Jupyter user name "
             "itself must match a roster entry's e-mail, the e-mail's user part, or its name.")
    max_body_bytes = Int(
        1024 * 1024, config=True,
        help="Largest request body the API accepts; bigger ones get 413 (settings are bounded anyway).")


def off_loop(method: Any) -> Any:
    """Run a handler's library work in a worker thread, never on the server's event loop.

    Reading a project file (or a slow disk) must not freeze every other user of the Jupyter
    server. The method's reply is kept and sent from the loop when the work is done.
    """
    @functools.wraps(method)
    async def wrapper(self: BaseHandler, *args: Any, **kwargs: Any) -> None:
        self._off_loop, self._deferred_reply = True, None
        try:
            await asyncio.get_running_loop().run_in_executor(None, functools.partial(method, self, *args, **kwargs))
        finally:
            self._off_loop = False
        if self._deferred_reply is not None:
            data, status = self._deferred_reply
            self._deferred_reply = None
            self.reply(data, status)

    return wrapper


def _finite(data: Any) -> Any:
    """JSON has no Infinity/NaN (browsers cannot parse them): send null instead."""
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


class ApiError(Exception):
    """An error with its HTTP status, raised inside handlers."""

    def __init__(self, status: int, message: str, errors: list[FieldError] | None = None,
                 **extra: Any):
        super().__init__(message)
        self.status = status
        self.errors = errors or []
        self.extra = extra


class BaseHandler(APIHandler):
    """Shared plumbing: root confinement, project lookup, JSON in/out, error mapping."""

    # -- configuration ---------------------------------------------------------

    @property
    def root(self) -> Path:
        return Path(self.settings["mlops_accelerator_root"])

    @property
    def default_dir(self) -> str:
        return self.settings["mlops_accelerator_config"].project_dir

    # -- paths -----------------------------------------------------------------

    def confine(self, rel: Any, field: str = "path") -> Path:
        """A request path (relative to the server root) as an absolute path inside the root."""
        if rel is None or rel == "":
            rel = self.default_dir
        if not isinstance(rel, str):
            raise ApiError(400, f"'{field}' must be a text path",
                           [FieldError(field, "type", rel, "must be a path relative to the server root")])
        target = (self.root / rel).resolve()
        if not target.is_relative_to(self.root):
            raise ApiError(400, f"path {rel!r} is outside the server root",
                           [FieldError(field, "inside_root", rel,
                                       "must stay inside the Jupyter server's root folder")])
        return target

    def rel(self, path: Path | str | None) -> str | None:
        """An absolute path (or one relative to the project) as a path relative to the root."""
        if path is None:
            return None
        p = Path(path)
        try:
            rel = p.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None
        return "" if rel == "." else rel

    def request_path(self) -> Any:
        return self.get_query_argument("path", None)

    def project(self, rel: Any = None) -> Project:
        """The project at the requested folder (or its nearest parent inside the root)."""
        folder = self.confine(rel if rel is not None else self.request_path())
        try:
            project = Project.find(folder)
        except UsageError:
            project = None
        if project is None or not project.root.is_relative_to(self.root):
            raise ApiError(404, f"no project in '{self.rel(folder) or '.'}': create one "
                           f"(it holds a {PROJECT_FILE})", code="no_project",
                           path=self.rel(folder))
        return project

    def body(self) -> dict[str, Any]:
        if not self.request.body:
            return {}
        limit = self.settings["mlops_accelerator_config"].max_body_bytes
        if len(self.request.body) > limit:
            raise ApiError(413, f"the request body is {len(self.request.body):,} bytes; this API accepts at "
                           f"most {limit:,} (settings are short texts: see the field limits in the schema)",
                           code="too_large")
        try:
            data = json.loads(self.request.body)
        except RecursionError as exc:
            raise ApiError(400, "the request body nests too deeply to be settings") from exc
        except ValueError as exc:
            raise ApiError(400, f"the request body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ApiError(400, "the request body must be a JSON object")
        return data

    @staticmethod
    def stage(key: Any):
        from .catalogue import load_catalogue

        try:
            return load_catalogue().stage(key)
        except UsageError as exc:
            raise ApiError(404, str(exc)) from exc

    # -- responses -------------------------------------------------------------

    _off_loop = False
    _deferred_reply: tuple[Any, int] | None = None

    def reply(self, data: Any, status: int = 200) -> None:
        if self._off_loop:  # in a worker thread (off_loop): the loop sends it when the work is done
            self._deferred_reply = (data, status)
            return
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        try:
            text = json.dumps(data, default=str, allow_nan=False)
        except ValueError:
            text = json.dumps(_finite(data), default=str, allow_nan=False)
        self.finish(text)

    def scrub(self, text: str) -> str:
        """Server paths out of a message: the root's absolute path becomes relative."""
        root = str(self.root)
        return text.replace(root + "/", "").replace(root, ".")

    def fail(self, status: int, message: str, errors: list[FieldError] | None = None,
             **extra: Any) -> None:
        self.clear()
        errors = [FieldError(e.field, e.rule, e.value, self.scrub(e.message)) for e in errors or []]
        self.reply({"error": self.scrub(message), "errors": [e.to_dict() for e in errors], **extra}, status)

    @contextlib.contextmanager
    def errors(self):
        """Turn library errors into JSON replies with the right status; never a traceback."""
        try:
            yield
        except ApiError as exc:
            self.fail(exc.status, str(exc), exc.errors, **exc.extra)
        except InvalidSettings as exc:
            self.fail(400, f"{len(exc.errors)} invalid setting(s) in stage '{exc.stage}'; "
                      "nothing was written", exc.errors, stage=exc.stage)
        except SettingsConflict as exc:
            self.fail(409, str(exc), code="conflict")
        except UsageError as exc:
            self.fail(400, str(exc))
        except ProjectFileError as exc:
            self.fail(422, str(exc), code="project_file")
        except AcceleratorError as exc:
            self.fail(500, str(exc))
        except tornado.web.HTTPError:
            raise
        except Exception:  # noqa: BLE001 - logged here, never sent to the client
            self.log.exception("mlops-accelerator: unexpected error in %s %s",
                               self.request.method, self.request.path)
            self.fail(500, "internal error in the MLOps Accelerator server extension; "
                      "see the Jupyter server log")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason or "error"
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": message, "errors": []}))


def _roles() -> list[dict[str, str]]:
    from .roles import ROLES

    return [{"id": r.id, "name": r.name, "group": r.group} for r in ROLES]


def _voila_enabled(serverapp: Any) -> bool:
    """Voila's server extension ("voila.server_extension") serves /voila/render/<path>."""
    return any(name.split(".")[0] == "voila" and ext.enabled
               for name, ext in serverapp.extension_manager.extensions.items())


def _azure_status(project: Project) -> dict[str, Any]:
    """What the sidebar shows of the azureml target: the stages it runs, and the last pre-flight's findings
    (kept in the project by `preflight` and azureml runs), each naming the setting to change."""
    from .azure.preflight import latest_findings
    from .targets import azureml_stages

    saved = latest_findings(project.root)
    keys = ("env", "check", "message", "setting")
    findings = [{k: str(f.get(k) or "") for k in keys} for f in saved.get("findings") or []
                if isinstance(f, dict) and f.get("setting")]
    return {"azureml_stages": list(azureml_stages()), "preflight": findings,
            "preflight_at": str(saved["at"]) if saved.get("at") else None}


class CatalogueHandler(BaseHandler):
    """The stages' identity (payloads.Catalogue): the front end's only source for the stage list."""

    @tornado.web.authenticated
    def get(self) -> None:
        from .catalogue import load_catalogue, stage_folder

        with self.errors():
            self.reply({"stages": [{"number": s.number, "slug": s.slug, "title": s.title,
                                    "folder": stage_folder(s.number)} for s in load_catalogue().stages]})


class StatusHandler(BaseHandler):
    @tornado.web.authenticated
    @off_loop
    def get(self) -> None:
        from .report import status_data

        with self.errors():
            project = self.project()
            data = status_data(project)
            data["root"] = None  # never disclose the server's absolute paths
            data["path"] = self.rel(project.root)
            for stage in data["stages"]:
                if stage["last_run"]:
                    stage["last_run"]["run_dir"] = self._run_dir(project, stage["last_run"]["run_dir"])
            data["roles"] = _roles()
            data["user"] = getattr(self.current_user, "name", None) or ""
            data["voila"] = _voila_enabled(self.serverapp)
            data.update(_azure_status(project))
            self.reply(data)

    def _run_dir(self, project: Project, run_dir: Any) -> str | None:
        return self.rel(project.root / run_dir) if run_dir else None


class ProjectHandler(BaseHandler):
    @tornado.web.authenticated
    @off_loop
    def post(self) -> None:
        with self.errors():
            body = self.body()
            folder = self.confine(body.get("path"))
            name = body.get("name")
            if not isinstance(name, str) or not name.strip():
                raise ApiError(400, "a project needs a name",
                               [FieldError("name", "required", name, "is required")])
            if (folder / PROJECT_FILE).exists():
                raise ApiError(409, f"'{self.rel(folder) or '.'}' already holds a project; "
                               "nothing was changed", code="exists")
            project = Project.create(folder, name.strip())
            self.reply({"project": project.name, "path": self.rel(project.root)}, 201)


class StageHandler(BaseHandler):
    @tornado.web.authenticated
    @off_loop
    def get(self, key: str) -> None:
        from .deliverables import statuses
        from .settings import json_schema

        with self.errors():
            stage = self.stage(key)
            project = self.project()
            doc = project.read_document()
            _, errors = project.settings_or_errors(stage.slug, doc)
            runs = [e for e in project.events("run_finished") if stage.slug in (e.get("stages") or {})]
            self.reply({
                "path": self.rel(project.root),
                "stage": {
                    "number": stage.number, "slug": stage.slug, "title": stage.title,
                    "purpose": stage.purpose, "outcome": stage.outcome, "weeks": list(stage.weeks),
                    "roles": list(stage.roles), "produces": list(stage.produces),
                    "tasks": [{"id": t.id, "title": t.title, "summary": t.summary, "roles": list(t.roles)}
                              for t in stage.tasks],
                },
                "settings": {
                    "values": project.effective_settings(stage.slug, doc),
                    "saved": project.saved_settings(stage.slug, doc),
                    "revision": project.revision(stage.slug),
                    "valid": not errors,
                    "errors": [e.to_dict() for e in errors],
                    "schema": json_schema(stage.slug),
                },
                "deliverables": [i.to_dict() for i in statuses(project) if i.stage == stage.number],
                "last_runs": [{
                    "run_id": e.get("run_id"), "ts": e["ts"],
                    "status": e["stages"][stage.slug].get("status"),
                    "run_dir": self.rel(project.root / e["run_dir"]) if e.get("run_dir") else None,
                } for e in runs[-5:][::-1]],
            })


class SettingsHandler(BaseHandler):
    @tornado.web.authenticated
    @off_loop
    def put(self, key: str) -> None:
        with self.errors():
            stage = self.stage(key)
            body = self.body()
            values = body.get("values")
            if not isinstance(values, dict):
                raise ApiError(400, "'values' must be an object of the stage's settings",
                               [FieldError("values", "type", values, "must be an object")])
            revision = body.get("revision")
            project = self.project(body.get("path"))
            result = project.save_settings(stage.slug, values, base_revision=revision, via="jupyterlab")
            self.reply({"stage": result.stage, "changes": result.changes, "revision": result.revision})

    @tornado.web.authenticated
    @off_loop
    def patch(self, key: str) -> None:
        with self.errors():
            stage = self.stage(key)
            body = self.body()
            assignments = body.get("assignments")
            if not isinstance(assignments, dict) or not assignments:
                raise ApiError(400, "'assignments' must be an object of dotted paths to values",
                               [FieldError("assignments", "type", assignments, "must be a non-empty object")])
            project = self.project(body.get("path"))
            result = project.set_values(stage.slug, assignments, via="jupyterlab")
            self.reply({"stage": result.stage, "changes": result.changes, "revision": result.revision})


def wizards_source() -> Path | None:
    """The folder of wizard notebooks shipped with the package (or the dev checkout's)."""
    from .resources import wizards_dir

    folder = wizards_dir()
    return folder if folder.is_dir() else None


class WizardHandler(BaseHandler):
    @tornado.web.authenticated
    def post(self, key: str) -> None:
        with self.errors():
            stage = self.stage(key)
            project = self.project(self.body().get("path"))
            from .catalogue import stage_folder

            name = f"{stage_folder(stage.number)}.ipynb"
            target = project.root / "wizards" / name
            if not target.exists():
                source_dir = wizards_source()
                source = source_dir / name if source_dir else None
                if source is None or not source.is_file():
                    raise ApiError(404, f"the wizard notebook {name} is not installed "
                                   "(expected in the package's wizards/ folder)")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                self._trust(target)
            self._copy_siblings(target.parent)
            rel = self.rel(target)
            voila = (url_path_join(self.base_url, "voila/render", rel)
                     if _voila_enabled(self.serverapp) else None)
            self.reply({"path": rel, "voila_url": voila})

    def _copy_siblings(self, folder: Path) -> None:
        """The other wizards and the home page beside it, so its "All stages" / "Stage N" links open."""
        source_dir = wizards_source()
        for source in sorted(source_dir.glob("*.ipynb")) if source_dir else ():
            if not (folder / source.name).exists():
                shutil.copyfile(source, folder / source.name)
                self._trust(folder / source.name)

    def _trust(self, path: Path) -> None:
        """Sign the copied notebook so its widgets run on open (it is our own code)."""
        import nbformat

        nb = nbformat.read(path, as_version=4)
        self.contents_manager.notary.sign(nb)


class RunsHandler(BaseHandler):
    @tornado.web.authenticated
    @off_loop
    def post(self) -> None:
        from .runs import start_background_run

        with self.errors():
            body = self.body()
            project = self.project(body.get("path"))
            stages = body.get("stages")
            if isinstance(stages, (str, int)):
                stages = [stages]
            if not isinstance(stages, list) or not stages:
                raise ApiError(400, "'stages' must list the stages to run",
                               [FieldError("stages", "required", stages, "must be a non-empty list")])
            slugs = [self.stage(s).slug for s in stages]
            jobs, target, parameters = body.get("jobs", 1), body.get("target", "local"), body.get("parameters")
            errors = []
            if not isinstance(jobs, int) or isinstance(jobs, bool) or not 1 <= jobs <= 16:
                errors.append(FieldError("jobs", "range", jobs, "must be a whole number from 1 to 16"))
            if target not in ("local", "azureml"):
                errors.append(FieldError("target", "choice", target, "must be 'local' or 'azureml'"))
            if parameters is not None and not isinstance(parameters, dict):
                errors.append(FieldError("parameters", "type", parameters, "must be an object"))
            if errors:
                raise ApiError(400, "invalid run request; nothing was started", errors)
            self._refuse_doomed_run(project, slugs, parameters)
            run_id = start_background_run(project, slugs, jobs=jobs, target=target, parameters=parameters)
            self.reply({"run_id": run_id, "stages": slugs, "path": self.rel(project.root)}, 202)


    @staticmethod
    def _refuse_doomed_run(project: Project, slugs: list[str], parameters: dict[str, Any] | None) -> None:
        """What would fail in the background is refused now: no notebooks, bad overrides, broken settings."""
        from .run_parameters import check_overrides
        from .runner import effective_with_overrides
        from .templates import stage_templates

        empty = [s for s in slugs if not stage_templates(s)]
        if empty:
            raise ApiError(400, f"stage(s) {', '.join(empty)} have no notebooks to run; nothing was started",
                           [FieldError("stages", "has_notebooks", empty, "must name stages that have notebooks")])
        check_overrides(slugs, parameters)
        effective_with_overrides(project, slugs, parameters)  # invalid settings: 400; broken file: 422


class RunHandler(BaseHandler):
    @tornado.web.authenticated
    @off_loop
    def get(self, run_id: str) -> None:
        from .runs import run_progress

        with self.errors():
            project = self.project()
            try:
                progress = dict(run_progress(project, run_id))
            except (KeyError, FileNotFoundError, UsageError) as exc:
                raise ApiError(404, f"no run {run_id!r} in this project") from exc
            if progress.get("state") == "unknown":
                raise ApiError(404, f"no run {run_id!r} in this project")
            # Paths relative to the server root, so the front end can open them.
            progress["run_dir"] = self.rel(project.root / progress["run_dir"]) if progress.get("run_dir") else None
            progress["outputs"] = [p for p in (self.rel(project.root / o) for o in progress.get("outputs") or [])
                                   if p]
            for nb in progress.get("notebooks") or []:
                if nb.get("output"):
                    nb["output"] = self.rel(project.root / nb["output"])
                if isinstance(nb.get("error"), dict) and isinstance(nb["error"].get("evalue"), str):
                    nb["error"]["evalue"] = self.scrub(nb["error"]["evalue"])
            progress["log_tail"] = self.scrub(progress.get("log_tail") or "")
            self.reply(progress)


class ChecksHandler(BaseHandler):
    @tornado.web.authenticated
    @off_loop
    def post(self) -> None:
        from .deliverables import run_checks

        with self.errors():
            body = self.body()
            project = self.project(body.get("path"))
            stage = body.get("stage")
            numbers = [self.stage(stage).number] if stage not in (None, "") else None
            results = run_checks(project, numbers)
            self.reply({"results": [{"item": item.id, "stage": item.stage, **result.to_dict()}
                                    for item, result in results]})


class SignoffsHandler(BaseHandler):
    """Sign-offs by the signed-in user: the signer is their roster entry, never a name in the body."""

    def signer(self, project: Project) -> tuple[str, dict[str, Any]]:
        """The roster name of the authenticated Jupyter user, and the identity to record."""
        from .deliverables import roster_person

        user = self.current_user
        username = str(getattr(user, "username", "") or "")
        display = str(getattr(user, "name", "") or "")
        mapping = self.settings["mlops_accelerator_config"].signers
        mapped = mapping.get(username) or mapping.get("*")
        candidates = [mapped] if mapped else [username, display]
        person = next((p for p in (roster_person(project, c) for c in candidates if c) if p), None)
        if person is None:
            how = (f"the server maps you to {mapped!r}, who is not on the roster" if mapped else
                   "set c.MLOpsAccelerator.signers = {'<jupyter user>': '<roster e-mail>'} (or {'*': ...} on a "
                   "single-user server), or sign in with a user name that is your roster e-mail")
            raise ApiError(403, f"you are signed in to Jupyter as {display or username!r}, who is not on the "
                           f"project's team roster, so you cannot sign off: {how}", code="not_on_roster")
        return person["name"], {"via": "jupyter", "user": username, "user_name": display}

    @tornado.web.authenticated
    @off_loop
    def post(self) -> None:
        from .catalogue import load_catalogue
        from .deliverables import sign_off

        with self.errors():
            body = self.body()
            project = self.project(body.get("path"))
            item, role = body.get("item"), body.get("role")
            errors = [FieldError(k, "required", v, "is required") for k, v in
                      (("item", item), ("role", role)) if not isinstance(v, str) or not v.strip()]
            comment = body.get("comment") or ""
            if not isinstance(comment, str):
                errors.append(FieldError("comment", "type", comment, "must be text"))
            if errors:
                raise ApiError(400, "incomplete sign-off; nothing was recorded", errors)
            try:
                load_catalogue().deliverable(item)
            except UsageError as exc:
                raise ApiError(404, str(exc)) from exc
            project.read_document()  # a broken project file: 422 before anything else
            by, identity = self.signer(project)
            claimed = body.get("by")
            if isinstance(claimed, str) and claimed.strip() and claimed.strip().casefold() not in (
                    by.casefold(), str(self._email(project, by)).casefold()):
                raise ApiError(403, f"you are signed in as {by} (from the team roster) and cannot sign off "
                               f"as {claimed.strip()!r}; nothing was recorded", code="not_you")
            event = sign_off(project, item, by, role, comment, identity=identity)
            self.reply({k: event.get(k) for k in ("id", "ts", "item", "stage", "by", "role", "comment")}, 201)

    @staticmethod
    def _email(project: Project, name: str) -> str:
        from .deliverables import roster_person

        return (roster_person(project, name) or {}).get("email") or ""


def handlers(base_url: str) -> list[tuple[str, type]]:
    def route(pattern: str) -> str:
        return url_path_join(base_url, NAMESPACE, pattern)

    stage = r"(?P<key>[A-Za-z0-9_-]+)"
    return [
        (route("stages"), CatalogueHandler),
        (route("status"), StatusHandler),
        (route("project"), ProjectHandler),
        (route(f"stages/{stage}"), StageHandler),
        (route(f"stages/{stage}/settings"), SettingsHandler),
        (route(f"stages/{stage}/wizard"), WizardHandler),
        (route("runs"), RunsHandler),
        (route(r"runs/(?P<run_id>[A-Za-z0-9][A-Za-z0-9_.-]*)"), RunHandler),
        (route("checks"), ChecksHandler),
        (route("signoffs"), SignoffsHandler),
    ]


def load(serverapp: Any) -> None:
    """Register the handlers on a running Jupyter server."""
    web_app = serverapp.web_app
    config = MLOpsAccelerator(config=serverapp.config)
    root = Path(serverapp.root_dir).expanduser().resolve()
    web_app.settings["mlops_accelerator_root"] = str(root)
    web_app.settings["mlops_accelerator_config"] = config
    web_app.add_handlers(".*$", handlers(web_app.settings["base_url"]))
    serverapp.log.info("MLOps Accelerator API at %s (project folder: %s)",
                       url_path_join(web_app.settings["base_url"], NAMESPACE),
                       (root / config.project_dir).as_posix())
