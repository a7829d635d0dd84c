"""Stage 4 on the local target: sources, layers, quality, immutable versions, lineage, Azure ML specs."""

from __future__ import annotations

import copy
import json
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from mlops_accelerator.checks import CheckContext, run_check
from mlops_accelerator.dataprep import DataPrepError
from mlops_accelerator.dataprep.pipeline import run_pipeline
from mlops_accelerator.dataprep.versioning import Registry, next_version, path_for_version
from mlops_accelerator.sample import sample_settings
from mlops_accelerator.sample.churn import write_sample_data
from mlops_accelerator.settings import schema_for, validate_settings

SMALL = 3000  # customers in the test copies of the sample (the real sample has 50,000)
PII_VALUE = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}|\+44 7700")


def _settings(values: dict):
    model, errors = validate_settings("data", values)
    assert not errors, errors
    return model


def _sample_values() -> dict:
    values = copy.deepcopy(sample_settings()["data"])
    for rule in values["data_quality_rules"]:
        if rule["rule"] == "row_count":
            rule["min"] = SMALL * 0.8  # the sample's bound is for 50,000 customers
    return values


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    write_sample_data(folder, n_customers=SMALL)
    return folder


@pytest.fixture
def proj(tmp_path, sample_data, monkeypatch):
    """A project folder holding a fresh copy of the (small) sample data."""
    import shutil

    monkeypatch.delenv("MLOPS_ACCELERATOR_PII_SALT", raising=False)
    shutil.copytree(sample_data / "sample-data", tmp_path / "sample-data")
    return tmp_path


def _run(proj: Path, values: dict | None = None, run_id: str = "r1"):
    return run_pipeline(_settings(values or _sample_values()), proj, proj / "runs" / run_id, run_id=run_id,
                        notebook="04-data/01-prepare-data")


def _snapshot(proj: Path) -> dict[str, bytes]:
    """Every file under the registry and the lake (what 'nothing half-registered' must keep)."""
    return {str(p.relative_to(proj)): p.read_bytes() for root in ("data-assets", "lake") if (proj / root).exists()
            for p in (proj / root).rglob("*") if p.is_file()}


# -- the sample data ---------------------------------------------------------------------------

def test_sample_data_is_deterministic_and_has_planted_problems(tmp_path):
    a, b = write_sample_data(tmp_path / "a", n_customers=SMALL), write_sample_data(tmp_path / "b", n_customers=SMALL)
    for rel in ["usage/2024-01.csv", "usage/2024-06.csv", "production/2024-07.parquet", "production/2024-08.parquet"]:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    crm = pd.read_sql("select * from customers", sqlite3.connect(a / "crm.sqlite"))
    assert {"full_name", "email", "phone"} <= set(crm.columns)
    assert crm.duplicated().sum() == SMALL // 100  # 1 % exact duplicates
    assert ((crm.age < 18) | (crm.age > 100)).sum() == SMALL // 200
    usage = pd.concat(pd.read_csv(f) for f in sorted((a / "usage").glob("*.csv")))
    assert usage.total_charges.isna().sum() > 0 and usage.duplicated().sum() > 0
    assert pd.to_datetime(usage.snapshot_time).between("2024-01-01", "2024-07-01").all()
    july = pd.read_parquet(a / "production/2024-07.parquet")
    august = pd.read_parquet(a / "production/2024-08.parquet")
    assert not {"full_name", "email", "phone"} & set(july.columns)
    assert august.monthly_charges.mean() > 1.15 * july.monthly_charges.mean()  # the drifted window
    assert august.churned.mean() > july.churned.mean()


# -- the pipeline on the sample ----------------------------------------------------------------

