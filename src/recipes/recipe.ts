import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api/deps.js';
import type { Config } from '../config.js';
import type { Database } from '../history/database.js';
import type { FileStore } from '../history/files.js';
import type { Logger } from '../logger.js';
import type { Broadcast } from '../services/broadcast.js';
import type { Cache } from '../services/cache.js';
import type { Locks } from '../services/locks.js';
import type { Schedule } from '../schedules.js';
import type { SubmitJob, SubmitMany } from '../submit-job.js';

/**
 * What a recipe gets from the process it runs in. The same shape on every
 * backend: the cache, broadcast and locks are Redis-backed when Redis is
 * configured and PostgreSQL/in-process otherwise.
 */
export interface RecipeContext {
  readonly name: string;
  readonly config: Config;
  readonly logger: Logger;
  /** The history database; the recipe's tables live in `schema`. */
  readonly db: Database;
  /** This recipe's own schema (created by its migrations), e.g. `taskyard_catalog`. */
  readonly schema: string;
  readonly cache: Cache;
  readonly broadcast: Broadcast;
  readonly locks: Locks;
  /** Enqueues a job exactly as `POST /v1/tasks/:task/jobs` does (admission, idempotency, history). */
  readonly submit: SubmitJob;
  /** Many jobs at once, all or none: one history statement, one engine round trip per queue (at most 1,000). */
  readonly submitMany: SubmitMany;
  /** Uploads for jobs to read, and jobs' artifacts, in the history database. */
  readonly files: FileStore;
}

/** What a recipe's HTTP routes get. */
export interface RecipeRouteContext extends RecipeContext {
  /** The `/v1` API's dependencies, e.g. to look a job up with `findJob`. */
  readonly api: ApiDeps;
}

/**
 * A runnable system built on Taskyard: tasks, their data (migrations), the
 * functions its tasks call in the worker process, HTTP routes, and anything it
 * runs beside the workers (e.g. an event listener).
 */
export interface Recipe {
  readonly name: string;
  /** One line for `--help` and the start-up banner. */
  readonly description: string;
  /** URL of the module exporting the recipe's tasks (they run in sandbox threads). */
  readonly tasks?: string;
  /** Directory URL of numbered `.sql` migrations, applied to the recipe's schema (`$schema` is not substituted: search_path is set). */
  readonly migrations?: URL;
  /**
   * Functions its tasks reach through `ctx.host(name)`; they run on the worker's
   * main thread, where the database and caches are. Keyed by host name.
   */
  hosts?(ctx: RecipeContext): Record<string, object>;
  /** HTTP routes, registered at the server's root. */
  routes?(app: FastifyInstance, ctx: RecipeRouteContext): Promise<void> | void;
  /** Jobs submitted on a clock (BullMQ job schedulers), e.g. a report every 15 minutes. */
  schedules?(ctx: RecipeContext): Schedule[];
  /** Runs in processes with a worker (e.g. a listener that enqueues jobs); returns how to stop it. */
  worker?(ctx: RecipeContext): Promise<() => Promise<void>>;
  /** A path for the start-up banner, e.g. `/products`. */
  readonly tryPath?: string;
}

/** Declares a recipe (identity: the type checker does the work). */
export function defineRecipe(recipe: Recipe): Recipe {
  return recipe;
}
