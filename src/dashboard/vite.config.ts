// The dashboard's build and dev server. `npx vite --config src/dashboard/vite.config.ts`
// serves it with live reload and proxies the API to a running `npm start` (TASKYARD_URL).
import { defineConfig } from 'vite';

const root = new URL('.', import.meta.url).pathname;
const api = globalThis.process?.env['TASKYARD_URL'] ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root,
  base: './',
  logLevel: 'warn',
  // Vite's own transform (Oxc) compiles the JSX for Preact: no Babel plugin.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: new URL('../../dist/dashboard', import.meta.url).pathname,
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
  },
  server: { proxy: { '/v1': { target: api, changeOrigin: false } } },
});
