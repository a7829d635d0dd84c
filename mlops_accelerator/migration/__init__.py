"""Stage 7, Migrate to Azure ML: inventory, SDK v1 -> v2 codemod, packaging, parity, cut-over.

    inventory.scan(source)            what the legacy project is made of, with file:line
    codemod.migrate_tree(src, dest)   rewritten copy (never in place), diffs, what was not converted
    packaging.write_job(...)          the migrated experiment as an Azure ML command job, loaded back
    parity.run_parity(...)            both sides run locally on the same data, compared, in MLflow
    cutover.plan(...)                 steps, owners, rollback and sign-offs from the settings

Heavy libraries (libcst, azure-ai-ml, mlflow, pandas, scikit-learn) are imported inside functions.
"""
