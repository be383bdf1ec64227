// Compiles src/ to dist/, copies the files tsc does not (SQL migrations, pages), and builds
// the dashboard (src/dashboard, a Vite app) into dist/dashboard.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(join(root, 'dist'), { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
if (result.status !== 0) process.exit(result.status ?? 1);
// Everything tsc does not emit (SQL migrations, recipes' pages and seed data) goes along as it is;
// the dashboard's sources do not (Vite builds them below).
const dashboardSources = join(root, 'src', 'dashboard');
cpSync(join(root, 'src'), join(root, 'dist'), {
  recursive: true,
  filter: (source) => source !== dashboardSources && (statSync(source).isDirectory() || !/\.(c|m)?tsx?$/.test(source)),
});
// The dashboard, bundled by Vite (which strips types; `npm test` type-checks it).
const { build } = await import('vite');
await build({ configFile: join(dashboardSources, 'vite.config.ts') });
// A pristine PGlite data dir, so a first start skips initdb (see src/engine/pglite-template.ts).
const { PGlite } = await import('@electric-sql/pglite');
const { templateUrl } = await import(join(root, 'dist', 'engine', 'pglite-template.js'));
const pristine = await PGlite.create('memory://');
const dump = await pristine.dumpDataDir('gzip');
await pristine.close();
writeFileSync(templateUrl(), Buffer.from(await dump.arrayBuffer()));
// Mark the build as newer than every source it was made from.
const now = new Date();
utimesSync(join(root, 'dist', 'cli', 'main.js'), now, now);
