"""The sample's customer-churn data: generated, deterministic, with the problems real data has.

    write_sample_data(project_dir)   # -> sample-data/ (about 1 s)

What is written (seed SEED, so every run produces byte-identical content):

- `sample-data/crm.sqlite`, table `customers` (source `crm-db`, a SQLAlchemy database): one row per
  customer with personal data (full_name, email, phone) that the cleansing must remove, age, region,
  contract, payment method, signup date. Deliberate problems: 1 % of customers appear twice (exact
  duplicate rows) and about 0.5 % have an impossible age (under 18 or over 100).
- `sample-data/usage/2024-01.csv` ... `2024-06.csv` (source `usage-files`, a folder of CSV files): the
  training window, one monthly snapshot per customer with tenure, charges, support calls, internet
  service, `snapshot_time` (the timestamp) and the label `churned`. Deliberate problems: 1 % of
  `total_charges` are empty, 0.4 % of rows are duplicated.
- `sample-data/production/2024-07.parquet` and `2024-08.parquet`: later "production" windows with the
  feature table's columns (no personal data), for stage 6. July behaves like the training window;
  August is drifted on purpose (charges up 25 %, more month-to-month contracts, more support calls,
  younger customers, hence more churn).

Churn is drawn from a logistic model of contract, tenure, charges and support calls, so a model has
something real to learn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SEED = 20240701
N_CUSTOMERS = 50_000
PRODUCTION_ROWS = 10_000
TRAINING_MONTHS = ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06")
PRODUCTION_MONTHS = {"2024-07": False, "2024-08": True}  # month -> drifted
FOLDER = "sample-data"

REGIONS = ("north", "south", "east", "west", "central")
CONTRACTS = ("month-to-month", "one-year", "two-year")
PAYMENTS = ("card", "direct-debit", "bank-transfer", "paper-check")
INTERNET = ("fiber", "dsl", "none")
FIRST = ("Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam",
         "Maya", "Noor", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wen", "Yara")
LAST = ("Smith", "Garcia", "Chen", "Okafor", "Novak", "Silva", "Kowalski", "Haddad", "Jensen", "Rossi",
        "Tanaka", "Murphy", "Dubois", "Schmidt", "Ivanova", "Patel")

# The feature columns a model sees (the gold table's columns in the sample project).
FEATURES = ("customer_id", "snapshot_time", "age", "region", "contract", "payment_method", "internet_service",
            "tenure_months", "monthly_charges", "total_charges", "support_calls", "churned")


def _customers(rng: Any, n: int, drift: bool, start_id: int) -> dict[str, Any]:
    import numpy as np

    contract_p = (0.70, 0.18, 0.12) if drift else (0.50, 0.28, 0.22)
    ids = np.arange(start_id, start_id + n)
    age = np.clip(rng.normal(38 if drift else 45, 13, n), 18, 95).round().astype("int64")
    tenure = np.clip(rng.gamma(2.0, 14.0, n), 0, 120).round().astype("int64")
    internet = rng.choice(INTERNET, n, p=(0.45, 0.40, 0.15))
    base = np.where(internet == "fiber", 85.0, np.where(internet == "dsl", 55.0, 25.0))
    monthly = np.round(base * (1.25 if drift else 1.0) + rng.normal(0, 12, n), 2).clip(10, 400)
    contract = rng.choice(CONTRACTS, n, p=contract_p)
    calls = rng.poisson(2.6 if drift else 1.4, n)
    logit = (-2.2 + 1.4 * (contract == "month-to-month") - 0.035 * tenure + 0.018 * (monthly - 60)
             + 0.35 * calls - 0.01 * (age - 45))
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype("int64")
    return {
        "customer_id": ids, "age": age, "region": rng.choice(REGIONS, n), "contract": contract,
        "payment_method": rng.choice(PAYMENTS, n, p=(0.4, 0.35, 0.15, 0.10)), "internet_service": internet,
        "tenure_months": tenure, "monthly_charges": monthly,
        "total_charges": np.round(monthly * np.maximum(tenure, 1) * rng.uniform(0.95, 1.05, n), 2),
        "support_calls": calls, "churned": churned,
    }


def _timestamps(rng: Any, month: str, n: int) -> Any:
    import numpy as np
    import pandas as pd

    start = pd.Timestamp(f"{month}-01")
    seconds = int(((start + pd.offsets.MonthBegin(1)) - start).total_seconds())
    return (start + pd.to_timedelta(np.sort(rng.integers(0, seconds, n)), unit="s")).astype("datetime64[us]")


def write_sample_data(project_dir: str | Path, n_customers: int = N_CUSTOMERS) -> Path:
    """Write the sample sources and production windows under <project_dir>/sample-data; returns that folder."""
    import numpy as np
    import pandas as pd
    import sqlalchemy as sa

    rng = np.random.default_rng(SEED)
    out = Path(project_dir) / FOLDER
    (out / "usage").mkdir(parents=True, exist_ok=True)
    (out / "production").mkdir(parents=True, exist_ok=True)

    c = pd.DataFrame(_customers(rng, n_customers, drift=False, start_id=100_000))
    first, last = rng.choice(FIRST, n_customers), rng.choice(LAST, n_customers)
    crm = pd.DataFrame({
        "customer_id": c["customer_id"],
        "full_name": pd.Series(first, dtype=object) + " " + pd.Series(last, dtype=object),
        "email": [f"{f.lower()}.{la.lower()}{i}@example.com"
                  for f, la, i in zip(first, last, c["customer_id"], strict=True)],
        "phone": [f"+44 7700 {i % 1_000_000:06d}" for i in c["customer_id"]],
        "age": c["age"].copy(),
        "region": c["region"], "contract": c["contract"], "payment_method": c["payment_method"],
        "signup_date": (pd.Timestamp("2024-06-30") - pd.to_timedelta(c["tenure_months"] * 30, unit="D")
                        ).dt.strftime("%Y-%m-%d"),
    })
    bad_age = rng.choice(n_customers, n_customers // 200, replace=False)
    crm.loc[bad_age, "age"] = rng.choice([0, 7, 130, 212], len(bad_age))
    crm = pd.concat([crm, crm.sample(frac=0.01, random_state=SEED)], ignore_index=True)
    db = out / "crm.sqlite"
    db.unlink(missing_ok=True)
    engine = sa.create_engine(f"sqlite:///{db.as_posix()}")
    with engine.begin() as conn:
        crm.to_sql("customers", conn, index=False, chunksize=100_000)
    engine.dispose()

    usage = c[["customer_id", "internet_service", "tenure_months", "monthly_charges", "total_charges",
               "support_calls", "churned"]].copy()
    usage["total_charges"] = usage["total_charges"].astype("float64")
    usage.loc[rng.random(n_customers) < 0.01, "total_charges"] = np.nan
    month_of = rng.integers(0, len(TRAINING_MONTHS), n_customers)
    for m, month in enumerate(TRAINING_MONTHS):
        part = usage[month_of == m].copy()
        part.insert(1, "snapshot_time", _timestamps(rng, month, len(part)))
        part = pd.concat([part, part.sample(frac=0.004, random_state=SEED + m)]).sort_values("snapshot_time")
        part.to_csv(out / "usage" / f"{month}.csv", index=False, date_format="%Y-%m-%dT%H:%M:%S")

    next_id = 100_000 + n_customers
    for month, drifted in PRODUCTION_MONTHS.items():
        p = pd.DataFrame(_customers(rng, PRODUCTION_ROWS, drift=drifted, start_id=next_id))
        next_id += PRODUCTION_ROWS
        p["snapshot_time"] = _timestamps(rng, month, PRODUCTION_ROWS)
        p[list(FEATURES)].to_parquet(out / "production" / f"{month}.parquet", index=False)
    (out / "README.md").write_text(
        "# Sample churn data\n\nGenerated by `mlops_accelerator.sample.churn.write_sample_data` "
        f"(seed {SEED}); see that module for what each file holds and the quality problems planted "
        "on purpose. `production/2024-08.parquet` is drifted on purpose (stage 6).\n", encoding="utf-8")
    return out
