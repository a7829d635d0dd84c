"""The project workspace: a human-readable project file plus an append-only ledger.

Layout of a project folder:
    mlops-accelerator.yaml      every stage's settings (only answers that differ from defaults);
                                comments a person adds survive rewrites
    .mlops-accelerator/
        ledger.jsonl            append-only events (see ledger.py)
        lock                    cross-process writer lock
        cache/                  derived data, safe to delete (settings_cache.py: validated settings)
        runs/<run-id>/          executed notebooks and artifacts of each run

Every write holds the lock, re-reads the file, validates, then replaces the file
atomically and appends the ledger event, so the CLI, a Jupyter server and Voila kernels
can save at once without losing anything.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import ledger
from .errors import FieldError, InvalidSettings, ProjectFileError, UsageError
from .fsutil import commit_write, project_lock, stage_write, write_failed

PROJECT_FILE = "mlops-accelerator.yaml"
STATE_DIR = ".mlops-accelerator"
SCHEMA_VERSION = 1


def __getattr__(name: str) -> Any:
    # STAGE_SLUGS is the catalogue's (one stage identity); read lazily so importing stays cheap.
    if name == "STAGE_SLUGS":
        from .catalogue import stage_slugs

        return stage_slugs()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
# A project file is a few kilobytes; these bounds keep a hostile or runaway one from hanging
# every command (and a Jupyter server): a size cap, and few YAML aliases (an alias bomb
# expands exponentially when read).
MAX_PROJECT_FILE_BYTES = 2 * 1024 * 1024
MAX_YAML_ALIASES = 32

HEADER = """\
# MLOps Accelerator project file.
# Edit it by hand, with the wizards, or with `mlops-accelerator settings set`.
# Only answers that differ from the defaults are stored; `mlops-accelerator settings show STAGE`
# prints every setting. Comments you add here are kept when the accelerator rewrites the file.
"""


def _slugs() -> tuple[str, ...]:
    from .catalogue import stage_slugs

    return stage_slugs()


class SettingsConflict(UsageError):
    """The stage's settings changed since the caller loaded them (another tab, the CLI)."""


@dataclass(frozen=True)
class SaveResult:
    stage: str
    changes: list[dict[str, Any]]  # [{"field": "a.b", "old": ..., "new": ...}]
    revision: str


def _yaml():
    from ruamel.yaml import YAML

    y = YAML()  # round-trip: keeps comments and key order
    y.Composer = _bounded_composer()
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 100
    return y


