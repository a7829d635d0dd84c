"""Stage 6 on the local target: Azure ML's model-monitoring signals computed here, alerts, retraining.

One module per concern (heavy libraries are imported inside functions):

- `metrics`    every metric's definition (binning, smoothing, which side is the baseline), in numpy
- `engine`     one pass over production windows: signals x features x metrics, per-signal problems
- `data`       the baseline (stage-4 data asset) and production windows (stage-5 inference log, or
               the sample's production files)
- `alerts`     alerts from breaches; notifications rendered per channel, never sent
- `retraining` alert -> stage-5 run through the runner -> decision, with a cooldown
- `report`     the monitoring report (Markdown, HTML, charts) and the audit trail from the ledger
- `passes`     one monitoring pass on a project, recorded in the ledger
- `azure`      Azure ML's own monitor schedule, data collector, alert rules and policy assignments
- `cli`        `mlops-accelerator monitor run | watch --every 1h`
"""
