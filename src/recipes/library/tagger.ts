// Which tagger a job uses, and how its answers are keyed in the tag cache.
// Pure (task side): the LLM call runs in the sandbox thread, under ctx.signal.
import { llmTaggerId, llmTags, type TagAttempt } from './llm-tagger.js';
import type { TrackEntry } from './rekordbox-scan.js';
import { ruleTags } from './rules-tagger.js';
import type { CacheKey, Level, LlmSettings } from './types.js';

export interface Tagger {
  /** Names the tagger in the cache (`rules`, `llm:<model>`): one tagger's tags are never served for another's. */
  readonly id: string;
  tag(track: TrackEntry, level: Level, signal: AbortSignal): Promise<TagAttempt>;
}

export const rulesTagger: Tagger = {
  id: 'rules',
  tag: async (track, level) => ({ ok: true, tags: ruleTags(track, level) }),
};

export function taggerFor(llm: LlmSettings | null): Tagger {
  if (!llm) return rulesTagger;
  return { id: llmTaggerId(llm), tag: (track, level, signal) => llmTags(llm, track, level, signal) };
}

/** split is tagged like detailed: the two share cached tags. */
export const cacheLevel = (level: Level): Exclude<Level, 'split'> => (level === 'split' ? 'detailed' : level);

/** A track's cache key: artist and title in one canonical form (case, Unicode composition, spacing); none without a title. */
export function cacheKey(track: Pick<TrackEntry, 'artist' | 'title'>): CacheKey | null {
  const norm = (text: string): string => text.normalize('NFKC').toLocaleLowerCase('en').replace(/\s+/g, ' ').trim();
  const key = { artist: norm(track.artist), title: norm(track.title) };
  return key.title === '' ? null : key;
}