def test_sample_pipeline_registers_assets_without_personal_data(proj):
    res = _run(proj)
    assert [a.status for a in res.assets] == ["registered", "registered"]
    assert res.layers_written == ["bronze", "silver", "gold"] and res.pii_left == []
    # personal data appears in no silver or gold Parquet file: neither as a column nor as a value
    stores = sample_settings()["data"]["datastores"]
    account = stores[0]["account_name"]
    files = [f for layer in ("silver", "gold") for f in (proj / "lake" / account / layer).rglob("*.parquet")]
    assert len(files) >= 2
    for f in files:
        table = pq.read_table(f).to_pandas()
        assert not {"full_name", "email", "phone"} & set(table.columns), f
        text = table.astype(str).to_csv()
        assert not PII_VALUE.search(text), f
    silver = pq.read_table(next((proj / "lake" / account / "silver").rglob("*.parquet"))).to_pandas()
    assert silver.email_hash.str.fullmatch(r"[0-9a-f]{64}").all()
    # bronze keeps the raw copy (personal data included), for data engineers only
    bronze = pq.read_table(next((proj / "lake" / account / "bronze" / "crm-db").rglob("data.parquet"))).to_pandas()
    assert "email" in bronze.columns
    # the salt is not in any project or run file, only in the git-ignored salt file
    salt = (proj / ".mlops-accelerator" / "pii-salt").read_text()
    assert "pii-salt" in (proj / ".mlops-accelerator" / ".gitignore").read_text()
    for f in proj.rglob("*"):
        if f.is_file() and f.name != "pii-salt" and f.suffix in (".json", ".md", ".html", ".yaml", ".yml"):
            assert salt not in f.read_text(errors="ignore"), f
    # duplicates gone, label present, quality warnings recorded but not blocking
    gold = Registry(proj).get("churn-features")
    assert gold["rows"] == SMALL and gold["lineage"]["layer"] == "gold"
    warnings = {(q["column"], q["rule"]) for q in res.evidence["data_quality"] if not q["passed"]}
    assert ("age", "range") in warnings and ("total_charges", "not_null") in warnings
    assert all(q["severity"] == "warning" for q in res.evidence["data_quality"] if not q["passed"])


def test_salt_from_the_environment_is_used_and_not_written(proj, monkeypatch):
    monkeypatch.setenv("MLOPS_ACCELERATOR_PII_SALT", "s3cret-salt-for-test")
    res = _run(proj)
    assert "environment variable" in res.salt_from
    assert not (proj / ".mlops-accelerator" / "pii-salt").exists()
    assert not any("s3cret-salt-for-test" in f.read_text(errors="ignore") for f in proj.rglob("*.json"))


def test_rerun_on_unchanged_sources_registers_nothing_new(proj):
    _run(proj, run_id="r1")
    before = _snapshot(proj)
    res = _run(proj, run_id="r2")
    assert [a.status for a in res.assets] == ["unchanged", "unchanged"]
    assert [a.version for a in res.assets] == ["1", "1"]
    after = _snapshot(proj)
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed <= {k for k in after if k.endswith("latest.json")}, changed
    assert all(r["reused"] for r in res.ingestion)


def test_one_changed_source_row_registers_the_next_version_with_lineage(proj):
    first = _run(proj, run_id="r1")
    old = Registry(proj).get("churn-features", "1")
    csv = proj / "sample-data" / "usage" / "2024-03.csv"
    lines = csv.read_text().splitlines()
    cells = lines[5].split(",")
    cells[6] = "9"  # support_calls of one customer
    lines[5] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    res = _run(proj, run_id="r2")
    outcome = {a.name: (a.status, a.version) for a in res.assets}
    assert outcome == {"churn-features": ("registered", "2"), "customers-clean": ("unchanged", "1")}
    new = Registry(proj).get("churn-features", "2")
    assert new["path"] == "azureml://datastores/gold/paths/churn-features/2/"
    src = {s["name"]: s for s in new["lineage"]["sources"]}
    old_src = {s["name"]: s for s in old["lineage"]["sources"]}
    assert src["usage-files"]["content_hash"] != old_src["usage-files"]["content_hash"]
    assert src["crm-db"]["manifest_sha256"] == old_src["crm-db"]["manifest_sha256"]
    manifest = json.loads((proj / src["usage-files"]["manifest"]).read_text())
    assert manifest["source_hash"] != first.ingestion[1]["snapshot"] and manifest["run_id"] == "r2"
    assert new["lineage"]["run_id"] == "r2" and new["lineage"]["notebook"] == "04-data/01-prepare-data"
    assert Registry(proj).verify(old) == []  # version 1 untouched
    assert {a["version"] for a in res.evidence["data_assets"] if a["name"] == "churn-features"} == {"1", "2"}


