import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { TaskyardError } from '../../errors.js';

/**
 * The recipe's own settings, from the environment (the platform's config knows
 * nothing of SMTP). Read once per Taskyard instance, when the recipe starts.
 */
const SettingsSchema = z.object({
  /** `smtp://user:pass@host:587`, `smtps://…`; unset: mails are written as .eml files under `<data dir>/emails/`. */
  SMTP_URL: z.string().regex(/^smtps?:\/\/[^/\s]+/, 'must be an smtp:// or smtps:// URL').optional(),
  /** The From of every mail. */
  INGESTION_MAIL_FROM: z.string().min(3).max(300).default('Taskyard ingestion <ingestion@taskyard.local>'),
  /** How often the scheduled batch-stats runs (every app). */
  INGESTION_STATS_EVERY_MS: z.coerce.number().int().min(1000).max(7 * 24 * 3600 * 1000).default(15 * 60_000),
  /** The same payload for the same app and event within this long is stored once. */
  INGESTION_DEDUP_WINDOW_MS: z.coerce.number().int().min(1000).max(30 * 24 * 3600 * 1000).default(10 * 60_000),
});

export interface IngestionSettings {
  smtpUrl: string | undefined;
  mailFrom: string;
  statsEveryMs: number;
  dedupWindowMs: number;
  /** Where the dev transport writes mails when there is no SMTP_URL. */
  emailDir: string;
}

const read = new WeakMap<Config, IngestionSettings>();

/** The settings for this Taskyard instance (its config object), parsed on first use; a bad value stops start-up naming it. */
export function ingestionSettings(config: Config, env: NodeJS.ProcessEnv = process.env): IngestionSettings {
  const known = read.get(config);
  if (known) return known;
  const given = Object.fromEntries(Object.keys(SettingsSchema.shape).flatMap((key) => (env[key] ? [[key, env[key]]] : [])));
  const parsed = SettingsSchema.safeParse(given);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new TaskyardError('TASKYARD_ERR_CONFIG', `Invalid configuration — ingestion recipe: ${problems.join('; ')}`, problems);
  }
  const dataDir = config.dataDir.startsWith('memory://') ? path.join(os.tmpdir(), 'taskyard') : config.dataDir;
  const settings: IngestionSettings = {
    smtpUrl: parsed.data.SMTP_URL,
    mailFrom: parsed.data.INGESTION_MAIL_FROM,
    statsEveryMs: parsed.data.INGESTION_STATS_EVERY_MS,
    dedupWindowMs: parsed.data.INGESTION_DEDUP_WINDOW_MS,
    emailDir: path.resolve(dataDir, 'emails'),
  };
  read.set(config, Object.freeze(settings));
  return settings;
}
