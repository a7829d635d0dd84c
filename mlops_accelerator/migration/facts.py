"""What one Python module does, read with libcst: SDK v1 uses, data reads, metrics, imports.

Shared by the inventory (on the legacy code) and the codemod (on its own output, to list what it
left). Line numbers are 1-based, as editors show them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

READ_FUNCS = {"read_csv", "read_parquet", "read_json", "read_excel", "read_sql", "read_table", "read_feather",
              "read_pickle", "loadtxt", "genfromtxt", "load", "read_delta", "open"}
METRIC_WORDS = re.compile(r"accuracy|auc|f1|loss|precision|recall|rmse|mse|mae|r2|score|metric", re.I)
URL = re.compile(r"^(https?|abfss?|wasbs?|azureml|s3|gs|dbfs)://", re.I)
PLAIN_ATTRS = {"name", "version", "id", "tags", "properties", "description"}  # same on v2 objects


def dotted(node: cst.BaseExpression) -> str | None:
    """'a.b.c' for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def literal(module: cst.Module, node: cst.BaseExpression) -> Any:
    """The Python value of a literal expression, or a marker dict with its source text."""
    text = module.code_for_node(node)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {"expr": text}


# Positional parameters of the SDK v1 calls whose arguments the migration reads.
POSITIONAL = {
    "Experiment": ("workspace", "name"),
    "Dataset.get_by_name": ("workspace", "name", "version"),
    "ComputeTarget": ("workspace", "name"),
    "Environment.from_conda_specification": ("name", "file_path"),
    "Environment.get": ("workspace", "name", "version"),
    "Workspace": ("subscription_id", "resource_group", "workspace_name"),
    "Workspace.get": ("name", "auth", "subscription_id", "resource_group"),
    "Model.register": ("workspace", "model_path", "model_name"),
    "Model": ("workspace", "name", "id", "tags", "properties", "version"),
    "Run.log": ("name", "value", "description", "step"),
    "Run.tag": ("key", "value"),
    "Run.register_model": ("model_name", "model_path"),
    "Run.upload_file": ("name", "path_or_stream"),
    "ScriptRunConfig": ("source_directory", "script", "arguments"),
    "PythonScriptStep": ("script_name", "name", "arguments", "compute_target"),
}


def call_kwargs(module: cst.Module, call: cst.Call, positional: tuple[str, ...] = ()) -> dict[str, Any]:
    """Arguments of a call by name (positional ones named by `positional`), as literals or {'expr': ...}."""
    out: dict[str, Any] = {}
    pos = 0
    for arg in call.args:
        if arg.star:
            continue
        if arg.keyword is not None:
            out[arg.keyword.value] = literal(module, arg.value)
        elif pos < len(positional):
            out[positional[pos]] = literal(module, arg.value)
            pos += 1
    return out


@dataclass
class Use:
    line: int
    api: str  # e.g. "Dataset.get_by_name", "Run.log"
    code: str  # the source of the expression, shortened


@dataclass
class ModuleFacts:
    v1_aliases: dict[str, str] = field(default_factory=dict)  # local name -> SDK v1 class/function
    v1_uses: list[Use] = field(default_factory=list)
    data_reads: list[Use] = field(default_factory=list)
    metrics: list[Use] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)  # top-level modules
    assigned: dict[str, dict[str, Any]] = field(default_factory=dict)  # var -> {"api", "args", "line"}
    main_guard: int | None = None  # line of `if __name__ == "__main__":`
    objects: dict[str, str] = field(default_factory=dict)  # variable -> SDK v1 class it holds


