// The library recipe's settings, read from the environment once when the
// recipe starts; a bad value stops start-up naming the variable.
import { z } from 'zod';
import { TaskyardError } from '../../errors.js';
import type { LlmSettings } from './types.js';

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const Env = z.object({
  /** Largest library upload, in bytes. @defaultValue 20 MiB */
  LIBRARY_MAX_UPLOAD_BYTES: integer(1024, 64 * 1024 * 1024).default(20 * 1024 * 1024),
  /** Base URL of an OpenAI-compatible API (`…/v1`); with TAGGER_MODEL, tracks are tagged by that model instead of the rules. */
  TAGGER_URL: z.url({ protocol: /^https?$/ }).optional(),
  TAGGER_MODEL: z.string().min(1).max(200).optional(),
  /** Sent as `Authorization: Bearer …` when set. */
  TAGGER_API_KEY: z.string().min(1).optional(),
  /** Per call. @defaultValue 10000 */
  TAGGER_TIMEOUT_MS: integer(100, 600_000).default(10_000),
  /** Calls per track before it is left untagged. @defaultValue 3 */
  TAGGER_ATTEMPTS: integer(1, 10).default(3),
  /** Pause before the second call, doubled for each further one. @defaultValue 500 */
  TAGGER_RETRY_DELAY_MS: integer(0, 60_000).default(500),
});

export interface LibrarySettings {
  maxUploadBytes: number;
  /** null: the rule-based tagger. */
  llm: LlmSettings | null;
}

const KEYS = Object.keys(Env.shape) as Array<keyof typeof Env.shape>;

export function librarySettings(env: NodeJS.ProcessEnv = process.env): LibrarySettings {
  // An empty variable counts as unset, as for Taskyard's own settings.
  const present = Object.fromEntries(KEYS.filter((key) => env[key] !== undefined && env[key] !== '').map((key) => [key, env[key]]));
  const parsed = Env.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new TaskyardError('TASKYARD_ERR_CONFIG', `Invalid configuration — library recipe: ${problems.join('; ')}`, problems);
  }
  const s = parsed.data;
  if ((s.TAGGER_URL === undefined) !== (s.TAGGER_MODEL === undefined)) {
    const missing = s.TAGGER_URL === undefined ? 'TAGGER_URL' : 'TAGGER_MODEL';
    throw new TaskyardError('TASKYARD_ERR_CONFIG', `Invalid configuration — library recipe: ${missing} is required when ${missing === 'TAGGER_URL' ? 'TAGGER_MODEL' : 'TAGGER_URL'} is set`);
  }
  const llm: LlmSettings | null =
    s.TAGGER_URL !== undefined && s.TAGGER_MODEL !== undefined
      ? {
          url: s.TAGGER_URL,
          model: s.TAGGER_MODEL,
          timeoutMs: s.TAGGER_TIMEOUT_MS,
          attempts: s.TAGGER_ATTEMPTS,
          retryDelayMs: s.TAGGER_RETRY_DELAY_MS,
          ...(s.TAGGER_API_KEY === undefined ? {} : { apiKey: s.TAGGER_API_KEY }),
        }
      : null;
  return Object.freeze({ maxUploadBytes: s.LIBRARY_MAX_UPLOAD_BYTES, llm: llm && Object.freeze(llm) });
}
