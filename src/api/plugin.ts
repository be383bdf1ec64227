import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.js';
import { installErrorHandlers } from './http-errors.js';
import { artifactRoutes } from './routes/artifacts.js';
import { eventRoutes } from './routes/events.js';
import { queueRoutes } from './routes/queues.js';
import { jobRoutes } from './routes/jobs.js';
import { taskRoutes } from './routes/tasks.js';
import { workerRoutes } from './routes/workers.js';
import { wsRoutes } from './routes/ws.js';

export interface TaskyardApiOptions {
  deps: ApiDeps;
  /** Where the plugin is mounted, used to build links (e.g. `/v1`). @defaultValue '/v1' */
  prefix?: string;
}

/**
 * The `/v1` API as a Fastify plugin, to mount inside an existing app:
 * `app.register(taskyardApi, { prefix: '/v1', deps: taskyard.deps })`.
 */
export const taskyardApi: FastifyPluginAsync<TaskyardApiOptions> = async (app: FastifyInstance, options) => {
  const prefix = options.prefix ?? '/v1';
  // zod validates requests (errors in our format); route schemas only document them.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // Only JSON bodies: anything else is a 415. An empty JSON body (a bodiless POST
  // from a client that always sends the header) counts as no body.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') done(null, undefined);
    else parseJson(request, text, done);
  });
  installErrorHandlers(app);
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  jobRoutes(app, options.deps, prefix);
  eventRoutes(app, options.deps);
  wsRoutes(app, options.deps);
  taskRoutes(app, options.deps);
  artifactRoutes(app, options.deps, prefix);
  queueRoutes(app, options.deps);
  workerRoutes(app, options.deps);
};
