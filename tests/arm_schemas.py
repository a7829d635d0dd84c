"""Validate generated ARM templates against the official ARM JSON schemas kept in tests/data/arm-schemas.

Each resource is validated against its provider's `resourceDefinitions` entry for the resource's
type and apiVersion (the same definition deploymentTemplate.json refers to); the template without
its resources is validated against deploymentTemplate.json; parameter files against
deploymentParameters.json. Offline: every $ref resolves to a file in that folder.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).parent / "data" / "arm-schemas"
BASE = "https://schema.management.azure.com/schemas/"


@cache
def _registry() -> Any:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    resources = []
    for path in SCHEMAS.rglob("*.json"):
        rel = path.relative_to(SCHEMAS).as_posix()
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((BASE + rel, Resource(contents, specification=DRAFT4)))
    return Registry().with_resources(resources)


@cache
def definitions_by_type() -> dict[tuple[str, str], str]:
    """(type lower-case, apiVersion) -> URI of its resource definition."""
    out = {}
    for path in SCHEMAS.glob("*/Microsoft.*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        version = path.parent.name
        for section in ("resourceDefinitions", "extension_resourceDefinitions"):
            for name, d in (data.get(section) or {}).items():
                for t in (d.get("properties", {}).get("type", {}).get("enum") or []):
                    out[(t.lower(), version)] = f"{BASE}{version}/{path.name}#/{section}/{name}"
    return out


EXPRESSION_REF = BASE + "common/definitions.json#/definitions/expression"


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[") and not value.startswith("[[") and value.endswith("]")


@cache
def _validator_class() -> Any:
    """Draft 4, except that an ARM expression satisfies a oneOf offering the expression branch.

    The schemas write `oneOf: [{type: string, pattern: ...}, {$ref: expression}]`; an expression
    string matches both branches, which plain oneOf rejects. ARM evaluates the expression first,
    so a oneOf that accepts expressions accepts it (how Azure's own tooling reads these schemas).
    """
    from jsonschema import Draft4Validator, validators
    from jsonschema._keywords import oneOf

    def one_of(validator: Any, branches: Any, instance: Any, schema: Any) -> Any:
        if _is_expression(instance) and any(b.get("$ref") == EXPRESSION_REF for b in branches):
            return
        yield from oneOf(validator, branches, instance, schema)

    return validators.extend(Draft4Validator, {"oneOf": one_of})


def _errors(instance: Any, uri: str) -> list[str]:
    validator = _validator_class()({"$ref": uri}, registry=_registry())
    out = []
    for e in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        best = e
        if e.context:  # oneOf/anyOf: report the closest branch
            from jsonschema.exceptions import best_match

            best = best_match(e.context) or e
        where = "/".join(str(p) for p in best.absolute_path)
        out.append(f"{where or '(root)'}: {best.message[:300]}")
    return out


def validate_template(template: dict[str, Any]) -> list[str]:
    """Every schema error of an ARM template: '<resource type>@<api> <path>: <message>'."""
    problems = []
    skeleton = {**template, "resources": []}
    problems += [f"template {m}" for m in _errors(skeleton, BASE + "2019-04-01/deploymentTemplate.json#")]
    known = definitions_by_type()
    for r in template.get("resources", []):
        key = (str(r.get("type")).lower(), str(r.get("apiVersion")))
        uri = known.get(key)
        if uri is None:
            problems.append(f"{r.get('type')}@{r.get('apiVersion')}: no schema kept for this type and version")
            continue
        # ARM's own resource keys (deploymentTemplate's resourceBase) are not in the provider definition.
        body = {k: v for k, v in r.items() if k not in ("comments", "condition", "dependsOn", "metadata", "copy",
                                                         "scope")}
        problems += [f"{r['type']}@{r['apiVersion']} {m}" for m in _errors(body, uri)]
        problems += [f"{r['type']} (ARM resource) {m}"
                     for m in _errors(r, BASE + "2019-04-01/deploymentTemplate.json#/definitions/resourceBase")]
    return problems


def validate_parameters(params: dict[str, Any]) -> list[str]:
    return _errors(params, BASE + "2019-04-01/deploymentParameters.json#")
