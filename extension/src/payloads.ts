// Generated from mlops_accelerator/payloads.py by `python -m mlops_accelerator.tsgen extension/src/payloads.ts`.
// Do not edit by hand: change the pydantic models and regenerate (tests/test_payload_types.py fails when this file is out of date).

export type ItemState = 'done' | 'failed' | 'awaiting_signoff' | 'todo' | 'not_applicable';

export type RunState = 'queued' | 'running' | 'succeeded' | 'failed' | 'unknown';

export interface IFieldError {
  field: string;
  rule: string;
  value?: unknown;
  message: string;
}

export interface IRole {
  id: string;
  name: string;
  group: string;
}

export interface ISignoff {
  by: string;
  role: string;
  comment: string | null;
  ts: string;
}

/** The latest automatic check of an item, as recorded. */
export interface ICheckOutcome {
  passed: boolean | null;
  reason: string | null;
  evidence: string[] | null;
  ts: string | null;
  pending: boolean | null;
}

export interface ISettingsChange {
  field: string;
  old?: unknown;
  new?: unknown;
}

/** A sign-off whose stage settings changed afterwards: who signed, when, and what changed. */
export interface IReapproval {
  by: string | null;
  role: string | null;
  ts: string;
  changes: ISettingsChange[];
}

export interface IItem {
  id: string;
  stage: number;
  text: string;
  verification: 'auto' | 'signoff' | 'auto+signoff';
  state: ItemState;
  reason: string;
  signoff_roles: string[];
  check: ICheckOutcome | null;
  stale: string | null;
  reapproval: IReapproval | null;
  signoffs: ISignoff[];
}

export interface ILastRun {
  run_id: string | null;
  status: string | null;
  ts: string;
  run_dir: string | null;
}

export interface ISettingsState {
  valid: boolean;
  errors: IFieldError[];
}

export interface IDeliverableCounts {
  done: number;
  total: number;
  failed: number;
  awaiting_signoff: number;
  not_applicable: number;
}

export interface IStageStatus {
  number: number;
  slug: string;
  title: string;
  roles: string[];
  settings: ISettingsState;
  deliverables: IDeliverableCounts;
  last_run: ILastRun | null;
  items: IItem[];
}

/** One problem the last Azure pre-flight found (`preflight`, or an azureml run), and the setting to change. */
export interface IPreflightFinding {
  env: string;
  check: string;
  message: string;
  setting: string;
}

export interface IStatus {
  project: string;
  root: string | null;
  path: string;
  stages: IStageStatus[];
  roles: IRole[];
  user: string;
  voila: boolean;
  azureml_stages?: string[];
  preflight?: IPreflightFinding[];
  preflight_at?: string | null;
}

/** A stage's identity, from the catalogue. */
export interface IStageInfo {
  number: number;
  slug: string;
  title: string;
  folder: string;
}

export interface ICatalogue {
  stages: IStageInfo[];
}

/** Why a notebook failed: the cell, the exception's name and its message. */
export interface INotebookError {
  cell_index: number | null;
  ename: string;
  evalue: string;
  exec_count?: number | null;
}

export interface IRunNotebook {
  stage: string | null;
  notebook: string | null;
  status: string | null;
  duration_s: number | null;
  output: string | null;
  error: INotebookError | null;
}

/** A notebook's Azure ML job (the azureml target), as the run's ledger events last reported it. */
export interface IAzureJob {
  key: string;
  job: string;
  status: string | null;
  studio_url: string | null;
}

export interface IRunProgress {
  run_id: string;
  state: RunState;
  total: number | null;
  finished: number;
  notebooks: IRunNotebook[];
  run_dir: string | null;
  outputs: string[];
  log_tail: string;
  jobs?: IAzureJob[];
}
