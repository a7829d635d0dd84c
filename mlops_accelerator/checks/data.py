"""Automatic checks of stage 4 (Prepare Data): S4-01 to S4-08.

They read the stage-4 settings (`ctx.stage("data")`) and the evidence of the latest successful
stage-4 run (`ctx.run_evidence("data", 4)`). The notebooks of stage 4 must record exactly these
keys (artifact paths through `Evidence.artifact`, so they land under "artifacts"):

    {
      "ingestion_runs": [                          # S4-01: latest run per source
        {"source": "crm-db", "pipeline": "ingestion/crm-db.json", "status": "succeeded",
         "finished": "2024-05-01T01:20:00Z"}],
      "wrangling": {                               # S4-02
        "pipeline": "src/dataprep.py",             #   the wrangling notebook/script/pipeline that ran
        "layers_written": ["bronze", "silver", "gold"],
        "pii_columns_in_silver": []},              #   personal-data columns still present in silver
      "data_quality": [                            # S4-02: one result per configured rule
        {"column": "id", "rule": "not_null", "asset": "training-data", "severity": "error",
         "passed": true, "failed_rows": 0}],
      "labeling": {                                # S4-03 (only when labeling is required)
        "project": "labeling-project", "progress_pct": 100.0,
        "exported_asset": {"name": "labels", "version": "1"}},
      "datastores": [                              # S4-04, S4-08: as registered in the workspace
        {"name": "silver", "type": "azure_data_lake_gen2", "auth": "identity_based",
         "account_name": "stmlopsdata", "container": "silver"}],
      "data_assets": [                             # S4-05, S4-06, S4-08: every registered version
        {"name": "training-data", "version": "1", "type": "uri_folder",
         "path": "azureml://datastores/silver/paths/training-data/1/", "tags": {"source": "crm-db"},
         "content_hash": "<sha256 of the version's files>",           # optional (local target)
         "record": "data-assets/training-data/1/asset.json"}],       # optional: S4-06 re-hashes the files
      "storage_role_assignments": [                # S4-07: data-plane assignments on the data accounts
        {"principal": "data-scientists", "role": "Storage Blob Data Reader", "scope": "account",
         "datastore": null}],
      "artifacts": {"lineage_report": "data/lineage.html"}      # S4-08
    }

On the local target every data asset entry also names its version record (project-relative); S4-06
then re-hashes the version's files and fails naming any file changed, added or removed since it was
registered. Datastores and role assignments on the local target are those of the generated (and
loaded-back) datastore YAML and storage RBAC template: Azure itself is not read.

Datastore `auth` values use the settings' vocabulary: identity_based, account_key, sas_token,
service_principal. Statuses are compared case-insensitively; succeeded/completed/success/passed pass.

This module also holds the small helpers the stage 5-7 check modules share.
"""

from __future__ import annotations

from typing import Any

from ..settings.data import datastore_of, version_in_path
from . import CheckContext, CheckResult, artifact, auto_check, failed, listing, need, passed, succeeded

OWNER_ROLES = frozenset({"owner", "storage blob data owner"})










def _ev(ctx: CheckContext) -> dict[str, Any]:
    return ctx.run_evidence("data", 4)


