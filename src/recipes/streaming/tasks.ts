// The streaming recipe's task (compute-pi is Taskyard's built-in). Loaded in
// sandbox threads: it must not import the recipe module, which brings Fastify.
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { defineTask } from '../../tasks/define-task.js';
import { scanChunks } from './analyse.js';
import { DocumentInput } from './document-input.js';

/**
 * Partials one job may write. Past it, matches are still counted in the result;
 * a log event says the stream stopped (a one-letter keyword in a 1 MiB text
 * would otherwise write hundreds of thousands of events).
 */
export const MAX_PARTIALS = 10_000;

/**
 * Finds keywords in a text chunk by chunk: one `partial` `{ keyword, snippet,
 * line, chunk }` per match, in text order, and `progress` (characters scanned
 * of the text's length) as it goes. The result counts the matches per keyword.
 */
export const documentAnalysis = defineTask({
  name: 'document-analysis',
  description: 'Scans a text for keywords in irregular chunks, streaming each match as a partial result',
  input: DocumentInput,
  async run({ text, keywords, chunkDelayMs, maxChunk }, ctx) {
    const counts = new Map(keywords.map((keyword) => [keyword, 0]));
    let matches = 0;
    let chunks = 0;
    for (const scan of scanChunks(text, keywords, { maxChunk })) {
      for (const match of scan.matches) {
        counts.set(match.keyword, (counts.get(match.keyword) ?? 0) + 1);
        if (matches < MAX_PARTIALS) ctx.partial(match);
        else if (matches === MAX_PARTIALS) ctx.log(`more than ${MAX_PARTIALS} matches: the rest are counted in the result, not streamed`);
        matches++;
      }
      chunks++;
      ctx.progress({ current: scan.end, total: text.length, message: `chunk ${chunks}, matches so far: ${matches}` });
      // Yield after every chunk so a cancel (ctx.signal) can arrive.
      if (chunkDelayMs > 0) await sleep(chunkDelayMs, undefined, { signal: ctx.signal });
      else await nextTurn();
      ctx.signal.throwIfAborted();
    }
    return { counts: Object.fromEntries(counts), matches, chunks };
  },
});