def _bounded_composer():
    """ruamel's composer, refusing more than MAX_YAML_ALIASES aliases in one document."""
    from ruamel.yaml.composer import Composer, ComposerError
    from ruamel.yaml.events import AliasEvent

    class BoundedComposer(Composer):
        aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.parser.check_event(AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_YAML_ALIASES:
                    raise ComposerError(None, None, f"more than {MAX_YAML_ALIASES} YAML aliases (*name); "
                                        "write the values out instead",
                                        self.parser.peek_event().start_mark)
            return super().compose_node(parent, index)

    return BoundedComposer


def _plain(node: Any) -> Any:
    """ruamel's commented containers -> plain dicts and lists."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _merge_into(target: Any, new: dict[str, Any]) -> None:
    """Update a round-trip mapping in place so untouched keys keep their comments."""
    for key in [k for k in target if k not in new]:
        del target[key]
    for key, value in new.items():
        if key in target and isinstance(target[key], dict) and isinstance(value, dict):
            _merge_into(target[key], value)
        elif key not in target or _plain(target[key]) != value:
            target[key] = value


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": [1]}} -> {"a.b.0": 1}; empty containers stay as leaves."""
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(data, list) and data:
        out = {}
        for i, v in enumerate(data):
            out.update(flatten(v, f"{prefix}{i}."))
        return out
    return {prefix[:-1]: data} if prefix else {}


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    a, b = flatten(old), flatten(new)
    return [{"field": k, "old": a.get(k), "new": b.get(k)}
            for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def revision_of(saved: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(saved, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _deep_merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _deep_merge(base.get(k), v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


class Project:
    """A project workspace folder."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.path = self.root / PROJECT_FILE
        self.state_dir = self.root / STATE_DIR
        self.ledger_path = self.state_dir / "ledger.jsonl"
        self.lock_path = self.state_dir / "lock"
        self.runs_dir = self.state_dir / "runs"

    # -- finding and creating -------------------------------------------------

    @classmethod
    def find(cls, start: Path | str | None = None) -> Project:
        """The project at `start` or in its nearest parent holding a project file."""
        here = Path(start or ".").resolve()
        for folder in (here, *here.parents):
            if (folder / PROJECT_FILE).is_file():
                return cls(folder)
        raise UsageError(f"no project here: {here} (nor any parent) has a {PROJECT_FILE}; "
                         "create one with 'mlops-accelerator init'")

    @classmethod
    def create(cls, root: Path | str, name: str,
               settings: dict[str, dict[str, Any]] | None = None) -> Project:
        """Create a project; refuses to touch a folder that already holds one."""
        from .naming import PROJECT_SLUG

        problem = PROJECT_SLUG.problem(name)
        if problem:
            raise InvalidSettings("project", [FieldError("name", PROJECT_SLUG.id, name, problem)])
        project = cls(Path(root))
        if project.path.exists() or project.state_dir.exists():
            raise UsageError(f"{project.root} already holds a project ({PROJECT_FILE}); "
                             "nothing was changed")
        _refuse_inside_outputs(project.root)
        stages: dict[str, dict[str, Any]] = {slug: {} for slug in _slugs()}
        stages["foundations"] = {"project_name": name}
        for slug, values in (settings or {}).items():
            stages[slug] = _deep_merge(stages.get(slug, {}), values)
        # Validate everything before writing anything.
        from .settings import default_settings

        merged = {slug: _deep_merge(default_settings(slug), values) for slug, values in stages.items()}
        sparse = {}
        for slug, values in stages.items():
            sparse[slug] = project._validated_sparse(slug, values, {s: v for s, v in merged.items() if s != slug})
        try:
            project.root.mkdir(parents=True, exist_ok=True)
            project.state_dir.mkdir()
            project.runs_dir.mkdir()
            (project.state_dir / ".gitignore").write_text("lock\n")
        except OSError as exc:
            raise write_failed(Path(exc.filename or project.root), exc) from exc
        with project_lock(project.lock_path):
            doc = {"schema_version": SCHEMA_VERSION,
                   "project": {"name": name, "created": ledger.now_iso()},
                   "stages": sparse}
            project._commit(_yaml_mapping(doc), ledger.new_event("project_created", name=name))
        return project

    # -- reading --------------------------------------------------------------

    def read_document(self) -> Any:
        """Parse the project file (round-trip); any problem names the file and line."""
        from ruamel.yaml.error import MarkedYAMLError, YAMLError

        try:
            size = self.path.stat().st_size
            if size > MAX_PROJECT_FILE_BYTES:
                raise ProjectFileError(f"{self.path}: the project file is {size:,} bytes, more than the "
                                       f"{MAX_PROJECT_FILE_BYTES:,} allowed; it is not read. Remove the "
                                       "oversized values by hand")
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ProjectFileError(f"{self.path}: project file is missing") from exc
        except PermissionError as exc:
            raise ProjectFileError(f"{self.path}: cannot read the project file ({exc.strerror}); "
                                   "check its permissions") from exc
        try:
            doc = _yaml().load(text)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise ProjectFileError(f"{self.path}{where}: not valid YAML: {exc.problem or exc}. "
                                   "Fix the file by hand; the accelerator will not overwrite it") from exc
        except YAMLError as exc:
            raise ProjectFileError(f"{self.path}: not valid YAML: {exc}") from exc
        self._check_structure(doc)
        return doc

    def _check_structure(self, doc: Any) -> None:
        def fail(msg: str, node: Any = None, key: Any = None) -> None:
            line = ""
            try:
                if node is not None and key is not None:
                    line = f", line {node.lc.key(key)[0] + 1}"
            except (AttributeError, KeyError, TypeError):
                pass
            raise ProjectFileError(f"{self.path}{line}: {msg}; the accelerator will not overwrite it")

        if not isinstance(doc, dict):
            fail("expected a mapping with 'schema_version', 'project' and 'stages'")
        version = doc.get("schema_version")
        if not isinstance(version, int):
            fail(f"'schema_version' must be a whole number, got {version!r}", doc, "schema_version")
        if version > SCHEMA_VERSION:
            fail(f"schema_version {version} was written by a newer release (this one reads "
                 f"up to {SCHEMA_VERSION}); upgrade mlops-accelerator", doc, "schema_version")
        if not isinstance(doc.get("project"), dict) or not doc["project"].get("name"):
            fail("'project' must be a mapping with a 'name'", doc, "project")
        stages = doc.get("stages")
        if not isinstance(stages, dict):
            fail("'stages' must be a mapping of stage slug to settings", doc, "stages")
        for slug, values in stages.items():
            if slug not in _slugs():
                fail(f"unknown stage {slug!r} under 'stages' (stages: {', '.join(_slugs())})",
                     stages, slug)
            if values is not None and not isinstance(values, dict):
                fail(f"settings of stage {slug!r} must be a mapping", stages, slug)

    @property
    def name(self) -> str:
        return str(self.read_document()["project"]["name"])

    def saved_settings(self, stage: str, doc: Any = None) -> dict[str, Any]:
        """The stage's answers as stored (only those that differ from the defaults)."""
        doc = doc if doc is not None else self.read_document()
        return _plain(doc["stages"].get(stage) or {})

    def revision(self, stage: str, doc: Any = None) -> str:
        """A short hash of the stage's saved settings: pass it back to detect conflicts."""
        return revision_of(self.saved_settings(stage, doc))

    def other_stages(self, stage: str, doc: Any = None) -> dict[str, dict[str, Any]]:
        """The other stages' answers over their defaults (unvalidated), for cross-stage rules."""
        from .settings import default_settings

        doc = doc if doc is not None else self.read_document()
        return {slug: _deep_merge(default_settings(slug), self.saved_settings(slug, doc))
                for slug in _slugs() if slug != stage}

    def settings_or_errors(self, stage: str, doc: Any = None):
        from .settings import validate_settings

        doc = doc if doc is not None else self.read_document()
        return validate_settings(stage, self.saved_settings(stage, doc), self.other_stages(stage, doc))

    def settings(self, stage: str, doc: Any = None):
        """The stage's validated settings model; InvalidSettings if the file breaks a rule."""
        model, errors = self.settings_or_errors(stage, doc)
        if errors:
            raise InvalidSettings(stage, errors)
        return model

    def effective_settings(self, stage: str, doc: Any = None) -> dict[str, Any]:
        """Defaults overlaid with the saved answers, as plain data (even when invalid)."""
        from .settings import default_settings

        model, errors = self.settings_or_errors(stage, doc)
        if model is not None:
            return model.model_dump(mode="json")
        return _deep_merge(default_settings(stage), self.saved_settings(stage, doc))

    def events(self, type_: str | None = None, **match: Any) -> Iterator[dict[str, Any]]:
        for event in ledger.read(self.ledger_path):
            if type_ and event["type"] != type_:
                continue
            if all(event.get(k) == v for k, v in match.items()):
                yield event

    # -- writing --------------------------------------------------------------

    def _validated_sparse(self, stage: str, values: dict[str, Any],
                          others: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        from .settings import validate_settings

        model, errors = validate_settings(stage, values, others)
        if errors:
            raise InvalidSettings(stage, errors)
        return model.model_dump(mode="json", exclude_defaults=True)

    def _clear_stale_temp_files(self) -> None:
        """Under the lock no other write is in flight: a temp file is a killed writer's leftover."""
        for stale in self.root.glob(f".{PROJECT_FILE}.*.tmp"):
            stale.unlink(missing_ok=True)

    def _render(self, doc: Any) -> str:
        buf = io.StringIO()
        _yaml().dump(doc, buf)
        text = buf.getvalue()
        if not text.startswith("#"):
            text = HEADER + text
        if len(text.encode("utf-8")) > MAX_PROJECT_FILE_BYTES:
            raise UsageError(f"the project file would grow past {MAX_PROJECT_FILE_BYTES:,} bytes; "
                             "nothing was written (shorten the longest values)")
        return text

    def _commit(self, doc: Any, event: dict[str, Any]) -> None:
        """Replace the project file and append its ledger event as one commit (caller holds the lock).

        The new file is staged (written and fsynced, not yet visible), the event appended
        (fsynced), then the file renamed into place. A failure at any step undoes the steps
        before it, so the file and the ledger never disagree and a failed save changes nothing.
        """
        tmp = stage_write(self.path, self._render(doc))
        before = ledger.size_of(self.ledger_path)
        try:
            ledger.append(self.ledger_path, event)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        try:
            commit_write(tmp, self.path)
        except BaseException:
            ledger.undo_append(self.ledger_path, before)
            raise

    def save_settings(self, stage: str, values: dict[str, Any], *, base_revision: str | None = None,
                      via: str = "cli") -> SaveResult:
        """Validate and save a stage's full settings; nothing is written if any rule breaks.

        base_revision: the revision the caller loaded; if the saved settings changed since,
        SettingsConflict is raised instead of overwriting someone else's change.
        """
        return self._update(stage, lambda current: values, base_revision, via)

    def set_values(self, stage: str, assignments: dict[str, Any], *, via: str = "cli") -> SaveResult:
        """Apply dotted-path assignments (`environments.0.region`) and save, all or nothing.

        Applied to the settings as they are inside the lock, so concurrent `set`s of
        different keys never undo each other.
        """
        def apply(current: dict[str, Any]) -> dict[str, Any]:
            values = copy.deepcopy(current)
            errors = []
            for path, value in assignments.items():
                problem = _assign(values, path, value)
                if problem:
                    errors.append(FieldError(path, "path", value, problem))
            if errors:
                raise InvalidSettings(stage, errors)
            return values

        return self._update(stage, apply, None, via)

    def _update(self, stage: str, make_values: Any, base_revision: str | None, via: str) -> SaveResult:
        if stage not in _slugs():
            raise UsageError(f"unknown stage {stage!r}; stages: {', '.join(_slugs())}")
        with project_lock(self.lock_path):
            self._clear_stale_temp_files()
            doc = self.read_document()
            old_saved = self.saved_settings(stage, doc)
            if base_revision is not None and revision_of(old_saved) != base_revision:
                raise SettingsConflict(
                    f"the settings of stage '{stage}' were changed by someone else since you "
                    "loaded them; reload to see their change, then apply yours again")
            old_effective = self.effective_settings(stage, doc)
            sparse = self._validated_sparse(stage, make_values(old_effective), self.other_stages(stage, doc))
            if doc["stages"].get(stage) is None:
                doc["stages"][stage] = {}
            _merge_into(doc["stages"][stage], sparse)
            changes = diff(old_effective, self.effective_settings(stage, doc))
            revision = revision_of(sparse)
            if old_saved != sparse:
                self._commit(doc, ledger.new_event(
                    "settings_saved", stage=stage, via=via, changes=changes, revision=revision))
        return SaveResult(stage, changes, revision)

    def record(self, type_: str, **payload: Any) -> dict[str, Any]:
        """Append one event to the ledger (under the project lock)."""
        event = ledger.new_event(type_, **payload)
        with project_lock(self.lock_path):
            ledger.append(self.ledger_path, event)
        return event


def _refuse_inside_outputs(root: Path) -> None:
    """A project inside another project's runs/ or state folder would be mistaken for its outputs."""
    for folder in root.parents:
        if (folder / PROJECT_FILE).is_file():
            first = root.relative_to(folder).parts[0]
            if first in ("runs", STATE_DIR):
                raise UsageError(f"{root} is inside the {first}/ folder of the project in {folder}; "
                                 "create the new project elsewhere (nothing was changed)")
            return


def _assign(values: dict[str, Any], path: str, value: Any) -> str | None:
    """Set `value` at a dotted path; return a problem description or None."""
    parts = path.split(".")
    node: Any = values
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        here = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not part.isdigit():
                return f"'{here}' must be a list index (0, 1, ...)"
            index = int(part)
            if index > len(node):
                name = ".".join(parts[:i])
                return f"list '{name}' has {len(node)} item(s); use index {len(node)} to append"
            if index == len(node):
                node.append(value if last else {})
            elif last:
                node[index] = value
            node = node[index]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                if part not in node or node[part] is None:
                    node[part] = {}
                node = node[part]
        else:
            return f"'{'.'.join(parts[:i])}' is a single value, not a record or list"
    return None


def _yaml_mapping(data: dict[str, Any]) -> Any:
    from ruamel.yaml.comments import CommentedMap

    def conv(v: Any) -> Any:
        if isinstance(v, dict):
            m = CommentedMap()
            for k, x in v.items():
                m[k] = conv(x)
            return m
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return conv(data)
