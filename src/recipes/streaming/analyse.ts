// The document-analysis scanner, free of Taskyard: plain functions over a
// string, so the unit tests can check every boundary case directly.

/** One keyword found in the text, as the task streams it (a `partial`). */
export interface KeywordMatch {
  keyword: string;
  /** Up to 30 characters either side of the match, clipped to the text. */
  snippet: string;
  /** 1-based line of the match's first character. */
  line: number;
  /** Index (from 0) of the chunk the match starts in. */
  chunk: number;
}

/** What one chunk of the scan found. */
export interface ChunkScan {
  chunk: number;
  /** Characters (UTF-16 code units) scanned so far: the chunk's end offset. */
  end: number;
  /** In text order; matches starting at the same place in the order of the keywords. */
  matches: KeywordMatch[];
}

export interface ScanOptions {
  /** Largest chunk, in characters; chunks are between a quarter of it and all of it. @defaultValue 2048 */
  maxChunk?: number;
}

export const DEFAULT_MAX_CHUNK = 2048;
const SNIPPET_RADIUS = 30;

/**
 * Where each chunk ends. Sizes are irregular (as reads from a network or a disk
 * would be) but drawn from a generator seeded with the text, so the same
 * document always splits the same way and results are reproducible.
 */
export function chunkEnds(text: string, maxChunk = DEFAULT_MAX_CHUNK): number[] {
  const random = mulberry32(fnv1a(text));
  const min = Math.max(1, Math.floor(maxChunk / 4));
  const ends: number[] = [];
  for (let end = 0; end < text.length; ) {
    end = Math.min(text.length, end + min + Math.floor(random() * (maxChunk - min + 1)));
    ends.push(end);
  }
  return ends;
}

/**
 * Scans `text` chunk by chunk for every keyword: case-insensitive (Unicode
 * simple case folding), anywhere in a word ("stream" is found in "Streaming"),
 * occurrences of one keyword not overlapping. A match belongs to the chunk it
 * starts in, even when it runs into the next one.
 */
export function* scanChunks(text: string, keywords: readonly string[], options: ScanOptions = {}): Generator<ChunkScan> {
  const patterns = keywords.map((keyword) => new RegExp(escapeRegExp(keyword), 'giu'));
  const overlap = Math.max(0, ...keywords.map((keyword) => keyword.length - 1));
  // Per keyword, where its next search may begin: a match that ran past the end
  // of its chunk must not be found again (in part) by the next one.
  const resumeAt = keywords.map(() => 0);
  const lineOf = lineCounter(text);
  let start = 0;
  let chunk = 0;
  for (const end of chunkEnds(text, options.maxChunk)) {
    // The window reaches one keyword's length into the next chunk, so a match
    // that straddles the boundary is seen whole, and by this chunk only.
    const window = text.slice(start, Math.min(text.length, end + overlap));
    const found: Array<{ index: number; order: number }> = [];
    patterns.forEach((pattern, order) => {
      pattern.lastIndex = Math.max(0, resumeAt[order]! - start);
      for (let m = pattern.exec(window); m && start + m.index < end; m = pattern.exec(window)) {
        found.push({ index: start + m.index, order });
        resumeAt[order] = start + m.index + m[0].length;
      }
    });
    found.sort((a, b) => a.index - b.index || a.order - b.order);
    const matches = found.map(({ index, order }): KeywordMatch => {
      const keyword = keywords[order]!;
      return { keyword, snippet: snippetAt(text, index, keyword.length), line: lineOf(index), chunk };
    });
    yield { chunk, end, matches };
    start = end;
    chunk++;
  }
}

/** The match with up to 30 characters either side, never cutting a surrogate pair (PostgreSQL refuses a lone one in jsonb). */
export function snippetAt(text: string, index: number, length: number): string {
  let from = Math.max(0, index - SNIPPET_RADIUS);
  let to = Math.min(text.length, index + length + SNIPPET_RADIUS);
  if (from > 0 && isLowSurrogate(text.charCodeAt(from))) from--;
  if (to < text.length && isLowSurrogate(text.charCodeAt(to))) to++;
  return text.slice(from, to);
}

/** Line numbers for ascending offsets, counting each newline once over the whole scan. */
function lineCounter(text: string): (index: number) => number {
  let line = 1;
  let counted = 0;
  return (index) => {
    for (let nl = text.indexOf('\n', counted); nl !== -1 && nl < index; nl = text.indexOf('\n', nl + 1)) line++;
    counted = Math.max(counted, index);
    return line;
  };
}

const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** FNV-1a over the UTF-16 code units: a cheap, stable seed. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** A small seeded generator of floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
