// One job: its status and progress live, what it produced, how it went, and what can be done.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { getJob, listArtifacts } from '../api/endpoints';
import { ApiError } from '../api/http';
import { isTerminal, type Artifact, type JobView } from '../api/types';
import { percentOf, ProgressBar } from '../components/progress-bar';
import { StatusBadge } from '../components/status-badge';
import { useReportError } from '../errors';
import { dateTime, jobDuration } from '../format';
import { href } from '../router';
import { JobActions } from './job-actions';
import { JobArtifacts } from './job-artifacts';
import { JobAttempts } from './job-attempts';
import { JobLogs, JobPartials, JsonBlock } from './job-output';
import { useJobEvents } from './use-job-events';

export function JobDetailPage({ id }: { id: string }) {
  const report = useReportError();
  const [job, setJob] = useState<JobView | undefined>(undefined);
  const [missing, setMissing] = useState(false);
  const [artifacts, setArtifacts] = useState<Artifact[] | undefined>(undefined);

  const load = useCallback(() => {
    getJob(id).then(
      (found) => {
        setJob(found);
        listArtifacts(id).then(setArtifacts, report);
      },
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 404) setMissing(true);
        report(error);
      },
    );
  }, [id, report]);
  useEffect(load, [load]);
  const { live, connection } = useJobEvents(job ? id : null, job ? isTerminal(job.status) : false, load);

  if (missing) {
    return (
      <section>
        <h1>Job not found</h1>
        <p>
          No job with id <code>{id}</code>. <a href="#/jobs">Search jobs</a>.
        </p>
      </section>
    );
  }
  if (!job) return <p class="muted">Loading job {id}…</p>;

  const status = live.status ?? job.status;
  const progress = live.progress ?? job.progress ?? undefined;
  const percent = percentOf(progress) ?? (status === 'completed' ? 100 : undefined);
  const result = live.result ?? ('result' in job ? { value: job.result } : undefined);
  const error = job.error ?? live.error;

  return (
    <>
      <p class="crumbs">
        <a href="#/jobs">Jobs</a> / <span class="mono">{id}</span>
      </p>
      <div class="title-row">
        <h1>
          {job.task} <StatusBadge status={status} testid="job-status" />
        </h1>
        <JobActions job={job} status={status} onChange={load} key={`${job.id}-${status}`} />
      </div>
      <dl class="meta">
        <div><dt>Id</dt><dd class="mono">{job.id}</dd></div>
        <div><dt>Task</dt><dd><a href={href(['tasks', job.task])}>{job.task}</a></dd></div>
        <div><dt>Queue</dt><dd>{job.queue}</dd></div>
        <div><dt>Attempts</dt><dd>{job.attempts} of {job.maxAttempts}</dd></div>
        <div><dt>Priority</dt><dd>{job.priority}</dd></div>
        <div><dt>Created</dt><dd>{dateTime(job.createdAt)}</dd></div>
        <div><dt>Started</dt><dd>{dateTime(job.startedAt)}</dd></div>
        <div><dt>Finished</dt><dd>{dateTime(job.finishedAt)}</dd></div>
        <div><dt>Duration</dt><dd>{jobDuration(job)}</dd></div>
        {job.retryOf && (
          <div><dt>Retry of</dt><dd><a class="mono" href={href(['jobs', job.retryOf])} data-testid="job-retry-of">{job.retryOf}</a></dd></div>
        )}
        <div><dt>Live updates</dt><dd data-testid="job-connection">{connection}</dd></div>
      </dl>

      <section aria-labelledby="progress-heading">
        <h2 id="progress-heading">Progress</h2>
        <ProgressBar percent={percent} label={`Progress of job ${job.id}`} testid="job-progress" />
        <p class="progress-text">
          <span>{percent === undefined ? 'No progress reported' : `${Math.round(percent)}%`}</span>{' '}
          <span data-testid="job-progress-message">{progress?.message ?? ''}</span>
        </p>
      </section>

      <section aria-labelledby="partials-heading">
        <h2 id="partials-heading">Partial results</h2>
        <JobPartials live={live} />
      </section>

      {result && (
        <section aria-labelledby="result-heading">
          <h2 id="result-heading">Result</h2>
          <JsonBlock value={result.value} testid="job-result" />
        </section>
      )}

      {error && (
        <section aria-labelledby="error-heading" class="error-box">
          <h2 id="error-heading">Error</h2>
          <p>
            {error.code && <code>{error.code}</code>} <span data-testid="job-error">{error.message}</span>
          </p>
          {error.stack && (
            <details open>
              <summary>Stack</summary>
              <pre data-testid="job-error-stack">{error.stack}</pre>
            </details>
          )}
        </section>
      )}

      <div class="two-col">
        <section aria-labelledby="attempts-heading">
          <h2 id="attempts-heading">Timeline</h2>
          <JobAttempts entries={live.statuses} job={job} />
        </section>
        <section aria-labelledby="artifacts-heading">
          <h2 id="artifacts-heading">Artifacts</h2>
          <JobArtifacts artifacts={artifacts} />
        </section>
      </div>

      <section aria-labelledby="logs-heading">
        <h2 id="logs-heading">Logs</h2>
        <JobLogs live={live} />
      </section>

      <section aria-labelledby="input-heading">
        <h2 id="input-heading">Input</h2>
        <JsonBlock value={job.input} testid="job-input" />
      </section>
    </>
  );
}
