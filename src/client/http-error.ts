import { isRecord } from './decode.js';

/**
 * A Taskyard server answered with an error status, or with a body that breaks
 * the HTTP contract. `code` is the server's `error.code` (e.g.
 * `TASKYARD_ERR_JOB_NOT_FOUND`), or one of the client's own:
 * - `TASKYARD_ERR_HTTP`: an error status without a Taskyard error body (a proxy's 502 page, say);
 * - `TASKYARD_ERR_BAD_RESPONSE`: a success status whose body is not what the route promises.
 */
export class TaskyardHttpError extends Error {
  override readonly name = 'TaskyardHttpError';
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** Reads the `{ "error": { code, message, details? } }` body of a failed response. */
  static async fromResponse(response: Response): Promise<TaskyardHttpError> {
    const fallback = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return new TaskyardHttpError(response.status, 'TASKYARD_ERR_HTTP', fallback);
    }
    const error = isRecord(body) ? body['error'] : undefined;
    if (!isRecord(error) || typeof error['code'] !== 'string') {
      return new TaskyardHttpError(response.status, 'TASKYARD_ERR_HTTP', fallback, body);
    }
    const message = typeof error['message'] === 'string' ? error['message'] : fallback;
    return new TaskyardHttpError(response.status, error['code'], message, error['details']);
  }

  /** A 2xx response whose body does not match the contract. */
  static badResponse(response: Response, what: string): TaskyardHttpError {
    return new TaskyardHttpError(response.status, 'TASKYARD_ERR_BAD_RESPONSE', `Unexpected response from ${response.url}: ${what}`);
  }
}
