"""The SDK v1 -> v2 codemod (libcst: formatting and comments survive) and the MLflow wrapper for plain scripts.

`migrate_source(code)` rewrites one module along the mechanical rows of `mapping.ROWS` and returns the
new code, what it converted and what it left (each with the reason and the mapping row).
`migrate_tree(src, dest)` copies a project next to the original (never in place), rewrites every
script with SDK v1 uses, adds MLflow logging to the scripts or notebooks the user names, and returns
the unified diff. Running it twice on the same source gives the same bytes.
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import libcst as cst
from libcst.codemod import CodemodContext, ContextAwareTransformer
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import PositionProvider

from .facts import POSITIONAL, _Collector, dotted, module_facts, notebook_code, parse_error
from .inventory import SKIP_DIRS
from .mapping import row_for
from .parity import input_name

DEFAULT_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
INPUT_ENV = "AZURE_ML_INPUT_"  # Azure ML sets AZURE_ML_INPUT_<name> to each job input's path
_CREDENTIALS = {"InteractiveLoginAuthentication": "InteractiveBrowserCredential",
                "AzureCliAuthentication": "AzureCliCredential",
                "MsiAuthentication": "ManagedIdentityCredential",
                "ServicePrincipalAuthentication": "ClientSecretCredential"}
_SP_KEYWORDS = {"service_principal_id": "client_id", "service_principal_password": "client_secret"}
# v2 names that are also SDK v1 class names: a bare call of them in the output is the v2 entity.
_SHARED_NAMES = {"Environment", "Model"}


@dataclass
class Change:
    line: int  # in the original
    api: str
    row: str | None
    note: str = ""


@dataclass
class Result:
    code: str
    converted: list[Change] = field(default_factory=list)
    left: list[dict[str, Any]] = field(default_factory=list)  # {"line", "api", "code", "row", "reason", "link"}
    inputs: dict[str, str] = field(default_factory=dict)  # v1 dataset name -> v2 input name


def _kw(name: str, value: cst.BaseExpression) -> cst.Arg:
    eq = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
    return cst.Arg(value=value, keyword=cst.Name(name), equal=eq)


def _str(value: str) -> cst.SimpleString:
    return cst.SimpleString(json.dumps(value))


def _string_value(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        v = node.evaluated_value
        return v if isinstance(v, str) else None
    return None


class _Args:
    """A call's arguments by parameter name (positional ones named by the API's signature)."""

    def __init__(self, call: cst.Call, api: str):
        self.by_name: dict[str, cst.Arg] = {}
        names = POSITIONAL.get(api, ())
        pos = 0
        for arg in call.args:
            if arg.keyword is not None:
                self.by_name[arg.keyword.value] = arg
            elif not arg.star and pos < len(names):
                self.by_name[names[pos]] = arg
                pos += 1
            elif not arg.star:
                self.by_name[f"#{pos}"] = arg
                pos += 1

    def get(self, name: str) -> cst.BaseExpression | None:
        arg = self.by_name.get(name)
        return arg.value if arg else None

    def keyword(self, name: str, new: str | None = None) -> cst.Arg | None:
        value = self.get(name)
        return _kw(new or name, value) if value is not None else None


class V1ToV2(ContextAwareTransformer):
    """Rewrites SDK v1 uses in one module (see the mapping rows); collects what it changed."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, context: CodemodContext, collector: _Collector, code: str):
        super().__init__(context)
        m = re.search(r"^import pandas as (\w+)", code, re.M)
        self.pandas = m.group(1) if m else "pd"
        self.names = collector
        self.facts = collector.f
        self.in_job = any(a["api"] == "Run.get_context" for a in self.facts.assigned.values())
        self.converted: list[Change] = []
        self.inputs: dict[str, str] = {}
        self.input_vars: set[str] = set()  # variables now holding a job input path
        self.run_ws: dict[str, str] = {}  # submitted run variable -> workspace (MLClient) expression

    # -- helpers

    def _line(self, node: cst.CSTNode) -> int:
        try:
            return self.get_metadata(PositionProvider, node).start.line
        except KeyError:
            return 0

    def _done(self, node: cst.CSTNode, api: str, note: str = "") -> None:
        row = row_for(api)
        self.converted.append(Change(self._line(node), api, row.id if row else None, note))

    def _import(self, module: str, obj: str | None = None, asname: str | None = None) -> None:
        AddImportsVisitor.add_needed_import(self.context, module, obj, asname)

    def _code(self, node: cst.CSTNode) -> str:
        return cst.Module([]).code_for_node(node)

    def _workspace_of(self, var_api_args: dict[str, Any]) -> str | None:
        ws = var_api_args.get("workspace")
        return ws["expr"] if isinstance(ws, dict) and "expr" in ws else None

    def _credential(self, args: _Args) -> cst.BaseExpression:
        auth = args.get("auth")
        if auth is not None:
            return auth
        self._import("azure.identity", "DefaultAzureCredential")
        return cst.parse_expression("DefaultAzureCredential()")

    # -- calls
    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        api = self.names.v1_api(original.func)
        if api is None:
            return updated
        handler = getattr(self, "_" + api.replace(".", "__"), None)
        if handler is None:
            return updated
        out = handler(original, updated, _Args(updated, api))
        if out is not None:
            self._done(original, api)
            return out
        return updated

    def _Workspace__from_config(self, orig: cst.Call, new: cst.Call, args: _Args) -> cst.BaseExpression:
        self._import("azure.ai.ml", "MLClient")
        extra = [a for k in ("path", "file_name") if (a := args.keyword(k))]
        return cst.Call(func=cst.parse_expression("MLClient.from_config"),
                        args=[_kw("credential", self._credential(args)), *extra,
                              _kw("enable_telemetry", cst.Name("False"))])

    def _Workspace(self, orig: cst.Call, new: cst.Call, args: _Args) -> cst.BaseExpression | None:
        if any(k.startswith("#") for k in args.by_name):
            return None
        self._import("azure.ai.ml", "MLClient")
        sub, rg = args.get("subscription_id"), args.get("resource_group")
        name = args.get("workspace_name") or args.get("name")
        if sub is None or rg is None or name is None:
            return None
        return cst.Call(func=cst.Name("MLClient"),
                        args=[_kw("credential", self._credential(args)), _kw("subscription_id", sub),
                              _kw("resource_group_name", rg), _kw("workspace_name", name),
                              _kw("enable_telemetry", cst.Name("False"))])

    _Workspace__get = _Workspace

    def _credential_call(self, orig: cst.Call, new: cst.Call, args: _Args) -> cst.BaseExpression | None:
        v1 = self.names.v1_api(orig.func) or ""
        v2 = _CREDENTIALS[v1]
        self._import("azure.identity", v2)
        kept = []
        for k, arg in args.by_name.items():
            if k.startswith("#"):
                return None
            kept.append(_kw(_SP_KEYWORDS.get(k, k), arg.value))
        return cst.Call(func=cst.Name(v2), args=kept)

    _InteractiveLoginAuthentication = _AzureCliAuthentication = _MsiAuthentication = _credential_call
    _ServicePrincipalAuthentication = _credential_call

    # run logging -> MLflow
    def _mlflow(self, fn: str, *values: cst.BaseExpression | None, **kw: cst.BaseExpression | None
                ) -> cst.BaseExpression | None:
        if any(v is None for v in values):
            return None
        self._import("mlflow")
        arglist = [cst.Arg(v) for v in values if v is not None]
        arglist += [_kw(k, v) for k, v in kw.items() if v is not None]
        return cst.Call(func=cst.parse_expression(f"mlflow.{fn}"), args=arglist)

    def _Run__log(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        return self._mlflow("log_metric", a.get("name"), a.get("value"), step=a.get("step"))

    def _Run__tag(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        value = a.get("value")
        return self._mlflow("set_tag", a.get("key"), value if value is not None else _str(""))

    def _Run__set_tags(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        return self._mlflow("set_tags", a.get("tags") or a.get("#0"))

    def _Run__log_image(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        return self._mlflow("log_artifact", a.get("path"))

    def _Run__upload_file(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        return self._mlflow("log_artifact", a.get("path_or_stream"))

    def _Run__get_metrics(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        run = dotted(orig.func.value) if isinstance(orig.func, cst.Attribute) else None
        if run not in self.run_ws:
            return None
        self._import("mlflow")
        return cst.parse_expression(f"mlflow.get_run({run}.name).data.metrics")

    def _Run__wait_for_completion(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        run = dotted(orig.func.value) if isinstance(orig.func, cst.Attribute) else None
        if run not in self.run_ws:
            return None
        return cst.parse_expression(f"{self.run_ws[run]}.jobs.stream({run}.name)")

    # jobs
    def _Experiment(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        return a.get("name")  # v2: the experiment is a name on the job

    def _Experiment__submit(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        exp = dotted(orig.func.value) if isinstance(orig.func, cst.Attribute) else None
        ws = self._workspace_of(self.facts.assigned.get(exp or "", {}).get("args", {}))
        config = a.get("#0") or a.get("config")
        if not exp or not ws or config is None:
            return None
        for var, info in self.facts.assigned.items():
            if info["api"] == "Experiment.submit":
                self.run_ws[var] = ws
        return cst.parse_expression(f"{ws}.jobs.create_or_update({self._code(config)}, experiment_name={exp})")

    def _command_line(self, script: cst.BaseExpression | None, arguments: cst.BaseExpression | None) -> str | None:
        name = _string_value(script)
        if name is None:
            return None
        words = ["python", name]
        if arguments is not None:
            if not isinstance(arguments, cst.List):
                return None
            for el in arguments.elements:
                v = el.value
                if isinstance(v, cst.SimpleString) and isinstance(v.evaluated_value, str):
                    words.append(v.evaluated_value)
                elif isinstance(v, (cst.Integer, cst.Float)):
                    words.append(v.value)
                else:
                    return None  # e.g. dataset.as_named_input(...): becomes a job input by hand
        return " ".join(shlex.quote(w) for w in words)

    def _command(self, a: _Args, script_key: str, compute_key: str) -> cst.BaseExpression | None:
        line = self._command_line(a.get(script_key), a.get("arguments"))
        if line is None or a.get("runconfig") is not None or a.get("run_config") is not None:
            return None
        self._import("azure.ai.ml", "command")
        args = [a.keyword("name"), _kw("code", a.get("source_directory") or _str(".")),
                _kw("command", _str(line)), a.keyword(compute_key, "compute"), a.keyword("environment")]
        return cst.Call(func=cst.Name("command"), args=[x for x in args if x is not None])

    def _ScriptRunConfig(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        return self._command(a, "script", "compute_target")

    def _PythonScriptStep(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        return self._command(a, "script_name", "compute_target")

    def _ComputeTarget(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        return a.get("name")  # v2 jobs name their compute

    # environments
    def _Environment__from_conda_specification(self, orig: cst.Call, new: cst.Call, a: _Args
                                               ) -> cst.BaseExpression | None:
        name, conda = a.get("name"), a.get("file_path")
        if name is None or conda is None:
            return None
        self._import("azure.ai.ml.entities", "Environment")
        return cst.Call(func=cst.Name("Environment"),
                        args=[_kw("name", name), _kw("conda_file", conda), _kw("image", _str(DEFAULT_IMAGE))])

    def _Environment__get(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        ws, name = a.get("workspace"), a.get("name")
        if ws is None or name is None:
            return None
        version = a.keyword("version")
        tail = f", {self._code(version)}" if version else ', label="latest"'
        return cst.parse_expression(f"{self._code(ws)}.environments.get(name={self._code(name)}{tail})")

    # data
    def _Dataset__get_by_name(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        name, ws = a.get("name"), a.get("workspace")
        if self.in_job:
            value = _string_value(name)
            if value is None:
                return None
            self.inputs[value] = input_name(value)
            self._import("os")
            return cst.parse_expression(f'os.environ["{INPUT_ENV}{input_name(value)}"]')
        if ws is None or name is None:
            return None
        version = a.keyword("version")
        tail = f", {self._code(version)}" if version else ', label="latest"'
        return cst.parse_expression(f"{self._code(ws)}.data.get(name={self._code(name)}{tail})")

    def _Dataset__to_pandas_dataframe(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        var = dotted(orig.func.value) if isinstance(orig.func, cst.Attribute) else None
        if var not in self.input_vars:
            return None
        if self.pandas == "pd":
            self._import("pandas", None, "pd")
        return cst.parse_expression(f"{self.pandas}.read_csv({var})")

    def leave_Subscript(self, original: cst.Subscript, updated: cst.Subscript) -> cst.BaseExpression:
        if not self.in_job or self.names.v1_api(original.value) != "Run.input_datasets":
            return updated
        key = original.slice[0].slice if len(original.slice) == 1 else None
        value = _string_value(key.value) if isinstance(key, cst.Index) else None
        if value is None:
            return updated
        self.inputs[value] = input_name(value)
        self._import("os")
        self._done(original, "Run.input_datasets")
        return cst.parse_expression(f'os.environ["{INPUT_ENV}{input_name(value)}"]')

    def visit_Assign(self, node: cst.Assign) -> None:
        # A variable that receives a dataset which becomes a job input now holds a path.
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and self.in_job:
            value = node.value.value if isinstance(node.value, cst.Subscript) else node.value
            func = value.func if isinstance(value, cst.Call) else value
            if self.names.v1_api(func) in ("Dataset.get_by_name", "Run.input_datasets"):
                self.input_vars.add(node.targets[0].target.value)

    # models
    def _model(self, ws: str, path: cst.BaseExpression, a: _Args) -> cst.BaseExpression:
        self._import("azure.ai.ml.entities", "Model")
        args = [_kw("path", path), _kw("name", a.get("model_name") or _str("model")),
                _kw("type", _str("custom_model"))]
        args += [x for k in ("tags", "description", "properties") if (x := a.keyword(k))]
        model = cst.Call(func=cst.Name("Model"), args=args)
        return cst.Call(func=cst.parse_expression(f"{ws}.models.create_or_update"), args=[cst.Arg(model)])

    def _Model(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        ws, name = a.get("workspace"), a.get("name")
        if ws is None or name is None or any(k.startswith("#") for k in a.by_name):
            return None
        version = a.keyword("version")
        tail = f", {self._code(version)}" if version else ', label="latest"'
        return cst.parse_expression(f"{self._code(ws)}.models.get(name={self._code(name)}{tail})")

    def _Model__register(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        ws, path = a.get("workspace"), a.get("model_path")
        if ws is None or path is None or a.get("model_name") is None:
            return None
        return self._model(self._code(ws), path, a)

    def _Run__register_model(self, orig: cst.Call, new: cst.Call, a: _Args) -> cst.BaseExpression | None:
        run = dotted(orig.func.value) if isinstance(orig.func, cst.Attribute) else None
        rel = _string_value(a.get("model_path"))
        if run not in self.run_ws or rel is None or a.get("model_name") is None:
            return None
        path = cst.parse_expression(f'f"azureml://jobs/{{{run}.name}}/outputs/artifacts/paths/{rel}"')
        return self._model(self.run_ws[run], path, a)


class _Cleanup(cst.CSTTransformer):
    """Drops statements that only fed the v1 run (`run = Run.get_context()`, `run.complete()`, ...)
    once nothing else refers to their variable, and SDK v1 imports nothing uses any more."""

    def __init__(self, removable: set[str], aliases: dict[str, str]):
        self.removable = removable
        self.aliases = aliases
        self.refs: dict[str, int] = {}
        self.v1_refs: set[str] = set()

    def count(self, tree: cst.Module) -> None:
        refs: dict[str, int] = {}
        v1: set[str] = set()
        aliases = self.aliases

        class Counter(cst.CSTVisitor):
            def visit_Import(self, node: cst.Import) -> bool:
                return False

            def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
                return False

            def visit_Assign(self, node: cst.Assign) -> None:
                for t in node.targets:
                    if isinstance(t.target, cst.Name):
                        refs[t.target.value] = refs.get(t.target.value, 0) - 1  # the binding is no use

            def visit_Attribute(self, node: cst.Attribute) -> None:
                if isinstance(node.value, cst.Name) and node.value.value in aliases:
                    v1.add(node.value.value)

            def visit_Name(self, node: cst.Name) -> None:
                refs[node.value] = refs.get(node.value, 0) + 1
                if node.value in aliases and aliases[node.value] not in _SHARED_NAMES:
                    v1.add(node.value)

        tree.visit(Counter())
        self.refs, self.v1_refs = refs, v1

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
                                  ) -> Any:
        if len(updated.body) != 1:
            return updated
        stmt = updated.body[0]
        if isinstance(stmt, cst.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0].target, cst.Name):
            var = stmt.targets[0].target.value
            if var in self.removable and self.refs.get(var, 0) <= 0:
                return cst.RemoveFromParent()
        if isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Call):
            name = dotted(stmt.value.func) or ""
            base, _, method = name.rpartition(".")
            if method == "complete" and base in self.removable:
                return cst.RemoveFromParent()
        return updated

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> Any:
        mod = dotted(updated.module) if updated.module else ""
        if not (mod or "").startswith("azureml") or isinstance(updated.names, cst.ImportStar):
            return updated
        keep = [a for a in updated.names
                if (a.asname.name.value if a.asname else a.name.value) in self.v1_refs]  # type: ignore[union-attr]
        if not keep:
            return cst.RemoveFromParent()
        keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(names=keep)


def _removable(facts: Any) -> set[str]:
    return {var for var, a in facts.assigned.items()
            if a["api"] in ("Run.get_context", "Run.experiment") or facts.objects.get(var) == "Run"}


def migrate_source(code: str) -> Result:
    """Rewrite one module; raises libcst.ParserSyntaxError when it is not Python 3."""
    from libcst.metadata import MetadataWrapper

    module = cst.parse_module(code)
    collector = _Collector(module)
    MetadataWrapper(module, unsafe_skip_copy=True).visit(collector)
    if not collector.f.v1_aliases and not collector.v1_modules:
        return Result(code)
    context = CodemodContext()
    mod = V1ToV2(context, collector, code)
    tree = MetadataWrapper(module).visit(mod)
    removable = {v for v in _removable(collector.f) if v not in collector.f.assigned
                 or collector.f.assigned[v]["api"] != "Experiment.submit"}
    cleanup = _Cleanup(removable, collector.f.v1_aliases)
    for _ in range(3):  # removing `ws = run.experiment.workspace` can free `run`
        cleanup.count(tree)
        tree = tree.visit(cleanup)
    cleanup.count(tree)
    tree = tree.visit(cleanup)
    tree = AddImportsVisitor(context).transform_module(tree)
    new = tree.code
    left = []
    if new != code or collector.f.v1_uses:
        try:
            after = module_facts(new)
        except cst.ParserSyntaxError:  # pragma: no cover - the codemod must always produce Python
            raise
        for u in after.v1_uses:
            api = u.api.removeprefix("import ")
            row = row_for(api.split(".")[-1] if u.api.startswith("import ") else api)
            left.append({"line": u.line, "api": u.api, "code": u.code, "row": row.id if row else None,
                         "reason": row.reason if row else "no mapping row: port by hand",
                         "link": row.link if row else None})
    return Result(new, mod.converted, left, dict(mod.inputs))


# ---------------------------------------------------------------------------
# MLflow logging around a plain script's entry point


class _AddMlflow(cst.CSTTransformer):
    def __init__(self) -> None:
        self.done = False

    def leave_If(self, original: cst.If, updated: cst.If) -> cst.If:
        test = updated.test
        if not (isinstance(test, cst.Comparison) and dotted(test.left) == "__name__"):
            return updated
        self.done = True
        body = list(updated.body.body)
        wrapped = cst.With(items=[cst.WithItem(cst.parse_expression("mlflow.start_run()"))],
                           body=cst.IndentedBlock(body=body))
        return updated.with_changes(body=updated.body.with_changes(
            body=[cst.parse_statement("mlflow.autolog()"), wrapped]))


def add_mlflow(code: str) -> str:
    """Wrap the entry point in an MLflow run with autologging; the script's own logic is untouched."""
    if "mlflow.start_run" in code:
        return code  # already tracked: idempotent
    module = cst.parse_module(code)
    t = _AddMlflow()
    tree = module.visit(t)
    if not t.done:  # no main guard: wrap every statement after the imports
        body = list(tree.body)
        n = 0
        while n < len(body) and isinstance(body[n], cst.SimpleStatementLine) and all(
                isinstance(s, (cst.Import, cst.ImportFrom))
                or (isinstance(s, cst.Expr) and isinstance(s.value, cst.SimpleString)) for s in body[n].body):
            n += 1  # docstring and imports stay at the top
        wrapped = cst.With(items=[cst.WithItem(cst.parse_expression("mlflow.start_run()"))],
                           body=cst.IndentedBlock(body=body[n:] or [cst.SimpleStatementLine([cst.Pass()])]))
        tree = tree.with_changes(body=[*body[:n], cst.parse_statement("mlflow.autolog()"), wrapped])
    context = CodemodContext()
    AddImportsVisitor.add_needed_import(context, "mlflow")
    return AddImportsVisitor(context).transform_module(tree).code


def notebook_to_script(nb: dict[str, Any], name: str) -> str:
    """A notebook's code cells as one script (magics commented out), cell markers kept for readers."""
    parts = [f'"""{name}: the code cells of the notebook, in order (converted by the migration)."""\n']
    for index, code in notebook_code(nb):
        parts.append(f"# %% cell {index}\n{code.rstrip()}\n")
    return "\n".join(parts)


# ---------------------------------------------------------------------------
# A whole project


def _diff(old: str, new: str, rel: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"a/{rel}", tofile=f"b/{rel}"))


def migrate_tree(src: str | Path, dest: str | Path, add_mlflow_to: list[str] | None = None) -> dict[str, Any]:
    """Write the migrated project to `dest` (refuses the source itself or a folder inside it)."""
    src, dest = Path(src).resolve(), Path(dest).resolve()
    if dest == src or src in dest.parents:
        raise ValueError(f"the migrated copy must not go into the source: {dest} is inside {src}")
    if dest.exists():
        shutil.rmtree(dest)
    wanted = {p.strip("/") for p in (add_mlflow_to or [])}
    files: list[dict[str, Any]] = []
    diffs: list[str] = []
    inputs: dict[str, str] = {}
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src).as_posix()
        if any(part in SKIP_DIRS for part in path.relative_to(src).parts) or not path.is_file():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        entry: dict[str, Any] = {"path": rel, "status": "copied", "converted": [], "left": []}
        if path.suffix == ".py":
            old = path.read_text(encoding="utf-8", errors="replace")
            try:
                res = migrate_source(old)
                new = add_mlflow(res.code) if rel in wanted else res.code
            except cst.ParserSyntaxError as exc:
                entry.update(status="unparseable", error=parse_error(exc, old))
                files.append(entry)
                continue
            entry["converted"] = [asdict(c) for c in res.converted]
            entry["left"] = res.left
            inputs.update(res.inputs)
            if new != old:
                target.write_text(new, encoding="utf-8")
                entry["status"] = "rewritten" if res.converted else "mlflow_added"
                diffs.append(_diff(old, new, rel))
            elif res.left:
                entry["status"] = "left_for_a_person"
        elif path.suffix == ".ipynb" and rel in wanted:
            nb = json.loads(path.read_text(encoding="utf-8"))
            script_rel = rel[: -len(".ipynb")] + ".py"
            code = add_mlflow(notebook_to_script(nb, Path(rel).name))
            (dest / script_rel).write_text(code, encoding="utf-8")
            diffs.append(_diff("", code, script_rel))
            files.append({"path": script_rel, "status": "from_notebook", "converted": [], "left": [],
                          "notebook": rel})
        files.append(entry)
    return {"source": str(src), "dest": str(dest), "files": files, "diff": "".join(diffs), "inputs": inputs,
            "converted": sum(len(f["converted"]) for f in files),
            "left": [{"file": f["path"], **x} for f in files for x in f["left"]],
            "unparseable": [{"file": f["path"], "error": f["error"]} for f in files if f["status"] == "unparseable"]}
