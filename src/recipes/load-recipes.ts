import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api/deps.js';
import { sendError } from '../api/http-errors.js';
import type { Config } from '../config.js';
import { TaskyardError } from '../errors.js';
import type { Database } from '../history/database.js';
import type { FileStore } from '../history/files.js';
import { migrate } from '../history/migrate.js';
import type { Logger } from '../logger.js';
import type { Schedule } from '../schedules.js';
import type { Services } from '../services/open-services.js';
import type { SubmitJob, SubmitMany } from '../submit-job.js';
import { loadTaskModule } from '../tasks/load-tasks.js';
import type { TaskRegistry } from '../tasks/registry.js';
import type { Hosts } from '../worker/hosts.js';
import type { Recipe, RecipeContext } from './recipe.js';
import { RECIPE_NAMES, type RecipeName } from './recipe-names.js';

export { RECIPE_NAMES };

/** The recipes shipped with Taskyard, loaded on demand. */
const BUILT_IN: Record<RecipeName, () => Promise<Recipe>> = {
  catalog: async () => (await import('./catalog/recipe.js')).catalog,
  streaming: async () => (await import('./streaming/recipe.js')).streaming,
  pricing: async () => (await import('./pricing/recipe.js')).pricing,
  ingestion: async () => (await import('./ingestion/recipe.js')).ingestion,
  library: async () => (await import('./library/recipe.js')).library,
};

/** Resolves recipe names (unknown ones stop start-up naming the setting) and registers their tasks. */
export async function loadRecipes(names: readonly string[], registry: TaskRegistry): Promise<Recipe[]> {
  const unknown = names.filter((name) => !Object.hasOwn(BUILT_IN, name));
  if (unknown.length > 0) {
    throw new TaskyardError('TASKYARD_ERR_CONFIG', `Invalid configuration — recipes: unknown ${unknown.map((n) => `"${n}"`).join(', ')} (known: ${RECIPE_NAMES.join(', ')})`);
  }
  const recipes = await Promise.all([...new Set(names)].map((name) => BUILT_IN[name as RecipeName]()));
  for (const recipe of recipes) if (recipe.tasks) for (const task of await loadTaskModule(recipe.tasks)) registry.add(task);
  return recipes;
}

/** A recipe's tables live in a schema of their own next to the history schema. */
export const recipeSchema = (config: Config, recipe: Recipe): string => `${config.historySchema}_${recipe.name}`;

export interface RecipeRuntime {
  readonly recipes: readonly Recipe[];
  /** Registers every recipe's routes on the server. */
  routes(app: FastifyInstance, api: ApiDeps): Promise<void>;
  /** What the recipes submit on a clock. */
  schedules(): Schedule[];
  /** Starts what recipes run beside workers (listeners). */
  startWorkers(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Migrates the recipes' schemas, builds their contexts and registers the
 * functions their tasks call (`ctx.host`) on `hosts`.
 */
export async function startRecipes(
  recipes: readonly Recipe[],
  options: { config: Config; logger: Logger; db: Database; services: Services; submit: SubmitJob; submitMany: SubmitMany; hosts: Hosts; files: FileStore },
): Promise<RecipeRuntime> {
  const { config, logger, db, services, submit, submitMany, hosts, files } = options;
  const contexts = new Map<Recipe, RecipeContext>();
  for (const recipe of recipes) {
    const schema = recipeSchema(config, recipe);
    if (recipe.migrations) await migrate(db, schema, recipe.migrations);
    const ctx: RecipeContext = {
      name: recipe.name,
      config,
      logger: logger.child({ recipe: recipe.name }),
      db,
      schema,
      cache: services.cache,
      broadcast: services.broadcast,
      locks: services.locks,
      submit,
      submitMany,
      files,
    };
    contexts.set(recipe, ctx);
    for (const [name, host] of Object.entries(recipe.hosts?.(ctx) ?? {})) hosts.add(name, host);
  }
  const stops: Array<() => Promise<void>> = [];
  return {
    recipes,
    async routes(app, api) {
      for (const [recipe, ctx] of contexts) {
        if (!recipe.routes) continue;
        const register = recipe.routes;
        // Each recipe in its own scope, validating with zod like /v1 and answering errors in the same format.
        await app.register(async (scope) => {
          scope.setValidatorCompiler(() => () => true);
          scope.setSerializerCompiler(() => (data) => JSON.stringify(data));
          scope.setErrorHandler(sendError);
          await register(scope, { ...ctx, api });
        });
      }
    },
    schedules: () => [...contexts].flatMap(([recipe, ctx]) => recipe.schedules?.(ctx) ?? []),
    async startWorkers() {
      for (const [recipe, ctx] of contexts) if (recipe.worker) stops.push(await recipe.worker(ctx));
    },
    async close() {
      for (const stop of stops.reverse()) await stop().catch((error: unknown) => logger.warn({ err: error }, 'error while stopping a recipe'));
    },
  };
}
