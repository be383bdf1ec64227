import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { errorBody } from '../http-errors.js';
import { healthCheck as check } from '../../observability/health-check.js';

export function healthRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/health', { schema: { summary: 'The process is alive', tags: ['health'] } }, async () => ({ status: 'ok' }));

  app.get('/ready', { schema: { summary: 'The engine and history are reachable, and the in-process worker takes work (503 otherwise)', tags: ['health'] } }, async (_request, reply) => {
    const workerHealth = deps.workerHealth;
    const [engine, history, worker] = await Promise.all([
      check(() => deps.engine.ping()),
      check(() => deps.store.ping()),
      workerHealth ? check(workerHealth) : Promise.resolve(undefined),
    ]);
    const checks = { engine, history, ...(worker !== undefined && { worker }) };
    if (Object.values(checks).every((result) => result === 'ok')) return { status: 'ready', checks };
    return reply.status(503).send(errorBody('TASKYARD_ERR_NOT_READY', 'A dependency is unreachable', checks));
  });
}
