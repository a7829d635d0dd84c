"""Stage 2 cost plan: a monthly cost ESTIMATE per environment, compared with its budget.

Prices come from the dated table shipped with the package (`data/azure-prices-2026-11.yaml`,
pay-as-you-go list prices in USD); usage comes from that file's documented assumptions
because the design has no usage settings. Every output says so:
"estimate, list prices, <region>, price table dated <date>".

    est = estimate(design, foundations)
    est["environments"]["prod"]["total_usd"], est["label"], estimate_markdown(est)
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..settings.design import Settings
from .escape import csv_row

PRICE_FILE = "azure-prices-2026-11.yaml"
GPU_PREFIXES = ("Standard_NC", "Standard_ND", "Standard_NV")


def price_file() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / PRICE_FILE


@lru_cache(maxsize=4)
def load_prices(path: str | None = None) -> dict[str, Any]:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(Path(path or price_file()).read_text(encoding="utf-8"))


def env_kind(design: Settings, env_name: str) -> str:
    names = design.env_names()
    i = names.index(env_name)
    if i == len(names) - 1 and len(names) > 1:
        return "production"
    return "development" if i == 0 else "test"


def _sku(design: Settings, gpu: bool) -> str:
    skus = list(design.allowed_vm_skus)
    pick = [s for s in skus if s.startswith(GPU_PREFIXES) == gpu]
    return pick[0] if pick else ("Standard_NC4as_T4_v3" if gpu else "Standard_DS3_v2")


def _private_endpoints(design: Settings) -> tuple[int, int]:
    """(private endpoints, private DNS zones) the IaC creates per environment."""
    from .iac import build

    t = build(design)
    return (len(t.by_type("Microsoft.Network/privateEndpoints")),
            len(t.by_type("Microsoft.Network/privateDnsZones")))


def estimate(design: Settings, foundations: Any = None, prices: dict[str, Any] | None = None) -> dict[str, Any]:
    """Monthly estimate per environment: line items, totals and the budget comparison."""
    prices = prices or load_prices()
    a = prices["assumptions"]
    hours = a["hours_per_month"]
    roster = list(getattr(foundations, "team_roster", []) or [])
    n_users = sum(1 for m in roster if set(m.roles) & set(a["compute_instance_roles"]))
    uses_ci = "aml_compute_instance" in design.experimentation_env
    train_sku = _sku(design, design.training_sku_guidance == "gpu")
    infer_sku = _sku(design, design.inference_sku_guidance == "gpu")
    endpoints_on = design.inference_mode in ("realtime", "both") and design.realtime_target in (
        "managed_online_endpoint", "kubernetes_online_endpoint")
    n_pe, n_zones = _private_endpoints(design)
    budgets = {b.env: b for b in design.budgets}
    notes = [
        f"Cluster VM size {train_sku} (training family: {design.training_sku_guidance}); online endpoint VM size "
        f"{infer_sku}; compute instances {_sku(design, False)}.",
        "Usage assumptions (not settings of the design): cluster node-hours "
        + ", ".join(f"{k} {v}" for k, v in a["cluster_node_hours"].items())
        + f"; compute instances {a['compute_instance_hours_per_user']} h per user per month in the first "
          f"environment; endpoint instances "
        + ", ".join(f"{k} {v}" for k, v in a["online_endpoint_instances"].items()) + " (always on).",
        "Not included: data egress, storage transactions, Azure Monitor alerts, Defender for Cloud plans, "
        "the first free 5 GB of Log Analytics per month, taxes and any negotiated discount.",
    ]
    if design.reserved_instances != "none":
        notes.append(f"Reserved instances ({design.reserved_instances.replace('_', ' ')}) would lower the "
                     f"always-on endpoint cost; not applied here.")
    envs: dict[str, Any] = {}
    fallback_used = set()
    for env in design.environments:
        region = env.region
        table = prices["regions"].get(region)
        if table is None:
            fallback_used.add(region)
            table = prices["regions"][prices["fallback_region"]]
        kind = env_kind(design, env.name)
        items: list[dict[str, Any]] = []

        def line(item: str, qty: float, unit: str, unit_price: float, *, _items: list = items) -> None:
            _items.append({"item": item, "quantity": round(qty, 2), "unit": unit, "unit_price_usd": unit_price,
                           "monthly_usd": round(qty * unit_price, 2)})

        def vm(sku: str, _t: dict = table) -> float:
            if sku not in _t["vm_hour"]:
                raise KeyError(f"no price for VM size {sku} in {PRICE_FILE}: add it to the table")
            return float(_t["vm_hour"][sku])

        node_hours = a["cluster_node_hours"][kind]
        low = design.vm_priority_strategy == "low_priority" or (
            design.vm_priority_strategy == "both" and kind != "production")
        factor = prices["low_priority_factor"] if low else 1.0
        line(f"Compute cluster {train_sku} ({'low priority' if low else 'dedicated'}, scales to "
             f"{design.cluster_min_nodes})", node_hours, "node-hour", round(vm(train_sku) * factor, 4))
        if uses_ci and kind == "development" and n_users:
            ci_hours = a["compute_instance_hours_per_user"] * n_users
            line(f"Compute instances {_sku(design, False)} ({n_users} user(s))", ci_hours, "hour",
                 vm(_sku(design, False)))
            line("Compute instance OS disks (P10)", n_users, "disk-month", table["managed_disk_p10_month"])
        if endpoints_on and a["online_endpoint_instances"][kind]:
            n = a["online_endpoint_instances"][kind]
            line(f"Online endpoint {infer_sku} x {n} (always on)", n * hours, "instance-hour", vm(infer_sku))
        gb = a["storage_gb"][kind]
        line(f"Storage {design.storage_account_type} (hot)", gb, "GB-month",
             table["storage_gb_month"][design.storage_account_type])
        line("Key Vault operations", a["key_vault_ops"][kind] / 10000, "10k operations",
             table["key_vault_per_10k_ops"])
        line("Application Insights / Log Analytics ingestion", a["log_gb"][kind], "GB",
             table["log_analytics_gb"])
        if design.container_registry_option == "new":
            line(f"Container registry {design.container_registry_sku}", 30.4, "day",
                 table["acr_day"][design.container_registry_sku])
        if n_pe:
            line("Private endpoints", n_pe * hours, "endpoint-hour", table["private_endpoint_hour"])
            line("Private DNS zones", n_zones, "zone-month", table["private_dns_zone_month"])
        if design.private_endpoint_type != "none" and design.client_access_path == "bastion_jumphost":
            line("Azure Bastion (Basic) for the jump host", hours, "hour", table["bastion_basic_hour"])
        total = round(sum(i["monthly_usd"] for i in items), 2)
        budget = budgets.get(env.name)
        comparison = None
        if budget is not None:
            rate = prices["fx_per_usd"].get(budget.currency)
            monthly_budget = budget.amount / {"Monthly": 1, "Quarterly": 3, "Annually": 12}[budget.time_grain]
            if rate:
                in_budget_ccy = round(total * rate, 2)
                share = round(100 * in_budget_ccy / monthly_budget, 1)
                comparison = {"budget_monthly": round(monthly_budget, 2), "currency": budget.currency,
                              "estimate_in_currency": in_budget_ccy, "share_pct": share,
                              "verdict": ("over budget" if share > 100 else
                                          "tight: first alert would fire" if share >= min(
                                              budget.alert_thresholds or [100]) else "within budget")}
            else:
                comparison = {"budget_monthly": round(monthly_budget, 2), "currency": budget.currency,
                              "estimate_in_currency": None, "share_pct": None,
                              "verdict": f"no exchange rate for {budget.currency} in the price table"}
        envs[env.name] = {"region": region, "kind": kind, "items": items, "total_usd": total,
                          "budget": comparison}
    regions = sorted({e.region for e in design.environments})
    if fallback_used:
        notes.append(f"No prices for {', '.join(sorted(fallback_used))} in the table: "
                     f"{prices['fallback_region']} prices were used.")
    label = (f"Estimate, list prices ({prices['currency']}, pay-as-you-go), {', '.join(regions)}, price table "
             f"dated {prices['price_date']}: verify in the Azure pricing calculator before budgeting.")
    return {"label": label, "price_date": prices["price_date"], "currency": prices["currency"],
            "environments": envs, "total_usd": round(sum(e["total_usd"] for e in envs.values()), 2),
            "notes": notes}


def estimate_csv(est: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["environment", "region", "item", "quantity", "unit", "unit_price_usd", "monthly_usd"])
    for env, e in est["environments"].items():
        for i in e["items"]:
            w.writerow(csv_row([env, e["region"], i["item"], i["quantity"], i["unit"], i["unit_price_usd"],
                                i["monthly_usd"]]))
    return buf.getvalue()


def _money(v: float | None, ccy: str = "USD") -> str:
    return "-" if v is None else f"{v:,.2f} {ccy}"


def estimate_markdown(est: dict[str, Any], heading: str = "##") -> str:
    from .foundations import md_table

    parts = [f"{heading} Monthly cost estimate", "", f"*{est['label']}*", ""]
    rows = []
    for env, e in est["environments"].items():
        b = e["budget"]
        rows.append([env, e["region"], _money(e["total_usd"]),
                     _money(b["budget_monthly"], b["currency"]) if b else "no budget",
                     _money(b["estimate_in_currency"], b["currency"]) if b else "-",
                     f"{b['share_pct']} %" if b and b["share_pct"] is not None else "-",
                     b["verdict"] if b else "no budget: add one"])
    parts.append(md_table(["Environment", "Region", "Estimate / month", "Budget / month", "Estimate in budget "
                           "currency", "Share of budget", "Verdict"], rows))
    parts += ["", f"All environments: **{_money(est['total_usd'])} per month** (estimate).", ""]
    for env, e in est["environments"].items():
        parts += [f"{heading}# {env} ({e['kind']})", "",
                  md_table(["Item", "Quantity", "Unit", "Unit price (USD)", "Monthly (USD)"],
                           [[i["item"], i["quantity"], i["unit"], i["unit_price_usd"], f"{i['monthly_usd']:,.2f}"]
                            for i in e["items"]]), ""]
    parts += ["Notes:", ""] + [f"- {n}" for n in est["notes"]]
    return "\n".join(parts) + "\n"


def budget_rows(design: Settings) -> list[list[str]]:
    """Budgets with their alerts and recipients (design document / notebook table)."""
    rows = []
    for b in design.budgets:
        alerts = [f"{t:g} % actual" for t in b.alert_thresholds] + [f"{t:g} % forecast" for t in b.forecast_thresholds]
        rows.append([b.env, f"{b.amount:,.0f} {b.currency}", b.time_grain, ", ".join(alerts) or "none",
                     ", ".join(b.recipients) or "-", ", ".join(b.contact_roles) or "-"])
    return rows


def cost_chart(est: dict[str, Any], path: str | Path, *, dpi: int = 120) -> Path:
    """A stacked bar per environment: where the monthly estimate goes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = list(est["environments"])
    groups: dict[str, list[float]] = {}
    for idx, env in enumerate(envs):
        for item in est["environments"][env]["items"]:
            key = item["item"].split(" (")[0].split(" Standard_")[0]
            groups.setdefault(key, [0.0] * len(envs))[idx] += item["monthly_usd"]
    fig, ax = plt.subplots(figsize=(7, 4))
    bottom = [0.0] * len(envs)
    for key, values in sorted(groups.items(), key=lambda kv: -sum(kv[1])):
        ax.bar(envs, values, bottom=bottom, label=key)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("USD per month (estimate)")
    ax.set_title(f"Monthly cost estimate by environment (prices {est['price_date']})")
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
