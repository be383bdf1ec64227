import path from 'node:path';
import { defineRecipe } from '../recipe.js';
import { ingestionHost } from './host.js';
import { ingestionRoutes } from './routes.js';
import { ingestionSettings } from './settings.js';
import { INGESTION_HOST } from './types.js';

const extension = path.extname(new URL(import.meta.url).pathname);

/**
 * An event-ingestion service: apps register the events they send with a JSON
 * Schema each; `POST /api/logs/{appId}` validates every event at once and
 * answers 202, while workers store it (deduplicated), mail whoever the app
 * asks for (queue `emails`), and count events on a schedule (queue `batch`).
 * Validation results stream live over SSE.
 */
export const ingestion = defineRecipe({
  name: 'ingestion',
  description: 'POST /api/logs/{appId}: JSON Schema validation at once, stored in the background (deduplicated), mail, scheduled stats, live SSE',
  tasks: new URL(`./tasks${extension}`, import.meta.url).href,
  migrations: new URL('./migrations/', import.meta.url),
  hosts: (ctx) => ({ [INGESTION_HOST]: ingestionHost(ctx) }),
  routes: (app, ctx) => ingestionRoutes(app, ctx),
  // Every app's counts on a clock, through BullMQ's job schedulers (one tick per period across all processes).
  schedules: (ctx) => [{ id: 'ingestion:batch-stats', task: 'batch-stats', input: { appId: '*' }, everyMs: ingestionSettings(ctx.config).statsEveryMs }],
  tryPath: '/api/apps',
});
