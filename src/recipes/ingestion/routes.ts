// The ingestion service's HTTP routes: apps, events in, stored events out, and
// the live view (stream-route.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { errorSchema } from '../../api/job-view.js';
import { TaskyardError } from '../../errors.js';
import { parseOr400 } from '../../validate.js';
import type { RecipeRouteContext } from '../recipe.js';
import { acceptEvents } from './accept-events.js';
import { AppRules } from './app-rules.js';
import { AppStore } from './app-store.js';
import { EventStore } from './event-store.js';
import { LiveResults } from './live-results.js';
import { eventsFromJson, eventsFromText, MAX_EVENTS_PER_REQUEST, type IncomingEvent } from './parse-logs.js';
import { streamRoute } from './stream-route.js';
import { AppDefinition, AppId } from './types.js';
import { compileRules } from './validation.js';

const TAGS = ['recipe: ingestion'];

const AppParams = z.object({ appId: AppId });
const EventsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  status: z.enum(['valid', 'invalid']).optional(),
});

const notFound = (appId: string): TaskyardError => new TaskyardError('TASKYARD_ERR_NOT_FOUND', `No app "${appId}"`);

export async function ingestionRoutes(app: FastifyInstance, ctx: RecipeRouteContext): Promise<void> {
  const apps = new AppStore(ctx.db, ctx.schema, ctx.logger);
  const events = new EventStore(ctx.db, ctx.schema);
  const rules = new AppRules(apps, ctx.broadcast, ctx.logger);
  const live = new LiveResults(ctx.broadcast, ctx.logger);
  const stopListening = await rules.listen();
  app.addHook('onClose', async () => {
    await stopListening();
    await live.close();
  });

  app.post(
    '/api/apps',
    {
      schema: {
        summary: 'Register an app (or replace one): its events, a JSON Schema each, and who is mailed about which',
        description:
          'Body `{ id, name?, events: { "<eventName>": <JSON Schema of the payload> }, notify?: { email, when: "invalid" | "valid" | "always", events?: [names] } }`. ' +
          'Every schema is compiled (ajv, strict: unknown keywords are refused) before anything is stored. 201 when created, 200 when replaced.',
        tags: TAGS,
        body: { type: 'object', required: ['id', 'events'], properties: { id: { type: 'string' }, name: { type: 'string' }, events: { type: 'object' }, notify: { type: ['object', 'null'] } } },
        response: { 200: { description: 'Replaced', type: 'object' }, 201: { description: 'Created', type: 'object' }, 400: errorSchema },
      },
    },
    async (request, reply) => {
      const definition = parseOr400(AppDefinition, request.body ?? {}, 'app');
      compileRules(definition.id, definition.events); // a 400 naming the event whose schema does not compile
      const { app: stored, created } = await apps.put(definition);
      await rules.changed(stored.id);
      return reply.status(created ? 201 : 200).send(stored);
    },
  );

  app.get('/api/apps', { schema: { summary: 'Registered apps, with their events and notify rules', tags: TAGS } }, async () => ({ apps: await apps.list() }));

  app.get('/api/apps/:appId', { schema: { summary: 'One app, with the JSON Schema of each of its events', tags: TAGS, response: { 404: errorSchema } } }, async (request) => {
    const { appId } = parseOr400(AppParams, request.params, 'path');
    const found = await apps.get(appId);
    if (!found) throw notFound(appId);
    return found;
  });

  app.post(
    '/api/logs/:appId',
    {
      schema: {
        summary: 'Send events: validated now, stored in the background',
        description:
          '`application/json`: one event `{ "eventName": "…", …payload }` (or an array of them). `text/plain`: one `Event Payload: {…}` per line, blank lines skipped. ' +
          `At most ${MAX_EVENTS_PER_REQUEST} events. Each is validated against the app's JSON Schema for its eventName and enqueued as a process-event job, ` +
          'valid or not: `202 { results: [{ eventName, status: "valid" | "invalid", errors?, jobId }] }`. A body that is not well-formed is refused whole (400, naming the line).',
        tags: TAGS,
        consumes: ['application/json', 'text/plain'],
        response: {
          202: {
            type: 'object',
            properties: {
              results: {
                type: 'array',
                items: { type: 'object', properties: { eventName: { type: 'string' }, status: { type: 'string', enum: ['valid', 'invalid'] }, errors: { type: 'array' }, jobId: { type: 'string' } } },
              },
            },
          },
          400: errorSchema,
          404: errorSchema,
          413: errorSchema,
          415: errorSchema,
          429: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { appId } = parseOr400(AppParams, request.params, 'path');
      const compiled = await rules.get(appId);
      if (!compiled) throw notFound(appId);
      const results = await acceptEvents({ submitMany: ctx.submitMany, live }, compiled, incomingEvents(request));
      return reply.status(202).send({ results });
    },
  );

  app.get(
    '/api/apps/:appId/events',
    {
      schema: {
        summary: "An app's stored events, newest first (a duplicate payload within the dedup window is stored once)",
        tags: TAGS,
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, status: { type: 'string', enum: ['valid', 'invalid'] } } },
        response: { 400: errorSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const { appId } = parseOr400(AppParams, request.params, 'path');
      const query = parseOr400(EventsQuery, request.query, 'query');
      if (!(await rules.get(appId))) throw notFound(appId);
      return { appId, events: await events.list(appId, query) };
    },
  );

  streamRoute(app, { rules, live, notFound });
}

/** The body as events: Fastify has parsed JSON already; text/plain arrives as a string. */
function incomingEvents(request: FastifyRequest): IncomingEvent[] {
  const text = /^\s*text\/plain/i.test(request.headers['content-type'] ?? '');
  return text ? eventsFromText(String(request.body ?? '')) : eventsFromJson(request.body);
}
