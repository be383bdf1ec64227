// Per-queue counts with Pause/Resume.
import { useState } from 'preact/hooks';
import { setQueuePaused } from '../api/endpoints';
import type { QueueInfo } from '../api/types';
import { DataTable } from '../components/data-table';
import { useReportError } from '../errors';
import { href } from '../router';

const counts = ['waiting', 'active', 'delayed', 'completed', 'failed'] as const;
const columns = [
  { label: 'Queue' },
  ...counts.map((name) => ({ label: name[0]?.toUpperCase() + name.slice(1), num: true })),
  { label: 'Actions', hidden: true },
];

export function QueuesTable({ queues, onChange }: { queues: QueueInfo[] | undefined; onChange: () => void }) {
  const report = useReportError();
  const [busy, setBusy] = useState<string | null>(null);
  const toggle = async (queue: QueueInfo): Promise<void> => {
    setBusy(queue.name);
    try {
      await setQueuePaused(queue.name, !queue.paused);
      onChange();
    } catch (error) {
      report(error);
    } finally {
      setBusy(null);
    }
  };
  if (!queues) return <p class="muted">Loading queues…</p>;
  if (queues.length === 0) return <p class="muted">No queues: no task is registered.</p>;
  return (
    <DataTable columns={columns}>
      {queues.map((queue) => (
        <tr key={queue.name} data-testid="queue-row" data-queue={queue.name}>
          <th scope="row">
            <a href={href(['jobs'], { queue: queue.name })}>{queue.name}</a>{' '}
            {queue.paused && (
              <span class="badge status-paused" data-testid="queue-paused">
                paused
              </span>
            )}
          </th>
          {counts.map((name) => (
            <td class="num" key={name} data-testid={`queue-${name}`}>
              {name === 'failed' && queue.failed > 0 ? (
                <a href={href(['jobs'], { queue: queue.name, status: 'failed' })}>{queue.failed}</a>
              ) : (
                queue[name]
              )}
            </td>
          ))}
          <td>
            <button
              type="button"
              class="small"
              data-testid="queue-pause-toggle"
              disabled={busy === queue.name}
              aria-label={`${queue.paused ? 'Resume' : 'Pause'} queue ${queue.name}`}
              onClick={() => void toggle(queue)}
            >
              {queue.paused ? 'Resume' : 'Pause'}
            </button>
          </td>
        </tr>
      ))}
    </DataTable>
  );
}
