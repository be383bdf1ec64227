// Taskyard's side of a completed-jobs/s measurement: a batch POSTed to the API
// while the queue is paused, then the queue resumed and timed until every job
// is finished in history. Used by `redis` and `overhead`.
import pg from 'pg';
import { jobsAfter, newestJobId, unfinished } from './jobs-api.js';
import { burst } from './load.js';
import type { PhaseLine } from './progress.js';
import { settle } from './processes.js';

/** Which jobs a batch is: created after this mark. */
type Mark = { kind: 'time'; at: Date } | { kind: 'id'; after: string };

/** Jobs of a batch, by outcome, and its times (ms since the epoch, the database's clock). */
export interface HistoryCounts {
  total: number;
  completed: number;
  failed: number;
  finished: number;
  /** The last job's `finishedAt`: when its worker was done. */
  lastFinished: number;
  /** When the last finished job's row was written (on Redis the projector's commit; elsewhere = lastFinished). */
  lastStored: number;
}

/** How the harness reads history: SQL when it is in PostgreSQL, the HTTP API when it is inside the server (PGlite). */
export interface HistoryProbe {
  mark(): Promise<Mark>;
  counts(mark: Mark): Promise<HistoryCounts>;
  /** How many of the batch are finished (approximate while many are left); cheaper than counts(). */
  finished(mark: Mark, jobs: number): Promise<number>;
  pollMs: number;
  close(): Promise<void>;
}

export async function sqlProbe(databaseUrl: string, schema: string): Promise<HistoryProbe> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const counts = async (mark: Mark): Promise<HistoryCounts> => {
    if (mark.kind !== 'time') throw new Error('sqlProbe: a time mark expected');
    const { rows } = await client.query<{ total: string; completed: string; failed: string; finished: string; last_finished: Date | null; last_stored: Date | null }>(
      `SELECT count(*) AS total,
              count(*) FILTER (WHERE status = 'completed') AS completed,
              count(*) FILTER (WHERE status IN ('failed', 'cancelled')) AS failed,
              count(*) FILTER (WHERE finished_at IS NOT NULL) AS finished,
              max(finished_at) AS last_finished,
              max(updated_at) FILTER (WHERE finished_at IS NOT NULL) AS last_stored
         FROM "${schema}".jobs WHERE created_at >= $1`,
      [mark.at],
    );
    const row = rows[0]!;
    return {
      total: Number(row.total),
      completed: Number(row.completed),
      failed: Number(row.failed),
      finished: Number(row.finished),
      lastFinished: row.last_finished?.getTime() ?? Number.NaN,
      lastStored: row.last_stored?.getTime() ?? Number.NaN,
    };
  };
  return {
    mark: async () => ({ kind: 'time', at: (await client.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0]!.now }),
    counts,
    finished: async (mark) => (await counts(mark)).finished,
    pollMs: 50,
    close: () => client.end(),
  };
}

/** Through `GET /v1/jobs` (jobs-api.ts): each job is in history before its 202, so none unfinished means all done. */
export function httpProbe(apiUrl: string, task: string): HistoryProbe {
  return {
    mark: async () => ({ kind: 'id', after: await newestJobId(apiUrl, task) }),
    counts: async (mark) => {
      if (mark.kind !== 'id') throw new Error('httpProbe: an id mark expected');
      const jobs = await jobsAfter(apiUrl, task, mark.after);
      const finishedAt = jobs.flatMap((job) => (job.finishedAt === null ? [] : [job.finishedAt]));
      const last = finishedAt.length ? Math.max(...finishedAt) : Number.NaN;
      return {
        total: jobs.length,
        completed: jobs.filter((job) => job.status === 'completed').length,
        failed: jobs.filter((job) => job.status === 'failed' || job.status === 'cancelled').length,
        finished: finishedAt.length,
        lastFinished: last,
        lastStored: last,
      };
    },
    finished: async (_mark, jobs) => jobs - (await unfinished(apiUrl, task)).count,
    // Each poll is three requests to the server under test: not too often.
    pollMs: 250,
    close: async () => undefined,
  };
}

