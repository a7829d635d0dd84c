/**
 * The server extension's REST API (mlops_accelerator/server.py): a small typed wrapper over
 * ServerConnection.makeRequest, which adds the token/XSRF headers and the server's base URL.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export const NAMESPACE = 'mlops-accelerator';

export interface IFieldError {
  field: string;
  rule: string;
  value: unknown;
  message: string;
}

/** An error answered by the API: its status, sentence and field errors. */
export class APIError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: IFieldError[] = [],
    readonly code: string | null = null
  ) {
    super(message);
  }
}

export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  query: Record<string, string> = {}
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  let url = URLExt.join(settings.baseUrl, NAMESPACE, endPoint);
  if (Object.keys(query).length) {
    url += URLExt.objectToQueryString(query);
  }
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: any = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: text };
    }
  }
  if (!response.ok) {
    throw new APIError(
      response.status,
      data?.error ?? response.statusText,
      data?.errors ?? [],
      data?.code ?? null
    );
  }
  return data as T;
}

export function post<T>(endPoint: string, body: unknown): Promise<T> {
  return requestAPI<T>(endPoint, { method: 'POST', body: JSON.stringify(body) });
}

// -- shapes of the answers ----------------------------------------------------------------

export interface IRole {
  id: string;
  name: string;
  group: string;
}

export interface ISignoff {
  by: string;
  role: string;
  comment: string;
  ts: string;
}

export type ItemState = 'done' | 'failed' | 'awaiting_signoff' | 'todo' | 'not_applicable';

export interface IItem {
  id: string;
  stage: number;
  text: string;
  verification: 'auto' | 'signoff' | 'auto+signoff';
  state: ItemState;
  reason: string;
  signoff_roles: string[];
  check: { passed: boolean; reason: string; evidence: unknown; ts: string } | null;
  signoffs: ISignoff[];
}

export interface ILastRun {
  run_id: string;
  status: string;
  ts: string;
  run_dir: string | null;
}

export interface IStageStatus {
  number: number;
  slug: string;
  title: string;
  roles: string[];
  settings: { valid: boolean; errors: IFieldError[] };
  deliverables: {
    done: number;
    total: number;
    failed: number;
    awaiting_signoff: number;
    not_applicable: number;
  };
  last_run: ILastRun | null;
  items: IItem[];
}

export interface IStatus {
  project: string;
  path: string;
  stages: IStageStatus[];
  roles: IRole[];
  user: string;
  voila: boolean;
}

export interface IRunNotebook {
  stage: string;
  notebook: string;
  status: string;
  duration_s: number | null;
  output: string | null;
  error: string | null;
}

export interface IRunProgress {
  run_id: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  total: number | null;
  finished: number;
  notebooks: IRunNotebook[];
  run_dir: string | null;
  outputs: string[];
  log_tail: string;
}
