import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { errorSchema } from '../../api/job-view.js';
import type { TaskyardError } from '../../errors.js';
import { parseOr400 } from '../../validate.js';
import type { AppRules } from './app-rules.js';
import type { LiveResult, LiveResults } from './live-results.js';
import { AppId } from './types.js';

const HEARTBEAT_MS = 15_000;
/** A client this far behind has stopped reading: the stream is closed (EventSource reconnects by itself). */
const MAX_BUFFERED_BYTES = 1024 * 1024;

const AppParams = z.object({ appId: AppId });

/**
 * `GET /api/apps/{appId}/stream`: every validation result for the app, as SSE,
 * from whichever API process validated it. First an `event: ready` (the stream
 * is subscribed: what is sent from now on arrives), then one `event: result`
 * per event, `{ eventName, status, errors?, jobId, receivedAt }`. A live view,
 * not a log: nothing is replayed; stored events are at `/api/apps/{appId}/events`.
 */
export function streamRoute(app: FastifyInstance, deps: { rules: AppRules; live: LiveResults; notFound: (appId: string) => TaskyardError }): void {
  app.get(
    '/api/apps/:appId/stream',
    {
      schema: {
        summary: "An app's validation results, live (SSE)",
        description: '`event: ready` once subscribed, then `event: result` with `{ eventName, status, errors?, jobId, receivedAt }` per event; a comment every 15 s keeps proxies from closing it.',
        tags: ['recipe: ingestion'],
        produces: ['text/event-stream'],
        response: { 400: errorSchema, 404: errorSchema },
      },
    },
    async (request, reply) => {
      const { appId } = parseOr400(AppParams, request.params, 'path');
      if (!(await deps.rules.get(appId))) throw deps.notFound(appId);

      const res = reply.raw;
      let seq = 0;
      let started = false;
      let closed = false;
      // Results that arrive between subscribing and sending the headers wait here.
      const queued: LiveResult[] = [];
      let stop: (() => void) | undefined;
      let heartbeat: NodeJS.Timeout | undefined;
      const close = (): void => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        stop?.();
        if (started) res.end();
      };
      const send = (text: string): void => {
        if (closed) return;
        res.write(text);
        if (res.writableLength > MAX_BUFFERED_BYTES) close();
      };
      const event = (name: string, data: unknown): void => send(`id: ${++seq}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
      res.on('close', close);

      stop = await deps.live.follow(appId, (result) => {
        if (started) event('result', result);
        else queued.push(result);
      });
      reply.hijack();
      if (closed) {
        // The client left while we subscribed.
        stop();
        return reply;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      started = true;
      send('retry: 1000\n\n');
      event('ready', { appId });
      for (const result of queued.splice(0)) event('result', result);
      heartbeat = setInterval(() => send(': keep-alive\n\n'), HEARTBEAT_MS);
      return reply;
    },
  );
}
