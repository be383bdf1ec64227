import type { FastifyInstance } from 'fastify';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { isTerminalEvent } from '../../events/types.js';
import type { ApiDeps } from '../deps.js';
import { followJob, type FollowedJob } from '../follow-job.js';
import { errorBody } from '../http-errors.js';
import { corkedPerTick, encodedOnce, LiveBuffer } from '../live-buffer.js';
import { fieldErrors } from '../../validate.js';
import { traceDelivery, type DeliveryTrace } from '../../observability/delivery-tracing.js';

const MAX_SUBSCRIPTIONS = 1000;
const wsFrame = encodedOnce((event) => JSON.stringify(event));
/**
 * Unsent bytes a socket may hold. Higher than SSE's 1 MiB because one socket
 * carries many jobs; a client past it gets an overflow message and 1013.
 */
const WS_HARD_LIMIT_BYTES = 4 * 1024 * 1024;

interface Subscription {
  followed: FollowedJob;
  traced: DeliveryTrace;
  /** Where the subscription started: its resume point until an event of it is sent. */
  after: number;
}

const ClientMessage = z.union([
  z.strictObject({ subscribe: z.string().min(1).max(100), after: z.number().int().min(0).max(2 ** 31 - 1).optional() }),
  z.strictObject({ unsubscribe: z.string().min(1).max(100) }),
]);

/**
 * `GET /v1/ws`: one socket, many jobs. The client sends `{ subscribe, after? }`
 * and `{ unsubscribe }`; the server sends `{ jobId, seq, type, data, at }`, and
 * `{ error, jobId? }` for a bad message (the socket stays open). A client that
 * falls too far behind gets `{ type: 'overflow', resume: { <jobId>: seq } }`
 * and the socket closes with 1013; it resubscribes with those seqs as `after`.
 */
export function wsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/ws', { websocket: true, schema: { summary: 'WebSocket: subscribe to many jobs over one socket', tags: ['events'] } }, (socket: WebSocket) => {
    deps.metrics?.connectionOpened('ws');
    // ws writes each message to its TCP socket (ws keeps it as `_socket`): held back within a tick, they leave together.
    const cork = corkedPerTick((socket as unknown as { _socket?: Socket })._socket);
    const subscriptions = new Map<string, Subscription>();
    const stopAll = (): void => {
      for (const subscription of subscriptions.values()) {
        subscription.followed.stop();
        subscription.traced.end();
      }
      subscriptions.clear();
    };
    const end = (jobId: string): void => {
      subscriptions.get(jobId)?.followed.stop();
      subscriptions.get(jobId)?.traced.end();
      subscriptions.delete(jobId);
      buffer.forget(jobId);
    };
    const buffer = new LiveBuffer({
      sink: {
        bufferedBytes: () => socket.bufferedAmount,
        write: (frame, sent) => {
          cork();
          socket.send(frame, () => sent());
        },
      },
      hardLimitBytes: WS_HARD_LIMIT_BYTES,
      encode: wsFrame,
      onSent: (event) => {
        subscriptions.get(event.jobId)?.traced.sent();
        if (isTerminalEvent(event)) end(event.jobId);
      },
      onOverflow: () => {
        const resume: Record<string, number> = {};
        for (const [jobId, { after }] of subscriptions) resume[jobId] = buffer.lastSent(jobId) ?? after;
        stopAll();
        if (socket.readyState !== socket.OPEN) return;
        // What was sent still arrives first; this message says where each job resumes.
        socket.send(JSON.stringify({ type: 'overflow', resume }));
        socket.close(1013, 'client too slow; resubscribe with the seqs in the overflow message');
      },
    });
    const send = (message: unknown): void => {
      if (socket.readyState === socket.OPEN) buffer.pushMessage(JSON.stringify(message));
    };
    // Subscriptions replay the stored log one at a time, so one page at most is in memory.
    let replays: Promise<void> = Promise.resolve();

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
          end(message.data.unsubscribe);
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
        if (subscriptions.has(jobId) || socket.readyState !== socket.OPEN || !buffer.open) return;
        const followed = followJob(
          deps,
          jobId,
          after,
          buffer,
          (error) => {
            // Without an error the terminal event is on its way: the subscription ends once it is sent.
            if (error !== undefined && subscriptions.get(jobId)?.followed === followed) end(jobId);
          },
          replays,
        );
        replays = followed.replayed;
        const traced = traceDelivery(() => deps.engine.traceOf(job.queue, jobId), { 'taskyard.job.id': jobId, 'taskyard.transport': 'ws' });
        subscriptions.set(jobId, { followed, after, traced });
      }).catch(() => undefined);
    });
    socket.on('close', () => {
      deps.metrics?.connectionClosed('ws');
      stopAll();
      buffer.close();
    });
  });
}
