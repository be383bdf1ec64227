import { randomUUID } from 'node:crypto';
import type { RecipeContext } from '../recipe.js';
import { MarketEvent } from './types.js';
import type { z } from 'zod';
import { carrierOf, context, contextOf, inSpan } from '../../observability/tracing.js';

export const MARKET_CHANNEL = 'pricing.market-events';

export type PublishedEvent = z.output<typeof MarketEvent> & { eventId: string };

/**
 * Publishes a market event to every worker process (Redis pub/sub, or
 * PostgreSQL NOTIFY). The message carries the trace context beside the event,
 * so the recalculation it starts is part of the same trace.
 */
export async function publishMarketEvent(ctx: RecipeContext, event: z.output<typeof MarketEvent>): Promise<PublishedEvent> {
  const published = { ...event, eventId: event.eventId ?? randomUUID() };
  await inSpan('publish market event', { 'pricing.event.id': published.eventId, 'pricing.event.type': published.type }, async () => {
    const trace = carrierOf();
    await ctx.broadcast.publish(MARKET_CHANNEL, JSON.stringify(trace ? { ...published, trace } : published));
  });
  return published;
}

/** The idempotency key of the recalculation a market event asks for: one job per event, however many workers hear it. */
export const recalculationKey = (eventId: string): string => `market-event:${eventId}`;

/**
 * Runs in every worker process: each market event enqueues one
 * `recalculate-all-prices`. Every worker hears every event; the idempotency
 * key makes the second and later submissions return the same job.
 */
export async function listenToMarketEvents(ctx: RecipeContext): Promise<() => Promise<void>> {
  return ctx.broadcast.subscribe(MARKET_CHANNEL, (message) => {
    const { trace, ...body } = (safeJson(message) ?? {}) as { trace?: unknown } & Record<string, unknown>;
    const parsed = MarketEvent.safeParse(body);
    if (!parsed.success || !parsed.data.eventId) {
      ctx.logger.warn({ message: message.slice(0, 200) }, 'ignored a malformed market event');
      return;
    }
    const { eventId, factor, category, type } = parsed.data;
    context
      .with(contextOf(trace), () =>
        inSpan('market event', { 'pricing.event.id': eventId, 'pricing.event.type': type }, () =>
          ctx.submit({
            task: 'recalculate-all-prices',
            input: { reason: `market event ${eventId} (${type})`, factor, ...(category ? { category } : {}) },
            idempotencyKey: recalculationKey(eventId),
          }),
        ),
      )
      .then(
        ({ job, created }) => ctx.logger.info({ eventId, jobId: job.id, created }, 'market event: recalculation enqueued'),
        (error: unknown) => ctx.logger.error({ err: error, eventId }, 'market event: could not enqueue the recalculation'),
      );
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
