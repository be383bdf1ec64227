// The dashboard's reads on a big history: GET /v1/jobs searches (filters, text,
// time ranges, pages), /v1/queues and /v1/stats/throughput, on 100,000 jobs
// written straight into history — then the text searches again without the
// trigram index, to show what it buys.
import { createTaskyard } from '../../src/taskyard.js';
import type { Scenario } from '../lib/scenario.js';
import { round, summarize } from '../lib/stats.js';
import { parseBackend, withStorage } from '../lib/storage.js';

const TASKS = ['send-email', 'resize-image', 'sync-account', 'render-report', 'charge-card'];

/** 100k-ish jobs over the last 7 days: ids time-ordered (UUIDv7 layout), 5 % failed with an error, inputs with a customer and a note. */
function seedSql(schema: string, count: number): string {
  return `
    INSERT INTO "${schema}".jobs (id, task, queue, status, input, error, max_attempts, attempts, last_seq, created_at, started_at, finished_at)
    SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(r, 1, 3) || '-8' || substr(r, 4, 3) || '-' || substr(r, 7, 12),
           (ARRAY[${TASKS.map((t) => `'${t}'`).join(',')}])[1 + i % ${TASKS.length}],
           CASE WHEN i % ${TASKS.length} = 0 THEN 'emails' ELSE 'default' END,
           CASE WHEN i % 20 = 0 THEN 'failed' WHEN i % 97 = 0 THEN 'cancelled' ELSE 'completed' END,
           jsonb_build_object('customer', 'cust-' || (i % 5000), 'note', 'order ' || i || ' for ' || md5(i::text)),
           CASE WHEN i % 20 = 0 THEN jsonb_build_object('code', 'TASKYARD_ERR_TASK_FAILED', 'message', 'connection reset by peer (' || i % 100 || ')') END,
           3, 1, 3, t, t, t + interval '2 seconds'
      FROM (SELECT i, t, lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') AS h, md5('r' || i) AS r
              FROM (SELECT i, now() - i * (interval '7 days' / ${count}) AS t FROM generate_series(1, ${count}) AS i) AS times) AS s`;
}

export const scenario: Scenario = {
  description: 'dashboard reads on a 100,000-job history: searches, filters, pages, counts, throughput (with and without the trigram index)',
  options: { backend: { type: 'string' }, jobs: { type: 'string' }, repeat: { type: 'string' } },
  usage: ['--backend pglite|postgres   (default pglite)', '--jobs N   jobs in history (default 100000)', '--repeat N   requests per query (default 30; --quick 5)'],
  async run({ quick, values, progress }) {
    const backend = parseBackend(values.backend);
    if (backend === 'redis') throw new Error('--backend: history is PostgreSQL or PGlite; redis adds nothing here');
    const count = Number(values.jobs ?? 100_000);
    const repeat = Number(values.repeat ?? (quick ? 5 : 30));
    return withStorage(backend, async (storage) => {
      const taskyard = createTaskyard({ ...storage, port: 0, logLevel: 'warn', env: false, recipes: [] });
      await taskyard.start();
      try {
        const { db, schema } = taskyard.deps.store;
        const seeding = progress.phase(`seed ${count.toLocaleString('en')} jobs (${backend})`);
        await db.query(seedSql(schema, count));
        await db.query(`ANALYZE "${schema}".jobs`);
        seeding.done();
        const base = taskyard.url!;
        const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString();
        const queries: Array<[string, string]> = [
          ['newest page (20)', '/v1/jobs'],
          ['status=failed', '/v1/jobs?status=failed'],
          ['task + status', '/v1/jobs?task=charge-card&status=cancelled'],
          ['queue=emails (50 a page)', '/v1/jobs?queue=emails&limit=50'],
          ['time range (1 h, 3 days ago)', `/v1/jobs?from=${day(3)}&to=${new Date(Date.parse(day(3)) + 3_600_000).toISOString()}`],
          ['q: rare (20 matches)', '/v1/jobs?q=cust-4242'],
          ['q: in errors (1 in 100)', '/v1/jobs?q=reset%20by%20peer%20(40)'],
          ['q: no match', '/v1/jobs?q=zz-no-such-text'],
          ['q + status + time range', `/v1/jobs?q=cust-17&status=completed&from=${day(6)}&to=${day(1)}`],
          ['GET /v1/queues (counts)', '/v1/queues'],
          ['GET /v1/stats/throughput', '/v1/stats/throughput?minutes=15'],
        ];
        type Measured = { label: string; matches: number; ms: ReturnType<typeof summarize> };
        const measure = async (label: string, path: string): Promise<Measured> => {
          const times: number[] = [];
          let matches = 0;
          for (let i = 0; i < repeat; i++) {
            const started = performance.now();
            const res = await fetch(`${base}${path}`);
            const body = (await res.json()) as { jobs?: unknown[] };
            times.push(performance.now() - started);
            if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(body)}`);
            matches = body.jobs?.length ?? 0;
          }
          return { label, matches, ms: summarize(times) };
        };
        const phase = progress.phase(`${queries.length} queries × ${repeat}`);
        const indexed: Measured[] = [];
        for (const [label, path] of queries) {
          indexed.push(await measure(label, path));
          phase.update(label);
        }
        phase.done();
        const textQueries = queries.filter(([, path]) => path.includes('q='));
        await db.query(`DROP INDEX IF EXISTS "${schema}".jobs_search_idx`);
        const plain: Measured[] = [];
        for (const [label, path] of textQueries) plain.push(await measure(label, path));
        const row = (r: Measured) => [r.label, r.matches, round(r.ms.p50, 2), round(r.ms.p95, 2)];
        return {
          tables: [
            { title: `dashboard reads on ${count.toLocaleString('en')} jobs, ${backend}, ${repeat} requests each (over HTTP, one at a time)`, columns: ['query', 'rows', 'p50 ms', 'p95 ms'], rows: indexed.map(row) },
            {
              title: 'text searches without the trigram index (jobs_search_idx dropped)',
              columns: ['query', 'rows', 'p50 ms', 'p95 ms', 'indexed p50 ms'],
              rows: plain.map((r, i) => [...row(r), round(indexed.find((x) => x.label === textQueries[i]![0])!.ms.p50, 2)]),
            },
          ],
          data: { backend, count, repeat, indexed, unindexed: plain },
        };
      } finally {
        await taskyard.stop();
      }
    });
  },
};
