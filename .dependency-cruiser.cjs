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
