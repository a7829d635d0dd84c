"""The stage catalogue: seven stages, their tasks, artifacts and deliverable checklists.

The data lives in catalogue.yaml next to this module (human-readable, reviewed by the product
owner); this module loads it once, validates it and exposes it as frozen dataclasses. Importing
this module is cheap: the YAML parser is imported only when the catalogue is first loaded.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .errors import AcceleratorError, UsageError
from .roles import ROLE_IDS

VERIFICATIONS = ("auto", "signoff", "auto+signoff")
PROVENANCES = ("SRC", "SRC-MS", "DERIVED")
PLAN_WEEKS = 12

_TASK_ID = re.compile(r"^S([1-9])\.T([1-9][0-9]*)$")  # docs/task-ids.md: S<n>.T<k>
_ITEM_ID = re.compile(r"^S([1-9])-([0-9]{2})$")  # digest checklist ids: S<n>-NN


class CatalogueError(AcceleratorError):
    """catalogue.yaml is malformed: a packaging bug, reported with the offending entry."""


@dataclass(frozen=True)
class Condition(Mapping[str, Any]):
    """A deliverable applies only when a stage setting equals a value.

    Also readable as the YAML mapping it came from (c["stage"], c.get("equals")), which is how
    the deliverables module and JSON output use it.
    """

    stage: str  # stage slug owning the setting
    setting: str
    equals: Any = True

    def __getitem__(self, key: str) -> Any:
        if key not in _CONDITION_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(("stage", "setting", "equals"))

    def __len__(self) -> int:
        return 3


@dataclass(frozen=True)
class Task:
    id: str  # e.g. "S2.T3"
    title: str
    summary: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Deliverable:
    id: str  # e.g. "S2-04"
    stage: int
    text: str
    provenance: str
    verification: str  # auto | signoff | auto+signoff
    check: str | None = None  # what the automatic check verifies
    signoff_roles: tuple[str, ...] = ()  # any one of these roles may sign
    condition: Condition | None = None
    mandatory: bool = True  # False: does not gate the stage
    # Automatic items that must be done before anyone may sign this one (an approval of a
    # cut-over is meaningless while parity fails).
    signoff_after: tuple[str, ...] = ()

    @property
    def is_auto(self) -> bool:
        return self.verification in ("auto", "auto+signoff")

    @property
    def needs_signoff(self) -> bool:
        return self.verification in ("signoff", "auto+signoff")


@dataclass(frozen=True)
class Stage:
    number: int
    slug: str
    title: str
    purpose: str
    outcome: str
    weeks: tuple[int, int]
    roles: tuple[str, ...]
    tasks: tuple[Task, ...]
    produces: tuple[str, ...]
    deliverables: tuple[Deliverable, ...]

    @property
    def id(self) -> str:
        return f"S{self.number}"


@dataclass(frozen=True)
class Catalogue:
    stages: tuple[Stage, ...]

    @cached_property
    def deliverables(self) -> tuple[Deliverable, ...]:
        return tuple(d for s in self.stages for d in s.deliverables)

    @cached_property
    def _items(self) -> dict[str, Deliverable]:
        return {d.id: d for d in self.deliverables}

    @cached_property
    def _tasks(self) -> dict[str, Task]:
        return {t.id: t for s in self.stages for t in s.tasks}

    def _valid_stages(self) -> str:
        return ", ".join(f"{s.number} ({s.slug})" for s in self.stages)

    def stage(self, key: int | str) -> Stage:
        """A stage by number (2 or "2"), id ("S2") or slug ("design")."""
        number = key if isinstance(key, int) and not isinstance(key, bool) else None
        if isinstance(key, str):
            text = key.strip().lower()
            if text.isdigit():
                number = int(text)
            elif text[:1] == "s" and text[1:].isdigit():
                number = int(text[1:])
            for s in self.stages:
                if s.slug == text:
                    return s
        for s in self.stages:
            if s.number == number:
                return s
        raise UsageError(f"unknown stage {key!r}; valid stages: {self._valid_stages()}")

    def deliverable(self, item_id: str) -> Deliverable:
        """A deliverable by id, case-insensitive ("S2-04" or "s2-04")."""
        item = self._items.get(str(item_id).strip().upper())
        if item is None:
            ranges = ", ".join(f"{s.deliverables[0].id}..{s.deliverables[-1].id}" for s in self.stages)
            raise UsageError(f"unknown deliverable {item_id!r}; valid ids: {ranges}")
        return item

    def task(self, task_id: str) -> Task:
        """A task by id, case-insensitive ("S2.T3")."""
        task = self._tasks.get(str(task_id).strip().upper())
        if task is None:
            raise UsageError(f"unknown task {task_id!r}; valid ids: {', '.join(self._tasks)}")
        return task

    def stages_for_role(self, role_id: str) -> tuple[Stage, ...]:
        """The stages a role takes part in, in order."""
        if role_id not in ROLE_IDS:
            raise UsageError(f"unknown role {role_id!r}; valid roles: {', '.join(ROLE_IDS)}")
        return tuple(s for s in self.stages if role_id in s.roles)


@functools.cache
def load_catalogue() -> Catalogue:
    """The catalogue shipped with the package, loaded and validated once per process."""
    from pathlib import Path

    # Beside this module (importlib.resources would import zipfile, a tenth of a `status`, to say so).
    text = Path(__file__).with_name("catalogue.yaml").read_text(encoding="utf-8")
    return build_catalogue(_parsed(text))


def _parsed(text: str) -> Any:
    """catalogue.yaml as plain data.

    Parsing it (pure-Python YAML, 0.1-0.2 s) was a third of a `status`; the parsed data is kept
    as JSON in the user's cache folder under the SHA-256 of the text, so an edited or upgraded
    catalogue is parsed afresh, and it is still validated on every load (build_catalogue).
    """
    import hashlib
    import json
    import os
    import tempfile
    from pathlib import Path

    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mlops-accelerator"
    cached = folder / f"catalogue-{hashlib.sha256(text.encode()).hexdigest()[:32]}.json"
    try:
        return json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass  # not cached yet (or damaged): parse and keep it
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(text)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".catalogue.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, cached)  # atomic: a concurrent reader sees all of it or nothing
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, TypeError, ValueError):
        pass  # no writable cache folder (or not plain data): parsed every time
    return data


_shipped = load_catalogue  # stage identity always comes from the shipped catalogue (tests may fake the rest)


# ---------------------------------------------------------------------------
# Validation: every error names the entry at fault, so a bad edit is found at once.

_STAGE_KEYS = {"number", "slug", "title", "purpose", "outcome", "weeks", "roles", "tasks",
               "produces", "deliverables"}
_TASK_KEYS = {"id", "title", "summary", "roles"}
_ITEM_KEYS = {"id", "text", "provenance", "verification", "check", "signoff_roles", "condition",
              "mandatory", "signoff_after"}
_ITEM_REQUIRED = {"id", "text", "provenance", "verification"}
_CONDITION_KEYS = {"stage", "setting", "equals"}


def _keys(where: str, data: Any, allowed: set[str], required: set[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise CatalogueError(f"{where}: expected a mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
    missing = sorted(required - set(data))
    if missing:
        raise CatalogueError(f"{where}: missing field(s) {', '.join(missing)}")
    return data


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: expected non-empty text, got {value!r}")
    return value.strip()


def _texts(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise CatalogueError(f"{where}: expected a non-empty list, got {value!r}")
    return tuple(_text(f"{where}[{i}]", v) for i, v in enumerate(value))


def _roles(where: str, value: Any) -> tuple[str, ...]:
    if value == "everyone":  # the source's "Everyone": every role in roles.py
        return ROLE_IDS
    roles = _texts(where, value)
    unknown = [r for r in roles if r not in ROLE_IDS]
    if unknown:
        raise CatalogueError(f"{where}: unknown role id(s) {', '.join(unknown)}; "
                             f"valid: {', '.join(ROLE_IDS)}")
    if len(set(roles)) != len(roles):
        raise CatalogueError(f"{where}: a role is listed twice in {list(roles)}")
    return roles


def _task(where: str, data: Any, number: int) -> Task:
    data = _keys(where, data, _TASK_KEYS, _TASK_KEYS)
    task_id = _text(f"{where}.id", data["id"])
    m = _TASK_ID.match(task_id)
    if not m or int(m.group(1)) != number:
        raise CatalogueError(f"{where}: task id {task_id!r} must look like S{number}.T<k>")
    where = f"task {task_id}"
    return Task(id=task_id, title=_text(f"{where}.title", data["title"]),
                summary=_text(f"{where}.summary", data["summary"]),
                roles=_roles(f"{where}.roles", data["roles"]))


def _condition(where: str, data: Any, slugs: set[str]) -> Condition:
    data = _keys(where, data, _CONDITION_KEYS, {"stage", "setting"})
    if data["stage"] not in slugs:
        raise CatalogueError(f"{where}: unknown stage {data['stage']!r}; valid: {', '.join(sorted(slugs))}")
    return Condition(stage=data["stage"], setting=_text(f"{where}.setting", data["setting"]),
                     equals=data.get("equals", True))


def _deliverable(where: str, data: Any, number: int, slugs: set[str]) -> Deliverable:
    data = _keys(where, data, _ITEM_KEYS, _ITEM_REQUIRED)
    item_id = _text(f"{where}.id", data["id"])
    m = _ITEM_ID.match(item_id)
    if not m or int(m.group(1)) != number:
        raise CatalogueError(f"{where}: deliverable id {item_id!r} must look like S{number}-NN")
    where = f"deliverable {item_id}"
    if data["provenance"] not in PROVENANCES:
        raise CatalogueError(f"{where}: provenance {data['provenance']!r} is not one of {PROVENANCES}")
    verification = data["verification"]
    if verification not in VERIFICATIONS:
        raise CatalogueError(f"{where}: verification {verification!r} is not one of {VERIFICATIONS}")
    auto = verification in ("auto", "auto+signoff")
    signoff = verification in ("signoff", "auto+signoff")
    # An automatic item must say what it checks; a sign-off must say who may sign, and only those.
    if auto != ("check" in data):
        raise CatalogueError(f"{where}: verification {verification!r} "
                             + ("needs a 'check'" if auto else "must not have a 'check'"))
    if signoff != ("signoff_roles" in data):
        raise CatalogueError(f"{where}: verification {verification!r} "
                             + ("needs 'signoff_roles'" if signoff else "must not have 'signoff_roles'"))
    mandatory = data.get("mandatory", True)
    if not isinstance(mandatory, bool):
        raise CatalogueError(f"{where}.mandatory: expected true or false, got {mandatory!r}")
    if "signoff_after" in data and not signoff:
        raise CatalogueError(f"{where}: 'signoff_after' needs a sign-off (verification {verification!r})")
    return Deliverable(
        id=item_id, stage=number, text=_text(f"{where}.text", data["text"]),
        provenance=data["provenance"], verification=verification,
        check=_text(f"{where}.check", data["check"]) if auto else None,
        signoff_roles=_roles(f"{where}.signoff_roles", data["signoff_roles"]) if signoff else (),
        condition=(_condition(f"{where}.condition", data["condition"], slugs)
                   if data.get("condition") is not None else None),
        mandatory=mandatory,
        signoff_after=_texts(f"{where}.signoff_after", data["signoff_after"]) if "signoff_after" in data else (),
    )


def _stage(data: Mapping[str, Any], index: int, slugs: set[str]) -> Stage:
    where = f"stage #{index + 1}"
    data = _keys(where, data, _STAGE_KEYS, _STAGE_KEYS)
    number = data["number"]
    if number != index + 1 or isinstance(number, bool):
        raise CatalogueError(f"{where}: number must be {index + 1} (stages are listed in order), "
                             f"got {number!r}")
    where = f"stage {number}"
    weeks = data["weeks"]
    if not (isinstance(weeks, list) and len(weeks) == 2 and all(isinstance(w, int) for w in weeks)
            and 1 <= weeks[0] <= weeks[1] <= PLAN_WEEKS):
        raise CatalogueError(f"{where}.weeks: expected [start, end] within weeks 1-{PLAN_WEEKS}, "
                             f"got {weeks!r}")
    if not isinstance(data["tasks"], list) or not data["tasks"]:
        raise CatalogueError(f"{where}.tasks: expected a non-empty list")
    if not isinstance(data["deliverables"], list) or not data["deliverables"]:
        raise CatalogueError(f"{where}.deliverables: expected a non-empty list")
    tasks = tuple(_task(f"{where}.tasks[{i}]", t, number) for i, t in enumerate(data["tasks"]))
    items = tuple(_deliverable(f"{where}.deliverables[{i}]", d, number, slugs)
                  for i, d in enumerate(data["deliverables"]))
    roles = _roles(f"{where}.roles", data["roles"])
    # The stage's roles are exactly the people doing its tasks; sign-offs come from among them.
    task_roles = {r for t in tasks for r in t.roles}
    if set(roles) != task_roles:
        extra, missing = sorted(set(roles) - task_roles), sorted(task_roles - set(roles))
        raise CatalogueError(f"{where}.roles must be the union of its tasks' roles "
                             f"(in no task: {extra or '-'}; missing: {missing or '-'})")
    for d in items:
        outsiders = [r for r in d.signoff_roles if r not in roles]
        if outsiders:
            raise CatalogueError(f"deliverable {d.id}: signoff role(s) {', '.join(outsiders)} "
                                 f"take no part in stage {number}")
    return Stage(
        number=number, slug=data["slug"], title=_text(f"{where}.title", data["title"]),
        purpose=_text(f"{where}.purpose", data["purpose"]),
        outcome=_text(f"{where}.outcome", data["outcome"]), weeks=(weeks[0], weeks[1]),
        roles=roles, tasks=tasks, produces=_texts(f"{where}.produces", data["produces"]),
        deliverables=items,
    )


def build_catalogue(data: Any) -> Catalogue:
    """Validate parsed catalogue data (the YAML's structure) and build the Catalogue."""
    data = _keys("catalogue", data, {"stages"}, {"stages"})
    raw = data["stages"]
    if not isinstance(raw, list) or not raw:
        raise CatalogueError("catalogue.stages: expected a non-empty list")
    slugs: list[str] = []
    for i, s in enumerate(raw):
        slug = _text(f"stage #{i + 1}.slug", s.get("slug") if isinstance(s, Mapping) else None)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", slug) or slug in slugs:
            raise CatalogueError(f"stage #{i + 1}: slug {slug!r} must be a unique lowercase word")
        slugs.append(slug)
    stages = tuple(_stage(s, i, set(slugs)) for i, s in enumerate(raw))
    seen: set[str] = set()
    for s in stages:
        for ident in [t.id for t in s.tasks] + [d.id for d in s.deliverables]:
            if ident in seen:
                raise CatalogueError(f"stage {s.number}: duplicate id {ident}")
            seen.add(ident)
    autos = {d.id for s in stages for d in s.deliverables if d.is_auto}
    for s in stages:
        for d in s.deliverables:
            wrong = [a for a in d.signoff_after if a not in autos]
            if wrong:
                raise CatalogueError(f"deliverable {d.id}.signoff_after: {', '.join(wrong)} "
                                     "is not an automatic item of the catalogue")
    return Catalogue(stages=stages)


# ---------------------------------------------------------------------------
# Stage identity: every stage list, slug and folder name comes from here.

_STAGE_FOLDER = re.compile(r"^([0-9]{2})-([a-z][a-z0-9_]*)$")


def stage_identity(key: int | str) -> Stage:
    """A stage of the shipped catalogue by number or slug (UsageError naming the valid ones)."""
    return _shipped().stage(key)


def stage_slugs() -> tuple[str, ...]:
    """The stage slugs, in order."""
    return tuple(s.slug for s in _shipped().stages)


def stage_folder(stage: int | str) -> str:
    """The folder name of a stage's notebooks and run outputs: `NN-slug` (e.g. 02-design)."""
    s = _shipped().stage(stage)
    return f"{s.number:02d}-{s.slug}"


def stage_of_folder(name: str) -> str | None:
    """The slug of a stage folder name (`02-design` -> design); None if it names no stage."""
    m = _STAGE_FOLDER.match(name)
    if not m:
        return None
    for s in _shipped().stages:
        if s.number == int(m.group(1)) and s.slug == m.group(2):
            return s.slug
    return None
