import path from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { AnyTask } from '../tasks/define-task.js';
import { Hosts } from './hosts.js';
import { runTask } from './run-task.js';
import {
  AbortReason,
  serializeError,
  type AbortReasonData,
  type Outcome,
  type RuntimeMessage,
  type SandboxMessage,
  type SandboxRequest,
  type SerializedError,
} from './sandbox-protocol.js';

export type EmitFn = (type: 'progress' | 'partial' | 'log', data: unknown) => void;

/** One running job's code. */
export interface Execution {
  readonly outcome: Promise<Outcome>;
  /** Resolves when the task's code starts (its module loaded): time limits count from here. */
  readonly started: Promise<void>;
  /** Cooperative: aborts `ctx.signal` with this reason. */
  abort(reason: AbortReasonData): void;
  /** Forceful: ends the job now with this error (the sandbox thread is terminated). */
  kill(error: SerializedError): void;
  /** False for tasks that run on the main thread and so cannot be killed. */
  readonly killable: boolean;
}

// Under tsx the sources are .ts files; once built they are .js.
const THREAD_ENTRY = new URL(`./sandbox-thread${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url).href;

/**
 * Runs task code. Tasks loaded from a module run in a pool of worker threads,
 * one job per thread, so a job that ignores its signal can still be killed.
 * Tasks given as plain objects (no module to load them from) run inline.
 */
export class Executor {
  private readonly pool: Piscina;

  constructor(
    threads: number,
    private readonly hosts: Hosts = new Hosts(),
    /** A sandbox thread is replaced after this many jobs (0: never), freeing what tasks leak. */
    private readonly maxJobsPerThread = 0,
    /** Nice value of the sandbox threads (Linux). */
    private readonly nice = 10,
  ) {
    this.pool = new Piscina({
      filename: THREAD_ENTRY,
      minThreads: Math.min(threads, 2),
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      // Threads wait on their event loop, not on Atomics, so abort messages are read.
      atomics: 'disabled',
    });
  }

  start(task: AnyTask, job: { jobId: string; attempt: number; input: unknown }, emit: EmitFn): Execution {
    return task.source ? this.sandboxed(task, job, emit) : inline(task, job, emit, this.hosts);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  /** Runs a host function for a sandboxed task and posts the answer back (unless the job ended meanwhile). */
  private answer(port: MessagePort, call: Extract<SandboxMessage, { kind: 'call' }>): void {
    const reply = (message: Extract<RuntimeMessage, { kind: 'reply' }>): void => {
      try {
        port.postMessage(message);
      } catch (error) {
        // A value that cannot be cloned becomes the call's error; a closed port means nobody waits.
        if (message.ok) port.postMessage({ kind: 'reply', id: call.id, ok: false, error: serializeError(error) } satisfies RuntimeMessage);
      }
    };
    this.hosts.call(call.host, call.method, call.args).then(
      (value) => reply({ kind: 'reply', id: call.id, ok: true, value }),
      (error: unknown) => reply({ kind: 'reply', id: call.id, ok: false, error: serializeError(error) }),
    );
  }

  private sandboxed(task: AnyTask, job: { jobId: string; attempt: number; input: unknown }, emit: EmitFn): Execution {
    const { port1, port2 } = new MessageChannel();
    const killer = new AbortController();
    let markStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    let settle!: (outcome: Outcome) => void;
    let settled = false;
    const outcome = new Promise<Outcome>((resolve) => {
      settle = (value) => {
        if (settled) return;
        settled = true;
        port1.close();
        resolve(value);
      };
    });
    port1.on('message', (message: SandboxMessage) => {
      if (settled) return;
      if (message.kind === 'event') emit(message.type, message.data);
      else if (message.kind === 'call') this.answer(port1, message);
      else if (message.kind === 'started') markStarted();
      else {
        if (message.retiring) port1.postMessage({ kind: 'received' } satisfies RuntimeMessage);
        settle(message.outcome);
      }
    });
    const request: SandboxRequest = {
      moduleUrl: task.source!.moduleUrl,
      exportName: task.source!.exportName,
      jobId: job.jobId,
      attempt: job.attempt,
      input: job.input,
      port: port2,
      maxJobsPerThread: this.maxJobsPerThread,
      nice: this.nice,
    };
    this.pool.run(request, { transferList: [port2] as never, signal: killer.signal }).then(
      () => {
        // The outcome travels on the job's port; give it a moment to land.
        setTimeout(() => settle({ ok: false, error: { name: 'Error', message: 'The sandbox ended without a result' } }), 1000).unref();
      },
      (error: unknown) => settle({ ok: false, error: serializeError(error) }),
    );
    return {
      outcome,
      started,
      killable: true,
      abort: (reason) => {
        if (!settled) port1.postMessage({ kind: 'abort', reason });
      },
      kill: (error) => {
        settle({ ok: false, error });
        killer.abort();
      },
    };
  }
}

function inline(task: AnyTask, job: { jobId: string; attempt: number; input: unknown }, emit: EmitFn, hosts: Hosts): Execution {
  const controller = new AbortController();
  let killed: ((outcome: Outcome) => void) | undefined;
  const killedOutcome = new Promise<Outcome>((resolve) => {
    killed = resolve;
  });
  const running = runTask(task, job.input, { jobId: job.jobId, attempt: job.attempt, signal: controller.signal }, {
    emit: (type, data) => {
      if (!controller.signal.aborted || type !== 'progress') emit(type, data);
    },
    call: (host, method, args) => hosts.call(host, method, args),
  });
  return {
    outcome: Promise.race([running, killedOutcome]),
    started: Promise.resolve(),
    killable: false,
    abort: (reason) => controller.abort(new AbortReason(reason)),
    // Code on the main thread cannot be stopped: the job ends, the promise is left behind.
    kill: (error) => killed?.({ ok: false, error }),
  };
}
