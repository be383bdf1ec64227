import path from 'node:path';
import { defineRecipe } from '../recipe.js';
import { libraryHost } from './library-host.js';
import { libraryRoutes } from './routes.js';
import { librarySettings } from './settings.js';
import { LIBRARY_HOST } from './types.js';

const extension = path.extname(new URL(import.meta.url).pathname);

/**
 * A long job with an upload: a Rekordbox library is checked and stored, then
 * tagged track by track in a worker (rules, or an OpenAI-compatible model),
 * with progress and a partial per track, cancel, resume after a crash, a tag
 * cache across jobs, and the tagged XML to download. Settings come from the
 * environment when the recipe starts (see docs/recipes/library.md).
 */
export const library = defineRecipe({
  name: 'library',
  description: 'POST /api/library/jobs: tag a Rekordbox XML library (upload, progress, cancel, resume, download)',
  tasks: new URL(`./tasks${extension}`, import.meta.url).href,
  migrations: new URL('./migrations/', import.meta.url),
  hosts: (ctx) => ({ [LIBRARY_HOST]: libraryHost(ctx, librarySettings()) }),
  routes: (app, ctx) => libraryRoutes(app, ctx, librarySettings()),
});
