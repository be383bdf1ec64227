// fetch with the API's error format turned into ApiError, so every failure has a code and a message.
import type { ErrorDetail } from './types';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function errorDetails(value: unknown): ErrorDetail[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) return [];
    const { path, message } = item as Record<string, unknown>;
    return typeof message === 'string' ? [{ path: typeof path === 'string' ? path : '', message }] : [];
  });
}

async function failure(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const error = body.error;
    if (error && typeof error.code === 'string') {
      return new ApiError(error.code, typeof error.message === 'string' ? error.message : response.statusText, response.status, errorDetails(error.details));
    }
  } catch {
    // not our JSON error body (a proxy's page, say): fall through
  }
  return new ApiError(`HTTP_${response.status}`, text.slice(0, 200) || response.statusText || 'Request failed', response.status);
}

/** One call to the API; resolves with the parsed JSON body, rejects with an ApiError. */
export async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError('NETWORK', `Cannot reach the API (${error instanceof Error ? error.message : String(error)})`, 0);
  }
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/** Anything thrown, as an ApiError (for the banner). */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError('DASHBOARD_ERROR', error instanceof Error ? error.message : String(error), 0);
}
