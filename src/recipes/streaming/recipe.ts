import path from 'node:path';
import { defineRecipe } from '../recipe.js';
import { streamingRoutes } from './routes.js';

/**
 * Progress and partial results, followed live over SSE or by polling:
 * compute-pi (built in) and document-analysis, a demo page at /streaming/, and
 * the `streaming-vs-polling` benchmark.
 */
export const streaming = defineRecipe({
  name: 'streaming',
  description: 'progress and partial results: SSE streaming vs polling (compute-pi, document-analysis)',
  // .ts under tsx, .js once built: the sandbox threads load the same module.
  tasks: new URL(`./tasks${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url).href,
  routes: streamingRoutes,
  tryPath: '/streaming/',
});
