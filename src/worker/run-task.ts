import type { AnyTask, ProgressUpdate, TaskContext } from '../tasks/define-task.js';
import { PermanentError } from '../errors.js';
import { serializeError, type Outcome } from './sandbox-protocol.js';

export interface RunTaskHooks {
  emit(type: 'progress' | 'partial' | 'log', data: unknown): void;
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
    signal: info.signal,
    progress: (update: ProgressUpdate) => hooks.emit('progress', normaliseProgress(update)),
    partial: (chunk: unknown) => hooks.emit('partial', chunk === undefined ? null : chunk),
    log: (message: string) => hooks.emit('log', { message: String(message) }),
  };
  try {
    const result: unknown = await task.run(parsed.data, ctx);
    // The result is stored as JSON: make sure it is, here, where the error makes sense.
    return { ok: true, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) };
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
}

function normaliseProgress(update: ProgressUpdate): ProgressUpdate {
  const out: ProgressUpdate = {};
  if (typeof update?.current === 'number' && Number.isFinite(update.current)) out.current = update.current;
  if (typeof update?.total === 'number' && Number.isFinite(update.total)) out.total = update.total;
  if (typeof update?.message === 'string') out.message = update.message;
  let percent = typeof update?.percent === 'number' && Number.isFinite(update.percent) ? update.percent : undefined;
  if (percent === undefined && out.current !== undefined && out.total) percent = (out.current / out.total) * 100;
  if (percent !== undefined) out.percent = Math.round(Math.min(100, Math.max(0, percent)) * 100) / 100;
  return out;
}