def test_lineage_records_the_git_commit_when_the_project_is_a_repository(proj):
    import subprocess

    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "init", "-q"], cwd=proj, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "x"], cwd=proj, check=True, env=env)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=proj, capture_output=True, text=True).stdout.strip()
    _run(proj)
    assert Registry(proj).get("churn-features")["lineage"]["git_commit"] == head


# -- immutability and tampering ------------------------------------------------------------------

def test_tampered_version_is_detected_naming_the_file(proj):
    res = _run(proj)
    rec = Registry(proj).get("churn-features", "1")
    target = proj / rec["local_path"] / "part-000.parquet"
    assert not target.stat().st_mode & 0o222  # registered files are read-only
    target.chmod(0o644)
    target.write_bytes(target.read_bytes()[:-10] + b"0123456789")
    problems = Registry(proj).verify(rec)
    assert len(problems) == 1 and "part-000.parquet" in problems[0] and "modified" in problems[0]
    # the S4-06 check re-hashes the recorded versions and names the file
    data = _settings(_sample_values())
    ctx = CheckContext(settings={"data": data}, evidence={"data": res.evidence}, project_dir=proj)
    result = run_check("S4-06", ctx)
    assert not result.passed and "part-000.parquet" in result.reason
    # registering again refuses to build on a changed version, and writes nothing
    before = _snapshot(proj)
    with pytest.raises(DataPrepError, match="part-000.parquet"):
        _run(proj, run_id="r2")
    assert {k for k, v in _snapshot(proj).items() if before.get(k) != v} <= \
        {k for k in before if k.endswith("latest.json")}


def test_s4_06_passes_when_files_are_intact(proj):
    res = _run(proj)
    ctx = CheckContext(settings={"data": _settings(_sample_values())}, evidence={"data": res.evidence},
                       project_dir=proj)
    result = run_check("S4-06", ctx)
    assert result.passed and "match their registered hashes" in result.reason


# -- bad input: clear error, nothing half-registered, previous version intact --------------------

def _expect_clean_failure(proj, values, *needles):
    _run(proj, run_id="r1")
    before = _snapshot(proj)
    with pytest.raises(DataPrepError) as exc:
        _run(proj, values, run_id="r2")
    for needle in needles:
        assert needle in str(exc.value), (needle, str(exc.value))
    assert _snapshot(proj) == before
    for rec in (Registry(proj).get("churn-features", "1"), Registry(proj).get("customers-clean", "1")):
        assert Registry(proj).verify(rec) == []
    return str(exc.value)


def test_missing_source_file(proj):
    values = _sample_values()
    values["data_sources"][1]["location"] = "sample-data/usage-gone"
    _expect_clean_failure(proj, values, "usage-files", "usage-gone", "does not exist")


def test_unreadable_database_url(proj):
    values = _sample_values()
    values["data_sources"][0]["location"] = "nosuchdialect://reader@db.example.com/crm"
    _expect_clean_failure(proj, values, "crm-db", "nosuchdialect")


def test_database_url_with_a_password_is_refused_by_the_settings():
    values = _sample_values()
    values["data_sources"][0]["location"] = "postgresql://user:hunter2@db.example.com/crm"
    _, errors = validate_settings("data", values)
    assert [(e.field, e.rule) for e in errors] == [("data_sources.0.location", "secret")]
    assert "hunter2" not in str(errors)


def test_missing_sqlite_file_is_not_created(proj):
    values = _sample_values()
    values["data_sources"][0]["location"] = "sqlite:///sample-data/nope.sqlite"
    _expect_clean_failure(proj, values, "crm-db", "does not exist")
    assert not (proj / "sample-data" / "nope.sqlite").exists()


def test_missing_table(proj):
    values = _sample_values()
    values["data_sources"][0]["table"] = "clients"
    _expect_clean_failure(proj, values, "crm-db", "clients", "customers")


