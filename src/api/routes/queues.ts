import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TaskyardError } from '../../errors.js';
import { parseOr400 } from '../../validate.js';
import type { ApiDeps } from '../deps.js';
import { errorSchema } from '../job-view.js';

const QueueParams = z.object({ queue: z.string().min(1).max(64) });

const queueSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    paused: { type: 'boolean' },
    waiting: { type: 'integer' },
    active: { type: 'integer' },
    delayed: { type: 'integer' },
    completed: { type: 'integer' },
    failed: { type: 'integer' },
    cancelled: { type: 'integer' },
  },
} as const;

export function queueRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const known = (queue: string): string => {
    if (!deps.registry.queues().includes(queue)) throw new TaskyardError('TASKYARD_ERR_NOT_FOUND', `No queue named "${queue}" (no task uses it)`);
    return queue;
  };

  app.get(
    '/queues',
    {
      schema: {
        summary: 'Every queue of the registered tasks, with its counts',
        description: 'waiting, active and delayed come from the queue engine; completed, failed and cancelled from history.',
        tags: ['queues'],
        response: { 200: { type: 'object', properties: { queues: { type: 'array', items: queueSchema } } } },
      },
    },
    async () => {
      const finished = await deps.store.finishedCounts();
      const queues = await Promise.all(
        deps.registry.queues().map(async (name) => {
          const state = await deps.engine.queueState(name);
          const count = (status: string): number => finished.find((row) => row.queue === name && row.status === status)?.count ?? 0;
          return { name, ...state, completed: count('completed'), failed: count('failed'), cancelled: count('cancelled') };
        }),
      );
      return { queues };
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/queues/:queue/${action}`,
      {
        schema: {
          summary: action === 'pause' ? 'Pause a queue: workers stop taking its jobs (running ones finish; new ones wait)' : 'Resume a paused queue',
          tags: ['queues'],
          params: { type: 'object', properties: { queue: { type: 'string' } } },
          response: { 200: { type: 'object', properties: { name: { type: 'string' }, paused: { type: 'boolean' } } }, 404: errorSchema },
        },
      },
      async (request) => {
        const queue = known(parseOr400(QueueParams, request.params, 'path').queue);
        if (action === 'pause') await deps.engine.pause(queue);
        else await deps.engine.resume(queue);
        return { name: queue, paused: (await deps.engine.queueState(queue)).paused };
      },
    );
  }
}
