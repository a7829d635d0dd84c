"""The wizard engine: a stage's settings schema -> ipywidgets form, validated as you type.

No form is written by hand. Each pydantic field becomes an editor picked from its type:

    Literal[...]            -> dropdown                 list[Literal[...]] -> multi-select (checkboxes)
    bool                    -> checkbox                 int / float        -> number (bounds shown, checked)
    str (naming rules, ...) -> text                     list[str-like]     -> tags
    Record                  -> sub-form                 list[Record]       -> record-list editor (rows)
    dict[str, str]          -> key/value editor         anything else      -> JSON text

Labels and help come from the field's title and description; defaults from the model. Every
change re-validates the whole stage with `settings.validate_settings` (the validator the CLI
and REST API use) and shows each error beside the field it names, cross-field errors included.
"""

from __future__ import annotations

import datetime
import html
import json
import re
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin

import ipywidgets as W
from pydantic import BaseModel

from ..errors import FieldError

_NONE_LABEL = "(not set)"


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


# ---------------------------------------------------------------------------
# Presentation helpers


def choice_label(value: Any) -> str:
    """A readable label for a Literal value (role ids by their role name)."""
    if value is None:
        return _NONE_LABEL
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        from ..roles import ROLES_BY_ID

        if value in ROLES_BY_ID:
            return ROLES_BY_ID[value].name
        if re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", value):  # snake_case ids; names like westeurope stay
            text = value.replace("_", " ")
            return text[:1].upper() + text[1:]
    return str(value)