@pytest.mark.parametrize("change, needles", [
    ("rename", ["usage-files", "support_calls", "support_call_count", "renamed"]),
    ("retype", ["usage-files", "column 'tenure_months' was int64, now"]),
])
def test_schema_change_between_runs(proj, change, needles):
    _run(proj, run_id="r1")
    before = _snapshot(proj)
    for f in (proj / "sample-data" / "usage").glob("*.csv"):
        frame = pd.read_csv(f)
        if change == "rename":
            frame = frame.rename(columns={"support_calls": "support_call_count"})
        else:
            frame["tenure_months"] = frame["tenure_months"].map(lambda v: f"{v} months")
        frame.to_csv(f, index=False)
    with pytest.raises(DataPrepError) as exc:
        _run(proj, run_id="r2")
    for needle in needles:
        assert needle in str(exc.value)
    assert "schema version" in str(exc.value)
    assert _snapshot(proj) == before


def test_bumped_schema_version_accepts_the_change(proj):
    _run(proj, run_id="r1")
    for f in (proj / "sample-data" / "usage").glob("*.csv"):
        pd.read_csv(f).assign(promo_code="none").to_csv(f, index=False)
    values = _sample_values()
    values["data_sources"][1]["schema_version"] = "2"
    res = _run(proj, values, run_id="r2")
    assert not res.ingestion[1]["reused"]


def test_quality_rule_naming_a_missing_column(proj):
    values = _sample_values()
    values["data_quality_rules"].append({"column": "monthly_charge", "rule": "not_null", "asset": "churn-features"})
    _expect_clean_failure(proj, values, "monthly_charge", "not_null", "churn-features", "does not exist")


def test_azure_only_source_says_it_needs_the_azureml_target(proj):
    values = _sample_values()
    values["data_sources"][0]["system_type"] = "azure_sql"
    _expect_clean_failure(proj, values, "crm-db", "Azure SQL", "needs the azureml target")


def test_blocking_rule_stops_registration_and_names_rows_warning_does_not(proj):
    _run(proj, run_id="r1")
    csv = proj / "sample-data" / "usage" / "2024-02.csv"
    frame = pd.read_csv(csv)
    frame.loc[3, "monthly_charges"] = 5000.0  # breaks the error-level range rule (0..1000)
    frame.to_csv(csv, index=False)
    res = _run(proj, run_id="r2")
    outcome = {a.name: a for a in res.assets}
    blocked = outcome["churn-features"]
    assert blocked.status == "blocked" and "range on 'monthly_charges' failed for 1 row(s)" in blocked.reason
    assert outcome["customers-clean"].status == "unchanged"
    assert [r["version"] for r in Registry(proj).versions("churn-features")] == ["1"]
    report = (proj / "runs" / "r2" / "data-quality" / "data-quality.md").read_text()
    assert "FAIL (blocks)" in report and "5000" in report and "fail (warning)" in report
    failing = [q for q in res.evidence["data_quality"] if not q["passed"] and q["severity"] == "error"]
    assert failing == [{"column": "monthly_charges", "rule": "range", "asset": "churn-features",
                        "severity": "error", "passed": False, "failed_rows": 1}]


def test_personal_data_source_without_matching_rule_is_refused(proj):
    values = _sample_values()
    values["pii_rules"] = [{"column": "ssn", "action": "drop"}]
    _expect_clean_failure(proj, values, "crm-db", "personal data", "no personal-data rule matches")


# -- other sources and projects unlike the sample ------------------------------------------------

