/** Import rules drawn from STYLE.md: folders are the architecture. */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'only-engine-imports-bullmq',
      comment: 'BullMQ stays behind the engine port.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/engine/' },
      to: { path: 'node_modules/bullmq/' },
    },
    {
      name: 'engine-knows-no-http',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: ['^src/(api|worker|history|events|cli)/', 'node_modules/(fastify|@fastify)/'] },
    },
    {
      name: 'history-below-api-and-worker',
      severity: 'error',
      from: { path: '^src/(history|events)/' },
      to: { path: ['^src/(api|worker|cli)/', 'node_modules/(fastify|@fastify)/'] },
    },
    {
      name: 'api-and-worker-apart',
      severity: 'error',
      from: { path: '^src/api/' },
      to: { path: '^src/worker/' },
    },
    {
      name: 'worker-knows-no-http',
      severity: 'error',
      from: { path: '^src/worker/' },
      to: { path: ['^src/api/', 'node_modules/(fastify|@fastify)/'] },
    },
    {
      name: 'tasks-are-leaves',
      comment: 'Task code depends on the SDK only, never on the runtime.',
      severity: 'error',
      from: { path: '^src/tasks/' },
      to: { path: '^src/(api|worker|engine|history|events|cli)/' },
    },
    {
      name: 'services-know-no-http',
      comment: 'Cache, locks and broadcast are backend adapters, below the API and the worker.',
      severity: 'error',
      from: { path: '^src/services/' },
      to: { path: ['^src/(api|worker|cli|recipes)/', 'node_modules/(fastify|@fastify)/'] },
    },
    {
      name: 'recipes-stand-apart',
      comment: 'Each recipe is a self-contained example: none imports another, and the platform imports none (only the loader does).',
      severity: 'error',
      from: { path: '^src/recipes/([^/]+)/' },
      to: { path: '^src/recipes/([^/]+)/', pathNot: '^src/recipes/$1/' },
    },
    {
      name: 'platform-knows-no-recipe',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/recipes/', '^src/cli/'] },
      to: { path: '^src/recipes/[^/]+/' },
    },
    {
      name: 'recipe-tasks-are-leaves',
      comment: 'A recipe task runs in a sandbox thread: it must not pull in Fastify or the runtime.',
      severity: 'error',
      from: { path: '^src/recipes/[^/]+/tasks\\.ts$' },
      to: { path: ['^src/(api|worker|engine|history|events|cli|services)/', 'node_modules/(fastify|@fastify)/', '^src/recipes/[^/]+/(recipe|routes)\\.ts$'] },
    },
    {
      name: 'client-stands-alone',
      comment: 'taskyard/client runs in any app: no server code.',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { path: '^src/(api|worker|engine|history|cli)/', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
