"""Setting types and helpers several stages share (stage 2 defines environments and tags;
stages 1, 3 and later use them). One helper per idea: the GUID pattern, pattern-checked strings,
environment names, VM sizes, and how `{project}`/`{env}` expand in tag values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from .base import _GUID

GUID_PATTERN = _GUID  # 8-4-4-4-12 hex digits; the `Guid` type in base.py checks it


def pattern_type(rule_id: str, message: str, regex: str, *, optional: bool = False) -> Any:
    """A str type that must fully match `regex` ('' also allowed when optional)."""
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if (optional and value == "") or compiled.fullmatch(value):
            return value
        raise PydanticCustomError(rule_id, message)

    schema_pattern = f"^(?:{regex})$" if not optional else f"^(?:|{regex})$"
    return Annotated[str, AfterValidator(check),
                     Field(json_schema_extra={"pattern": schema_pattern, "x-rule": rule_id})]


EnvName = pattern_type(
    "environment_name",
    "must be 2-10 lowercase letters and digits, starting with a letter, like dev, test or prod "
    "(it becomes part of Azure resource names)",
    r"[a-z][a-z0-9]{1,9}")

# Retired GPU families (K80, P100, P40, M60): the source still suggests Standard_NC6.
_RETIRED_SKU = re.compile(r"Standard_(NC(6|12|24)r?|NC(6|12|24)r?s_v2|ND(6|12|24)r?s|NV(6|12|24))")


def _check_vm_size(value: str) -> str:
    if _RETIRED_SKU.fullmatch(value):
        raise PydanticCustomError(
            "retired_vm_sku", "{value} is a retired VM size: use a current one such as "
            "Standard_NC4as_T4_v3 (GPU) or Standard_DS3_v2 (CPU)", {"value": value})
    return value


VmSize = Annotated[
    pattern_type("vm_size", "must be an Azure VM size like Standard_DS3_v2", r"Standard_[A-Za-z0-9_]+"),
    AfterValidator(_check_vm_size),
]


def expand_tags(tags: Iterable[Any], project: str, env: str) -> dict[str, str]:
    """The design's tags for one environment: `{project}` and `{env}` in values replaced.

    The one behaviour everywhere (ARM/Bicep parameters, Azure ML specs, pipelines, the S3-02 check):
    every tag is kept, an empty value included (Azure accepts it; cost reports group by the key).
    """
    return {t.key: t.value.replace("{project}", project).replace("{env}", env) for t in tags}
