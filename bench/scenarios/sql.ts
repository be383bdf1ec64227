// Where the embedded database's time goes, per job: every statement that
// reaches PGlite, counted and timed. Taskyard runs in this process (the
// statements are counted by wrapping the PGlite adapter), so its throughput
// here is indicative only; `core` is the scenario for throughput.
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PglitePool } from '../../src/engine/pglite-pool.js';
import { createTaskyard } from '../../src/taskyard.js';
import { TASK } from '../lib/core-report.js';
import { waitUntilDrained } from '../lib/jobs-api.js';
import { burst } from '../lib/load.js';
import type { Scenario } from '../lib/scenario.js';
import { round } from '../lib/stats.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface StatementStats {
  count: number;
  ms: number;
}

/** One key per statement shape: comments and whitespace folded, cut to a readable length. */
const shape = (sql: string): string => sql.replace(/--[^\n]*/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 72);

function countStatements(): { stats: Map<string, StatementStats>; counting: { on: boolean } } {
  const stats = new Map<string, StatementStats>();
  const counting = { on: false };
  const run = PglitePool.prototype.run;
  PglitePool.prototype.run = async function timedRun<R>(this: PglitePool, text: string, params?: readonly unknown[]) {
    const t0 = performance.now();
    try {
      return await run.call<PglitePool, [string, (readonly unknown[] | undefined)?], Promise<{ rows: R[]; rowCount: number | null }>>(this, text, params);
    } finally {
      if (counting.on) {
        const entry = stats.get(shape(text)) ?? { count: 0, ms: 0 };
        entry.count++;
        entry.ms += performance.now() - t0;
        stats.set(shape(text), entry);
      }
    }
  } as typeof run;
  return { stats, counting };
}

/**
 * An experiment, not a setting: overrides the `removeOnComplete` Taskyard's
 * engine passes to BullMQ, through BullMQ's Queue prototype (src/ is untouched).
 */
function overrideRemoveOnComplete(value: unknown): void {
  const { Queue } = createRequire(path.join(ROOT, 'package.json'))('bullmq') as {
    Queue: { prototype: { add: (name: string, data: unknown, opts?: Record<string, unknown>) => Promise<unknown> } };
  };
  const add = Queue.prototype.add;
  Queue.prototype.add = function addWithRetention(this: unknown, name, data, opts) {
    return add.call(this, name, data, { ...opts, removeOnComplete: value });
  };
}

export const scenario: Scenario = {
  description: 'SQL statements per job on embedded PGlite: count and time of each (in-process, indicative throughput)',
  options: {
    jobs: { type: 'string' },
    'data-dir': { type: 'string' },
    'bullmq-remove-on-complete': { type: 'string' },
  },
  usage: [
    '--jobs 3000                  jobs measured (after 200 of warm-up; --quick: 500)',
    '--data-dir memory://         PGlite data dir (default: a fresh temporary folder)',
    "--bullmq-remove-on-complete true   experiment: override BullMQ's removeOnComplete (JSON)",
  ],
  async run({ quick, values, progress }) {
    const jobs = values.jobs === undefined ? (quick ? 500 : 3000) : Number(values.jobs);
    const retention = values['bullmq-remove-on-complete'];
    if (typeof retention === 'string') overrideRemoveOnComplete(JSON.parse(retention));
    const { stats, counting } = countStatements();
    const tmp = values['data-dir'] === undefined ? await mkdtemp(path.join(os.tmpdir(), 'taskyard-bench-sql-')) : undefined;
    const dataDir = tmp ?? String(values['data-dir']);
    const taskyard = createTaskyard({
      port: 0,
      logLevel: 'warn',
      env: false,
      builtins: false,
      dataDir,
      tasks: [fileURLToPath(new URL('../tasks.ts', import.meta.url))],
    });
    try {
      await taskyard.start();
      const base = taskyard.url!;
      const batch = async (label: string, amount: number): Promise<number> => {
        const line = progress.phase(label);
        const t0 = performance.now();
        await burst({ url: `${base}/v1/tasks/${TASK}/jobs`, body: { input: {} }, connections: 50, amount });
        await waitUntilDrained(base, TASK, { timeoutMs: 600_000, pollMs: 50, onPoll: (left) => line.update(`${left.count}${left.capped ? '+' : ''} unfinished`) });
        const wallMs = performance.now() - t0;
        line.done(`${amount} jobs in ${round(wallMs / 1000, 2)} s`);
        return wallMs;
      };
      await batch('[sql] warm-up, 200 jobs', 200);
      counting.on = true;
      const wallMs = await batch(`[sql] ${jobs} jobs, every statement counted`, jobs);
      counting.on = false;

      const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
      const totalMs = rows.reduce((sum, [, entry]) => sum + entry.ms, 0);
      const totalCount = rows.reduce((sum, [, entry]) => sum + entry.count, 0);
      const summary = {
        jobs,
        dataDir: tmp ? 'fresh temporary folder' : dataDir,
        bullmqRemoveOnComplete: retention ?? "Taskyard's own ({ count: 1000 })",
        jobsPerS: round(jobs / (wallMs / 1000)),
        statementsPerJob: round(totalCount / jobs, 2),
        sqlMsPerJob: round(totalMs / jobs, 2),
        wallMsPerJob: round(wallMs / jobs, 2),
      };
      return {
        tables: [
          {
            title: `Statements reaching PGlite per job — ${jobs} jobs of ${TASK}, 50 connections (in-process)`,
            columns: ['per job', 'avg ms', 'total ms', 'share', 'statement'],
            rows: rows
              .filter(([, entry]) => entry.count / jobs >= 0.01)
              .map(([sql, entry]) => [round(entry.count / jobs, 2), round(entry.ms / entry.count, 2), Math.round(entry.ms), `${round((entry.ms / totalMs) * 100)}%`, sql]),
            notes: [
              `${summary.statementsPerJob} statements and ${summary.sqlMsPerJob} ms of database time per job, of ${summary.wallMsPerJob} ms wall per job (${summary.jobsPerS} jobs/s in-process).`,
              'Times include PGlite’s JavaScript (protocol encode/parse), not time waiting for the session lock.',
              `BullMQ removeOnComplete: ${summary.bullmqRemoveOnComplete}.`,
            ],
          },
        ],
        data: { summary, statements: rows.map(([sql, entry]) => ({ sql, count: entry.count, ms: round(entry.ms) })) },
      };
    } finally {
      await taskyard.stop();
      if (tmp) await rm(tmp, { recursive: true, force: true });
    }
  },
};
