import type { JobStore } from '../history/jobs.js';

/**
 * Carries "stop job X" from the API to whichever worker process holds X.
 * PostgreSQL NOTIFY here; a Redis channel when Redis is the backend.
 */
export interface CancelBus {
  publish(jobId: string): Promise<void>;
  subscribe(onCancel: (jobId: string) => void): Promise<() => Promise<void>>;
}

export function pgCancelBus(store: JobStore): CancelBus {
  return {
    publish: (jobId) => store.announceCancel(jobId),
    subscribe: (onCancel) => store.db.listen(store.cancelChannel, onCancel),
  };
}
