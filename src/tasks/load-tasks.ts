import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { isTask, type AnyTask } from './define-task.js';

const TYPESCRIPT = /\.(c|m)?tsx?$/;
let typescriptLoader: Promise<void> | undefined;

/** Registers tsx's ESM loader once, so `.ts` task modules can be imported. */
function loadTypeScript(): Promise<void> {
  typescriptLoader ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return typescriptLoader;
}

/** Turns a path (relative to `cwd`) or URL into a file URL string. */
export function toModuleUrl(specifier: string, cwd = process.cwd()): string {
  if (specifier.startsWith('file:')) return specifier;
  const absolute = path.resolve(cwd, specifier);
  if (!existsSync(absolute)) throw new Error(`Task module not found: ${absolute}`);
  return pathToFileURL(absolute).href;
}

export async function importModule(moduleUrl: string): Promise<Record<string, unknown>> {
  // Node caches a failed import, so the loader must be in place before the first try.
  // A worker thread never inherits the main thread's loader hooks.
  if (TYPESCRIPT.test(new URL(moduleUrl).pathname) && (!isMainThread || !process.execArgv.some((arg) => arg.includes('tsx')))) {
    await loadTypeScript();
  }
  return (await import(moduleUrl)) as Record<string, unknown>;
}

/**
 * Imports a module and returns every task it exports (directly, or inside an
 * exported array or object), each stamped with where it came from so a sandbox
 * thread can load the same task again.
 */
export async function loadTaskModule(specifier: string, cwd?: string): Promise<AnyTask[]> {
  const moduleUrl = toModuleUrl(specifier, cwd);
  const exports = await importModule(moduleUrl);
  const found = new Map<string, AnyTask>();
  for (const [exportName, value] of Object.entries(exports)) {
    if (isTask(value)) {
      found.set(value.name, { ...value, source: { moduleUrl, exportName } } as AnyTask);
    }
  }
  // Collections (e.g. `export default [a, b]`) are taken too, when the task is not exported by name.
  for (const value of Object.values(exports)) {
    const items = Array.isArray(value) ? value : value && typeof value === 'object' && !isTask(value) ? Object.values(value) : [];
    for (const item of items) if (isTask(item) && !found.has(item.name)) found.set(item.name, item);
  }
  if (found.size === 0) throw new Error(`No tasks exported by ${moduleUrl} (export the values returned by defineTask)`);
  return [...found.values()];
}

/** Finds one exported task again, inside a sandbox thread. */
export async function loadTaskExport(moduleUrl: string, exportName: string): Promise<AnyTask> {
  const exports = await importModule(moduleUrl);
  const task = exports[exportName];
  if (!isTask(task)) throw new Error(`${moduleUrl} does not export a task named ${exportName}`);
  return task;
}
