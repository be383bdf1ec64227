// Entry of a sandbox worker thread (run by piscina): loads the task's module and
// runs one job, talking to the runtime over the job's MessagePort only.
import os from 'node:os';
import { loadTaskExport } from '../tasks/load-tasks.js';
import { runTask } from './run-task.js';
import { AbortReason, deserializeError, serializeError, type RuntimeMessage, type SandboxMessage, type SandboxRequest } from './sandbox-protocol.js';

/** Jobs this thread has run; past the limit it exits and the pool starts a fresh one. */
let jobsRun = 0;
let niceSet = false;

/**
 * On Linux a thread has its own nice value: job code at a lower priority
 * leaves the main thread (HTTP, event writing, lock renewal) the CPU it needs
 * when jobs burn every core. Elsewhere this lowers the whole process, so only Linux does it.
 */
function lowerPriority(nice: number): void {
  if (niceSet || nice === 0 || process.platform !== 'linux') return;
  niceSet = true;
  try {
    os.setPriority(Math.max(os.getPriority(), Math.min(19, nice)));
  } catch {
    // Not allowed here (a sandboxed container): run at the inherited priority.
  }
}

export default async function runInSandbox(request: SandboxRequest): Promise<void> {
  const { port } = request;
  lowerPriority(request.nice);
  const controller = new AbortController();
  const calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextCall = 0;
  port.on('message', (message: RuntimeMessage) => {
    if (message.kind === 'abort') controller.abort(new AbortReason(message.reason));
    // Exit only once the outcome is known to have arrived (a message in flight dies with the thread).
    else if (message.kind === 'received') process.exit(0);
    else {
      const pending = calls.get(message.id);
      calls.delete(message.id);
      if (message.ok) pending?.resolve(message.value);
      else pending?.reject(deserializeError(message.error));
    }
  });
  const send = (message: SandboxMessage): void => port.postMessage(message);
  const call = (host: string, method: string, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextCall++;
      calls.set(id, { resolve, reject });
      send({ kind: 'call', id, host, method, args });
    });
  try {
    const task = await loadTaskExport(request.moduleUrl, request.exportName);
    send({ kind: 'started' });
    const outcome = await runTask(
      task,
      request.input,
      { jobId: request.jobId, attempt: request.attempt, signal: controller.signal },
      { emit: (type, data) => send({ kind: 'event', type, data }), call },
    );
    jobsRun++;
    const retiring = request.maxJobsPerThread > 0 && jobsRun >= request.maxJobsPerThread;
    send(retiring ? { kind: 'done', outcome, retiring } : { kind: 'done', outcome });
    if (retiring) {
      // Wait for the runtime's answer (or its side of the port closing); the pool replaces this thread when it exits.
      port.once('close', () => process.exit(0));
      await new Promise(() => undefined);
    }
  } catch (error) {
    // Loading failed, or an emitted value could not be cloned.
    send({ kind: 'done', outcome: { ok: false, error: serializeError(error) } });
  } finally {
    port.close();
  }
}
