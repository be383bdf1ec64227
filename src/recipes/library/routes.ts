import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { errorSchema, jobLinks } from '../../api/job-view.js';
import { TaskyardError } from '../../errors.js';
import { parseOr400 } from '../../validate.js';
import type { RecipeRouteContext } from '../recipe.js';
import { invalidUpload, readLibraryUpload, uploadLimits } from './read-library-upload.js';
import { decodeLibrary, LibraryXmlError, scanLibraryYielding } from './rekordbox-scan.js';
import type { LibrarySettings } from './settings.js';
import { LibraryConfig, TAG_TASK, type LibraryTagInput } from './types.js';

/**
 * `POST /api/library/jobs`: a Rekordbox XML library (multipart `file`, plus an
 * optional JSON `config`) → 202 `{ id, displayName, tracks, links }` once the
 * file is checked and stored; the tagging runs in a worker and is followed on
 * the job's events, its result downloaded from the job's artifacts.
 */
export async function libraryRoutes(app: FastifyInstance, ctx: RecipeRouteContext, settings: LibrarySettings): Promise<void> {
  // Uploads in this scope only; the size limit is checked as the file streams in.
  await app.register(multipart, { limits: uploadLimits(settings.maxUploadBytes), throwFileSizeLimit: true });
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('*', (_request, _payload, done) => {
    done(new TaskyardError('TASKYARD_ERR_UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data with the library as "file"'), undefined);
  });

  app.post(
    '/api/library/jobs',
    {
      schema: {
        summary: 'Tag a Rekordbox library (library recipe)',
        description:
          `multipart/form-data: \`file\`, a Rekordbox XML export (at most ${settings.maxUploadBytes} bytes; no DOCTYPE), and optionally \`config\`, ` +
          'JSON `{ "level": "quick" | "detailed" | "split", "trackDelayMs"?: 0-5000 }`. Answers 202 with the job; follow `links.events`, ' +
          'download from `links.artifacts`.',
        tags: ['recipe: library'],
        response: {
          202: {
            type: 'object',
            properties: { id: { type: 'string' }, displayName: { type: 'string' }, tracks: { type: 'integer' }, links: { type: 'object' } },
          },
          400: errorSchema,
          413: errorSchema,
          415: errorSchema,
          429: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw new TaskyardError('TASKYARD_ERR_UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data with the library as "file"');
      const upload = await readLibraryUpload(request, settings.maxUploadBytes);
      const config = parseOr400(LibraryConfig, parseConfig(upload.config), 'config', 'config');
      // Checked before anything is stored, so a refused file leaves no trace and no job.
      const tracks = await checkLibrary(upload.bytes);
      const stored = await ctx.files.putUpload(upload.fileName, 'application/xml', upload.bytes);
      const displayName = `${upload.fileName} – Tagging (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`;
      const input: LibraryTagInput = { uploadId: stored.id, fileName: upload.fileName, level: config.level, displayName, trackDelayMs: config.trackDelayMs };
      // A refused job (429, 503, bad input) must not leave its upload behind.
      const { job } = await ctx.submit({ task: TAG_TASK, input }).catch(async (error: unknown) => {
        await ctx.files.deleteUpload(stored.id).catch(() => undefined);
        throw error;
      });
      await ctx.files.claimUpload(stored.id, job.id);
      const jobs = jobLinks('/v1', job.id);
      const links = { ...jobs, artifacts: `${jobs.self}/artifacts` };
      return reply.status(202).header('location', links.self).send({ id: job.id, displayName, tracks, links });
    },
  );
}

/** A missing config means the defaults; one that is not JSON is a 400. */
function parseConfig(text: string | undefined): unknown {
  if (text === undefined || text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw invalidUpload('config', 'not valid JSON (e.g. {"level":"detailed"})');
  }
}

/** Well-formed UTF-8 XML, no DOCTYPE, DJ_PLAYLISTS/COLLECTION with at least one TRACK; returns the track count. */
async function checkLibrary(bytes: Uint8Array): Promise<number> {
  try {
    return (await scanLibraryYielding(decodeLibrary(bytes))).tracks.length;
  } catch (error) {
    if (error instanceof LibraryXmlError) throw invalidUpload('file', error.message);
    throw error;
  }
}
