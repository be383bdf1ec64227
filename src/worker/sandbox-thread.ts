// Entry of a sandbox worker thread (run by piscina): loads the task's module and
// runs one job, talking to the runtime over the job's MessagePort only.
import { loadTaskExport } from '../tasks/load-tasks.js';
import { runTask } from './run-task.js';
import { AbortReason, deserializeError, serializeError, type RuntimeMessage, type SandboxMessage, type SandboxRequest } from './sandbox-protocol.js';

export default async function runInSandbox(request: SandboxRequest): Promise<void> {
  const { port } = request;
  const controller = new AbortController();
  const calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextCall = 0;
  port.on('message', (message: RuntimeMessage) => {
    if (message.kind === 'abort') controller.abort(new AbortReason(message.reason));
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
    send({ kind: 'done', outcome });
  } catch (error) {
    // Loading failed, or an emitted value could not be cloned.
    send({ kind: 'done', outcome: { ok: false, error: serializeError(error) } });
  } finally {
    port.close();
  }
}
