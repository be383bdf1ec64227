import type { Engine } from './engine/engine.js';
import { TaskyardError } from './errors.js';

/** How long a queue's waiting count is trusted before it is read again. */
const COUNT_TTL_MS = 250;

interface Count {
  waiting: number;
  readAt: number;
  reading?: Promise<void> | undefined;
}

/**
 * Admission control: refuses new jobs (429) while a queue holds `maxWaiting`
 * waiting jobs. The count is read from the engine at most every 250 ms and the
 * jobs this process admitted since are added to it, so a burst cannot overshoot
 * by more than what other API instances admit within that window.
 */
export class Admission {
  private readonly counts = new Map<string, Count>();

  constructor(
    private readonly engine: Engine,
    private readonly maxWaiting: number,
  ) {}

  /** Throws TASKYARD_ERR_QUEUE_FULL when the queue is full; otherwise counts one more waiting job. */
  async admit(queue: string): Promise<void> {
    let count = this.counts.get(queue);
    if (!count) {
      count = { waiting: 0, readAt: 0 };
      this.counts.set(queue, count);
    }
    if (Date.now() - count.readAt > COUNT_TTL_MS) {
      const current = count;
      current.reading ??= this.engine
        .waitingCount(queue)
        .then((waiting) => {
          current.waiting = waiting;
          current.readAt = Date.now();
        })
        .finally(() => {
          current.reading = undefined;
        });
      await current.reading;
    }
    if (count.waiting >= this.maxWaiting) {
      throw new TaskyardError('TASKYARD_ERR_QUEUE_FULL', `The queue "${queue}" has ${count.waiting} waiting jobs (the limit is ${this.maxWaiting}); retry later`, {
        queue,
        maxWaiting: this.maxWaiting,
      });
    }
    count.waiting++;
  }
}
