"""Leave out an import that costs seconds and buys nothing where azure-ai-ml is used.

jsonschema imports `rfc3987_syntax` whenever it is installed (jupyter-events pulls it in) to offer
its 'iri' and 'iri-reference' format checks, and that module builds a Lark grammar when imported:
1.4 s of the 2.9 s of CPU `import azure.ai.ml` costs here (azure-ai-ml imports jsonschema). azure-ai-ml
never checks those formats (its schemas are marshmallow's), nor does anything else the stage
notebooks run. The runner's own process and the checkov subprocess leave it out the same way
(runner.UNUSED_IN_RUNNER, checkov_scan.CHECKOV_MAIN).
"""

from __future__ import annotations

import sys

IRI_GRAMMAR = "rfc3987_syntax"


def skip_iri_grammar() -> bool:
    """Before azure-ai-ml is first imported: make jsonschema find no IRI grammar, as if it were not
    installed (jsonschema then treats the two formats as unknown, which it accepts). Does nothing
    once jsonschema is loaded (it decided already) or the grammar is. True if it left it out."""
    if "jsonschema" in sys.modules or IRI_GRAMMAR in sys.modules:
        return False
    sys.modules[IRI_GRAMMAR] = None  # type: ignore[assignment]  # `import rfc3987_syntax` -> ImportError
    return True
