import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * A fresh PGlite data dir costs an `initdb` inside WebAssembly (~2.5 s here).
 * The build dumps one pristine data dir per PGlite version; a first start on an
 * empty dir loads that dump instead (~0.9 s). Without a matching dump (running
 * from a source tree never built, another PGlite version) PGlite runs initdb as usual.
 * In-memory databases (`memory://`, tests) load it too.
 */
export const PGLITE_VERSION: string = readPgliteVersion();

function readPgliteVersion(): string {
  // Its package.json is not exported: find it from the entry point.
  let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Where the build writes the template: beside the built module. */
export const templateUrl = (version = PGLITE_VERSION): URL => new URL(`./pglite-template-${version}.tar.gz`, import.meta.url);

/**
 * The template to load: the build's, beside this module (dist/engine/) or, when
 * running from source (tests, tsx), in the build of the same checkout.
 */
function findTemplate(): URL | undefined {
  const name = `pglite-template-${PGLITE_VERSION}.tar.gz`;
  return [templateUrl(), new URL(`../../dist/engine/${name}`, import.meta.url)].find((url) => existsSync(url));
}

/** The pristine data dir to start from, when `dataDir` is new (or in memory) and a template matches. */
export async function templateFor(dataDir: string): Promise<Blob | undefined> {
  const inMemory = dataDir.startsWith('memory://');
  if (!inMemory && existsSync(dataDir) && readdirSync(dataDir).some((name) => name !== 'taskyard.lock')) return undefined;
  const url = findTemplate();
  return url ? new Blob([await readFile(url)]) : undefined;
}
