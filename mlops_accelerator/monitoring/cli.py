"""`mlops-accelerator monitor run` and `monitor watch --every 1h` (stage 6, local target).

Light to import: the work (pandas, scipy, matplotlib) starts only when a command runs.
"""

from __future__ import annotations

import contextlib
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """'90s', '30m', '1h', '2d' -> seconds; a clear error naming the value otherwise."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text or "")
    if not m or float(m.group(1)) <= 0:
        raise click.BadParameter(f"{text!r}: give a positive number and a unit s, m, h or d (e.g. 1h, 30m)",
                                 param_hint="--every")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _one_pass(ctx: click.Context, no_retrain: bool) -> int:
    from ..cli import _console, _project
    from .passes import monitor_pass

    project = _project(ctx)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    out_dir = project.root / "monitoring" / f"pass-{stamp}"
    outcome = monitor_pass(project, out_dir, retrain=not no_retrain)
    con = _console()
    con.print(f"Monitoring pass {outcome.pass_id}: [bold]{outcome.status}[/] in {outcome.duration_s} s", markup=True)
    con.print(f"  baseline:   {outcome.baseline_label}", markup=False)
    con.print(f"  production: {outcome.production_label}", markup=False)
    for w in outcome.windows:
        con.print(f"  window {w['window']}: {w['rows']} rows, {len(w['values'])} values, {w['breaches']} breach(es), "
                  f"{len(w['not_computed'])} not computed", markup=False)
    for a in outcome.alerts:
        con.print(f"  [red]alert[/] {a['alert_id']} {a['window']}: {a['signal']} on {', '.join(a['features'])}",
                  markup=True)
    if outcome.retraining:
        r = outcome.retraining
        con.print(f"  retraining: {r['status']}" + (f" (run {r['run_id']})" if r.get("run_id") else "")
                  + (f", decision {r['decision']}" if r.get("decision") else "")
                  + (f": {r['reason']}" if r.get("reason") else ""), markup=False)
    con.print(f"  report: {Path(out_dir, 'monitoring-report.html').relative_to(project.root)}", markup=False)
    return 0


def _stop_on_ctrl_c_and_term() -> contextlib.AbstractContextManager[None]:
    """Ctrl-C (SIGINT) and SIGTERM (a service manager's stop) both end the watch with KeyboardInterrupt,
    whatever SIGINT's disposition was inherited as (signals.py says why)."""
    from ..signals import on_stop_signals

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    return on_stop_signals(stop)


def _sleep_interruptibly(seconds: float, slice_s: float = 0.5) -> None:
    """Sleep in short slices. The kernel may hand Ctrl-C's SIGINT to any thread that does not block
    it (numpy's and Arrow's worker threads do not); Python then only runs its handler when the main
    thread next runs bytecode, so one long sleep would not end until the hour was over (reproduced
    by sending SIGINT to a worker thread). A slice bounds that delay."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, slice_s))


@click.group()
def monitor() -> None:
    """Model monitoring passes on the local target (stage 6)."""


@monitor.command("run")
@click.option("--no-retrain", is_flag=True, help="Compute and alert, but start no retraining.")
@click.pass_context
def monitor_run(ctx: click.Context, no_retrain: bool) -> None:
    """One monitoring pass: drift, quality, attribution and performance against the baseline; alerts."""
    ctx.exit(_one_pass(ctx, no_retrain))


@monitor.command("watch")
@click.option("--every", "every", default="1h", show_default=True, help="Interval between passes: 30m, 1h, 1d.")
@click.option("--passes", type=click.IntRange(min=1), default=None, help="Stop after this many passes.")
@click.option("--no-retrain", is_flag=True, help="Compute and alert, but start no retraining.")
@click.pass_context
def monitor_watch(ctx: click.Context, every: str, passes: int | None, no_retrain: bool) -> None:
    """Passes on an interval, in the foreground; Ctrl-C stops cleanly (for unattended use, see cron in README)."""
    from ..cli import _console

    seconds = parse_interval(every)
    con = _console()
    done = 0
    try:
        with _stop_on_ctrl_c_and_term():
            while True:
                _one_pass(ctx, no_retrain)
                done += 1
                if passes is not None and done >= passes:
                    break
                con.print(f"next pass in {every} (Ctrl-C stops)", markup=False)
                _sleep_interruptibly(seconds)
    except KeyboardInterrupt:
        con.print(f"\nstopped after {done} pass(es)", markup=False)
