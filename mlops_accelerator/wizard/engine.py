"""What the wizards need to know about a settings schema beyond its JSON Schema.

The form itself is drawn in the browser from the stage's JSON Schema (formwidget.py,
static/wizard.js). Here: a setting's dotted path in words ("Team roster › #2 › E-mail"), the
title of a task, and the type analysis those use.
"""

from __future__ import annotations

import datetime
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

# ---------------------------------------------------------------------------
# Type analysis


@dataclass
class TypeInfo:
    kind: str  # text | choice | multi | bool | int | float | record | records | tags | dict | json
    optional: bool = False
    choices: tuple = ()
    model: type | None = None  # record / records
    item: TypeInfo | None = None  # tags: the item type
    constraints: dict[str, Any] = field(default_factory=dict)  # ge, le, gt, lt, min_length, ...


def _collect_constraints(metadata: Any, into: dict[str, Any]) -> None:
    for m in metadata or ():
        for attr in ("ge", "le", "gt", "lt", "min_length", "max_length", "pattern"):
            v = getattr(m, attr, None)
            if v is not None and not callable(v):
                into.setdefault(attr, v)
        extra = getattr(m, "json_schema_extra", None)
        if isinstance(extra, dict):
            for k in ("x-rule", "x-rule-text", "minLength", "maxLength", "pattern", "examples"):
                if k in extra:
                    into.setdefault(k, extra[k])
        inner = getattr(m, "metadata", None)
        if inner and m is not inner:
            _collect_constraints(inner, into)


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def analyze(annotation: Any, metadata: Any = (), extra: Any = None) -> TypeInfo:
    """What kind of editor a field type needs."""
    constraints: dict[str, Any] = {}
    _collect_constraints(metadata, constraints)
    if isinstance(extra, dict):
        _collect_constraints([type("X", (), {"json_schema_extra": extra})()], constraints)
    optional = False
    tp = annotation
    while True:
        origin = get_origin(tp)
        if origin is typing.Annotated:
            args = get_args(tp)
            tp = args[0]
            _collect_constraints(args[1:], constraints)
            continue
        if origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) < len(get_args(tp)):
                optional = True
            if len(args) == 1:
                tp = args[0]
                continue
            if all(get_origin(a) is Literal for a in args):
                tp = Literal[tuple(v for a in args for v in get_args(a))]  # type: ignore[misc]
                continue
            return TypeInfo("json", optional, constraints=constraints)
        break
    origin = get_origin(tp)
    if origin is Literal:
        return TypeInfo("choice", optional, choices=get_args(tp), constraints=constraints)
    if tp is bool:
        return TypeInfo("bool", optional, constraints=constraints)
    if tp is int:
        return TypeInfo("int", optional, constraints=constraints)
    if tp is float:
        return TypeInfo("float", optional, constraints=constraints)
    if tp is str:
        return TypeInfo("text", optional, constraints=constraints)
    if tp in (datetime.date, datetime.datetime):
        constraints.setdefault("examples", ["2026-03-31" if tp is datetime.date else "2026-03-31T09:00:00"])
        return TypeInfo("text", optional, constraints=constraints)
    if _is_model(tp):
        return TypeInfo("record", optional, model=tp, constraints=constraints)
    if origin in (list, tuple, set, frozenset):
        args = get_args(tp)
        item = analyze(args[0]) if args else TypeInfo("json")
        if item.kind == "choice" and not item.optional:
            return TypeInfo("multi", optional, choices=item.choices, constraints=constraints)
        if item.kind == "record" and not item.optional:
            return TypeInfo("records", optional, model=item.model, constraints=constraints)
        if item.kind in ("text", "int", "float"):
            return TypeInfo("tags", optional, item=item, constraints=constraints)
        return TypeInfo("json", optional, constraints=constraints)
    if origin is dict:
        args = get_args(tp)
        if len(args) == 2 and analyze(args[0]).kind == "text" and analyze(args[1]).kind == "text":
            return TypeInfo("dict", optional, constraints=constraints)
        return TypeInfo("json", optional, constraints=constraints)
    return TypeInfo("json", optional, constraints=constraints)



def describe_path(model: type[BaseModel], path: str) -> str:
    """"team_roster.1.email" -> "Team roster › 2 › E-mail" using the schema's titles."""
    out = []
    current: Any = model
    for part in path.split("."):
        if part.isdigit():
            out.append(f"#{int(part) + 1}")
            continue
        if _is_model(current) and part in current.model_fields:
            finfo = current.model_fields[part]
            out.append(finfo.title or part)
            info = analyze(finfo.annotation, finfo.metadata)
            current = info.model
        else:
            out.append(part)
            current = None
    return " › ".join(out)


def task_title(task: str | None) -> tuple[str, str]:
    if not task:
        return "Other settings", ""
    try:
        from ..catalogue import load_catalogue

        t = load_catalogue().task(task)
        return t.title, t.summary
    except Exception:  # noqa: BLE001 - catalogue unavailable: show the id only
        return "", ""
