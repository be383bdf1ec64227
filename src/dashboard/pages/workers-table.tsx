// Workers with their heartbeat and the jobs in hand.
import type { WorkerInfo } from '../api/types';
import { DataTable } from '../components/data-table';
import { ago, shortId } from '../format';
import { href } from '../router';

const columns = [
  { label: 'Host' },
  { label: 'PID', num: true },
  { label: 'Queues' },
  { label: 'Concurrency', num: true },
  { label: 'Jobs in hand' },
  { label: 'Last heartbeat' },
];

export function WorkersTable({ workers }: { workers: WorkerInfo[] | undefined }) {
  if (!workers) return <p class="muted">Loading workers…</p>;
  if (workers.length === 0) return <p class="muted">No worker is running. Start one with <code>taskyard worker</code>.</p>;
  const now = Date.now();
  return (
    <DataTable columns={columns}>
      {workers.map((worker) => (
        <tr key={worker.id} data-testid="worker-row" data-worker={worker.id} class={worker.alive ? undefined : 'stale'}>
          <th scope="row">
            {worker.host} {!worker.alive && <span class="badge status-failed">not responding</span>}
          </th>
          <td class="num">{worker.pid}</td>
          <td>{worker.queues.join(', ')}</td>
          <td class="num">{worker.concurrency}</td>
          <td class="in-hand">
            <span class="muted">{worker.active.length}</span>
            {worker.active.map((job) => (
              <a key={job.jobId} class="chip" href={href(['jobs', job.jobId])} title={`${job.task} on ${job.queue}`}>
                {job.task} {shortId(job.jobId)}
              </a>
            ))}
          </td>
          <td>
            <time dateTime={worker.heartbeatAt} title={new Date(worker.heartbeatAt).toLocaleString()}>
              {ago(worker.heartbeatAt, now)}
            </time>
          </td>
        </tr>
      ))}
    </DataTable>
  );
}
