"""Stage 4 on the local target: sources -> bronze -> silver -> gold -> quality -> versioned assets.

One module per concern; the stage-4 notebooks call `pipeline.run_pipeline` and `azureml.write_specs`:

- `lake`       local datastores: one folder per storage account/container, mirroring ADLS paths
- `sources`    read CSV / Parquet / JSON Lines files or folders and SQLAlchemy databases
- `ingest`     bronze Parquet snapshots with a manifest (source, rows, columns, time, content hash)
- `cleanse`    bronze -> silver (personal data dropped or keyed-hashed, types, duplicates) -> gold
- `quality`    the settings' quality rules, evaluated by pandera; HTML and Markdown report
- `profiling`  per-column statistics and distribution charts kept with each asset version
- `versioning` content-hashed immutable asset versions, tamper check, lineage
- `azureml`    datastore / data asset YAML per environment (azure-ai-ml entities, loaded back) and
               least-privilege storage role assignments

Heavy libraries (pandas, pyarrow, pandera, sqlalchemy, matplotlib, azure.ai.ml) are imported inside
functions so importing this package costs nothing.
"""


class DataPrepError(Exception):
    """A stage-4 input problem, stated with the source, column and rule concerned; nothing was registered."""
