import type { Database } from '../../history/database.js';
import { schemaIdent } from '../../history/database.js';
import { Tags, type CacheKey, type Level, type TrackOutcome } from './types.js';

type CacheLevel = Exclude<Level, 'split'>;

interface JobTrackRow {
  track_index: number;
  tags: unknown;
  cached: boolean;
  reason: string | null;
}

/**
 * The library recipe's tables, in its schema: the tag cache and each running
 * job's per-track progress. Lists travel as one JSON parameter
 * (`jsonb_to_recordset`), which PostgreSQL and PGlite read alike.
 */
export class LibraryStore {
  private readonly s: string;

  constructor(
    private readonly db: Database,
    schema: string,
  ) {
    this.s = schemaIdent(schema);
  }

  async doneTracks(jobId: string): Promise<TrackOutcome[]> {
    const { rows } = await this.db.query<JobTrackRow>(
      `SELECT track_index, tags, cached, reason FROM ${this.s}.job_tracks WHERE job_id = $1 ORDER BY track_index`,
      [jobId],
    );
    return rows.map((row) => {
      const tags = row.tags === null ? null : Tags.parse(row.tags);
      return { index: Number(row.track_index), tags, cached: row.cached, ...(row.reason === null ? {} : { reason: row.reason }) };
    });
  }

  async cachedTags(level: CacheLevel, tagger: string, keys: readonly CacheKey[]): Promise<Array<Tags | null>> {
    if (keys.length === 0) return [];
    // One primary-key lookup per key. A plain join lets the planner, which cannot
    // size the JSON list and may hold stale statistics on a fresh table, pick a
    // nested loop over the whole cache: seconds for 5,000 tracks instead of milliseconds.
    const { rows } = await this.db.query<{ i: number; tags: unknown }>(
      `SELECT k.i, c.tags
       FROM jsonb_to_recordset($3::jsonb) AS k(i integer, artist text, title text)
       CROSS JOIN LATERAL (
         SELECT tags FROM ${this.s}.tag_cache
         WHERE artist_norm = k.artist AND title_norm = k.title AND level = $1 AND tagger = $2
         LIMIT 1
       ) c`,
      [level, tagger, JSON.stringify(keys.map((key, i) => ({ i, ...key })))],
    );
    const found: Array<Tags | null> = keys.map(() => null);
    for (const row of rows) {
      // What comes back from a cache is input like any other: a row that no longer parses is a miss.
      const tags = Tags.safeParse(row.tags);
      if (tags.success) found[Number(row.i)] = tags.data;
    }
    return found;
  }

  /**
   * Stores the outcomes and, in the same statement, caches freshly computed
   * tags. A row written by a newer run of the job (a larger fence) is kept.
   */
  async recordTracks(jobId: string, fence: number, level: CacheLevel, tagger: string, outcomes: ReadonlyArray<TrackOutcome & { key: CacheKey | null }>): Promise<void> {
    if (outcomes.length === 0) return;
    const rows = outcomes.map((o) => ({ i: o.index, tags: o.tags, cached: o.cached, reason: o.reason ?? null, artist: o.key?.artist ?? null, title: o.key?.title ?? null }));
    await this.db.query(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($3::jsonb) AS r(i integer, tags jsonb, cached boolean, reason text, artist text, title text)
       ), tracks AS (
         INSERT INTO ${this.s}.job_tracks AS t (job_id, track_index, fence, tags, cached, reason)
         SELECT $1, i, $2, tags, cached, reason FROM input
         ON CONFLICT (job_id, track_index) DO UPDATE
           SET fence = EXCLUDED.fence, tags = EXCLUDED.tags, cached = EXCLUDED.cached, reason = EXCLUDED.reason, recorded_at = now()
           WHERE t.fence <= EXCLUDED.fence
       )
       INSERT INTO ${this.s}.tag_cache (artist_norm, title_norm, level, tagger, tags)
       SELECT DISTINCT ON (artist, title) artist, title, $4, $5, tags FROM input
       WHERE tags IS NOT NULL AND NOT cached AND artist IS NOT NULL AND title IS NOT NULL
       ON CONFLICT DO NOTHING`,
      [jobId, fence, JSON.stringify(rows), level, tagger],
    );
  }

  async forgetJob(jobId: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.s}.job_tracks WHERE job_id = $1`, [jobId]);
  }
}
