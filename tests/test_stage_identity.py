"""One stage identity: numbers, slugs, titles and folder names come from the catalogue alone.

A grep over the package, the wizards and the sidebar's TypeScript: no list of stage slugs and no
hand-built `NN-slug` folder name anywhere but mlops_accelerator/catalogue.py (and catalogue.yaml).
"""

import ast
import json
import re
from pathlib import Path

from mlops_accelerator.catalogue import load_catalogue, stage_folder, stage_of_folder, stage_slugs

REPO = Path(__file__).resolve().parents[1]
SLUGS = set(stage_slugs())
FOLDER_PATTERN = re.compile(r":02d?\}-|\{[^}]*\}-\{[^}]*slug|padStart\(2")
ALLOWED = {REPO / "mlops_accelerator" / "catalogue.py"}


def _python_sources():
    for path in sorted((REPO / "mlops_accelerator").rglob("*.py")):
        if path not in ALLOWED and "labextension" not in path.parts:
            yield path, path.read_text(encoding="utf-8")
    for path in sorted((REPO / "wizards").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        yield path, "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))


def slug_lists_in_python(source):
    """Literal lists, tuples, sets and dict keys naming three or more stage slugs."""
    found = []
    for node in ast.walk(ast.parse(source)):
        elements = (node.keys if isinstance(node, ast.Dict) else
                    node.elts if isinstance(node, (ast.List, ast.Tuple, ast.Set)) else [])
        named = {e.value for e in elements if isinstance(e, ast.Constant) and e.value in SLUGS}
        if len(named) >= 3:
            found.append(f"line {node.lineno}: {sorted(named)}")
    return found


def slug_lists_in_typescript(source):
    found = []
    for m in re.finditer(r"\[[^\[\]]*\]|\{[^{}]*\}", source):
        named = set(re.findall(r"['\"`](\w+)['\"`]", m.group())) & SLUGS
        if len(named) >= 3:
            found.append(f"offset {m.start()}: {sorted(named)}")
    return found


def violations():
    out = []
    for path, source in _python_sources():
        out += [f"{path.relative_to(REPO)} {v}" for v in slug_lists_in_python(source)]
        out += [f"{path.relative_to(REPO)}: hand-built stage folder '{m.group()}'"
                for m in FOLDER_PATTERN.finditer(source)]
    for path in sorted((REPO / "extension" / "src").rglob("*.ts")):
        source = path.read_text(encoding="utf-8")
        out += [f"{path.relative_to(REPO)} {v}" for v in slug_lists_in_typescript(source)]
        out += [f"{path.relative_to(REPO)}: hand-built stage folder" for _ in FOLDER_PATTERN.finditer(source)]
    return out


def test_no_stage_list_or_folder_pattern_outside_the_catalogue():
    assert not violations(), "\n".join(violations())


def test_the_grep_finds_what_it_looks_for():
    """The detectors fire on the patterns this change removed (a grep that cannot fail proves nothing)."""
    assert slug_lists_in_python('STAGE_SLUGS = ("foundations", "design", "deploy", "data")')
    assert slug_lists_in_python('MODULES = {"foundations": "f", "design": "d", "deploy": "x"}')
    assert not slug_lists_in_python('pair = ("foundations", "design")')
    assert slug_lists_in_typescript("const STAGES = ['foundations', 'design', 'deploy', 'data'];")
    assert FOLDER_PATTERN.search('f"{number:02d}-{slug}.ipynb"')
    assert FOLDER_PATTERN.search("`${String(n).padStart(2, '0')}-${slug}`")


def test_folder_names_round_trip_through_the_catalogue():
    for stage in load_catalogue().stages:
        folder = stage_folder(stage.slug)
        assert folder == stage_folder(stage.number) and stage_of_folder(folder) == stage.slug
        assert folder == f"{stage.number:02d}-{stage.slug}"
    assert stage_of_folder("02-deploy") is None and stage_of_folder("design") is None