def test_parquet_jsonl_files_and_a_second_database(tmp_path):
    frame = pd.DataFrame({"id": range(200), "city": ["Oslo", "Lima"] * 100, "score": [x / 10 for x in range(200)],
                          "contact": [f"user{i}@mail.example.org" for i in range(200)]})
    (tmp_path / "in").mkdir()
    frame.iloc[:100].to_parquet(tmp_path / "in" / "a.parquet")
    frame.iloc[100:].to_parquet(tmp_path / "in" / "b.parquet")
    frame.to_json(tmp_path / "events.jsonl", orient="records", lines=True)
    values = {
        "data_sources": [
            {"name": "pq", "system_type": "other", "location": str(tmp_path / "in")},
            {"name": "js", "system_type": "file_share", "location": "events.jsonl"}],
        "pii_rules": [{"column": "contact", "action": "hash"}],
        "datastores": [{"name": "raw", "type": "azure_blob", "account_name": "stotherproj", "container": "raw"},
                       {"name": "curated", "type": "azure_blob", "account_name": "stotherproj",
                        "container": "curated", "is_default": True}],
        "data_layers": [{"layer": "bronze", "datastore": "raw"}, {"layer": "silver", "datastore": "curated"}],
        "versioning_policy": "semver",
        "data_assets": [{"name": "scores", "version": "1.0.0", "type": "uri_file", "table": "js",
                         "path": "azureml://datastores/curated/paths/scores/v1.0.0/scores.parquet",
                         "tags": {"source": "js", "layer": "silver", "schema_version": "1", "pii": "hashed"}}],
        "data_quality_rules": [{"column": "city", "rule": "allowed_values", "allowed": ["Oslo", "Lima"]}],
    }
    res = run_pipeline(_settings(values), tmp_path, tmp_path / "out", run_id="a", notebook="nb")
    assert [(a.status, a.version) for a in res.assets] == [("registered", "1.0.0")]
    rec = Registry(tmp_path).get("scores")
    stored = pd.read_parquet(tmp_path / rec["local_path"])
    assert len(stored) == 200 and "contact" not in stored.columns and "contact_hash" in stored.columns
    assert rec["local_path"] == "lake/stotherproj/curated/scores/v1.0.0/scores.parquet"
    pd.DataFrame({"id": [1], "city": ["Oslo"], "score": [1.0], "contact": ["x@y.example.org"]}).to_json(
        tmp_path / "events.jsonl", orient="records", lines=True)
    res = run_pipeline(_settings(values), tmp_path, tmp_path / "out2", run_id="b", notebook="nb")
    assert [(a.status, a.version, a.path) for a in res.assets] == [
        ("registered", "1.0.1", "azureml://datastores/curated/paths/scores/v1.0.1/scores.parquet")]


def test_version_policies():
    assert next_version("auto_increment", "1", []) == "1"
    assert next_version("auto_increment", "1", ["1", "2", "10"]) == "11"
    assert next_version("semver", "1.0.0", ["1.0.0", "1.0.9", "1.0.10"]) == "1.0.11"
    from datetime import date

    assert next_version("date_stamp", "20240101", ["20240101"], date(2024, 5, 6)) == "20240506"
    with pytest.raises(DataPrepError, match="one version per day"):
        next_version("date_stamp", "20240101", ["20240101", "20240506"], date(2024, 5, 6))
    assert path_for_version("azureml://datastores/s/paths/x/1/", "1", "2") == "azureml://datastores/s/paths/x/2/"
    assert path_for_version("azureml://datastores/s/paths/1/v1/", "1", "2") == "azureml://datastores/s/paths/2/v1/"


def test_source_names_cannot_leave_the_lake():
    _, errors = validate_settings("data", {"data_sources": [{"name": "../../etc"}, {"name": "a/b"}]})
    assert {(e.field, e.rule) for e in errors} >= {("data_sources.0.name", "string_pattern_mismatch"),
                                                   ("data_sources.1.name", "string_pattern_mismatch")}


def test_bronze_is_readable_by_its_owner_only(proj):
    _run(proj)
    account = sample_settings()["data"]["datastores"][0]["account_name"]
    assert (proj / "lake" / account / "bronze").stat().st_mode & 0o777 == 0o700


def test_settings_reject_unknown_feature_sources_and_freshness_without_age():
    _, errors = validate_settings("data", {
        "feature_table": {"name": "f", "sources": ["crm-db", "ghost"]},
        "data_quality_rules": [{"column": "t", "rule": "freshness"}]})
    rules = {(e.field, e.rule) for e in errors}
    assert ("feature_table.sources.1", "source_reference") in rules
    assert ("feature_table.join_key", "required_if") in rules
    assert ("data_quality_rules.0.max_age_days", "rule_parameter_required") in rules


