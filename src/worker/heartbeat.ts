import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { HEARTBEAT_MS, type WorkerDirectory, type WorkerInfo } from '../events/worker-directory.js';
import type { Logger } from '../logger.js';
import type { WorkerRuntime } from './runtime.js';

/**
 * Announces a worker process in the directory every few seconds (its queues and
 * the jobs it holds), so the API and the dashboard can list it; removes it on stop.
 * A worker that dies simply stops beating, and shows as not alive.
 */
export class Heartbeat {
  readonly id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly startedAt = new Date().toISOString();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();

  constructor(
    private readonly directory: WorkerDirectory,
    private readonly runtime: WorkerRuntime,
    private readonly logger: Logger,
    private readonly intervalMs = HEARTBEAT_MS,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.beating = this.beat();
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    await this.directory.remove(this.id).catch((error: unknown) => this.logger.warn({ err: error }, 'could not remove the worker from the directory'));
  }

  private info(): WorkerInfo {
    return {
      id: this.id,
      host: os.hostname(),
      pid: process.pid,
      queues: [...this.runtime.queues],
      concurrency: this.runtime.concurrency,
      active: this.runtime.snapshot(),
      startedAt: this.startedAt,
      heartbeatAt: new Date().toISOString(),
    };
  }

  private async beat(): Promise<void> {
    try {
      await this.directory.beat(this.info());
    } catch (error) {
      // A missed beat is not fatal: the next one tries again (the directory may be down for a moment).
      this.logger.debug({ err: error }, 'worker heartbeat failed');
    }
  }
}
