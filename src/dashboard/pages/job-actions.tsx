// Cancel (while the job is not finished) and Retry (a failed or cancelled job, as a new job).
import { useState } from 'preact/hooks';
import { cancelJob, retryJob } from '../api/endpoints';
import { isTerminal, type JobView } from '../api/types';
import { useReportError } from '../errors';
import { href, navigate } from '../router';

export function JobActions({ job, status, onChange }: { job: JobView; status: string; onChange: () => void }) {
  const report = useReportError();
  const [busy, setBusy] = useState(false);
  const [cancelAsked, setCancelAsked] = useState(job.cancelRequested);
  const run = async (action: () => Promise<void>): Promise<void> => {
    setBusy(true);
    try {
      await action();
    } catch (error) {
      report(error);
    } finally {
      setBusy(false);
    }
  };
  const finished = isTerminal(status);
  return (
    <div class="actions">
      {!finished && (
        <button
          type="button"
          class="danger"
          data-testid="job-cancel"
          disabled={busy || cancelAsked}
          onClick={() =>
            void run(async () => {
              await cancelJob(job.id);
              setCancelAsked(true);
              onChange();
            })
          }
        >
          {cancelAsked ? 'Cancelling…' : 'Cancel'}
        </button>
      )}
      {(status === 'failed' || status === 'cancelled') && (
        <button
          type="button"
          data-testid="job-retry"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              const retried = await retryJob(job.id);
              navigate(href(['jobs', retried.id]));
            })
          }
        >
          Retry
        </button>
      )}
    </div>
  );
}
