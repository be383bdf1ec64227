import type { AnyTask, ArtifactInfo, ProgressUpdate, Remote, TaskContext } from '../tasks/define-task.js';
import { ARTIFACTS_HOST, remote } from './hosts.js';

const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;
const CONTENT_TYPE = /^[\w.+-]+\/[\w.+-]+(; ?charset=[\w-]+)?$/;
const CONTENT_TYPES: Record<string, string> = {
  xml: 'application/xml',
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  html: 'text/html; charset=utf-8',
  zip: 'application/zip',
  png: 'image/png',
};
const contentTypeOf = (name: string): string => CONTENT_TYPES[/\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? ''] ?? 'application/octet-stream';
import { PermanentError } from '../errors.js';
import { storableProblem } from '../history/storable.js';
import { serializeError, type Outcome } from './sandbox-protocol.js';

export interface RunTaskHooks {
  emit(type: 'progress' | 'partial' | 'log', data: unknown): void;
  /** Calls a function the worker hosts (`ctx.host(name).method(...args)`). */
  call(host: string, method: string, args: unknown[]): Promise<unknown>;
}

/** Parses the input and runs a task's code; never throws, the outcome says how it went. */
export async function runTask(
  task: AnyTask,
  input: unknown,
  info: { jobId: string; attempt: number; signal: AbortSignal },
  hooks: RunTaskHooks,
): Promise<Outcome> {
  const parsed = task.input.safeParse(input);
  if (!parsed.success) {
    const error = new PermanentError(`Input does not match the task schema: ${parsed.error.message}`);
    return { ok: false, error: { ...serializeError(error), code: 'TASKYARD_ERR_INVALID_INPUT' } };
  }
  const ctx: TaskContext = {
    jobId: info.jobId,
    attempt: info.attempt,
    fencingToken: info.attempt,
    signal: info.signal,
    progress: (update: ProgressUpdate) => hooks.emit('progress', normaliseProgress(update)),
    partial: (chunk: unknown) => hooks.emit('partial', toStorable(chunk, 'ctx.partial(chunk)')),
    log: (message: string) => hooks.emit('log', { message: withoutNul(String(message)) }),
    host: <T extends object>(name: string) => remote<Remote<T>>(name, hooks.call),
    artifact: async (name, data, options) => {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      if (!(bytes instanceof Uint8Array)) throw new TypeError('ctx.artifact(name, data): data must be a string or a Uint8Array');
      if (bytes.byteLength > MAX_ARTIFACT_BYTES) throw new RangeError(`ctx.artifact: ${name} is ${bytes.byteLength} bytes; the limit is ${MAX_ARTIFACT_BYTES}`);
      const contentType = options?.contentType ?? contentTypeOf(name);
      if (!CONTENT_TYPE.test(contentType)) throw new TypeError(`ctx.artifact: "${contentType}" is not a content type`);
      const stored = (await hooks.call(ARTIFACTS_HOST, 'put', [info.jobId, String(name), contentType, bytes])) as ArtifactInfo;
      hooks.emit('log', { message: `artifact ${stored.name} stored (${stored.size} bytes)` });
      return stored;
    },
  };
  let result: unknown;
  try {
    result = await task.run(parsed.data, ctx);
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
  try {
    return { ok: true, result: toStorable(result, 'The result') };
  } catch (error) {
    // Returning it again would fail the same way: no retry.
    return { ok: false, error: serializeError(new PermanentError((error as Error).message)) };
  }
}

/**
 * Events and results are stored as JSON: check here, where the task can see
 * the error, rather than in the database, where it would stall the job's log.
 */
function toStorable(value: unknown, what: string): unknown {
  if (value === undefined) return null;
  let json: unknown;
  try {
    json = JSON.parse(JSON.stringify(value) ?? 'null');
  } catch (error) {
    throw new TypeError(`${what} must be JSON: ${(error as Error).message}`);
  }
  const problem = storableProblem(json);
  if (problem) throw new TypeError(`${what} ${problem}`);
  return json;
}

const withoutNul = (text: string): string => text.replaceAll('\u0000', '\uFFFD');

function normaliseProgress(update: ProgressUpdate): ProgressUpdate {
  const out: ProgressUpdate = {};
  if (typeof update?.current === 'number' && Number.isFinite(update.current)) out.current = update.current;
  if (typeof update?.total === 'number' && Number.isFinite(update.total)) out.total = update.total;
  if (typeof update?.message === 'string') out.message = withoutNul(update.message);
  let percent = typeof update?.percent === 'number' && Number.isFinite(update.percent) ? update.percent : undefined;
  if (percent === undefined && out.current !== undefined && out.total) percent = (out.current / out.total) * 100;
  if (percent !== undefined) out.percent = Math.round(Math.min(100, Math.max(0, percent)) * 100) / 100;
  return out;
}
