import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { ApiDeps } from '../deps.js';
import { errorBody } from '../http-errors.js';
import { fieldErrors } from '../validate.js';

const MAX_SUBSCRIPTIONS = 1000;
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

const ClientMessage = z.union([
  z.strictObject({ subscribe: z.string().min(1).max(100), after: z.number().int().min(0).max(2 ** 31 - 1).optional() }),
  z.strictObject({ unsubscribe: z.string().min(1).max(100) }),
]);

/**
 * `GET /v1/ws`: one socket, many jobs. The client sends `{ subscribe, after? }`
 * and `{ unsubscribe }`; the server sends `{ jobId, seq, type, data, at }`, and
 * `{ error, jobId? }` for a bad message (the socket stays open).
 */
export function wsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/ws', { websocket: true, schema: { summary: 'WebSocket: subscribe to many jobs over one socket', tags: ['events'] } }, (socket: WebSocket) => {
    const subscriptions = new Map<string, () => void>();
    const send = (message: unknown): void => {
      if (socket.readyState !== socket.OPEN) return;
      socket.send(JSON.stringify(message));
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) socket.close(1013, 'client too slow; resubscribe with after');
    };

    // Messages are handled one after another, so an unsubscribe sent right after
    // its subscribe is not lost while the subscribe is still looking the job up.
    let handling: Promise<void> = Promise.resolve();
    socket.on('message', (raw, isBinary) => {
      handling = handling.then(async () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(isBinary ? '' : raw.toString());
        } catch {
          send(errorBody('TASKYARD_ERR_INVALID_JSON', 'Messages are JSON: { "subscribe": "<jobId>", "after"?: seq } or { "unsubscribe": "<jobId>" }'));
          return;
        }
        const message = ClientMessage.safeParse(parsed);
        if (!message.success) {
          send(errorBody('TASKYARD_ERR_VALIDATION', 'Messages are { "subscribe": "<jobId>", "after"?: seq } or { "unsubscribe": "<jobId>" }', fieldErrors(message.error)));
          return;
        }
        if ('unsubscribe' in message.data) {
          subscriptions.get(message.data.unsubscribe)?.();
          subscriptions.delete(message.data.unsubscribe);
          return;
        }
        const { subscribe: jobId, after = 0 } = message.data;
        if (subscriptions.has(jobId)) return;
        if (subscriptions.size >= MAX_SUBSCRIPTIONS) {
          send({ ...errorBody('TASKYARD_ERR_VALIDATION', `At most ${MAX_SUBSCRIPTIONS} subscriptions per socket`), jobId });
          return;
        }
        const job = await deps.store.get(jobId).catch(() => undefined);
        if (!job) {
          send({ ...errorBody('TASKYARD_ERR_JOB_NOT_FOUND', `No job with id "${jobId}"`), jobId });
          return;
        }
        if (subscriptions.has(jobId) || socket.readyState !== socket.OPEN) return;
        const stop = deps.delivery.watch(jobId, after, {
          onEvent: (event) => send(event),
          onEnd: () => subscriptions.delete(jobId),
        });
        subscriptions.set(jobId, stop);
      }).catch(() => undefined);
    });
    socket.on('close', () => {
      for (const stop of subscriptions.values()) stop();
      subscriptions.clear();
    });
  });
}
