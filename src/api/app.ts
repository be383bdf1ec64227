import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logger.js';
import { httpTracing } from '../observability/http-tracing.js';
import type { ApiDeps } from './deps.js';
import { dashboardRoutes } from './dashboard.js';
import { errorBody, installErrorHandlers, sendError } from './http-errors.js';
import { taskyardApi } from './plugin.js';
import { healthRoutes } from './routes/health.js';

export interface AppOptions {
  deps: ApiDeps;
  logger: Logger;
  bodyLimitBytes: number;
  /** More routes at the root (the recipes'). */
  routes?: ((app: FastifyInstance) => Promise<void>) | undefined;
}

/** The standalone HTTP server: `/v1`, `/docs`, `/health`, `/ready` and the dashboard at `/`. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    // Long-lived SSE responses must not be cut by a request timeout.
    requestTimeout: 0,
    return503OnClosing: true,
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Errors raised before routing (a path param over maxParamLength, a malformed URL) keep our body format too.
    frameworkErrors: sendError,
    // Malformed requests Node rejects before Fastify sees them (e.g. headers over the limit).
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
      const body = JSON.stringify(
        errorBody(tooLarge ? 'TASKYARD_ERR_HEADERS_TOO_LARGE' : 'TASKYARD_ERR_BAD_REQUEST', tooLarge ? undefined : 'Malformed HTTP request'),
      );
      if (socket.writable) {
        socket.end(
          `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\ncontent-type: application/json\r\n` +
            `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
      } else socket.destroy(error);
    },
  });
  installErrorHandlers(app);
  httpTracing(app);
  const metrics = options.deps.metrics;
  if (metrics) {
    app.addHook('onResponse', async (request, reply) => {
      // The route's pattern (`/v1/jobs/:id`), never the raw URL: one series per route, not per job.
      metrics.httpRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    });
    app.get('/metrics', { schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['health'] } }, async (_request, reply) => {
      return reply.type(metrics.contentType).send(await metrics.text());
    });
  }
  await app.register(swagger, {
    openapi: {
      info: { title: 'Taskyard API', version: '1', description: 'Enqueue typed jobs, follow their events live, search their history.' },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(taskyardApi, { prefix: '/v1', deps: options.deps });
  healthRoutes(app, options.deps);
  await options.routes?.(app);
  await dashboardRoutes(app);
  return app;
}
