// Shared by the library recipe's routes (main thread) and its task (sandbox
// thread): the task's input, the tags, and the functions the worker hosts.
import { z } from 'zod';

export const LIBRARY_HOST = 'library';
export const TAG_TASK = 'library-tag';

/** quick: energy + mood; detailed: + era + situation; split: detailed, plus one library per genre. */
export const LEVELS = ['quick', 'detailed', 'split'] as const;
export type Level = (typeof LEVELS)[number];

export const ENERGIES = ['low', 'medium', 'high'] as const;
export const MOODS = ['dark', 'bright', 'neutral'] as const;
export const SITUATIONS = ['warm-up', 'peak-time', 'after-hours', 'lounge', 'party'] as const;
/** A decade ("1990s") or "unknown" when the track has no year. */
export const ERA = /^(\d{3}0s|unknown)$/;

/** What a tagger says about one track (era and situation only at the detailed level). */
export const Tags = z.strictObject({
  energy: z.enum(ENERGIES),
  mood: z.enum(MOODS),
  era: z.string().regex(ERA).optional(),
  situation: z.enum(SITUATIONS).optional(),
});
export type Tags = z.infer<typeof Tags>;

/** The form's `config` field. */
export const LibraryConfig = z.strictObject({
  level: z.enum(LEVELS).default('quick'),
  /** A pause after each track, to watch a job (or cancel one) in a demo or a test. */
  trackDelayMs: z.number().int().min(0).max(5000).default(0),
});

export const LibraryTagInput = z.strictObject({
  /** The upload (`ctx.files.putUpload`) holding the library's bytes. */
  uploadId: z.string().regex(/^[0-9a-f-]{36}$/, 'an upload id'),
  /** As uploaded, already sanitised: artifacts are named after it. */
  fileName: z.string().min(1).max(500),
  level: z.enum(LEVELS).default('quick'),
  displayName: z.string().max(600).default('library tagging'),
  trackDelayMs: z.number().int().min(0).max(5000).default(0),
});
export type LibraryTagInput = z.output<typeof LibraryTagInput>;

/** One track's outcome, as stored in `job_tracks` and streamed as a partial. */
export interface TrackOutcome {
  index: number;
  /** null: the tagger gave up on this track; it is left as it was. */
  tags: Tags | null;
  /** Whether the tags came from the cache (computed earlier for the same artist + title). */
  cached: boolean;
  /** Why the track is untagged. */
  reason?: string;
}

/** Where an OpenAI-compatible chat-completions tagger is, read from the environment at start. */
export interface LlmSettings {
  url: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
  attempts: number;
  retryDelayMs: number;
}

/** The key of the tag cache: a normalised artist and title, per level and tagger. */
export interface CacheKey {
  artist: string;
  title: string;
}

/** The functions `library-tag` calls in the worker process (`ctx.host('library')`). */
export interface LibraryHost {
  /** The uploaded library (refused if it belongs to another job) and the tagger to use. */
  open(uploadId: string, jobId: string): Promise<{ data: Uint8Array; llm: LlmSettings | null }>;
  /** Tracks an earlier run of this job already tagged. */
  doneTracks(jobId: string): Promise<TrackOutcome[]>;
  /** Cached tags for each key, in order (null: not cached). */
  cachedTags(level: Exclude<Level, 'split'>, tagger: string, keys: CacheKey[]): Promise<Array<Tags | null>>;
  /** Records outcomes (and caches fresh tags), unless a newer run of the job (a larger fence) wrote them. */
  recordTracks(jobId: string, fence: number, level: Exclude<Level, 'split'>, tagger: string, rows: Array<TrackOutcome & { key: CacheKey | null }>): Promise<void>;
  /** Drops the job's progress rows once its artifacts hold everything. */
  forgetJob(jobId: string): Promise<void>;
}
