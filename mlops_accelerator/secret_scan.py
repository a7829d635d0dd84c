"""Secret-shaped values: refused in settings, searched for in a run's outputs.

No key, token, password or connection string belongs in the project file, a notebook, an
output or the append-only ledger (which cannot be cleaned): they belong in Azure Key Vault,
a CI secret or, better, a managed identity. Detection uses detect-secrets' maintained
pattern plugins (GitHub, JWT, private keys, storage keys, cloud tokens...) plus patterns for
what Azure projects leak most: bare storage account keys, connection strings, SAS tokens,
Entra ID client secrets, credentials in URLs and `password=` assignments.

The high-entropy plugins of detect-secrets are left out on purpose: GUIDs, resource ids and
content hashes are everyday settings and outputs, and would be refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WHERE_IT_BELONGS = ("secrets must not be stored in the project: keep it in Azure Key Vault (and store "
                    "only the vault and secret name here), a CI secret, or use a managed identity")

# (kind, pattern): Azure-specific shapes detect-secrets' plugins do not cover on their own.
AZURE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # A storage account key: 64 random bytes, base64 (88 characters ending in '==').
    ("Azure storage account key", re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])")),
    ("connection string with a key", re.compile(
        r"(?i)\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|ClientSecret|Password|Pwd)\s*=\s*[^;\s]{3,}")),
    ("shared access signature (SAS)", re.compile(r"(?i)(?:^|[?&;\s])sig=[A-Za-z0-9%+/=]{16,}")),
    ("Entra ID client secret", re.compile(r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_.-]{3}\dQ~[A-Za-z0-9_.~-]{31,34}")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})")),
    # (schemes bounded in length: an unbounded one makes long base64 lines quadratic to search)
    ("credentials in a URL", re.compile(r"\b[a-z][a-z0-9+.-]{0,15}://[^/\s:@]{1,256}:[^/\s@]{1,256}@", re.IGNORECASE)),
    ("token in a URL", re.compile(r"\b[a-z][a-z0-9+.-]{0,15}://[A-Za-z0-9_-]{30,256}@", re.IGNORECASE)),
    ("password", re.compile(r"(?i)\b(?:password|passwd|pwd)\s*[=:]\s*[^\s;,'\"]{3,}")),
    ("key or token assignment", re.compile(
        r"(?i)\b(?:client[_-]?secret|api[_-]?key|access[_-]?key|secret[_-]?key|account[_-]?key|"
        r"auth[_-]?token|access[_-]?token|private[_-]?key)\s*[=:]\s*[^\s;,'\"]{8,}")),
    ("private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")),
)

# detect-secrets plugins left out: those that judge by context or entropy or find things that are
# not secrets, and the keyword-driven IBM/Artifactory ones (broad, slow on large outputs, and their
# short prefixes match ordinary identifiers).
_SKIPPED_PLUGINS = {"Base64HighEntropyString", "HexHighEntropyString", "KeywordDetector", "IPPublicDetector",
                    "IbmCloudIamDetector", "IbmCosHmacDetector", "CloudantDetector", "SoftlayerDetector",
                    "ArtifactoryDetector"}


@lru_cache(maxsize=1)
def _plugins() -> tuple:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    return tuple(cls() for cls in get_mapping_from_secret_type_to_class().values()
                 if cls.__name__ not in _SKIPPED_PLUGINS)


def secret_kind(text: str) -> str | None:
    """What kind of secret `text` holds (e.g. "GitHub Token"), or None if it looks clean."""
    if not isinstance(text, str) or len(text) < 8:
        return None
    for kind, pattern in AZURE_PATTERNS:
        if pattern.search(text):
            return kind
    for plugin in _plugins():
        for line in text.splitlines() or [text]:
            if any(True for _ in plugin.analyze_string(line)):
                return plugin.secret_type
    return None


def secret_message(kind: str) -> str:
    """The sentence every door shows: what was found (never the value) and where it belongs."""
    return f"looks like a secret ({kind}); {WHERE_IT_BELONGS}"


REDACTED = "[value hidden: it looks like a secret]"


# -- a run's outputs -------------------------------------------------------------

@dataclass(frozen=True)
class Leak:
    file: Path  # the file holding it
    line: int  # 1-based
    kind: str

    def describe(self, root: Path | None = None) -> str:
        name = self.file.relative_to(root) if root and self.file.is_relative_to(root) else self.file
        return f"{name}, line {self.line}: {self.kind}"


MAX_SCANNED_BYTES = 20 * 1024 * 1024  # bigger outputs (data, models) are binary anyway


def _text_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_SCANNED_BYTES:
            yield path


@lru_cache(maxsize=1)
def _all_patterns() -> tuple[re.Pattern[str], ...]:
    """Every pattern a secret must match somewhere: ours and the plugins' deny lists."""
    return (*(p for _, p in AZURE_PATTERNS), *(r for plugin in _plugins() for r in plugin.denylist))


def first_leak(text: str) -> tuple[int, str] | None:
    """(line number, kind) of a secret-shaped value in a text, or None.

    Each pattern runs over the whole text (fast); a hit is confirmed on its line by
    `secret_kind`, which applies the plugins' own checks (a JWT must decode, ...).
    """
    for pattern in _all_patterns():
        for tries, match in enumerate(pattern.finditer(text)):
            if tries >= 50:
                break
            start = text.rfind("\n", 0, match.start()) + 1
            end = text.find("\n", match.end())
            kind = secret_kind(text[start:] if end < 0 else text[start:end])
            if kind:
                return text.count("\n", 0, match.start()) + 1, kind
    return None


def scan_run_outputs(path: Path | str) -> list[Leak]:
    """The secret-shaped values in the text files under a run folder (the first of each file).

    Binary files (images, models, Parquet) are skipped: a secret is text.
    """
    leaks = []
    for file in _text_files(Path(path)):
        data = file.read_bytes()
        if b"\0" in data[:8192]:
            continue
        found = first_leak(data.decode("utf-8", errors="replace"))
        if found:
            leaks.append(Leak(file, *found))
    return leaks


def fail_stages_with_leaks(run_dir: Path, project_root: Path, stages: dict[str, dict]) -> list[Leak]:
    """Mark every stage whose outputs hold a secret-shaped value as failed, naming the file.

    `stages` is the runner's stage slug -> outcome map; the outputs stay where they are so the
    person can see what leaked (and rotate that secret), but no evidence is taken from them.
    """
    leaks = scan_run_outputs(run_dir)

    def stage_of(leak: Leak) -> str | None:  # runs/<id>/<NN>-<slug>/...; a log at the top is everyone's
        parts = leak.file.relative_to(run_dir).parts
        return parts[0].split("-", 1)[-1] if len(parts) > 1 else None

    for slug, outcome in stages.items():
        mine = [leak for leak in leaks if stage_of(leak) in (slug, None)]
        if mine:
            outcome["status"] = "failed"
            outcome["evidence"] = {}
            outcome["error"] = ("secret-shaped value in the outputs (rotate it; " + WHERE_IT_BELONGS + "): "
                                + "; ".join(leak.describe(project_root) for leak in mine))
    return leaks
