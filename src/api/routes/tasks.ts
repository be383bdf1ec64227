import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.js';

export function taskRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get(
    '/tasks',
    {
      schema: {
        summary: 'List tasks with their input JSON Schema',
        tags: ['tasks'],
        response: {
          200: {
            type: 'object',
            properties: {
              tasks: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    name: { type: 'string' },
                    queue: { type: 'string' },
                    description: { type: 'string' },
                    attempts: { type: 'integer' },
                    timeoutMs: { type: 'integer' },
                    hardTimeoutMs: { type: 'integer' },
                    inputSchema: { type: 'object' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async () => ({ tasks: deps.registry.all().map((task) => deps.registry.info(task)) }),
  );
}