# -- Azure ML specs and storage RBAC -------------------------------------------------------------

def test_every_generated_azure_ml_yaml_loads(proj, tmp_path):
    from azure.ai.ml import load_data, load_datastore

    from mlops_accelerator.dataprep.azure_specs import write_asset_specs, write_datastores

    _run(proj)
    values = _sample_values()
    values["datastores"] += [
        {"name": "shared_files", "type": "azure_file", "account_name": "stfiles", "container": "share1",
         "auth": "account_key"},
        {"name": "legacy_blob", "type": "azure_blob", "account_name": "stlegacy", "container": "old",
         "auth": "sas_token"}]
    data = _settings(values)
    registered = [r for a in data.data_assets for r in Registry(proj).versions(a.name)]
    out = tmp_path / "specs"
    ds = write_datastores(out, data, ["dev", "prod"])
    assets = write_asset_specs(out, ["dev", "prod"], registered)
    files = sorted((out / "azureml-data").rglob("*.yml"))
    assert len(files) == 2 * (len(data.datastores) + len(registered))
    for f in files:
        entity = (load_datastore if f.parent.name == "datastores" else load_data)(f)
        assert entity.name == f.stem or f.stem.startswith(entity.name)
    assert all(not f["problems"] for f in ds["files"] + assets["files"])
    auth = {d["name"]: d["auth"] for d in ds["datastores"]}
    assert auth == {"bronze": "identity_based", "silver": "identity_based", "gold": "identity_based",
                    "shared_files": "account_key", "legacy_blob": "sas_token"}
    assert "credentials: {}" in (out / "azureml-data/dev/datastores/silver.yml").read_text()
    key_file = (out / "azureml-data/dev/datastores/shared_files.yml").read_text()
    assert "set-at-creation-never-stored-in-the-project" in key_file


def test_datastores_in_a_sovereign_region_name_that_clouds_storage(tmp_path):
    """A US Government or China region's accounts are under that cloud's storage suffix, not
    core.windows.net: each environment's datastores follow its region (loaded back to check)."""
    from azure.ai.ml import load_datastore

    from mlops_accelerator.dataprep.azure_specs import write_datastores

    data = _settings(_sample_values())
    ds = write_datastores(tmp_path, data, ["dev", "prod", "cn"],
                          {"dev": "westeurope", "prod": "usgovvirginia", "cn": "chinanorth3"})
    assert all(not f["problems"] for f in ds["files"])
    endpoints = {env: load_datastore(tmp_path / "azureml-data" / env / "datastores" / "gold.yml").endpoint
                 for env in ("dev", "prod", "cn")}
    assert endpoints == {"dev": "core.windows.net", "prod": "core.usgovcloudapi.net", "cn": "core.chinacloudapi.cn"}


def test_adls_gen2_with_an_account_key_is_refused():
    from mlops_accelerator.dataprep.azure_specs import datastore_entity

    d = schema_for("data")().datastores[0].model_copy(update={"auth": "account_key"})
    with pytest.raises(DataPrepError, match="identity_based or service_principal"):
        datastore_entity(d)


def test_storage_rbac_is_least_privilege_and_escapes_hostile_names(tmp_path):
    from mlops_accelerator.dataprep.azure_specs import write_storage_rbac

    values = _sample_values()
    values["storage_rbac"].append({"principal": "[concat('x', 'y')]", "principal_type": "user",
                                   "role": "Storage Blob Data Reader", "scope": "container", "datastore": "gold"})
    rows = write_storage_rbac(tmp_path, _settings(values))
    assert {r["role"] for r in rows} <= {"Storage Blob Data Reader", "Storage Blob Data Contributor"}
    assert {"principal": "[concat('x', 'y')]", "role": "Storage Blob Data Reader", "scope": "container",
            "datastore": "gold"} in rows
    template = json.loads((tmp_path / "storage-role-assignments.json").read_text())
    hostile = [r for r in template["resources"] if "concat" in r["metadata"]["principal"]][0]
    assert hostile["metadata"]["principal"].startswith("[[")  # ARM reads it as text, not an expression
    assert hostile["properties"]["description"].startswith("[[")
    scopes = {r["scope"] for r in template["resources"]}
    assert "Microsoft.Storage/storageAccounts/stcontosochurndata/blobServices/default/containers/gold" in scopes
    assert all(r["properties"]["principalId"].startswith("[parameters('principalId_") for r in template["resources"])


