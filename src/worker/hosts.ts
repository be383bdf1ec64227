import { PermanentError } from '../errors.js';

/** The host behind `ctx.artifact` (registered when the process has the history database). */
export const ARTIFACTS_HOST = 'taskyard:artifacts';

/**
 * Functions the worker process hosts for tasks (`ctx.host(name)`), by name:
 * what a task in a sandbox thread cannot hold itself, like the embedded
 * database, a cache or a lock.
 */
export class Hosts {
  private readonly hosts = new Map<string, object>();

  add(name: string, host: object): void {
    if (this.hosts.has(name)) throw new Error(`Two hosts are named "${name}"`);
    this.hosts.set(name, host);
  }

  /** Calls `name.method(...args)`; a missing host or method is a permanent failure of the job. */
  async call(name: string, method: string, args: readonly unknown[]): Promise<unknown> {
    const host = this.hosts.get(name) as Record<string, unknown> | undefined;
    const fn = host?.[method];
    if (!host || typeof fn !== 'function' || !Object.hasOwn(host, method)) {
      const error = new PermanentError(
        host
          ? `The host "${name}" has no function "${method}"`
          : `This worker hosts no "${name}" functions (is its recipe loaded, and does this worker have a database?)`,
      ) as PermanentError & { code: string };
      error.code = 'TASKYARD_ERR_HOST_NOT_FOUND';
      throw error;
    }
    return (fn as (...a: unknown[]) => unknown).apply(host, args as unknown[]);
  }
}

/** A task-side proxy whose every method is a call through `call`. */
export function remote<T extends object>(name: string, call: (host: string, method: string, args: unknown[]) => Promise<unknown>): T {
  return new Proxy({} as T, {
    get: (_target, method) => (typeof method === 'string' && method !== 'then' ? (...args: unknown[]) => call(name, method, args) : undefined),
  });
}
