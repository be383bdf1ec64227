// The attempt timeline, from the job's `status` events.
import type { JobView } from '../api/types';
import { StatusBadge } from '../components/status-badge';
import { dateTime, duration } from '../format';
import type { StatusEntry } from './live-job';

/**
 * When a status happened. SSE frames carry no timestamp, so history replayed on connecting
 * borrows the job's own timestamps where one fits; live events show when they arrived.
 */
function when(entry: StatusEntry, index: number, entries: StatusEntry[], job: JobView): string | null {
  if (!entry.replayed) return new Date(entry.receivedAt).toISOString();
  if (index === 0 && entry.status === 'queued') return job.createdAt;
  if (index === entries.length - 1 && (entry.status === 'completed' || entry.status === 'failed' || entry.status === 'cancelled')) return job.finishedAt;
  const lastActive = entries.map((e) => e.status).lastIndexOf('active');
  if (index === lastActive) return job.startedAt;
  return null;
}

export function JobAttempts({ entries, job }: { entries: StatusEntry[]; job: JobView }) {
  if (entries.length === 0) return <p class="muted">No status change yet.</p>;
  return (
    <ol class="timeline" data-testid="job-attempts">
      {entries.map((entry, index) => {
        const at = when(entry, index, entries, job);
        return (
          <li key={entry.seq} data-testid="job-attempt">
            <span class="attempt">{entry.attempt === undefined ? '' : `attempt ${entry.attempt}`}</span>
            <StatusBadge status={entry.status} />
            {at ? <time dateTime={at}>{dateTime(at)}</time> : <span class="muted">—</span>}
            {entry.delayMs !== undefined && <span class="muted">next try in {duration(entry.delayMs)}</span>}
            {entry.reason && <span class="muted">{entry.reason}</span>}
          </li>
        );
      })}
    </ol>
  );
}
