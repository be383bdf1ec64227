import { readFile } from 'node:fs/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { errorSchema, jobLinks } from '../../api/job-view.js';
import { TaskyardError } from '../../errors.js';
import { parseOr400 } from '../../validate.js';
import type { RecipeRouteContext } from '../recipe.js';
import { DocumentInput, MAX_KEYWORDS, MAX_TEXT_BYTES } from './document-input.js';
import { readUpload, UPLOAD_LIMITS } from './read-upload.js';

const DEMO_PAGE = new URL('./demo-page.html', import.meta.url);

/**
 * `GET /streaming/`: the demo page. `POST /streaming/documents`: a document
 * (JSON `{ text, keywords }`, or a multipart upload) → 202 `{ id, links }`,
 * then its matches are followed on the job's events like any job's.
 */
export async function streamingRoutes(app: FastifyInstance, ctx: RecipeRouteContext): Promise<void> {
  const page = await readFile(DEMO_PAGE, 'utf8');
  // Uploads in this scope only; limits are checked as the file streams in.
  await app.register(multipart, { limits: UPLOAD_LIMITS, throwFileSizeLimit: true });
  // JSON or multipart: any other body is a 415 (Fastify would take text/plain too).
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('*', (_request, _payload, done) => {
    done(new TaskyardError('TASKYARD_ERR_UNSUPPORTED_MEDIA_TYPE', 'Send application/json or multipart/form-data'), undefined);
  });

  app.get('/streaming/', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));

  app.post(
    '/streaming/documents',
    {
      schema: {
        summary: 'Analyse a document (streaming recipe)',
        description:
          `JSON \`{ text, keywords, chunkDelayMs?, maxChunk? }\`, or multipart/form-data with a UTF-8 text \`file\` (at most ${MAX_TEXT_BYTES} bytes) ` +
          `and \`keywords\` (a JSON array or a comma-separated list; 1-${MAX_KEYWORDS}). Enqueues a document-analysis job: ` +
          'follow its `partial` events (one per match) at `links.events`.',
        tags: ['recipes'],
        response: {
          202: { type: 'object', properties: { id: { type: 'string' }, links: { type: 'object' } } },
          400: errorSchema,
          413: errorSchema,
          415: errorSchema,
          429: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const body = request.isMultipart() ? await readUpload(request) : (request.body ?? {});
      const input = parseOr400(DocumentInput, body, 'document');
      const { job } = await ctx.submit({ task: 'document-analysis', input });
      const links = jobLinks('/v1', job.id);
      return reply.status(202).header('location', links.self).send({ id: job.id, links });
    },
  );
}
