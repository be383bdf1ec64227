import type { JobError } from '../errors.js';
import type { JobEvent, StatusData } from '../events/types.js';
import { isTerminalStatus } from '../events/types.js';
import type { Job } from './jobs.js';

/**
 * A job as it stands after `events` (which follow its `lastSeq`): the same
 * projection history's SQL applies, done in memory. Lets a reader see events
 * the event log already holds but history has not written yet.
 */
export function applyEvents(job: Job, events: readonly JobEvent[]): Job {
  const out: Job = { ...job };
  let sawError = false;
  for (const event of events) {
    if (event.seq !== out.lastSeq + 1) break;
    out.lastSeq = event.seq;
    switch (event.type) {
      case 'status': {
        const data = event.data as StatusData;
        out.status = data.status;
        if (data.attempt !== undefined) out.attempts = data.attempt;
        if (data.status === 'active') out.startedAt ??= event.at;
        out.finishedAt = isTerminalStatus(data.status) ? event.at : null;
        if (data.status === 'completed' && !sawError) delete out.error;
        break;
      }
      case 'progress':
        out.progress = event.data;
        break;
      case 'result':
        out.result = event.data;
        break;
      case 'error':
        out.error = event.data as JobError;
        sawError = true;
        break;
      default:
        break;
    }
  }
  return out;
}