class _Collector(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, module: cst.Module):
        super().__init__()
        self.module = module
        self.f = ModuleFacts()
        self.obj_vars: dict[str, str] = {}  # variable -> SDK v1 class of the object it holds
        self.v1_modules: set[str] = set()  # aliases of `import azureml.core [as x]`
        self.seen: set[int] = set()

    # -- helpers
    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def _short(self, node: cst.CSTNode) -> str:
        text = " ".join(self.module.code_for_node(node).split())
        return text if len(text) <= 100 else text[:97] + "..."

    def v1_api(self, expr: cst.BaseExpression) -> str | None:
        """The SDK v1 API an expression names: 'Dataset.get_by_name', 'Run.log', 'Workspace'."""
        name = dotted(expr)
        if not name:
            return None
        head, _, rest = name.partition(".")
        if head in self.f.v1_aliases:
            return ".".join(x for x in (self.f.v1_aliases[head], rest.split(".")[0] if rest else "") if x)
        if head in self.obj_vars and rest and rest.split(".")[0] not in PLAIN_ATTRS:
            return f"{self.obj_vars[head]}.{rest.split('.')[0]}"
        for mod in self.v1_modules:
            if name.startswith(mod + "."):
                parts = name[len(mod) + 1:].split(".")
                return ".".join(parts[:2])
        return None

    # -- imports
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = dotted(alias.name) or ""
            self.f.imports.add(name.split(".")[0])
            if name.startswith("azureml"):
                self.v1_modules.add(alias.asname.name.value if alias.asname else name)  # type: ignore[union-attr]
                self.f.v1_uses.append(Use(self._line(node), "import " + name, self._short(node)))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        mod = dotted(node.module) or ""
        self.f.imports.add(mod.split(".")[0])
        if not mod.startswith("azureml") or isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            real = alias.name.value if isinstance(alias.name, cst.Name) else dotted(alias.name) or ""
            local = alias.asname.name.value if alias.asname else real  # type: ignore[union-attr]
            self.f.v1_aliases[local] = real

    # -- assignments: remember what a variable holds
    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return
        var = node.targets[0].target.value
        value = node.value
        if isinstance(value, cst.Subscript):  # run.input_datasets["name"]
            value = value.value
        api = self.v1_api(value.func if isinstance(value, cst.Call) else value)
        if not api:
            return
        args = call_kwargs(self.module, value, POSITIONAL.get(api, ())) if isinstance(value, cst.Call) else {}
        self.f.assigned[var] = {"api": api, "line": self._line(node), "args": args}
        cls = returns(api, dotted(value) if isinstance(value, cst.Attribute) else None)
        if cls:
            self.obj_vars[var] = cls

    # -- uses
    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if id(node) in self.seen:
            return True
        api = self.v1_api(node)
        if api:
            self.f.v1_uses.append(Use(self._line(node), api, self._short(node)))
            self._mark(node)
            return False
        return True

    def _mark(self, node: cst.CSTNode) -> None:
        self.seen.add(id(node))
        for child in node.children:
            self._mark(child)

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) in self.seen:
            return
        if node.value in self.f.v1_aliases:
            self.f.v1_uses.append(Use(self._line(node), self.f.v1_aliases[node.value], node.value))

    def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
        return False  # names inside import statements are not uses

    def visit_Call(self, node: cst.Call) -> None:
        name = dotted(node.func) or ""
        last = name.rsplit(".", 1)[-1]
        first = node.args[0].value if node.args else None
        if last in READ_FUNCS and (last != "load" or name.startswith(("np.", "numpy.", "joblib.", "pickle."))):
            mode = call_kwargs(self.module, node, ("file", "mode")).get("mode", "r")
            if last != "open" or (isinstance(mode, str) and "r" in mode):
                what = self._short(first) if first is not None else ""
                self.f.data_reads.append(Use(self._line(node), name, what))
        api = self.v1_api(node.func)
        if api in ("Dataset.get_by_name", "Run.input_datasets"):
            self.f.data_reads.append(Use(self._line(node), api, self._short(node)))
        text = self._short(node)
        if api and api.startswith("Run.log") or name.startswith("mlflow.") and (".log" in name or "autolog" in name):
            self.f.metrics.append(Use(self._line(node), api or name, text))
        elif (last == "print" or name.startswith(("logging.", "logger.", "log."))) and METRIC_WORDS.search(text):
            self.f.metrics.append(Use(self._line(node), name, text))

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        try:
            value = ast.literal_eval(node.value)
        except (ValueError, SyntaxError):
            return
        if isinstance(value, str) and URL.match(value):
            self.f.data_reads.append(Use(self._line(node), "url", value))

    def visit_If(self, node: cst.If) -> None:
        test = node.test
        if (isinstance(test, cst.Comparison) and dotted(test.left) == "__name__"
                and any(isinstance(c.comparator, cst.SimpleString) and "__main__" in c.comparator.value
                        for c in test.comparisons)):
            self.f.main_guard = self._line(node)


_FACTORIES = {"from_config", "get", "get_context", "from_conda_specification", "from_pip_requirements",
              "get_by_name", "from_delimited_files", "from_files", "from_parquet_files"}


def returns(api: str, chain: str | None = None) -> str | None:
    """The SDK v1 class of what an API call returns (enough to follow variables in scripts)."""
    cls, _, method = api.partition(".")
    if not method or method in _FACTORIES:
        return {"Tabular": "Dataset", "File": "Dataset"}.get(cls, cls)
    if api == "Experiment.submit":
        return "Run"
    if api in ("Run.register_model", "Model.register"):
        return "Model"
    if api == "Run.experiment":
        return "Workspace" if chain and chain.endswith(".workspace") else "Experiment"
    if api == "Run.input_datasets":
        return "Dataset"
    if api == "Dataset.Tabular" or api == "Dataset.File":
        return "Dataset"
    return None


def module_facts(code: str) -> ModuleFacts:
    """Facts of one module; raises libcst.ParserSyntaxError when it is not Python 3."""
    module = cst.parse_module(code)
    collector = _Collector(module)
    MetadataWrapper(module, unsafe_skip_copy=True).visit(collector)
    f = collector.f
    f.objects = dict(collector.obj_vars)
    f.v1_uses.sort(key=lambda u: u.line)
    return f


def notebook_code(nb: dict[str, Any]) -> list[tuple[int, str]]:
    """(cell index, source) of a notebook's code cells, IPython magics and shell lines commented out."""
    out = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        lines = [("# " + ln) if ln.lstrip().startswith(("%", "!")) else ln for ln in src.split("\n")]
        out.append((i, "\n".join(lines) + "\n"))
    return out


def parse_error(exc: Any, code: str) -> str:
    """A per-file message for code libcst cannot parse, with a hint when it looks like Python 2."""
    hint = " (Python 2 syntax? port it to Python 3 first)" if re.search(r"^\s*(print|exec)\s+[^(\s=]", code, re.M) \
        else ""
    return f"line {exc.raw_line}: {exc.message}{hint}"
