"""Generate the sidebar's TypeScript payload types from the pydantic models in payloads.py.

    python -m mlops_accelerator.tsgen extension/src/payloads.ts

Each model becomes `export interface I<Name>`; a Literal alias becomes a union type. Only the
JSON Schema the payload models use is translated (objects, arrays, maps, unions with null,
enums, scalars); anything else stops the generator rather than guessing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, get_args

HEADER = ("// Generated from mlops_accelerator/payloads.py by `python -m mlops_accelerator.tsgen "
          "extension/src/payloads.ts`.\n// Do not edit by hand: change the pydantic models and regenerate "
          "(tests/test_payload_types.py fails when this file is out of date).\n")

_SCALARS = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean", "null": "null"}


def _ts(schema: dict[str, Any], aliases: dict[str, str]) -> str:
    if "$ref" in schema:
        return "I" + schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(dict.fromkeys(_ts(s, aliases) for s in schema["anyOf"]))
    if "enum" in schema:
        key = "|".join(map(str, schema["enum"]))
        return aliases.get(key) or " | ".join(f"'{v}'" for v in schema["enum"])
    if "const" in schema:
        return f"'{schema['const']}'"
    kind = schema.get("type")
    if kind == "array":
        inner = _ts(schema.get("items", {}), aliases)
        return f"({inner})[]" if "|" in inner else f"{inner}[]"
    if kind == "object":
        extra = schema.get("additionalProperties")
        return f"Record<string, {_ts(extra, aliases) if isinstance(extra, dict) else 'unknown'}>"
    if kind in _SCALARS:
        return _SCALARS[kind]
    if not {k for k in schema if k not in ("title", "default", "description")}:
        return "unknown"  # Any
    raise ValueError(f"tsgen: no TypeScript for JSON Schema {schema!r}")


def generate() -> str:
    from pydantic.json_schema import models_json_schema

    from . import payloads

    aliases = {"|".join(get_args(t)): name for name, t in (("ItemState", payloads.ItemState),
                                                           ("RunState", payloads.RunState))}
    out = [HEADER]
    for key, name in aliases.items():
        out.append(f"export type {name} = {' | '.join(repr(v) for v in key.split('|'))};\n")
    _, schema = models_json_schema([(m, "serialization") for m in payloads.EXPORTED])
    defs = schema["$defs"]
    for model in payloads.EXPORTED:
        d = defs[model.__name__]
        doc = (model.__doc__ or "").strip().splitlines()
        lines = [f"/** {doc[0]} */\n"] if doc and model.__doc__ != payloads.Payload.__doc__ else []
        lines.append(f"export interface I{model.__name__} {{\n")
        required = set(d.get("required", []))
        for prop, sub in d["properties"].items():
            optional = "" if prop in required else "?"
            lines.append(f"  {prop}{optional}: {_ts(sub, aliases)};\n")
        lines.append("}\n")
        out.append("".join(lines))
    return "\n".join(out).replace('"', "'")


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else None
    text = generate()
    if target is None:
        sys.stdout.write(text)
    else:
        target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
