import type { Database } from './database.js';
import { schemaIdent } from './database.js';

export interface ThroughputBucket {
  /** Start of the bucket (ISO). */
  at: string;
  completed: number;
  failed: number;
  cancelled: number;
}

export interface Throughput {
  bucketSeconds: number;
  from: string;
  to: string;
  /** Every bucket of the range, oldest first, zeros included. */
  buckets: ThroughputBucket[];
}

/** Buckets per range: a chart of 60 points whatever the range. */
const BUCKETS = 60;

/**
 * Jobs that ended per bucket of time over the last `minutes`, from history's
 * `finished_at` (indexed), of one queue or of all. Buckets are aligned on the
 * clock, so two reads a moment apart agree on the buckets they share.
 */
export async function readThroughput(db: Database, schema: string, minutes: number, queue?: string, now = Date.now()): Promise<Throughput> {
  const bucketMs = Math.max(1, Math.round((minutes * 60) / BUCKETS)) * 1000;
  const to = Math.ceil(now / bucketMs) * bucketMs;
  const from = to - bucketMs * BUCKETS;
  const { rows } = await db.query<{ bucket: string | number; status: string; count: string | number }>(
    `SELECT floor(extract(epoch FROM finished_at) * 1000 / $3)::bigint AS bucket, status, count(*) AS count
       FROM ${schemaIdent(schema)}.jobs
      WHERE finished_at >= $1 AND finished_at < $2 AND status IN ('completed', 'failed', 'cancelled')
        AND ($4::text IS NULL OR queue = $4)
      GROUP BY 1, 2`,
    [new Date(from), new Date(to), bucketMs, queue ?? null],
  );
  const buckets: ThroughputBucket[] = Array.from({ length: BUCKETS }, (_, i) => ({
    at: new Date(from + i * bucketMs).toISOString(),
    completed: 0,
    failed: 0,
    cancelled: 0,
  }));
  for (const row of rows) {
    const bucket = buckets[Number(row.bucket) - from / bucketMs];
    if (bucket && (row.status === 'completed' || row.status === 'failed' || row.status === 'cancelled')) bucket[row.status] += Number(row.count);
  }
  return { bucketSeconds: bucketMs / 1000, from: new Date(from).toISOString(), to: new Date(to).toISOString(), buckets };
}
