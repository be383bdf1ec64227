import type { RecipeContext } from '../recipe.js';
import { AppStore } from './app-store.js';
import { EventStore } from './event-store.js';
import { createMailer } from './mailer.js';
import { ingestionSettings } from './settings.js';
import type { IngestionHost } from './types.js';

/**
 * The functions the ingestion tasks call from their sandbox threads; they run
 * on the worker process's main thread, where the database pool and the SMTP
 * transport (built once, from SMTP_URL read at start) live.
 */
export function ingestionHost(ctx: RecipeContext): IngestionHost {
  const settings = ingestionSettings(ctx.config);
  const events = new EventStore(ctx.db, ctx.schema);
  const apps = new AppStore(ctx.db, ctx.schema, ctx.logger);
  const mailer = createMailer(settings);
  ctx.logger.debug({ mail: mailer.target, dedupWindowMs: settings.dedupWindowMs }, 'ingestion: host ready');
  return {
    storeEvent: (request) => events.store(request, settings.dedupWindowMs),
    notifyRule: (appId) => apps.notifyRule(appId),
    async enqueueEmail(key, email) {
      const { job } = await ctx.submit({ task: 'send-email', input: email, idempotencyKey: key });
      return job.id;
    },
    sendMail: (email) => mailer.send(email),
    countEvents: (appId, hours) => events.countByStatus(appId, hours),
  };
}
