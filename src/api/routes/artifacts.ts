import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TaskyardError } from '../../errors.js';
import { safeFileName } from '../../history/files.js';
import { parseOr400 } from '../../validate.js';
import type { ApiDeps } from '../deps.js';
import { errorSchema } from '../job-view.js';

const JobParams = z.object({ id: z.string().min(1).max(100) });
const ArtifactParams = JobParams.extend({
  // Only names an artifact can have: a path trick never reaches the query.
  name: z.string().min(1).max(200).refine((name) => safeFileName(name, '') === name, 'not an artifact name'),
});

const artifactSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    contentType: { type: 'string' },
    size: { type: 'integer' },
    sha256: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    url: { type: 'string' },
  },
} as const;

export function artifactRoutes(app: FastifyInstance, deps: ApiDeps, prefix: string): void {
  const requireJob = async (id: string): Promise<void> => {
    if (!(await deps.store.get(id))) throw new TaskyardError('TASKYARD_ERR_JOB_NOT_FOUND', `No job with id "${id}"`);
  };

  app.get(
    '/jobs/:id/artifacts',
    {
      schema: {
        summary: "A job's artifacts (files it stored with ctx.artifact)",
        tags: ['jobs'],
        params: { type: 'object', properties: { id: { type: 'string' } } },
        response: { 200: { type: 'object', properties: { artifacts: { type: 'array', items: artifactSchema } } }, 404: errorSchema },
      },
    },
    async (request) => {
      const { id } = parseOr400(JobParams, request.params, 'path');
      await requireJob(id);
      const artifacts = await deps.files.artifacts(id);
      return {
        artifacts: artifacts.map((file) => ({
          name: file.name,
          contentType: file.contentType,
          size: file.size,
          sha256: file.sha256,
          createdAt: file.createdAt,
          url: `${prefix}/jobs/${id}/artifacts/${encodeURIComponent(file.name)}`,
        })),
      };
    },
  );

  app.get(
    '/jobs/:id/artifacts/:name',
    {
      schema: {
        summary: 'Download an artifact',
        tags: ['jobs'],
        params: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
        response: { 400: errorSchema, 404: errorSchema },
      },
    },
    async (request, reply) => {
      const { id, name } = parseOr400(ArtifactParams, request.params, 'path');
      const file = await deps.files.artifact(id, name);
      if (!file) {
        await requireJob(id);
        throw new TaskyardError('TASKYARD_ERR_NOT_FOUND', `Job "${id}" has no artifact "${name}"`);
      }
      return reply
        .header('content-type', file.contentType)
        .header('content-disposition', `attachment; filename="${file.name}"`)
        .header('x-content-type-options', 'nosniff')
        .header('etag', `"${file.sha256}"`)
        .header('content-length', file.size)
        // Streamed chunk by chunk: a large artifact neither sits in memory nor holds the database.
        .send(Readable.from(deps.files.chunks(file.id)));
    },
  );
}