export interface TaskyardBatchTimes {
  counts: HistoryCounts;
  /** When the queue was resumed (ms since the epoch). */
  resumedAt: number;
  /** Resume → the last job stored in history. */
  seconds: number;
  completedPerS: number;
  /** Resume → the last job's finishedAt: the workers alone. */
  workerSeconds: number;
  workerCompletedPerS: number;
}

/** Batches of `task` through one API process, whose queue `queue` it pauses and resumes over HTTP. */
export class TaskyardBatches {
  constructor(
    private readonly apiUrl: string,
    private readonly probe: HistoryProbe,
    private readonly options: { task: string; queue: string; enqueueConnections: number; timeoutMs: number },
  ) {}

  private async queueAction(action: 'pause' | 'resume'): Promise<void> {
    const response = await fetch(`${this.apiUrl}/v1/queues/${this.options.queue}/${action}`, { method: 'POST' });
    if (response.status !== 200) throw new Error(`POST /v1/queues/${this.options.queue}/${action}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer().catch(() => undefined);
  }

  /** Pauses the queue and POSTs `jobs` (not timed as throughput); returns the batch's mark and how fast it went in. */
  async enqueue(jobs: number): Promise<{ mark: Mark; perS: number }> {
    await this.queueAction('pause');
    const mark = await this.probe.mark();
    const t0 = performance.now();
    const url = `${this.apiUrl}/v1/tasks/${this.options.task}/jobs`;
    const sent = await burst({ url, body: { input: {} }, amount: jobs, connections: this.options.enqueueConnections });
    if (sent.failed > 0) throw new Error(`${sent.failed} of ${jobs} POSTs were not accepted`);
    return { mark, perS: jobs / ((performance.now() - t0) / 1000) };
  }

  /** Resumes the queue and waits until every job of the batch is finished in history; returns the resume time. */
  async drain(mark: Mark, jobs: number, onPoll: (finished: number) => void): Promise<number> {
    const t0 = Date.now();
    await this.queueAction('resume');
    for (;;) {
      const finished = await this.probe.finished(mark, jobs);
      onPoll(finished);
      if (finished >= jobs) return t0;
      if (Date.now() - t0 > this.options.timeoutMs) throw new Error(`${jobs - finished} of ${jobs} jobs not finished within ${this.options.timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, this.probe.pollMs));
    }
  }

  /** The batch's figures from history, timed from `resumedAt` (what drain() returned). */
  async times(mark: Mark, resumedAt: number): Promise<TaskyardBatchTimes> {
    const counts = await this.probe.counts(mark);
    const seconds = (counts.lastStored - resumedAt) / 1000;
    const workerSeconds = (counts.lastFinished - resumedAt) / 1000;
    return { counts, resumedAt, seconds, completedPerS: counts.completed / seconds, workerSeconds, workerCompletedPerS: counts.completed / workerSeconds };
  }

  /**
   * Starts the sandbox threads (one per slot): a batch, then until the worker
   * process is idle again (piscina goes on starting the threads it asked for
   * after the jobs are done), then a second batch so the first threads have not
   * sat idle since. Returns the seconds from the first resume to idle.
   */
  async warmUp(jobs: number, workerPid: number, line: PhaseLine): Promise<number> {
    const first = await this.enqueue(jobs);
    const t0 = await this.drain(first.mark, jobs, (finished) => line.update(`${finished}/${jobs} finished`, finished / jobs));
    await settle(workerPid, 120, (cores) => line.update(`jobs done; the worker still uses ${cores.toFixed(2)} cores`));
    const warmupS = (Date.now() - t0) / 1000;
    const second = await this.enqueue(jobs);
    await this.drain(second.mark, jobs, (finished) => line.update(`second round: ${finished}/${jobs} finished`, finished / jobs));
    return warmupS;
  }
}
