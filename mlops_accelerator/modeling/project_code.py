"""The project's training code under source control.

A project's training package lives in `src/<package>/` with its unit tests in `tests/`; the
contract stage 5 relies on is small: `<package>.dataprep.clean(df)` and `.split_xy(df)`,
`<package>.train.build_model(params)` and `.SEARCH_SPACE`, `<package>.score.score(model, df)` and
`.INPUT_COLUMNS`. `init --sample` writes the churn package and commits it.

A run that registers a model runs exactly the committed code: the commit's `src/` and `tests/`
are exported (git archive) into the run folder and imported from there, and the commit is recorded.
Uncommitted changes to the training code refuse such a run, naming the files; an exploration run
(allow_dirty) uses the working tree and records the commit as dirty.
"""

from __future__ import annotations

import importlib
import io
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from . import ModelingError

CODE_PATHS = ("src", "tests", "pyproject.toml")  # what "the training code" is, for the clean-tree rule
_AUTHOR = ["-c", "user.name=MLOps Accelerator", "-c", "user.email=mlops-accelerator@localhost"]


def _git(root: Path, *args: str, check: bool = True) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise ModelingError("git is not installed: stage 5 records the commit it trains from") from None
    if check and done.returncode:
        raise ModelingError(f"git {' '.join(args)} failed in {root}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _author_args(root: Path) -> list[str]:
    """Our identity only when the machine has none configured (never overrides the user's)."""
    return [] if _git(root, "config", "user.email", check=False).strip() else _AUTHOR


def write_sample_code(project_dir: str | Path) -> list[str]:
    """Write the sample churn package and its tests, make the project a git repository, commit."""
    root = Path(project_dir).resolve()
    source = resources.files("mlops_accelerator.sample").joinpath("churn_project")
    written = []
    for rel in ("pyproject.toml", "src/churn_model/__init__.py", "src/churn_model/dataprep.py",
                "src/churn_model/features.py", "src/churn_model/train.py", "src/churn_model/score.py",
                "tests/conftest.py", "tests/test_dataprep.py", "tests/test_features.py",
                "tests/test_train.py", "tests/test_score.py"):
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.joinpath(rel).read_text(encoding="utf-8"), encoding="utf-8")
        written.append(rel)
    ignore = root / ".gitignore"
    if not ignore.exists():
        ignore.write_text(source.joinpath("gitignore.txt").read_text(encoding="utf-8"), encoding="utf-8")
    if not (root / ".git").exists():
        _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, *_author_args(root), "commit", "-q", "-m", "Contoso churn project: settings, training package "
         "and unit tests (created by mlops-accelerator init --sample)")
    return written


@dataclass
class CodeVersion:
    repository: str
    commit: str
    branch: str
    dirty_files: list[str] = field(default_factory=list)
    code_dir: Path | None = None  # the code imported by the run (exported commit or working tree)
    package: str = ""

    @property
    def dirty(self) -> bool:
        return bool(self.dirty_files)

    def as_evidence(self) -> dict[str, Any]:
        return {"repository": self.repository, "commit": self.commit, "branch": self.branch,
                "dirty": self.dirty, "dirty_files": self.dirty_files}


def code_version(project_dir: str | Path) -> CodeVersion:
    root = Path(project_dir).resolve()
    if not (root / ".git").exists():
        raise ModelingError(f"{root} is not a git repository: stage 5 trains committed code only. Run "
                            "'git init' there and commit src/ and tests/ (init --sample does this)")
    commit = _git(root, "rev-parse", "HEAD", check=False).strip()
    if not commit or commit == "HEAD":
        raise ModelingError(f"{root} has no commit yet: commit src/ and tests/ first")
    branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    remote = _git(root, "config", "--get", "remote.origin.url", check=False).strip()
    status = _git(root, "status", "--porcelain", "--untracked-files=all", "--", *CODE_PATHS)
    dirty = sorted(line[3:].strip() for line in status.splitlines() if line.strip())
    return CodeVersion(remote or root.as_uri(), commit, branch, dirty)


def checkout_for_run(project_dir: str | Path, run_dir: str | Path, allow_dirty: bool = False) -> CodeVersion:
    """The code a run imports: the exported commit (clean tree), or the working tree (exploration)."""
    root = Path(project_dir).resolve()
    version = code_version(root)
    if version.dirty and not allow_dirty:
        raise ModelingError(
            f"the training code has uncommitted changes: {', '.join(version.dirty_files)}. A run that "
            f"registers a model trains committed code only: commit them (git -C {root} commit -am ...) or "
            "run for exploration with allow_dirty (nothing is registered)")
    if version.dirty:
        version.code_dir = root
    else:
        target = Path(run_dir).resolve() / "code"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", "--format=tar", version.commit, "--",
                                  *[p for p in CODE_PATHS if (root / p).exists()]],
                                 cwd=root, capture_output=True, timeout=60, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
        version.code_dir = target
    version.package = find_package(version.code_dir)
    return version


def find_package(code_dir: Path) -> str:
    src = code_dir / "src"
    packages = sorted(p.name for p in src.iterdir() if (p / "__init__.py").is_file()) if src.is_dir() else []
    if len(packages) != 1:
        raise ModelingError(f"expected one training package under {src} (a folder with __init__.py), found "
                            f"{', '.join(packages) or 'none'}")
    return packages[0]


def import_code(version: CodeVersion) -> dict[str, Any]:
    """The package's dataprep, train and score modules, freshly imported from the run's code."""
    src = str((version.code_dir or Path(".")) / "src")
    name = version.package
    for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[mod]  # a reused kernel must not keep an older commit's code
    sys.path.insert(0, src)
    try:
        modules = {}
        for part in ("dataprep", "train", "score"):
            try:
                modules[part] = importlib.import_module(f"{name}.{part}")
            except Exception as exc:  # the project's code: report where it broke
                raise ModelingError(f"importing {name}.{part} from {src} failed: {describe(exc)}") from exc
        return modules
    finally:
        sys.path.remove(src)


def describe(exc: BaseException) -> str:
    """`Type: message (at file:line in function)` for the innermost frame of the project's code."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    where = next((f for f in reversed(frames) if "/src/" in f.filename or "/tests/" in f.filename),
                 frames[-1] if frames else None)
    at = f" (at {where.filename}:{where.lineno} in {where.name})" if where else ""
    return f"{type(exc).__name__}: {exc}{at}"
