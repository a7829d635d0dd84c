"""Text that reaches a CI pipeline must not be read as a CI expression.

GitHub Actions expands `${{ ... }}` anywhere in a workflow (also inside `env:` values) before a
shell runs; Azure Pipelines expands `${{ ... }}` (template), `$[ ... ]` (runtime) and `$( ... )`
(macro, e.g. `$(System.AccessToken)`) in task inputs and `env:` values. A setting that carries one
of these would run code or leak the pipeline's token, so the settings that can reach a pipeline
refuse them, and the generators refuse them again (defence in depth). Control characters (a new
line would start a new YAML key or shell command) are refused too.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

CI_EXPRESSION = re.compile(r"\$\{\{|\$\(|\$\[")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def ci_text_problem(value: str) -> str | None:
    """What makes `value` unsafe to put in a pipeline definition, or None."""
    m = CI_EXPRESSION.search(value)
    if m:
        return (f"contains '{m.group()}', which GitHub Actions or Azure Pipelines would evaluate as an "
                f"expression (it could run code or expose the pipeline's token)")
    if CONTROL.search(value):
        return "contains a control character (new line, tab, ...)"
    return None


def _check(value: str) -> str:
    problem = ci_text_problem(value)
    if problem:
        raise PydanticCustomError("ci_expression", "{problem}: remove it (it reaches the CI pipelines)",
                                  {"problem": problem})
    return value


# A str annotation for settings that reach a pipeline: Annotated[str, CI_SAFE] or CiSafeStr.
CI_SAFE = AfterValidator(_check)
CiSafeStr = Annotated[str, CI_SAFE]


class UnsafePipelineValue(ValueError):
    """A value that would be evaluated by the CI platform reached a generator."""


def require_ci_safe(value: Any, what: str) -> str:
    text = str(value)
    problem = ci_text_problem(text)
    if problem:
        raise UnsafePipelineValue(f"{what} {text!r} {problem}")
    return text
