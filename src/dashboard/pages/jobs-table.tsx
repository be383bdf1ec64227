import type { JobView } from '../api/types';
import { percentOf } from '../components/progress-bar';
import { StatusBadge } from '../components/status-badge';
import { dateTime, jobDuration, shortId } from '../format';
import { href } from '../router';

export function JobsTable({ jobs }: { jobs: JobView[] }) {
  const now = Date.now();
  return (
    <div class="table-wrap">
      <table class="data">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Task</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col" class="num">Duration</th>
            <th scope="col" class="num">Progress</th>
          </tr>
        </thead>
        <tbody>
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
        </tbody>
      </table>
    </div>
  );
}
