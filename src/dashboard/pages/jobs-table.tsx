import type { JobView } from '../api/types';
import { DataTable } from '../components/data-table';
import { percentOf } from '../components/progress-bar';
import { StatusBadge } from '../components/status-badge';
import { dateTime, jobDuration, shortId } from '../format';
import { href } from '../router';

const columns = [
  { label: 'Job' },
  { label: 'Task' },
  { label: 'Status' },
  { label: 'Created' },
  { label: 'Duration', num: true },
  { label: 'Progress', num: true },
];

export function JobsTable({ jobs }: { jobs: JobView[] }) {
  const now = Date.now();
  return (
    <DataTable columns={columns}>
      {jobs.map((job) => {
        const percent = percentOf(job.progress);
        return (
          <tr key={job.id} data-testid="job-row" data-job-id={job.id}>
            <th scope="row">
              <a href={href(['jobs', job.id])} title={job.id} class="mono">
                {shortId(job.id)}
              </a>
            </th>
            <td>{job.task}</td>
            <td>
              <StatusBadge status={job.status} />
            </td>
            <td>{dateTime(job.createdAt)}</td>
            <td class="num">{jobDuration(job, now)}</td>
            <td class="num">{percent === undefined ? '—' : `${Math.round(percent)}%`}</td>
          </tr>
        );
      })}
    </DataTable>
  );
}
