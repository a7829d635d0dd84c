"""Stage 3: is this machine ready to work with the project's Azure ML workspaces?

`check_local_env()` reports, in plain words, the Python version, the packages the project needs,
the Azure CLI and its `ml` extension (and the conflicting v1 `azure-cli-ml`), Git, Docker and
VS Code, whether the CLI is signed in, and which credential of azure-identity's
DefaultAzureCredential chain would be used. By default it makes NO network call: commands are
local (`az version`, `az account show` reads the CLI's token cache profile), each time-boxed, and
the credential chain is judged from environment variables and installed tools. A missing tool
is a finding, never an exception.

`probe=True` (opt-in) also asks DefaultAzureCredential for a token, time-boxed, and turns the
failure into what to do (`az login`, environment variables, managed identity); with
`workspaces=` it then tries to reach each workspace (MLClient with telemetry off).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

COMMAND_TIMEOUT = 20.0  # seconds per local command (az is slow to start)
PROBE_TIMEOUT = 15.0
ARM_SCOPE = "https://management.azure.com/.default"
PACKAGES = ("azure-ai-ml", "azure-identity", "mlflow", "papermill", "pandas", "scikit-learn")
CONFLICTING_EXTENSIONS = ("azure-cli-ml",)  # the CLI v1 ML extension: remove it

# DefaultAzureCredential's chain, in its order (azure-identity 1.2x), and what each needs.
CREDENTIAL_CHAIN = (
    "EnvironmentCredential", "WorkloadIdentityCredential", "ManagedIdentityCredential",
    "SharedTokenCacheCredential", "VisualStudioCodeCredential", "AzureCliCredential",
    "AzurePowerShellCredential", "AzureDeveloperCliCredential",
)
FIXES = {
    "EnvironmentCredential": "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or "
                             "AZURE_CLIENT_CERTIFICATE_PATH) for a service principal; prefer OIDC in pipelines",
    "WorkloadIdentityCredential": "in Kubernetes or a pipeline with OIDC: AZURE_FEDERATED_TOKEN_FILE, "
                                  "AZURE_CLIENT_ID and AZURE_TENANT_ID",
    "ManagedIdentityCredential": "run on Azure compute (a compute instance, VM or App Service) with a "
                                 "managed identity",
    "AzureCliCredential": "install the Azure CLI and run 'az login' (then 'az account set --subscription <id>')",
    "AzurePowerShellCredential": "run 'Connect-AzAccount' in PowerShell (Az module)",
    "AzureDeveloperCliCredential": "run 'azd auth login'",
}


Runner = Callable[[list[str], float], tuple[int, str, str]]


def run_command(args: list[str], timeout: float = COMMAND_TIMEOUT) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of a local command; 127 when absent, 124 on timeout. Never raises."""
    exe = shutil.which(args[0])
    if exe is None:
        return 127, "", f"{args[0]} not found on PATH"
    env = {**os.environ, "AZURE_CORE_COLLECT_TELEMETRY": "false", "AZURE_CORE_NO_COLOR": "true",
           "AZURE_CORE_ONLY_SHOW_ERRORS": "true"}
    try:
        done = subprocess.run([exe, *args[1:]], capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return 124, "", f"{args[0]} did not answer within {timeout:g} s"
    except OSError as exc:
        return 126, "", str(exc)
    return done.returncode, done.stdout, done.stderr


def _first_version(text: str) -> str | None:
    m = re.search(r"\d+\.\d+(?:\.\d+)?", text or "")
    return m.group(0) if m else None


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for n in names:
        try:
            out[n] = version(n)
        except PackageNotFoundError:
            out[n] = None
    return out


def azure_cli(run: Runner = run_command) -> dict[str, Any]:
    """Azure CLI version, extensions and sign-in, from local commands only."""
    info: dict[str, Any] = {"version": None, "ml_extension": None, "conflicting_extensions": [],
                            "signed_in": False, "user": "", "subscription": "", "note": ""}
    code, out, err = run(["az", "version", "--output", "json"], COMMAND_TIMEOUT)
    if code != 0:
        info["note"] = ("the Azure CLI is not installed: https://learn.microsoft.com/cli/azure/install-azure-cli"
                        if code == 127 else f"'az version' failed: {(err or out).strip()[:300]}")
        return info
    try:
        data = json.loads(out)
    except ValueError:
        data = {}
    info["version"] = data.get("azure-cli") or _first_version(out)
    exts = data.get("extensions") or {}
    info["ml_extension"] = exts.get("ml")
    info["conflicting_extensions"] = [e for e in CONFLICTING_EXTENSIONS if e in exts]
    code, out, err = run(["az", "account", "show", "--output", "json"], COMMAND_TIMEOUT)
    if code == 0:
        try:
            acct = json.loads(out)
        except ValueError:
            acct = {}
        info["signed_in"] = bool(acct)
        info["user"] = str((acct.get("user") or {}).get("name") or "")
        info["subscription"] = str(acct.get("id") or "")
    else:
        info["note"] = "the Azure CLI is not signed in: run 'az login', then 'az account set --subscription <id>'"
    return info


def tool_versions(run: Runner = run_command) -> dict[str, str | None]:
    """Git, Docker (client only: no daemon call) and VS Code versions, or None when absent."""
    out: dict[str, str | None] = {}
    for key, args in (("git", ["git", "--version"]), ("docker", ["docker", "--version"]),
                      ("vscode", ["code", "--version"])):
        code, text, _ = run(args, COMMAND_TIMEOUT)
        out[key] = _first_version(text.splitlines()[0] if text else "") if code == 0 else None
    return out


def credential_chain(env: Mapping[str, str] | None = None, cli: Mapping[str, Any] | None = None,
                     which: Callable[[str], str | None] = shutil.which) -> list[dict[str, Any]]:
    """Each credential of DefaultAzureCredential's chain: would it be tried with success? (no network)

    status: "ready" (its inputs are there), "possible" (cannot be known without asking Azure),
    "unavailable" (its inputs are missing). The first "ready" one is what the SDK will use.
    """
    env = os.environ if env is None else env
    cli = cli or {}
    excluded = {c.strip().lower() for c in env.get("AZURE_TOKEN_CREDENTIALS", "").split(",") if c.strip()}
    rows = []
    for name in CREDENTIAL_CHAIN:
        status, why = "unavailable", ""
        if name == "EnvironmentCredential":
            has_id = env.get("AZURE_TENANT_ID") and env.get("AZURE_CLIENT_ID")
            proof = [k for k in ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME")
                     if env.get(k)]
            if has_id and proof:
                status, why = "ready", f"AZURE_TENANT_ID, AZURE_CLIENT_ID and {proof[0]} are set (values not shown)"
            else:
                why = "its environment variables are not set"
        elif name == "WorkloadIdentityCredential":
            token_file = env.get("AZURE_FEDERATED_TOKEN_FILE")
            if token_file and env.get("AZURE_CLIENT_ID") and env.get("AZURE_TENANT_ID"):
                ok = Path(token_file).is_file()
                status = "ready" if ok else "unavailable"
                why = "a federated token file is configured" + ("" if ok else " but does not exist")
            else:
                why = "no federated token file configured"
        elif name == "ManagedIdentityCredential":
            if env.get("IDENTITY_ENDPOINT") or env.get("MSI_ENDPOINT"):
                status, why = "ready", "a managed identity endpoint is configured (App Service, Arc, Cloud Shell)"
            elif env.get("CI_NAME") or env.get("AZUREML_RUN_ID") or Path("/mnt/batch/tasks").exists():
                status, why = "possible", "this looks like Azure ML compute: its managed identity may answer"
            else:
                status, why = "possible", ("only on Azure compute with a managed identity; not asked, since that "
                                           "needs the network (the instance metadata service)")
        elif name == "SharedTokenCacheCredential":
            cache = Path.home() / ".IdentityService" / "msal.cache"
            status, why = (("possible", "a shared MSAL token cache exists") if cache.exists()
                           else ("unavailable", "no shared token cache (Windows/Visual Studio sign-in)"))
        elif name == "VisualStudioCodeCredential":
            why = "needs the VS Code Azure Resources extension's sign-in (broker); not used on this platform"
        elif name == "AzureCliCredential":
            if cli.get("signed_in"):
                status, why = "ready", f"the Azure CLI is signed in as {cli.get('user') or 'a user'}"
            elif cli.get("version"):
                why = "the Azure CLI is installed but not signed in"
            else:
                why = "the Azure CLI is not installed"
        elif name == "AzurePowerShellCredential":
            status, why = (("possible", "PowerShell is installed; Az sign-in not checked") if which("pwsh")
                           else ("unavailable", "PowerShell (pwsh) is not installed"))
        elif name == "AzureDeveloperCliCredential":
            status, why = (("possible", "azd is installed; its sign-in not checked") if which("azd")
                           else ("unavailable", "the Azure Developer CLI (azd) is not installed"))
        if excluded and not _allowed_by(name, excluded):
            status, why = "unavailable", f"excluded by AZURE_TOKEN_CREDENTIALS={env.get('AZURE_TOKEN_CREDENTIALS')}"
        rows.append({"credential": name, "status": status, "why": why,
                     "fix": FIXES.get(name, "") if status != "ready" else ""})
    return rows


def _allowed_by(name: str, selected: set[str]) -> bool:
    dev = {"sharedtokencachecredential", "visualstudiocodecredential", "azureclicredential",
           "azurepowershellcredential", "azuredeveloperclicredential"}
    prod = {"environmentcredential", "workloadidentitycredential", "managedidentitycredential"}
    n = name.lower()
    return n in selected or ("dev" in selected and n in dev) or ("prod" in selected and n in prod)


def likely_credential(chain: list[dict[str, Any]]) -> str | None:
    """The credential DefaultAzureCredential would use, when known without the network."""
    for row in chain:
        if row["status"] == "ready":
            return row["credential"]
        if row["status"] == "possible":
            return None
    return None


def _with_timeout(fn: Callable[[], Any], timeout: float) -> tuple[Any, BaseException | None, bool]:
    """Run fn in a daemon thread; (result, error, timed_out)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported, not raised
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        return None, None, True
    return box.get("result"), box.get("error"), False


def explain_auth_error(exc: BaseException) -> str:
    """A ClientAuthenticationError (or network error) in plain words, with what to do."""
    text = str(exc)
    tried = [c for c in CREDENTIAL_CHAIN if c in text]
    lines = ["No Azure credential worked."]
    if tried:
        lines.append(f"Tried: {', '.join(tried)}.")
    lines.append("Do one of: 'az login' (then 'az account set --subscription <id>'); set AZURE_TENANT_ID, "
                 "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal; or run on Azure compute with a "
                 "managed identity.")
    if re.search(r"(?i)network|connection|resolve|timed? ?out|unreachable", text):
        lines.append("Azure could not be reached from here (offline, proxy or firewall): that is fine for the "
                     "local target.")
    return " ".join(lines)


def probe_credential(timeout: float = PROBE_TIMEOUT) -> dict[str, Any]:
    """Opt-in: ask DefaultAzureCredential for an ARM token (network). Never raises."""
    def get() -> Any:
        from azure.identity import DefaultAzureCredential

        return DefaultAzureCredential(exclude_interactive_browser_credential=True).get_token(ARM_SCOPE)

    token, error, timed_out = _with_timeout(get, timeout)
    if timed_out:
        return {"ok": False, "message": f"no answer within {timeout:g} s: Azure is probably unreachable from "
                                        f"here (fine for the local target)"}
    if error is not None:
        return {"ok": False, "message": explain_auth_error(error)}
    return {"ok": True, "message": "a token was issued (not shown)", "expires_on": getattr(token, "expires_on", None)}


def probe_workspace(config: Mapping[str, str], timeout: float = PROBE_TIMEOUT) -> dict[str, Any]:
    """Opt-in: can this machine reach one workspace? MLClient with telemetry off. Never raises."""
    def get() -> Any:
        from azure.ai.ml import MLClient
        from azure.identity import DefaultAzureCredential

        client = MLClient(DefaultAzureCredential(exclude_interactive_browser_credential=True),
                          config["subscription_id"], config["resource_group"], config["workspace_name"],
                          enable_telemetry=False, retry_total=0)
        return client.workspaces.get(config["workspace_name"])

    _, error, timed_out = _with_timeout(get, timeout)
    if timed_out:
        return {"reachable": False, "error": f"no answer within {timeout:g} s (offline, proxy or firewall?)"}
    if error is not None:
        name = type(error).__name__
        msg = explain_auth_error(error) if name == "ClientAuthenticationError" else f"{name}: {str(error)[:300]}"
        return {"reachable": False, "error": msg}
    return {"reachable": True, "error": ""}


NOT_PROBED = ("not checked: the offline check makes no network call; run with probe=True (or "
              "'az ml workspace show -n {ws} -g {rg}') where Azure is reachable")


def check_local_env(workspaces: Mapping[str, Mapping[str, str]] | None = None, *, probe: bool = False,
                    run: Runner = run_command, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The whole report. `workspaces`: env name -> config.json-like dict. Never raises."""
    cli = azure_cli(run)
    others = tool_versions(run)
    packages = package_versions()
    chain = credential_chain(env, cli)
    tools = {"azure_cli": cli["version"], "ml_extension": cli["ml_extension"],
             "python": platform.python_version(), "azure_ai_ml": packages.get("azure-ai-ml"),
             "git": others["git"], "docker": others["docker"], "vscode": others["vscode"]}
    reach: dict[str, dict[str, Any]] = {}
    for name, cfg in (workspaces or {}).items():
        if probe:
            reach[name] = probe_workspace(cfg)
        else:
            reach[name] = {"reachable": False,
                           "error": NOT_PROBED.format(ws=cfg.get("workspace_name", "<workspace>"),
                                                      rg=cfg.get("resource_group", "<group>"))}
    report = {
        "probed": probe,
        "tools": tools,
        "packages": packages,
        "conflicting_extensions": cli["conflicting_extensions"],
        "account": {"signed_in": cli["signed_in"], "user": cli["user"]},
        "cli_note": cli["note"],
        "credentials": chain,
        "likely_credential": likely_credential(chain),
        "token_probe": probe_credential() if probe else None,
        "workspaces": reach,
    }
    return report


def evidence_local_env(report: Mapping[str, Any]) -> dict[str, Any]:
    """Exactly the S3-01 evidence keys (mlops_accelerator/checks/deploy.py)."""
    return {"tools": dict(report["tools"]), "conflicting_extensions": list(report["conflicting_extensions"]),
            "account": dict(report["account"]), "workspaces": {k: dict(v) for k, v in report["workspaces"].items()}}


def findings(report: Mapping[str, Any], required_tools: list[str], labels: Mapping[str, str]) -> list[str]:
    """Plain-language lines for the reader: what is fine, what to do."""
    lines = []
    for tool in required_tools:
        version = report["tools"].get(tool)
        label = labels.get(tool, tool)
        lines.append(f"OK   {label}: {version}" if version else f"TODO {label}: not found")
    for ext in report["conflicting_extensions"]:
        lines.append(f"TODO remove the old extension: az extension remove -n {ext}")
    acct = report["account"]
    lines.append(f"OK   Azure CLI signed in as {acct['user']}" if acct["signed_in"]
                 else f"TODO {report['cli_note'] or 'sign in with az login'}")
    who = report["likely_credential"]
    lines.append(f"OK   DefaultAzureCredential would use {who}" if who else
                 "INFO DefaultAzureCredential: no credential is certain without asking Azure; see the table")
    if report.get("token_probe"):
        tp = report["token_probe"]
        lines.append(("OK   " if tp["ok"] else "TODO ") + tp["message"])
    for name, r in report["workspaces"].items():
        lines.append(f"OK   workspace {name} reachable" if r["reachable"] else f"INFO workspace {name}: {r['error']}")
    return lines


def setup_guide(cli_defaults: Mapping[str, str] | None, min_cli: str, python_version: str) -> str:
    """The developer set-up steps (digest S3: setup local environment), with this project's defaults."""
    d = cli_defaults or {}
    lines = ["# Local development set-up", "", "Written by the MLOps Accelerator (stage 3).", "",
             f"1. Install the Azure CLI {min_cli} or later: https://learn.microsoft.com/cli/azure/install-azure-cli",
             "2. Remove the old v1 extension if present and add the v2 `ml` extension:", "", "```bash",
             "az extension remove -n azure-cli-ml 2>/dev/null || true", "az extension add -n ml --upgrade",
             "az ml -h", "```", "", f"3. Use Python {python_version}: `pip install azure-ai-ml azure-identity mlflow`",
             "4. Sign in and point the CLI at the development workspace:", "", "```bash", "az login"]
    if d:
        lines += [f"az account set --subscription {d.get('subscription_id', '<subscription id>')}",
                  f"az configure --defaults group={d.get('resource_group', '<group>')} "
                  f"workspace={d.get('workspace_name', '<workspace>')} location={d.get('location', '<region>')}",
                  "az configure --list-defaults --output table"]
    lines += ["```", "", "5. In Python, connect with the `config.json` of your environment (no secret in it):", "",
              "```python", "from azure.ai.ml import MLClient", "from azure.identity import DefaultAzureCredential",
              "# telemetry off: inside Jupyter kernels the SDK otherwise sends usage data",
              "ml_client = MLClient.from_config(DefaultAzureCredential(), path='config.json',",
              "                                 enable_telemetry=False)", "```", ""]
    return "\n".join(lines)