def _num(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def constraint_hint(info: TypeInfo) -> str:
    c = info.constraints
    parts = []
    lo = c.get("ge", c.get("gt"))
    hi = c.get("le", c.get("lt"))
    if info.kind in ("int", "float"):
        if lo is not None and hi is not None:
            parts.append(f"{_num(lo)} to {_num(hi)}")
        elif lo is not None:
            parts.append(f"at least {_num(lo)}" if "ge" in c else f"more than {_num(lo)}")
        elif hi is not None:
            parts.append(f"at most {_num(hi)}" if "le" in c else f"less than {_num(hi)}")
    if c.get("x-rule-text"):
        lo_len = c.get("minLength", c.get("min_length"))
        hi_len = c.get("maxLength", c.get("max_length"))
        span = f"{lo_len}-{hi_len} characters, " if lo_len is not None and hi_len is not None else ""
        parts.append(f"{span}{c['x-rule-text']}")
    return "; ".join(parts)


def error_html(errors: list[FieldError]) -> str:
    if not errors:
        return ""
    lines = []
    for e in errors:
        got = "" if e.value is None or isinstance(e.value, (dict, list)) else \
            f' <span class="mlops-got">(got {html.escape(repr(e.value))})</span>'
        lines.append(f'<div class="mlops-error-line">&#x2716; {html.escape(e.message)}{got} '
                     f'<span class="mlops-rule">rule: {html.escape(e.rule)}</span></div>')
    return f'<div class="mlops-error">{"".join(lines)}</div>'


def css_class(path: str) -> str:
    return "mlops-f-" + re.sub(r"[^A-Za-z0-9_-]", "-", path or "root")


def field_meta(finfo: Any) -> tuple[str, str, str | None]:
    """(title, help, task) of a pydantic FieldInfo."""
    extra = finfo.json_schema_extra if isinstance(finfo.json_schema_extra, dict) else {}
    return finfo.title or "", finfo.description or "", extra.get("task")


def default_of(model: type[BaseModel], name: str) -> Any:
    finfo = model.model_fields[name]
    if finfo.default_factory is not None:
        value = finfo.default_factory()
    elif finfo.is_required():
        return None
    else:
        value = finfo.default
    return _jsonable(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def new_record(model: type[BaseModel]) -> dict[str, Any]:
    """A new row of a record list: the record's defaults (required fields left empty)."""
    try:
        return model().model_dump(mode="json")
    except Exception:  # noqa: BLE001 - some fields are required: fill what has a default
        out = {}
        for name in model.model_fields:
            out[name] = default_of(model, name)
        return out


# ---------------------------------------------------------------------------
# Editors


class Editor:
    """One setting's input, with its label, help and error line."""

    kind = "json"

    def __init__(self, key: str, info: TypeInfo, title: str, help: str, value: Any,
                 parent: Editor | None, on_change: Callable[[], None]):
        self.key = key
        self.info = info
        self.title = title or key.replace("_", " ").capitalize()
        self.help = help
        self.parent = parent
        self.on_change = on_change
        self._muted = False
        self.error_box = W.HTML("", layout=W.Layout(margin="0"))
        self.error_box.add_class("mlops-error-box")
        self.control = self.build(value)
        self.widget = self.frame()

    # path of this editor inside the stage settings, e.g. "team_roster.1.email"
    @property
    def path(self) -> str:
        base = self.parent.path if self.parent is not None else ""
        if not self.key:
            return base
        return f"{base}.{self.key}" if base else self.key

    def frame(self) -> W.Widget:
        hint = constraint_hint(self.info)
        help_text = html.escape(self.help)
        if hint:
            help_text += f' <span class="mlops-hint">({html.escape(hint)})</span>'
        label = W.HTML(f'<div class="mlops-label">{html.escape(self.title)}</div>'
                       + (f'<div class="mlops-help">{help_text}</div>' if help_text else ""))
        box = W.VBox([label, self.control, self.error_box], layout=self.frame_layout())
        box.add_class("mlops-field")
        if self.wide:
            box.add_class("mlops-wide")
        box.add_class(f"mlops-kind-{self.kind}")
        box.add_class(css_class(self.path))
        return box

    def build(self, value: Any) -> W.Widget:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def wide(self) -> bool:
        """Records, lists and long texts take a full row of the grid."""
        return self.kind in ("record", "records", "dict", "json") or isinstance(self, LongTextEditor) or (
            self.kind == "multi" and len(self.info.choices) > 4)

    def frame_layout(self) -> W.Layout:
        # Voila 0.5's widget bundle ignores Layout.grid_column: the span is the CSS class mlops-wide
        return W.Layout()

    def get(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def set(self, value: Any) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def children(self) -> Iterator[Editor]:
        return iter(())

    def walk(self) -> Iterator[Editor]:
        yield self
        for child in self.children():
            yield from child.walk()

    def show_errors(self, errors: list[FieldError]) -> None:
        text = error_html(errors)
        if self.error_box.value != text:
            self.error_box.value = text
        if errors:
            self.widget.add_class("mlops-invalid")
        else:
            self.widget.remove_class("mlops-invalid")

    def changed(self, *_: Any) -> None:
        if not self._muted:
            self.on_change()

    def muted_set(self, fn: Callable[[], None]) -> None:
        self._muted = True
        try:
            fn()
        finally:
            self._muted = False


def _full_width() -> W.Layout:
    return W.Layout(width="100%")


class TextEditor(Editor):
    kind = "text"

    def build(self, value: Any) -> W.Widget:
        c = self.info.constraints
        placeholder = ""
        if c.get("examples"):
            placeholder = f"e.g. {c['examples'][0]}"
        w = W.Text(value="" if value is None else str(value), placeholder=placeholder,
                   continuous_update=True, layout=_full_width())
        w.observe(self.changed, "value")
        return w

    def get(self) -> Any:
        v = self.control.value
        if self.info.optional and v.strip() == "":
            return None
        return v

    def set(self, value: Any) -> None:
        self.muted_set(lambda: setattr(self.control, "value", "" if value is None else str(value)))


class LongTextEditor(TextEditor):
    def build(self, value: Any) -> W.Widget:
        w = W.Textarea(value="" if value is None else str(value), continuous_update=True,
                       rows=3, layout=_full_width())
        w.observe(self.changed, "value")
        return w


_NONE = "__mlops_none__"  # ipywidgets' Dropdown treats the value None as "nothing selected"


class ChoiceEditor(Editor):
    kind = "choice"

    def build(self, value: Any) -> W.Widget:
        labels = choice_labels(self.key, self.info.choices, self.parent)
        options = [(labels[i], v) for i, v in enumerate(self.info.choices)]
        if self.info.optional:
            options.insert(0, (_NONE_LABEL, _NONE))
        value = _NONE if value is None and self.info.optional else value
        values = [v for _, v in options]
        if value not in values:  # an invalid saved value: keep it visible so the error makes sense
            options.append((f"{value} (not allowed)", value))
        w = W.Dropdown(options=options, value=value, layout=_full_width())
        w.observe(self.changed, "value")
        return w

    def get(self) -> Any:
        v = self.control.value
        return None if v == _NONE else v

    def set(self, value: Any) -> None:
        value = _NONE if value is None and self.info.optional else value
        values = [v for _, v in self.control.options]
        if value not in values:
            self.control.options = [*self.control.options, (f"{value} (not allowed)", value)]
        self.muted_set(lambda: setattr(self.control, "value", value))


def choice_labels(key: str, choices: tuple, parent: Any = None) -> list[str]:
    """Labels for a Literal's values: role names, maturity level names, readable ids."""
    if choices and all(isinstance(c, int) and not isinstance(c, bool) for c in choices) and "level" in key:
        import sys

        model = getattr(getattr(parent, "info", None), "model", None)
        names = getattr(sys.modules.get(getattr(model, "__module__", ""), None), "MATURITY_LEVELS", None)
        if isinstance(names, dict):
            return [f"{c} · {names[c]}" if c in names else str(c) for c in choices]
    ids = any(isinstance(c, str) and "_" in c for c in choices)
    out = []
    for c in choices:
        label = choice_label(c)
        if ids and isinstance(c, str) and re.fullmatch(r"[a-z][a-z0-9]*", c):
            label = c[:1].upper() + c[1:]
        out.append(label)
    return out


class MultiEditor(Editor):
    kind = "multi"

    def build(self, value: Any) -> W.Widget:
        chosen = set(value or [])
        self.order = [v for v in (value or [])]  # the user's order is kept; new picks go last
        labels = dict(zip(self.info.choices, choice_labels(self.key, self.info.choices, self.parent), strict=True))
        self.boxes = []
        for v in self.info.choices:
            cb = W.Checkbox(value=v in chosen, description=labels[v], indent=False,
                            layout=W.Layout(width="auto", margin="0 18px 0 0"))
            cb.observe(lambda ch, v=v: self._toggled(v, ch["new"]), "value")
            self.boxes.append((v, cb))
        box = W.Box([cb for _, cb in self.boxes],
                    layout=W.Layout(display="flex", flex_flow="row wrap", width="100%"))
        box.add_class("mlops-multi")
        return box

    def _toggled(self, v: Any, on: bool) -> None:
        if on and v not in self.order:
            self.order.append(v)
        elif not on and v in self.order:
            self.order.remove(v)
        self.changed()

    def get(self) -> Any:
        checked = {v for v, cb in self.boxes if cb.value}
        return [v for v in self.order if v in checked]

    def set(self, value: Any) -> None:
        chosen = set(value or [])
        self.order = list(value or [])

        def apply() -> None:
            for v, cb in self.boxes:
                cb.value = v in chosen
        self.muted_set(apply)


class BoolEditor(Editor):
    kind = "bool"

    def build(self, value: Any) -> W.Widget:
        w = W.Checkbox(value=bool(value), description="", indent=False, layout=W.Layout(width="26px"))
        w.observe(self.changed, "value")
        return w

    def frame(self) -> W.Widget:
        help_text = html.escape(self.help)
        title = W.HTML(f'<div class="mlops-label">{html.escape(self.title)}</div>',
                       layout=W.Layout(width="auto", flex="1 1 auto"))
        row = W.HBox([self.control, title], layout=W.Layout(align_items="center"))
        row.add_class("mlops-check-row")
        box = W.VBox([row, W.HTML(f'<div class="mlops-help">{help_text}</div>'), self.error_box])
        box.add_class("mlops-field")
        box.add_class("mlops-kind-bool")
        box.add_class(css_class(self.path))
        return box

    def get(self) -> Any:
        return bool(self.control.value)

    def set(self, value: Any) -> None:
        self.muted_set(lambda: setattr(self.control, "value", bool(value)))


class NumberEditor(Editor):
    """A number. Bounds are shown and checked by the schema, not clamped by the widget, so an
    out-of-range value is reported with the rule it breaks instead of silently changed."""

    kind = "number"

    def build(self, value: Any) -> W.Widget:
        self.is_int = self.info.kind == "int"
        if self.info.optional:
            w = W.Text(value="" if value is None else _num(value), placeholder=_NONE_LABEL,
                       continuous_update=True, layout=W.Layout(width="220px"))
        elif self.is_int:
            w = W.IntText(value=int(value or 0), continuous_update=True, layout=W.Layout(width="220px"))
        else:
            w = W.FloatText(value=float(value or 0), continuous_update=True, layout=W.Layout(width="220px"))
        w.observe(self.changed, "value")
        return w

    def get(self) -> Any:
        v = self.control.value
        if isinstance(v, str):
            v = v.strip()
            if v == "":
                return None
            try:
                return int(v) if self.is_int else float(v)
            except ValueError:
                return v  # the schema reports it: "Input should be a valid number"
        return v

    def set(self, value: Any) -> None:
        def apply() -> None:
            if isinstance(self.control, W.Text):
                self.control.value = "" if value is None else _num(value)
            else:
                self.control.value = value if value is not None else 0
        self.muted_set(apply)


class TagsEditor(Editor):
    kind = "tags"

    def build(self, value: Any) -> W.Widget:
        w = W.Text(value=", ".join(_num(v) for v in (value or [])), placeholder="comma-separated values",
                   continuous_update=True, layout=_full_width())
        w.observe(self.changed, "value")
        return w

    def get(self) -> Any:
        parts = [p.strip() for p in self.control.value.split(",")]
        parts = [p for p in parts if p]
        item = self.info.item
        if item is not None and item.kind in ("int", "float"):
            out = []
            for p in parts:
                try:
                    out.append(int(p) if item.kind == "int" else float(p))
                except ValueError:
                    out.append(p)
            return out
        return parts

    def set(self, value: Any) -> None:
        self.muted_set(lambda: setattr(self.control, "value", ", ".join(_num(v) for v in (value or []))))


class DictEditor(Editor):
    kind = "dict"

    def build(self, value: Any) -> W.Widget:
        self.rows_box = W.VBox([])
        self.rows: list[tuple[W.Text, W.Text, W.Widget]] = []
        add = W.Button(description="Add entry", icon="plus", layout=W.Layout(width="auto"))
        add.add_class("mlops-add")
        add.on_click(lambda _: (self._add_row("", ""), self.changed()))
        for k, v in (value or {}).items():
            self._add_row(k, v)
        box = W.VBox([self.rows_box, add])
        box.add_class("mlops-dict")
        return box

    def _add_row(self, k: str, v: Any) -> None:
        kt = W.Text(value=str(k), placeholder="key", continuous_update=True, layout=W.Layout(width="35%"))
        vt = W.Text(value="" if v is None else str(v), placeholder="value", continuous_update=True,
                    layout=W.Layout(width="50%"))
        rm = W.Button(description="", icon="trash", tooltip="Remove this entry", layout=W.Layout(width="36px"))
        row = W.HBox([kt, vt, rm])
        entry = (kt, vt, row)
        rm.on_click(lambda _: self._remove(entry))
        kt.observe(self.changed, "value")
        vt.observe(self.changed, "value")
        self.rows.append(entry)
        self.rows_box.children = [r for _, _, r in self.rows]

    def _remove(self, entry: Any) -> None:
        self.rows.remove(entry)
        self.rows_box.children = [r for _, _, r in self.rows]
        self.changed()

    def get(self) -> Any:
        return {k.value.strip(): v.value for k, v, _ in self.rows if k.value.strip() or v.value}

    def set(self, value: Any) -> None:
        def apply() -> None:
            self.rows = []
            for k, v in (value or {}).items():
                self._add_row(k, v)
            self.rows_box.children = [r for _, _, r in self.rows]
        self.muted_set(apply)


class JsonEditor(Editor):
    kind = "json"

    def build(self, value: Any) -> W.Widget:
        w = W.Textarea(value=json.dumps(value, indent=1), continuous_update=True, rows=3,
                       layout=_full_width())
        w.observe(self.changed, "value")
        return w

    def get(self) -> Any:
        try:
            return json.loads(self.control.value or "null")
        except json.JSONDecodeError:
            return self.control.value

    def set(self, value: Any) -> None:
        self.muted_set(lambda: setattr(self.control, "value", json.dumps(value, indent=1)))


class RecordEditor(Editor):
    """A record's fields as a sub-form (also the root form of a stage)."""

    kind = "record"

    def build(self, value: Any) -> W.Widget:
        self.fields: dict[str, Editor] = {}
        model = self.info.model
        value = value if isinstance(value, dict) else {}
        self.enabled = None
        for name, finfo in model.model_fields.items():
            title, help_, _ = field_meta(finfo)
            finfo_info = analyze(finfo.annotation, finfo.metadata, finfo.json_schema_extra)
            v = value.get(name, default_of(model, name))
            self.fields[name] = make_editor(name, finfo_info, title, help_, v, self, self.on_change)
        grid = layout_fields(list(self.fields.values()))
        if self.info.optional:
            self.enabled = W.Checkbox(value=bool(value) and value is not None, indent=False,
                                      description=f"Set {self.title.lower()}", layout=W.Layout(width="auto"))
            self.enabled.observe(self._toggle, "value")
            self.grid = grid
            grid.layout.display = None if self.enabled.value else "none"
            box = W.VBox([self.enabled, grid])
        else:
            box = W.VBox([grid])
        box.add_class("mlops-record")
        return box

    def _toggle(self, change: Any) -> None:
        self.grid.layout.display = None if change["new"] else "none"
        self.changed()

    def get(self) -> Any:
        if self.enabled is not None and not self.enabled.value:
            return None
        return {name: ed.get() for name, ed in self.fields.items()}

    def set(self, value: Any) -> None:
        def apply() -> None:
            if self.enabled is not None:
                self.enabled.value = value is not None
            for name, ed in self.fields.items():
                v = (value or {}).get(name, default_of(self.info.model, name))
                ed.set(v)
        self.muted_set(apply)

    def children(self) -> Iterator[Editor]:
        return iter(self.fields.values())


class _Row(Editor):
    """One row of a record list: its index is its key, so paths follow removals."""

    kind = "row"

    def __init__(self, index: int, model: type[BaseModel], value: Any, parent: Editor,
                 on_change: Callable[[], None], on_remove: Callable[[_Row], None], item_title: str):
        self.model = model
        self.on_remove = on_remove
        self.item_title = item_title
        super().__init__(str(index), TypeInfo("record", model=model), "", "", value, parent, on_change)

    def build(self, value: Any) -> W.Widget:
        self.record = RecordEditor("", TypeInfo("record", model=self.model), "", "", value, self,
                                   self._changed_row)
        self.heading = W.HTML(self._heading(), layout=W.Layout(width="auto", flex="1 1 auto"))
        remove = W.Button(description="Remove", icon="trash", tooltip=f"Remove this {self.item_title}",
                          layout=W.Layout(width="auto", flex="0 0 auto"))
        remove.add_class("mlops-remove")
        remove.on_click(lambda _: self.on_remove(self))
        head = W.HBox([self.heading, remove], layout=W.Layout(justify_content="space-between",
                                                              align_items="center"))
        head.add_class("mlops-row-head")
        return W.VBox([head, self.record.control])

    def frame(self) -> W.Widget:
        box = W.VBox([self.control, self.error_box])
        box.add_class("mlops-row")
        return box

    def _heading(self) -> str:
        v = self.record.get() if hasattr(self, "record") else {}
        summary = ""
        for k in ("name", "id", "display_name", "dimension", "environment", "role", "principal", "metric",
                  "signal", "column", "layer"):
            if isinstance(v, dict) and isinstance(v.get(k), str) and v.get(k):
                summary = choice_label(v[k]) if k in ("role", "dimension", "layer") else v[k]
                break
        n = int(self.key) + 1
        text = f"{html.escape(self.item_title.capitalize())} {n}"
        if summary:
            text += f' <span class="mlops-row-summary">· {html.escape(str(summary))}</span>'
        return f'<div class="mlops-row-title">{text}</div>'

    def _changed_row(self) -> None:
        if hasattr(self, "heading"):
            h = self._heading()
            if self.heading.value != h:
                self.heading.value = h
        self.on_change()

    def renumber(self, index: int) -> None:
        self.key = str(index)
        self.heading.value = self._heading()

    def get(self) -> Any:
        return self.record.get()

    def set(self, value: Any) -> None:
        self.record.set(value)

    def children(self) -> Iterator[Editor]:
        return iter(self.record.fields.values())

    def walk(self) -> Iterator[Editor]:
        yield self
        for child in self.children():
            yield from child.walk()


class RecordListEditor(Editor):
    """Rows of records (team roster, RBAC mapping, data assets, monitoring signals...)."""

    kind = "records"

    def build(self, value: Any) -> W.Widget:
        self.rows: list[_Row] = []
        self.rows_box = W.VBox([])
        self.rows_box.add_class("mlops-rows")
        item = _singular(self.title)
        self.item_title = item
        self.empty = W.HTML(f'<div class="mlops-empty">No {html.escape(self.title.lower())} yet.</div>')
        self.add_button = W.Button(description=f"Add {item}", icon="plus", layout=W.Layout(width="auto"))
        self.add_button.add_class("mlops-add")
        self.add_button.on_click(lambda _: self.add())
        for v in value or []:
            self._append(v)
        self._refresh()
        box = W.VBox([self.empty, self.rows_box, self.add_button])
        box.add_class("mlops-records")
        return box

    def _append(self, v: Any) -> _Row:
        row = _Row(len(self.rows), self.info.model, v, self, self.on_change, self.remove, self.item_title)
        self.rows.append(row)
        return row

    def _refresh(self) -> None:
        self.rows_box.children = [r.widget for r in self.rows]
        self.empty.layout.display = "none" if self.rows else None

    def add(self, value: Any = None) -> _Row:
        row = self._append(new_record(self.info.model) if value is None else value)
        self._refresh()
        self.changed()
        return row

    def remove(self, row: _Row | int) -> None:
        if isinstance(row, int):
            row = self.rows[row]
        self.rows.remove(row)
        for i, r in enumerate(self.rows):
            r.renumber(i)
        self._refresh()
        self.changed()

    def get(self) -> Any:
        return [r.get() for r in self.rows]

    def set(self, value: Any) -> None:
        def apply() -> None:
            self.rows = []
            for v in value or []:
                self._append(v)
            self._refresh()
        self.muted_set(apply)

    def children(self) -> Iterator[Editor]:
        return iter(self.rows)


def _singular(title: str) -> str:
    t = title.strip().lower() or "item"
    words = t.split()
    last = words[-1]
    if last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith("sses"):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return " ".join([*words[:-1], last])


def make_editor(key: str, info: TypeInfo, title: str, help: str, value: Any, parent: Editor | None,
                on_change: Callable[[], None]) -> Editor:
    cls: type[Editor] = {
        "text": TextEditor, "choice": ChoiceEditor, "multi": MultiEditor, "bool": BoolEditor,
        "int": NumberEditor, "float": NumberEditor, "record": RecordEditor,
        "records": RecordListEditor, "tags": TagsEditor, "dict": DictEditor,
    }.get(info.kind, JsonEditor)
    if cls is TextEditor and (info.constraints.get("max_length") or 0) >= 1000:
        cls = LongTextEditor
    if cls is BoolEditor and info.optional:
        info = TypeInfo("choice", True, choices=(True, False))
        cls = ChoiceEditor
    return cls(key, info, title, help, value, parent, on_change)


WIDE_KINDS = ("record", "records", "dict", "json", "multi", "text")


def layout_fields(editors: list[Editor]) -> W.GridBox:
    """Fields in a responsive grid; records, lists and long texts take a full row."""
    grid = W.GridBox([ed.widget for ed in editors], layout=W.Layout(width="100%"))  # columns: CSS
    grid.add_class("mlops-grid")
    return grid


# ---------------------------------------------------------------------------
# The form of one stage


class SettingsForm:
    """A stage's settings as a form: values in, values out, errors shown where they apply."""

    def __init__(self, stage: str, values: dict[str, Any] | None = None,
                 others: dict[str, dict[str, Any]] | None = None):
        from ..settings import schema_for

        self.stage = stage
        # The other stages' settings, so rules relating stages show as you type (as on save).
        self.others = others
        self.model = schema_for(stage)
        self.errors: list[FieldError] = []
        self.unplaced: list[FieldError] = []
        self._listeners: list[Callable[[SettingsForm], None]] = []
        self._building = True
        self.root = RecordEditor("", TypeInfo("record", model=self.model), self.model.__name__, "",
                                 values or {}, None, self._changed)
        self.general_errors = W.HTML("")
        self.general_errors.add_class("mlops-general-errors")
        self.widget = self._layout()
        self._building = False
        self.validate()

    # -- layout: fields grouped by task ----------------------------------------

    def tasks(self) -> list[tuple[str | None, list[Editor]]]:
        groups: dict[str | None, list[Editor]] = {}
        for name, ed in self.root.fields.items():
            _, _, task = field_meta(self.model.model_fields[name])
            groups.setdefault(task, []).append(ed)
        return list(groups.items())

    def _layout(self) -> W.Widget:
        sections = []
        self.sections: dict[str | None, W.Widget] = {}
        for task, editors in self.tasks():
            title, summary = task_title(task)
            head = W.HTML(f'<div class="mlops-task-head"><span class="mlops-task-id">{html.escape(task or "")}'
                          f'</span> {html.escape(title)}</div>'
                          + (f'<div class="mlops-task-summary">{html.escape(summary)}</div>' if summary else ""))
            section = W.VBox([head, layout_fields(editors)])
            section.add_class("mlops-task")
            section.add_class("mlops-task-" + re.sub(r"[^A-Za-z0-9]", "-", task or "other"))
            self.sections[task] = section
            sections.append(section)
        box = W.VBox([self.general_errors, *sections])
        box.add_class("mlops-form")
        return box

    # -- values and validation -------------------------------------------------

    def values(self) -> dict[str, Any]:
        return self.root.get()

    def set_values(self, values: dict[str, Any]) -> None:
        self.root.set(values)
        self.validate()

    def editor(self, path: str) -> Editor:
        """The editor of a dotted path ("team_roster.0.email")."""
        for ed in self.root.walk():
            if ed.path == path and ed is not self.root:
                return ed
        raise KeyError(path)

    def field_errors(self, path: str) -> list[FieldError]:
        return [e for e in self.errors if e.field == path]

    def on_change(self, fn: Callable[[SettingsForm], None]) -> None:
        self._listeners.append(fn)

    def _changed(self) -> None:
        if not self._building:
            self.validate()

    def validate(self) -> list[FieldError]:
        from ..settings import validate_settings

        _, self.errors = validate_settings(self.stage, self.values(), self.others)
        editors = {ed.path: ed for ed in self.root.walk() if ed is not self.root}
        placed: dict[str, list[FieldError]] = {p: [] for p in editors}
        self.unplaced = []
        for e in self.errors:
            target = _owner(e.field, editors)
            if target is None:
                self.unplaced.append(e)
            else:
                placed[target].append(e)
        for p, ed in editors.items():
            ed.show_errors(placed[p])
        self._show_general()
        for fn in list(self._listeners):
            fn(self)
        return self.errors

    def _show_general(self) -> None:
        if not self.errors:
            text = ""
        else:
            n = len(self.errors)
            items = "".join(
                f"<li><b>{html.escape(describe_path(self.model, e.field))}</b>: {html.escape(e.message)} "
                f'<span class="mlops-rule">rule: {html.escape(e.rule)}</span></li>'
                for e in self.errors[:12])
            more = f"<li>... and {n - 12} more</li>" if n > 12 else ""
            text = (f'<div class="mlops-summary-errors"><b>{n} setting{"s" if n != 1 else ""} to fix before '
                    f"you can continue</b> (each is marked in red below):<ul>{items}{more}</ul></div>")
        if self.general_errors.value != text:
            self.general_errors.value = text

    @property
    def valid(self) -> bool:
        return not self.errors


def _owner(field_path: str, editors: dict[str, Editor]) -> str | None:
    """The deepest editor whose path is the error's path or a prefix of it."""
    parts = field_path.split(".")
    for n in range(len(parts), 0, -1):
        p = ".".join(parts[:n])
        if p in editors:
            return p
    return None


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