# -- CLI -----------------------------------------------------------------------------------------

def test_data_list_and_show(project, cli, sample_data):
    import shutil

    shutil.copytree(sample_data / "sample-data", project.root / "sample-data")
    _run(project.root)
    code, out, _ = cli("data", "list", "--json")
    rows = json.loads(out)
    assert code == 0 and {(r["name"], r["version"], r["intact"]) for r in rows} == {
        ("churn-features", "1", True), ("customers-clean", "1", True)}
    code, out, _ = cli("data", "show", "churn-features:1")
    assert code == 0 and "lineage" not in out.lower() or "source:" in out
    assert "usage-files" in out and "crm-db" in out and "every file matches" in out
    code, out, err = cli("data", "show", "churn-features:7")
    assert code == 2 and "no version 7" in err
    rec = Registry(project.root).get("customers-clean")
    f = project.root / rec["local_path"] / "part-000.parquet"
    f.chmod(0o644)
    f.unlink()
    code, out, _ = cli("data", "show", "customers-clean")
    assert code == 1 and "part-000.parquet is missing" in out


# -- the notebooks, end to end through the runner ------------------------------------------------

def test_stage_4_notebooks_run_and_every_automatic_check_passes(tmp_path, sample_data):
    import shutil

    from mlops_accelerator.deliverables import check_context
    from mlops_accelerator.runner import run_stages
    from mlops_accelerator.workspace import Project

    settings = copy.deepcopy(sample_settings())
    settings["data"] = _sample_values()
    project = Project.create(tmp_path / "p", "contoso-churn", settings)
    shutil.copytree(sample_data / "sample-data", project.root / "sample-data")
    result = run_stages(project, ["data"], jobs=2)
    assert result.status == "succeeded", [n.error for n in result.notebooks]
    evidence = result.stages["data"]["evidence"]
    assert {"ingestion_runs", "wrangling", "data_quality", "datastores", "data_assets",
            "storage_role_assignments"} <= set(evidence)
    ctx = check_context(project)  # what 'mlops-accelerator check' reads: the ledger's latest evidence
    for item in ("S4-01", "S4-02", "S4-03", "S4-04", "S4-05", "S4-06", "S4-07", "S4-08"):
        check = run_check(item, ctx)
        assert check.passed, (item, check.reason)


def test_hostile_text_stays_text_in_reports(tmp_path):
    """Values and names from the data and the settings reach HTML and Markdown escaped, never as markup."""
    frame = pd.DataFrame({"id": [1, 2, 3], "kind": ["ok", "<script>alert(1)</script>", "a|b"]})
    (tmp_path / "in.csv").write_text(frame.to_csv(index=False))
    values = {
        "data_sources": [{"name": "src", "system_type": "other", "location": "in.csv"}],
        "pii_rules": [],
        "data_assets": [{"name": "things", "version": "1", "path": "azureml://datastores/silver/paths/things/1/",
                         "description": "<b>bold</b> | pipe", "table": "src",
                         "tags": {"source": "src", "layer": "silver", "schema_version": "1", "pii": "false"}}],
        "data_quality_rules": [{"column": "kind", "rule": "allowed_values", "allowed": ["ok", "<i>x</i>"],
                                "severity": "warning"}],
    }
    res = run_pipeline(_settings(values), tmp_path, tmp_path / "out", run_id="h", notebook="nb")
    assert [a.status for a in res.assets] == ["registered"]
    page = (tmp_path / "out" / "data-quality" / "data-quality.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page and "<i>x</i>" not in page
    md = (tmp_path / "out" / "data-quality" / "data-quality.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| things"))
    assert row.count(" | ") == 7  # the value's '|' is escaped, so the table keeps its 8 columns
    assert "a\\|b" in row
    assert "<script>" not in (tmp_path / "out" / "lineage.html").read_text()
