import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/app.js';
import type { ApiDeps } from './api/deps.js';
import { loadConfig, type Config, type ConfigInput } from './config.js';
import { Delivery } from './events/delivery.js';
import { JobStore } from './history/jobs.js';
import { migrate } from './history/migrate.js';
import { openEventTransport, openStorage, type Role } from './open-storage.js';
import { createLogger, type Logger } from './logger.js';
import { isTask, type AnyTask } from './tasks/define-task.js';
import { loadTaskModule } from './tasks/load-tasks.js';
import { TaskRegistry } from './tasks/registry.js';
import { WorkerRuntime } from './worker/runtime.js';
import { Heartbeat } from './worker/heartbeat.js';
import { ARTIFACTS_HOST, Hosts } from './worker/hosts.js';
import { FileStore } from './history/files.js';
import { Admission } from './admission.js';
import { bulkSubmitter, jobSubmitter } from './submit-job.js';
import { Schedules, type Schedule } from './schedules.js';
import { openServices } from './services/open-services.js';
import { loadRecipes, startRecipes, type RecipeRuntime } from './recipes/load-recipes.js';
import type { Recipe } from './recipes/recipe.js';
import { Metrics } from './observability/metrics.js';
import { startMetricsServer } from './observability/metrics-server.js';

const BUILTIN_TASKS = new URL(`./tasks/builtin/index${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url).href;

export type { Role } from './open-storage.js';

export interface TaskyardOptions extends Omit<Partial<ConfigInput>, 'tasks'> {
  /**
   * Tasks: objects returned by `defineTask`, and/or paths of modules exporting
   * them. Tasks from modules run in killable worker threads; task objects run
   * on the main thread (cooperative cancel only).
   */
  tasks?: ReadonlyArray<AnyTask | string>;
  /** @defaultValue 'all' */
  role?: Role;
  /**
   * Start Taskyard's own HTTP server. Set false to mount the API in an app of
   * your own with the `taskyardApi` plugin and `taskyard.deps`.
   * @defaultValue true
   */
  listen?: boolean;
  logger?: Logger;
  /** Read settings from process.env too. @defaultValue true */
  env?: boolean;
  /**
   * Functions tasks reach with `ctx.host(name)`, by name: what a task in its
   * sandbox thread cannot hold itself (a database pool, a cache client).
   * They run on the worker's main thread.
   */
  hosts?: Record<string, object>;
  /**
   * Jobs submitted on a clock (BullMQ job schedulers): `{ id, task, input?, everyMs? | cron? }`.
   * Declared by the API processes; schedules no longer declared are removed.
   */
  schedules?: readonly Schedule[];
}

export interface Taskyard {
  readonly config: Config;
  readonly registry: TaskRegistry;
  /** Set once started with an API role. */
  readonly app: FastifyInstance | undefined;
  /** What the `/v1` Fastify plugin needs, to mount it in an app of your own. */
  readonly deps: ApiDeps;
  readonly url: string | undefined;
  readonly worker: WorkerRuntime | undefined;
  /** The recipes running here (once started). */
  readonly recipes: readonly Recipe[];
  /** Prometheus metrics of this process (served at `/metrics`, and on `metricsPort` if set). */
  readonly metrics: Metrics;
  /** `http://host:port` of the metrics server, when `metricsPort` is set. */
  readonly metricsUrl: string | undefined;
  /** Opens the databases, runs migrations, starts the API and/or worker. */
  start(): Promise<Taskyard>;
  /** Graceful: stops taking work, lets running jobs finish (within the grace), closes everything. */
  stop(): Promise<void>;
}