@auto_check("S4-01")
def ingestion_running(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("data")
    if not s.data_sources:
        return failed("no data sources are declared: add each source system under 'Data sources' (stage 4)")
    runs = need(_ev(ctx), "ingestion_runs", 4, "data", "one ingestion run per source")
    by_source = {r.get("source"): r for r in runs}
    problems = []
    for src in s.data_sources:
        run = by_source.get(src.name)
        if run is None:
            problems.append(f"{src.name}: no ingestion run")
        elif not run.get("pipeline"):
            problems.append(f"{src.name}: no pipeline definition recorded")
        elif not succeeded(run.get("status")):
            problems.append(f"{src.name}: last run {run.get('status') or 'has no status'}")
    if problems:
        return failed(f"ingestion is not running for every source ({'; '.join(problems)}): fix the "
                      f"{s.ingestion_tool} pipeline(s) and re-run stage 4")
    return passed(f"{len(s.data_sources)} source(s) ingested by {s.ingestion_tool}; last runs succeeded",
                  *[str(by_source[x.name]["pipeline"]) for x in s.data_sources])


@auto_check("S4-02")
def wrangling_and_quality(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("data")
    ev = _ev(ctx)
    wr = need(ev, "wrangling", 4, "data", "the wrangling pipeline and layers written")
    if not wr.get("pipeline"):
        return failed("no wrangling notebook, script or pipeline was recorded: implement the bronze -> "
                      "silver cleansing step and re-run stage 4")
    layers = {x.layer for x in s.data_layers}
    written = set(wr.get("layers_written") or [])
    if "silver" in layers and "silver" not in written:
        return failed("the wrangling step did not write the silver layer: check its output datastore "
                      f"({', '.join(x.datastore for x in s.data_layers if x.layer == 'silver')})")
    pii = wr.get("pii_columns_in_silver") or []
    if pii:
        return failed(f"personal data is still in silver: {listing([str(c) for c in pii])}; drop or mask "
                      "these columns in the wrangling step")
    if not s.data_quality_rules:
        return failed("no data-quality rules are configured, so nothing proves the data is clean: add rules "
                      "under 'Data quality rules' (stage 4)")
    results = need(ev, "data_quality", 4, "data", "one result per data-quality rule")
    done = {(r.get("column"), r.get("rule")) for r in results}
    missing = [f"{q.column}:{q.rule}" for q in s.data_quality_rules if (q.column, q.rule) not in done]
    if missing:
        return failed(f"data-quality rule(s) not run: {listing(missing)}; re-run the data-quality notebook")
    errors = [f"{r.get('column')}:{r.get('rule')} ({r.get('failed_rows', '?')} rows)" for r in results
              if not r.get("passed") and r.get("severity", "error") == "error"]
    if errors:
        return failed(f"error-level data-quality rules fail: {listing(errors)}; fix the data or the "
                      "wrangling step, then re-run stage 4")
    warnings = sum(1 for r in results if not r.get("passed"))
    note = f"; {warnings} warning-level rule(s) failed" if warnings else ""
    return passed(f"wrangling ran ({wr['pipeline']}), no personal data in silver, {len(results)} "
                  f"data-quality rule(s) checked{note}; personal-data handling still needs the Data "
                  "Engineer's sign-off",
                  str(wr["pipeline"]))


@auto_check("S4-03")
def labeling_exported(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("data")
    if not s.labeling_required:
        return passed("not applicable: labeling_required is false (the data needs no human labels)")
    lab = need(_ev(ctx), "labeling", 4, "data", "labeling project progress and exported asset")
    progress = float(lab.get("progress_pct") or 0)
    if progress < 100:
        return failed(f"labeling project '{lab.get('project')}' is {progress:.0f} % complete: finish "
                      "labeling (and review) in Azure ML studio, then export")
    exported = lab.get("exported_asset") or {}
    if not exported.get("name") or not exported.get("version"):
        return failed("labels are complete but not exported: export them as a data asset "
                      f"({s.labeling_project.export_format if s.labeling_project else 'mltable'})")
    return passed(f"labeling 100 % complete, exported as {exported['name']}:{exported['version']}")


@auto_check("S4-04")
def datastores_created(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("data")
    registered = {d.get("name"): d for d in need(_ev(ctx), "datastores", 4, "data", "registered datastores")}
    problems = []
    for d in s.datastores:
        r = registered.get(d.name)
        if r is None:
            problems.append(f"{d.name}: not registered")
            continue
        if r.get("type") != d.type:
            problems.append(f"{d.name}: type {r.get('type')} instead of {d.type}")
        if r.get("auth") != d.auth:
            if d.auth == "identity_based":
                problems.append(f"{d.name}: uses {r.get('auth')} where identity-based access is required "
                                "(re-register it without credentials)")
            else:
                problems.append(f"{d.name}: auth {r.get('auth')} instead of {d.auth}")
        if r.get("account_name") and r.get("account_name") != d.account_name:
            problems.append(f"{d.name}: account {r.get('account_name')} instead of {d.account_name}")
    if problems:
        return failed(f"datastores differ from the configuration: {'; '.join(problems)}")
    return passed(f"{len(s.datastores)} datastore(s) registered as configured "
                  f"({', '.join(f'{d.name}:{d.auth}' for d in s.datastores)})")


@auto_check("S4-05")
def assets_registered(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("data")
    if not s.data_assets:
        return failed("no data assets are configured: declare the curated training data under 'Data assets'")
    registered = {(a.get("name"), str(a.get("version"))): a
                  for a in need(_ev(ctx), "data_assets", 4, "data", "registered data assets")}
    problems = []
    for a in s.data_assets:
        r = registered.get((a.name, a.version))
        if r is None:
            problems.append(f"{a.name}:{a.version} not registered")
            continue
        missing = [t for t in s.required_asset_tags if t not in (r.get("tags") or {})]
        if missing:
            problems.append(f"{a.name}:{a.version} lacks tag(s) {', '.join(missing)}")
    if problems:
        return failed(f"data assets are incomplete: {'; '.join(problems)}; register them with the required "
                      "tags (re-run stage 4)")
    on_azure = _on_azure(ctx)
    if on_azure is not None:  # the azureml target read each environment's workspace back
        gaps = [f"{env}: {a.name}:{a.version}" for env, got in sorted(on_azure.items()) for a in s.data_assets
                if not any((x.get("name"), str(x.get("version"))) == (a.name, a.version) and x.get("matches_spec")
                           for x in got.get("data_assets") or [])]
        if gaps or not on_azure:
            return failed("data assets are not on Azure as specified: " + (listing(gaps) or "no environment was "
                          "read back") + " (run 'mlops-accelerator run data --target azureml' and read its error)")
        return passed(f"{len(s.data_assets)} data asset(s) registered with version and required tags; read back "
                      f"from Azure in {', '.join(sorted(on_azure))}", *[f"{a.name}:{a.version}" for a in s.data_assets])
    return passed(f"{len(s.data_assets)} data asset(s) registered with version and required tags",
                  *[f"{a.name}:{a.version}" for a in s.data_assets])


def _on_azure(ctx: CheckContext) -> dict[str, Any] | None:
    """Per environment, what the azureml target read back (None on the local target)."""
    return _ev(ctx).get("azure_data")


@auto_check("S4-06")
def versions_immutable(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("data")
    assets = need(_ev(ctx), "data_assets", 4, "data", "registered data assets")
    if not assets:
        return failed("no data assets are registered yet: register them (stage 4) before checking versioning")
    bad = [f"{a.get('name')}:{a.get('version')} at {a.get('path')}" for a in assets
           if not version_in_path(str(a.get("version")), str(a.get("path") or ""))]
    if bad:
        hint = "" if s.version_in_path else " (turn on 'Version folder in path')"
        return failed(f"data behind these versions can change because the path has no version folder: "
                      f"{listing(bad)}; store each version under .../<name>/<version>/{hint}")
    records = [str(a["record"]) for a in assets if a.get("record")]
    if records and ctx.project_dir is not None:
        from ..dataprep.versioning import verify_records

        tampered = verify_records(ctx.project_dir, records)
        if tampered:
            return failed(f"registered data changed on disk: {listing(tampered, 3)}; restore the file(s) - a "
                          "version's files are never rewritten (new data gets a new version)")
    hashed = f" and {len(records)} match their registered hashes" if records and ctx.project_dir else ""
    return passed(f"every registered version ({len(assets)}) lives in its own folder{hashed} under the "
                  f"'{s.versioning_policy}' policy; the policy itself needs a sign-off")


@auto_check("S4-07")
def storage_access_secured(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("data")
    actual = need(_ev(ctx), "storage_role_assignments", 4, "data", "role assignments on the data accounts")
    have = {(a.get("principal"), a.get("role"), a.get("scope"), a.get("datastore")) for a in actual}
    missing = [f"{r.principal} {r.role} on {r.datastore or r.scope}" for r in s.storage_rbac
               if (r.principal, r.role, r.scope, r.datastore) not in have]
    owners = [f"{a.get('principal')} ({a.get('role')})" for a in actual
              if str(a.get("role", "")).lower() in OWNER_ROLES]
    if owners:
        return failed(f"Owner roles on data storage break least privilege: {listing(owners)}; remove them "
                      "and grant Storage Blob Data Reader or Contributor instead")
    if missing:
        return failed(f"configured storage role assignments are missing: {listing(missing)}; run the storage "
                      "RBAC script of stage 4 (or ask an Owner to assign them)")
    return passed(f"{len(s.storage_rbac)} storage role assignment(s) in place, no Owner roles on data")


@auto_check("S4-08")
def data_traceable(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("data")
    ev = _ev(ctx)
    stores = {d.get("name") for d in need(ev, "datastores", 4, "data", "registered datastores")}
    assets = need(ev, "data_assets", 4, "data", "registered data assets")
    if not assets:
        return failed("no data assets are registered, so nothing is traceable yet: register them (stage 4)")
    orphans = [f"{a.get('name')}:{a.get('version')} -> {datastore_of(str(a.get('path'))) or a.get('path')}"
               for a in assets if datastore_of(str(a.get("path") or "")) not in stores]
    if orphans:
        return failed(f"data assets not resolving to a registered datastore: {listing(orphans)}; register "
                      "the datastore or re-register the asset on an azureml://datastores/... path")
    report = artifact(ctx, ev, "lineage_report")
    if report is None:
        return failed("the lineage report (asset -> datastore -> source) was not generated: re-run the "
                      "stage-4 lineage notebook")
    return passed(f"{len(assets)} data asset(s) resolve to registered datastores; lineage report generated "
                  f"({len(s.data_sources)} source(s))", report)
