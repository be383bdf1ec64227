import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { TaskyardError } from '../../errors.js';
import { isTerminalEvent, isTerminalStatus, type JobEvent } from '../../events/types.js';
import type { ApiDeps } from '../deps.js';
import { followJob } from '../follow-job.js';
import { errorSchema } from '../job-view.js';
import { corkedPerTick, encodedOnce, LiveBuffer } from '../live-buffer.js';
import { parseOr400 } from '../../validate.js';
import { findJob } from '../find-job.js';
import type { Job } from '../../history/jobs.js';
import { traceDelivery } from '../../observability/delivery-tracing.js';

const Seq = z.coerce.number().int().min(0).max(2 ** 31 - 1);
const JobParams = z.object({ id: z.string().min(1).max(100) });
const EventsQuery = z.strictObject({
  after: Seq.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

/**
 * Unsent bytes an SSE stream may hold. One job per stream: 1 MiB is many
 * seconds of ordinary output, so only a client that has stopped reading gets
 * here; it is closed with a `resume` frame and comes back with Last-Event-ID.
 */
const SSE_HARD_LIMIT_BYTES = 1024 * 1024;
const HEARTBEAT_MS = 15_000;
/** How long a closed stream's last bytes may wait for the client before the socket is dropped. */
const LINGER_MS = 30_000;

/** The last frame of a stream closed for a slow client: resume after `after` (the last id sent). */
function resumeFrame(after: number): string {
  return `event: resume\ndata: ${JSON.stringify({ after })}\n\n`;
}

/** One SSE frame. A job's `error` travels as `job-error`: EventSource uses `error` for its own failures. */
export const sseFrame = encodedOnce((event: JobEvent): string => {
  const name = event.type === 'error' ? 'job-error' : event.type;
  return `id: ${event.seq}\nevent: ${name}\ndata: ${JSON.stringify(event.data)}\n\n`;
});

export function eventRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get(
    '/jobs/:id/events',
    {
      schema: {
        summary: "A job's events: SSE stream, or JSON for polling",
        description:
          'With `Accept: text/event-stream` (default): replays events after `Last-Event-ID` or `?after`, streams new ones live, and closes after the terminal status. ' +
          'Each event has `id: <seq>`, `event: <type>` (a job error is `job-error`), `data: <json>`. ' +
          'A client that falls behind gets only the latest of a run of `progress` events (ids then jump); one too far behind gets `event: resume` with `data: {"after": <seq>}` and the stream closes: reconnect with that `Last-Event-ID`. ' +
          'With `Accept: application/json`: a JSON array of the events after `after` (polling).',
        tags: ['events'],
        params: { type: 'object', properties: { id: { type: 'string' } } },
        querystring: {
          type: 'object',
          properties: { after: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 10000 } },
        },
        response: {
          200: {
            description: 'text/event-stream, or a JSON array of { jobId, seq, type, data, at }',
            type: 'array',
            items: { type: 'object', properties: { jobId: { type: 'string' }, seq: { type: 'integer' }, type: { type: 'string' }, data: {}, at: { type: 'string' } } },
          },
          400: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { id } = parseOr400(JobParams, request.params, 'path');
      const query = parseOr400(EventsQuery, request.query, 'query');
      const lastEventId = request.headers['last-event-id'];
      // A reconnecting EventSource sends Last-Event-ID with the original URL: the header wins.
      const after =
        lastEventId !== undefined && lastEventId !== ''
          ? parseOr400(Seq, lastEventId, 'Last-Event-ID header', 'Last-Event-ID')
          : (query.after ?? 0);
      const job = await findJob(deps, id);
      if (!job) throw new TaskyardError('TASKYARD_ERR_JOB_NOT_FOUND', `No job with id "${id}"`);

      const accept = request.headers.accept ?? '';
      if (accept.includes('application/json') && !accept.includes('text/event-stream')) {
        return deps.log.read(id, after, query.limit);
      }
      streamSse(reply, deps, job, after, isTerminalStatus(job.status) && after >= job.lastSeq);
      return reply;
    },
  );
}

function streamSse(reply: FastifyReply, deps: ApiDeps, job: Job, after: number, finished: boolean): void {
  const jobId = job.id;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 1000\n\n');
  if (finished) {
    res.end();
    return;
  }
  deps.metrics?.connectionOpened('sse');
  const cork = corkedPerTick(res);
  const traced = traceDelivery(() => deps.engine.traceOf(job.queue, jobId), { 'taskyard.job.id': jobId, 'taskyard.transport': 'sse' });
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    deps.metrics?.connectionClosed('sse');
    traced.end();
    clearInterval(heartbeat);
    followed.stop();
    buffer.close();
    res.end();
    // A client that does not take the last bytes is gone; it resumes from the last id it read.
    const linger = setTimeout(() => {
      if (!res.writableFinished) res.destroy();
    }, LINGER_MS).unref();
    res.once('finish', () => clearTimeout(linger));
  };
  const buffer = new LiveBuffer({
    sink: {
      bufferedBytes: () => res.writableLength,
      write: (frame, sent) => {
        cork();
        res.write(frame, () => sent());
      },
    },
    hardLimitBytes: SSE_HARD_LIMIT_BYTES,
    encode: sseFrame,
    onSent: (event) => {
      traced.sent();
      if (isTerminalEvent(event)) close();
    },
    onOverflow: () => {
      // What was written still reaches the client, then this frame says where to resume.
      res.write(resumeFrame(buffer.lastSent(jobId) ?? after));
      close();
    },
  });
  // A backed-up stream is not idle: the keep-alive only matters when nothing waits.
  const heartbeat = setInterval(() => {
    if (!buffer.backedUp) buffer.pushMessage(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  const followed = followJob(deps, jobId, after, buffer, (error) => {
    // Without an error the terminal event is on its way: the stream closes once it is sent.
    if (error !== undefined) close();
  });
  res.on('close', close);
}
