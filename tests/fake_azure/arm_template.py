"""Just enough of ARM template evaluation for the fake to 'deploy': the functions our generated
template uses in names, conditions and resource links. An unsupported function fails the
deployment with InvalidTemplate, like Azure does for an unknown one."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<punct>[(),.\[\]]))")


class TemplateError(ValueError):
    pass


class Evaluator:
    def __init__(self, template: dict[str, Any], parameters: dict[str, Any], ctx: dict[str, str]) -> None:
        self.template, self.ctx = template, ctx
        self.params: dict[str, Any] = {}
        for name, spec in (template.get("parameters") or {}).items():
            if name in parameters:
                self.params[name] = parameters[name]
            elif "defaultValue" in spec:
                self.params[name] = None  # evaluated lazily (defaults may use functions)
            else:
                raise TemplateError(f"InvalidTemplate: parameter '{name}' has no value")
        self._given = set(parameters)

    def param(self, name: str) -> Any:
        if name not in self.params:
            raise TemplateError(f"InvalidTemplate: the template has no parameter '{name}'")
        if name not in self._given and self.params[name] is None:
            self.params[name] = self.value(self.template["parameters"][name]["defaultValue"])
            self._given.add(name)
        return self.params[name]

    def value(self, v: Any) -> Any:
        if isinstance(v, str) and v.startswith("[") and v.endswith("]") and not v.startswith("[["):
            return self.expr(v[1:-1])
        if isinstance(v, dict):
            return {k: self.value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        return v

    def expr(self, text: str) -> Any:
        tokens = [m for m in _TOKEN.finditer(text) if m.group().strip()]
        pos = 0

        def peek() -> str:
            return tokens[pos].group().strip() if pos < len(tokens) else ""

        def parse() -> Any:
            nonlocal pos
            tok = tokens[pos]
            pos += 1
            if tok.group("str") is not None:
                val: Any = tok.group("str")[1:-1].replace("''", "'")
            elif tok.group("num") is not None:
                val = int(tok.group("num"))
            elif tok.group("name"):
                name = tok.group("name")
                if peek() != "(":
                    raise TemplateError(f"InvalidTemplate: '{name}' is not a function call in [{text}]")
                pos += 1
                args = []
                while peek() != ")":
                    args.append(parse())
                    if peek() == ",":
                        pos += 1
                pos += 1
                val = self.call(name, args)
            else:
                raise TemplateError(f"InvalidTemplate: unexpected '{tok.group().strip()}' in [{text}]")
            while peek() in (".", "["):
                if peek() == ".":
                    pos += 1
                    key = tokens[pos].group().strip()
                    pos += 1
                    val = val.get(key) if isinstance(val, dict) else None
                else:
                    pos += 1
                    key = parse()
                    pos += 1
                    val = val[key] if val is not None else None
            return val

        return parse()

    def call(self, name: str, args: list[Any]) -> Any:
        n = name.lower()
        if n == "parameters":
            return self.param(args[0])
        if n == "variables":
            return self.value((self.template.get("variables") or {})[args[0]])
        if n == "format":
            return re.sub(r"\{(\d+)\}", lambda m: str(args[1 + int(m.group(1))]), args[0])
        if n == "concat":
            return "".join(str(a) for a in args) if all(not isinstance(a, list) for a in args) else sum(args, [])
        if n == "resourcegroup":
            return {"location": self.ctx["location"], "name": self.ctx["resource_group"],
                    "id": f"/subscriptions/{self.ctx['subscription']}/resourceGroups/{self.ctx['resource_group']}"}
        if n == "subscription":
            return {"subscriptionId": self.ctx["subscription"], "id": f"/subscriptions/{self.ctx['subscription']}"}
        if n == "resourceid":
            rtype, names = args[0], args[1:]
            parts = rtype.split("/")
            path = "/".join(f"{t}/{nm}" for t, nm in zip(parts[1:], names, strict=False))
            return (f"/subscriptions/{self.ctx['subscription']}/resourceGroups/{self.ctx['resource_group']}"
                    f"/providers/{parts[0]}/{path}")
        if n == "guid":
            return str(uuid.UUID(hashlib.md5("|".join(map(str, args)).encode()).hexdigest()))
        if n == "uniquestring":
            return hashlib.sha1("|".join(map(str, args)).encode()).hexdigest()[:13]
        if n in ("greater", "less", "equals", "not", "and", "or", "empty", "if", "tolower", "toupper",
                 "string", "int", "bool", "union", "createobject", "createarray", "length", "contains"):
            return _simple(n, args)
        raise TemplateError(f"InvalidTemplate: the fake does not evaluate function '{name}'")


def _simple(n: str, a: list[Any]) -> Any:
    return {
        "greater": lambda: a[0] > a[1], "less": lambda: a[0] < a[1], "equals": lambda: a[0] == a[1],
        "not": lambda: not a[0], "and": lambda: all(a), "or": lambda: any(a),
        "empty": lambda: not a[0], "if": lambda: a[1] if a[0] else a[2], "tolower": lambda: str(a[0]).lower(),
        "toupper": lambda: str(a[0]).upper(), "string": lambda: str(a[0]), "int": lambda: int(a[0]),
        "bool": lambda: bool(a[0]), "length": lambda: len(a[0]), "contains": lambda: a[1] in a[0],
        "union": lambda: {k: v for d in a for k, v in d.items()},
        "createobject": lambda: dict(zip(a[::2], a[1::2], strict=False)), "createarray": lambda: list(a),
    }[n]()


def resources(template: dict[str, Any], parameters: dict[str, Any], ctx: dict[str, str]) -> list[dict[str, Any]]:
    """The resources a deployment creates: id, type, name, location, tags and evaluated properties
    (a property using a function the fake does not know stays as written)."""
    ev = Evaluator(template, parameters, ctx)
    out = []
    for r in template.get("resources") or []:
        if "condition" in r and not ev.value(r["condition"]):
            continue
        name, rtype = ev.value(r["name"]), r["type"]
        if r.get("scope") or rtype.count("/") - 1 != str(name).count("/"):
            pass  # extension resources keep their own type/name pairing
        parts, names = rtype.split("/"), str(name).split("/")
        path = "/".join(f"{t}/{nm}" for t, nm in zip(parts[1:], names, strict=False))
        rid = (f"/subscriptions/{ctx['subscription']}/resourceGroups/{ctx['resource_group']}"
               f"/providers/{parts[0]}/{path}")
        props: Any
        try:
            props = ev.value(r.get("properties") or {})
        except (TemplateError, KeyError, IndexError, TypeError):
            props = r.get("properties") or {}
        out.append({"id": rid, "type": rtype, "name": names[-1], "apiVersion": r.get("apiVersion"),
                    "location": ev.value(r.get("location", ctx["location"])),
                    "tags": ev.value(r.get("tags") or {}), "properties": props})
    return out
