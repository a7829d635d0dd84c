/**
 * The server extension's REST API (mlops_accelerator/server.py): a small typed wrapper over
 * ServerConnection.makeRequest, which adds the token/XSRF headers and the server's base URL.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IFieldError } from './payloads';

export const NAMESPACE = 'mlops-accelerator';

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

// -- shapes of the answers: generated from the server's pydantic models (mlops_accelerator/payloads.py)

export * from './payloads';
