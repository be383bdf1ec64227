import type { MessagePort } from 'node:worker_threads';
import type { EventType } from '../events/types.js';

/** Why a running job's signal was aborted. */
export interface AbortReasonData {
  code: 'TASKYARD_ERR_CANCELLED' | 'TASKYARD_ERR_SOFT_TIMEOUT' | 'TASKYARD_ERR_SHUTDOWN' | 'TASKYARD_ERR_LOCK_LOST';
  message: string;
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  permanent?: boolean;
}

export type Outcome = { ok: true; result: unknown } | { ok: false; error: SerializedError };

/** Sent to a sandbox thread to run one job. */
export interface SandboxRequest {
  moduleUrl: string;
  exportName: string;
  jobId: string;
  attempt: number;
  input: unknown;
  port: MessagePort;
  /** The thread retires after this many jobs (0: never). */
  maxJobsPerThread: number;
  /** Nice value the thread runs at (Linux: per thread), so job code yields the CPU to the API and the runtime. */
  nice: number;
}

/** Messages from the thread back to the runtime, in order: `started` once the task is loaded, ending with `done`. */
export type SandboxMessage =
  | { kind: 'started' }
  | { kind: 'event'; type: Extract<EventType, 'progress' | 'partial' | 'log'>; data: unknown }
  | { kind: 'call'; id: number; host: string; method: string; args: unknown[] }
  | { kind: 'done'; outcome: Outcome; retiring?: boolean };

/** Messages from the runtime to the thread. */
export type RuntimeMessage =
  | { kind: 'abort'; reason: AbortReasonData }
  /** The runtime has the outcome: a retiring thread may exit now. */
  | { kind: 'received' }
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: SerializedError };

export class AbortReason extends Error {
  readonly code: AbortReasonData['code'];

  constructor(data: AbortReasonData) {
    super(data.message);
    this.name = 'AbortError';
    this.code = data.code;
  }
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const out: SerializedError = { name: error.name, message: error.message };
    if (error.stack) out.stack = error.stack;
    const { code, permanent } = error as { code?: unknown; permanent?: unknown };
    if (typeof code === 'string') out.code = code;
    if (permanent === true) out.permanent = true;
    return out;
  }
  return { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error) ?? String(error) };
}

/** The error a host function threw, rebuilt on the task's side with its name, code and stack. */
export function deserializeError(data: SerializedError): Error {
  const error = new Error(data.message) as Error & { code?: string; permanent?: boolean };
  error.name = data.name;
  if (data.stack) error.stack = data.stack;
  if (data.code) error.code = data.code;
  if (data.permanent) error.permanent = true;
  return error;
}
