// Makes each tagged track durable before the client hears of it: outcomes are
// written through the host in small batches, and a track's `partial` is sent
// only once its row is stored. So a partial always means "a re-run after a
// crash will not tag this track again".
import type { Remote, TaskContext } from '../../tasks/define-task.js';
import type { TrackEntry } from './rekordbox-scan.js';
import type { CacheKey, LibraryHost, Level, TrackOutcome } from './types.js';

/** A batch is written once it holds this many tracks… */
const BATCH_TRACKS = 100;
/** …or once its oldest track has waited this long (a slow tagger writes every track at once). */
const BATCH_WAIT_MS = 100;
/** Partials one job streams; past it a log line says so and the rest are only counted (as in the streaming recipe). */
export const MAX_PARTIALS = 10_000;

/** What a client receives for each track. */
export interface TrackPartial {
  index: number;
  trackId: string;
  artist: string;
  title: string;
  status: 'tagged' | 'untagged';
  tags?: TrackOutcome['tags'];
  cached: boolean;
  reason?: string;
}

export class TrackRecorder {
  private pending: Array<{ outcome: TrackOutcome; track: TrackEntry; key: CacheKey | null }> = [];
  private oldest = 0;
  private partials = 0;

  constructor(
    private readonly ctx: TaskContext,
    private readonly host: Remote<LibraryHost>,
    private readonly level: Exclude<Level, 'split'>,
    private readonly tagger: string,
    /** Every recorded outcome, by track index (an earlier run's included). */
    readonly recorded: Map<number, TrackOutcome>,
  ) {}

  /** Tracks tagged so far, written or about to be. */
  get count(): number {
    return this.recorded.size + this.pending.length;
  }

  async add(track: TrackEntry, outcome: TrackOutcome, key: CacheKey | null): Promise<void> {
    if (this.pending.length === 0) this.oldest = Date.now();
    this.pending.push({ outcome, track, key });
    if (this.pending.length >= BATCH_TRACKS || Date.now() - this.oldest >= BATCH_WAIT_MS) await this.flush();
  }

  async flush(): Promise<void> {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    await this.host.recordTracks(
      this.ctx.jobId,
      this.ctx.fencingToken,
      this.level,
      this.tagger,
      batch.map(({ outcome, key }) => ({ ...outcome, key: outcome.cached ? null : key })),
    );
    for (const { outcome, track } of batch) {
      this.recorded.set(outcome.index, outcome);
      if (this.partials < MAX_PARTIALS) this.ctx.partial(toPartial(track, outcome));
      else if (this.partials === MAX_PARTIALS) this.ctx.log(`more than ${MAX_PARTIALS} tracks: the rest are counted in the result, not streamed`);
      this.partials++;
    }
  }
}

function toPartial(track: TrackEntry, outcome: TrackOutcome): TrackPartial {
  const base = { index: track.index, trackId: track.trackId, artist: track.artist, title: track.title, cached: outcome.cached };
  return outcome.tags ? { ...base, status: 'tagged', tags: outcome.tags } : { ...base, status: 'untagged', reason: outcome.reason ?? 'not tagged' };
}
