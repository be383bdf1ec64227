// Serves the dashboard (Vite's build in dist/dashboard) at `/`. Hashed assets are cached for a
// year; index.html never, so a new build shows at the next load. Hidden from OpenAPI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * Where the build is: next to this file once compiled (dist/api → dist/dashboard), or in dist/
 * when this file runs from src/ under tsx (the tests, after a build).
 */
export function dashboardDir(): string {
  const compiled = import.meta.url.endsWith('.js');
  return fileURLToPath(new URL(compiled ? '../dashboard/' : '../../dist/dashboard/', import.meta.url));
}

const notBuilt = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Taskyard</title><link rel="icon" href="data:,"></head>
<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>The dashboard is not built</h1>
<p>Run <code>npm run build</code> (or start with <code>npm start</code>, which builds when sources changed), then reload.</p>
<p>The API works without it: see <a href="/docs">/docs</a>.</p>
</body></html>`;

export async function dashboardRoutes(app: FastifyInstance, root = dashboardDir()): Promise<void> {
  if (!existsSync(`${root}/index.html`)) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.code(503).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(notBuilt),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    // A catch-all, so a rebuild is served without a restart; a path with no file still gets
    // the API's JSON 404, and every other route is more specific than this one.
    wildcard: true,
    index: ['index.html'],
    decorateReply: false,
    dotfiles: 'ignore',
    cacheControl: false,
    setHeaders: (reply, path) => {
      const hashed = /[\\/]assets[\\/]/.test(path);
      reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}
