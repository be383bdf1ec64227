// Tasks of your own: export what defineTask returns, then
//   npx taskyard start --tasks ./examples/my-tasks.ts
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineTask, PermanentError } from 'taskyard';

/** Counts words, reporting progress per line and each long word as a partial result. */
export const wordCount = defineTask({
  name: 'word-count',
  description: 'Counts the words of a text',
  input: z.object({
    text: z.string().min(1).max(100_000),
    longWord: z.number().int().min(2).default(12),
  }),
  retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 500 } },
  timeoutMs: 60_000,
  async run({ text, longWord }, ctx) {
    const lines = text.split('\n');
    let words = 0;
    for (const [index, line] of lines.entries()) {
      ctx.signal.throwIfAborted(); // cancel and the soft time limit arrive here
      for (const word of line.split(/\s+/).filter(Boolean)) {
        words++;
        if (word.length >= longWord) ctx.partial({ line: index + 1, word });
      }
      ctx.progress({ current: index + 1, total: lines.length, message: `line ${index + 1}` });
      await sleep(10, undefined, { signal: ctx.signal });
    }
    if (words === 0) throw new PermanentError('the text has no words'); // no retry: it never will
    return { words, lines: lines.length };
  },
});
