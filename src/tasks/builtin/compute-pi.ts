import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineTask } from '../define-task.js';
import { piDigits } from './pi-digits.js';

/**
 * π to `digits` digits (the leading 3 is digit 1). Each digit is streamed as a
 * partial `{ position, digit }`; the result is the digit string, e.g. "31415".
 */
export const computePi = defineTask({
  name: 'compute-pi',
  description: 'Computes digits of π, streaming each digit as a partial result',
  input: z.object({
    digits: z.number().int().min(1).max(5000),
    /** Pause after each digit, to watch the stream in a demo. */
    delayMs: z.number().int().min(0).max(1000).default(0),
  }),
  async run({ digits, delayMs }, ctx) {
    let result = '';
    let position = 0;
    for (const digit of piDigits(digits)) {
      position++;
      result += String(digit);
      ctx.partial({ position, digit });
      if (position % 50 === 0 || position === digits) {
        ctx.progress({ current: position, total: digits });
      }
      // Yield now and then so a cancel (ctx.signal) can arrive.
      if (delayMs > 0) await sleep(delayMs, undefined, { signal: ctx.signal });
      else if (position % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      ctx.signal.throwIfAborted();
    }
    return result;
  },
});
