"""The stage notebooks' Azure ML spec writers import azure-ai-ml without jsonschema's IRI grammar
(lean_imports.py: about half of azure-ai-ml's import cost, for format checks nothing here uses).

Each case runs in a fresh interpreter: whether the grammar loads is decided at the first import."""

from __future__ import annotations

import subprocess
import sys

import pytest

REPORT = "import sys; print('azure.ai.ml' in sys.modules, sys.modules.get('rfc3987_syntax', 'absent') is not None)"

WRITERS = {
    "stage 4 data assets": "import tempfile\n"
                           "from mlops_accelerator.dataprep.azure_specs import write_asset_specs\n"
                           "write_asset_specs(tempfile.mkdtemp(), ['dev'], [])",
    "stage 4 datastores": "import tempfile\n"
                          "from mlops_accelerator.dataprep.azure_specs import write_datastores\n"
                          "try:\n    write_datastores(tempfile.mkdtemp(), None, [])\nexcept Exception:\n    pass",
    "stage 6 monitor schedule": "import tempfile, pathlib\n"
                                "from mlops_accelerator.monitoring.azure import write_monitor_schedule\n"
                                "write_monitor_schedule(pathlib.Path(tempfile.mkdtemp()), {})",
}


def _loaded(code: str) -> tuple[bool, bool]:
    out = subprocess.run([sys.executable, "-c", f"{code}\n{REPORT}"], capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    return out[-2] == "True", out[-1] == "True"


def test_a_plain_import_loads_the_grammar_so_the_cases_below_can_fail():
    pytest.importorskip("rfc3987_syntax")
    assert _loaded("import azure.ai.ml") == (True, True)


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_spec_writers_import_azure_ai_ml_without_the_iri_grammar(writer):
    azure_loaded, grammar_loaded = _loaded(WRITERS[writer])
    assert azure_loaded, f"{writer} did not import azure-ai-ml (the case no longer exercises it)"
    assert not grammar_loaded, f"{writer} imported azure-ai-ml with jsonschema's IRI grammar"
