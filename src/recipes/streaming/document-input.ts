// What document-analysis accepts: one schema for the task and for
// POST /streaming/documents, so the route refuses what the task would.
import { z } from 'zod';
import { DEFAULT_MAX_CHUNK } from './analyse.js';

/** Largest document: 1 MiB of text (as characters in JSON, as bytes for an upload). */
export const MAX_TEXT_BYTES = 1024 * 1024;
export const MAX_KEYWORDS = 50;
export const MAX_KEYWORD_LENGTH = 100;

// A lone surrogate cannot be stored in jsonb, and would come back in snippets.
const wellFormed = (text: string): boolean => !/\p{Surrogate}/u.test(text);

const Keyword = z
  .string()
  .min(1)
  .max(MAX_KEYWORD_LENGTH)
  .refine(wellFormed, 'must be well-formed Unicode (no lone surrogate)');

export const DocumentInput = z.strictObject({
  text: z
    .string()
    .min(1)
    .max(MAX_TEXT_BYTES)
    .refine((text) => !text.includes('\u0000'), 'must be text: it contains the NUL character')
    .refine(wellFormed, 'must be well-formed Unicode (no lone surrogate)'),
  keywords: z
    .array(Keyword)
    .min(1)
    .max(MAX_KEYWORDS)
    // Matching ignores case, so "Queue" and "queue" would count the same matches twice.
    .refine((keywords) => new Set(keywords.map((k) => k.toLowerCase())).size === keywords.length, 'must differ from each other (ignoring case)'),
  /** Pause after each chunk, to watch the stream in a demo. */
  chunkDelayMs: z.number().int().min(0).max(1000).default(0),
  /** Largest chunk in characters; small values force many chunk boundaries (tests). */
  maxChunk: z.number().int().min(16).max(65_536).default(DEFAULT_MAX_CHUNK),
});

export type DocumentInput = z.output<typeof DocumentInput>;