export function createTaskyard(options: TaskyardOptions = {}): Taskyard {
  const { tasks = [], role = 'all', listen = true, logger: givenLogger, env = true, hosts: givenHosts = {}, schedules: givenSchedules = [], ...flags } = options;
  const moduleTasks = tasks.filter((task): task is string => typeof task === 'string');
  const config = loadConfig({ ...flags, tasks: [...(flags as ConfigInput).tasks ?? [], ...moduleTasks] } as Partial<ConfigInput>, env ? process.env : {});
  const logger = givenLogger ?? createLogger(config.logLevel);
  const registry = new TaskRegistry(tasks.filter(isTask));
  const closers: Array<() => Promise<void>> = [];
  let deps: ApiDeps | undefined;
  let app: FastifyInstance | undefined;
  let url: string | undefined;
  let worker: WorkerRuntime | undefined;
  let recipes: Recipe[] = [];
  let stopping: Promise<void> | undefined;
  const metrics = new Metrics();
  let metricsUrl: string | undefined;

  const taskyard: Taskyard = {
    config,
    registry,
    get app() {
      return app;
    },
    get deps() {
      if (!deps) throw new Error('Taskyard is not started');
      return deps;
    },
    get url() {
      return url;
    },
    get worker() {
      return worker;
    },
    get recipes() {
      return recipes;
    },
    metrics,
    get metricsUrl() {
      return metricsUrl;
    },
    async start() {
      try {
        await startAll();
      } catch (error) {
        await taskyard.stop().catch(() => undefined);
        throw error;
      }
      return taskyard;
    },
    stop() {
      stopping ??= (async () => {
        // Reverse order of start: API first (no new work), then workers, then storage.
        for (const close of closers.reverse()) {
          try {
            await close();
          } catch (error) {
            logger.warn({ err: error }, 'error while stopping');
          }
        }
      })();
      return stopping;
    },
  };

  async function startAll(): Promise<void> {
    if (config.builtins) for (const task of await loadTaskModule(BUILTIN_TASKS)) registry.add(task);
    for (const specifier of config.tasks) for (const task of await loadTaskModule(specifier)) registry.add(task);
    recipes = await loadRecipes(config.recipes, registry);

    const { db, engine } = await openStorage(config, logger, role);
    if (db) closers.push(() => db.close());
    closers.push(() => engine.close());
    if (db) await migrate(db, config.historySchema);

    const store = db ? new JobStore(db, config.historySchema) : undefined;
    const transport = await openEventTransport(config, logger, role, store);
    closers.push(() => transport.close());
    const { log, cancelBus, projector } = transport;
    const delivery = new Delivery(log, (event) => metrics.delivered(event.at));
    const submitDeps = store ? { engine, store, log, registry, admission: new Admission(engine, config.maxWaiting), metrics } : undefined;
    const submit = submitDeps && jobSubmitter(submitDeps);
    const submitMany = submitDeps && bulkSubmitter(submitDeps);
    const files = db ? new FileStore(db, config.historySchema) : undefined;
    if (store && submit && submitMany && files) deps = { engine, store, log, delivery, cancelBus, registry, submit, submitMany, files, workers: transport.workers, metrics };
    if (store && role !== 'worker') {
      // Read from the shared engine and history at each scrape: every API instance reports the same.
      metrics.watchQueues({ queues: () => registry.queues(), state: (queue) => engine.queueState(queue), oldestWaiting: (queue) => store.oldestWaiting(queue) });
      const { projector: redisProjector } = transport;
      metrics.watchEventLogLag(redisProjector ? () => redisProjector.lag() : async () => 0);
    }

    const hosts = new Hosts();
    for (const [name, host] of Object.entries(givenHosts)) hosts.add(name, host);
    if (files) hosts.add(ARTIFACTS_HOST, artifactsHost(files));
    let recipeRuntime: RecipeRuntime | undefined;
    if (recipes.length > 0 && db && submit && submitMany && files) {
      const services = await openServices(config, db, transport.redis);
      closers.push(() => services.close());
      recipeRuntime = await startRecipes(recipes, { config, logger, db, services, submit, submitMany, hosts, files });
      const started = recipeRuntime;
      closers.push(() => started.close());
    } else if (recipes.length > 0) {
      logger.warn(`recipes ${recipes.map((r) => r.name).join(', ')}: this worker has no database (give --database), so their tasks fail here`);
    }

    if (role !== 'api') {
      worker = new WorkerRuntime({
        engine,
        log,
        cancelBus,
        registry,
        logger,
        queues: config.queues ?? registry.queues(),
        concurrency: config.concurrency,
        cancelGraceMs: config.cancelGraceMs,
        shutdownGraceMs: config.shutdownGraceMs,
        progressIntervalMs: config.progressIntervalMs,
        lockDurationMs: config.lockDurationMs,
        hosts,
        maxJobsPerChild: config.maxJobsPerChild,
        jobNice: config.jobNice,
        metrics,
      });
      await worker.start();
      const runtime = worker;
      if (deps) deps.workerHealth = () => runtime.health();
      const heartbeat = new Heartbeat(transport.workers, runtime, logger);
      // Closers run in reverse: the worker drains its jobs (still beating), then leaves the directory.
      closers.push(() => heartbeat.stop());
      closers.push(() => runtime.stop());
      await heartbeat.start();
      await recipeRuntime?.startWorkers();
    }
    if (submit) {
      const schedules = new Schedules(engine, registry, submit, logger);
      const declared = schedules.validate([...givenSchedules, ...(recipeRuntime?.schedules() ?? [])]);
      if (role !== 'worker') await schedules.declare(declared);
      // The processes that declare schedules turn their ticks into jobs.
      if (declared.length > 0) {
        const ticks = schedules.consumeTicks();
        closers.push(() => ticks.close());
      }
    }
    if (projector) {
      await projector.start();
      closers.push(() => projector.stop());
    }
    if (role !== 'worker') {
      await delivery.start();
      closers.push(() => delivery.stop());
    }
    if (config.metricsPort !== undefined) {
      const running = worker;
      const server = await startMetricsServer(metrics, config.metricsPort, config.host, () => (running ? running.health() : engine.ping()));
      metricsUrl = server.url;
      closers.push(() => server.close());
    }
    if (deps && role !== 'worker' && listen) {
      const api = deps;
      app = await buildApp({ deps, logger, bodyLimitBytes: config.bodyLimitBytes, routes: recipeRuntime && ((server) => recipeRuntime.routes(server, api)) });
      const server = app;
      closers.push(() => server.close());
      await app.listen({ port: config.port, host: config.host });
      const address = app.server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
    }
  }

  return taskyard;
}

/** What `ctx.artifact` calls in the worker's process. */
function artifactsHost(files: FileStore): object {
  return {
    put: async (jobId: string, name: string, contentType: string, data: Uint8Array) => {
      const info = await files.putArtifact(jobId, name, contentType, data);
      return { name: info.name, size: info.size };
    },
  };
}

