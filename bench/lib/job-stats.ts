import type { JobTimes } from './jobs-api.js';
import { summarize, type Summary } from './stats.js';

/**
 * What the history says about a set of jobs. Every time here is the server's
 * (the database's clock_timestamp()), so no clock is compared with another.
 */
export interface CompletionStats {
  jobs: number;
  completed: number;
  failed: number;
  unfinished: number;
  /** First createdAt → last createdAt: the window in which jobs were accepted. */
  acceptWindowS: number;
  /** First startedAt → last finishedAt: the window in which the workers were busy. */
  busyWindowS: number;
  /** Completed jobs / busy window: the worker's throughput. */
  completedPerS: number;
  /** Completed jobs / (first createdAt → last finishedAt). */
  endToEndPerS: number;
  /** Jobs finished by the last createdAt / accept window: throughput while still accepting. */
  completedWhileAcceptingPerS: number;
  /** Jobs not yet finished when the last one was accepted. */
  backlogAtAcceptEnd: number;
  latencyMs: {
    /** createdAt → finishedAt */
    enqueueToFinish: Summary;
    /** createdAt → startedAt: time in the queue */
    wait: Summary;
    /** startedAt → finishedAt: running, with its event writes */
    run: Summary;
  };
}

// Reduce, not Math.min(...xs): a long run has more jobs than a call has room for arguments.
const min = (values: readonly number[]): number => values.reduce((a, b) => (b < a ? b : a), Number.POSITIVE_INFINITY);
const max = (values: readonly number[]): number => values.reduce((a, b) => (b > a ? b : a), Number.NEGATIVE_INFINITY);

export function completionStats(jobs: readonly JobTimes[]): CompletionStats {
  const finished = jobs.filter((job): job is JobTimes & { finishedAt: number } => job.finishedAt !== null);
  const completed = jobs.filter((job) => job.status === 'completed');
  const created = jobs.map((job) => job.createdAt);
  const minCreated = min(created);
  const maxCreated = max(created);
  const minStarted = min(jobs.flatMap((job) => (job.startedAt === null ? [] : [job.startedAt])));
  const maxFinished = max(finished.map((job) => job.finishedAt));
  const acceptWindowS = (maxCreated - minCreated) / 1000;
  const busyWindowS = (maxFinished - minStarted) / 1000;
  const finishedWhileAccepting = finished.filter((job) => job.finishedAt <= maxCreated).length;
  const started = finished.filter((job) => job.startedAt !== null) as Array<JobTimes & { finishedAt: number; startedAt: number }>;
  return {
    jobs: jobs.length,
    completed: completed.length,
    failed: jobs.filter((job) => job.status === 'failed').length,
    unfinished: jobs.length - finished.length,
    acceptWindowS,
    busyWindowS,
    completedPerS: completed.length / busyWindowS,
    endToEndPerS: completed.length / ((maxFinished - minCreated) / 1000),
    completedWhileAcceptingPerS: acceptWindowS > 0 ? finishedWhileAccepting / acceptWindowS : Number.NaN,
    backlogAtAcceptEnd: jobs.length - finishedWhileAccepting,
    latencyMs: {
      enqueueToFinish: summarize(finished.map((job) => job.finishedAt - job.createdAt)),
      wait: summarize(started.map((job) => job.startedAt - job.createdAt)),
      run: summarize(started.map((job) => job.finishedAt - job.startedAt)),
    },
  };
}
