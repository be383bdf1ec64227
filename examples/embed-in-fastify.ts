// Taskyard inside an app of your own: the /v1 API mounted in your Fastify
// server, and a route of yours that enqueues through the typed client.
//   npx tsx examples/embed-in-fastify.ts
import Fastify from 'fastify';
import { createTaskyard, taskyardApi } from 'taskyard';
import { createClient } from 'taskyard/client';
import type * as tasks from './my-tasks.js';

const port = Number(process.env.PORT ?? 3001);
const taskyard = await createTaskyard({
  tasks: [new URL('./my-tasks.ts', import.meta.url).pathname],
  dataDir: process.env.TASKYARD_DATA_DIR ?? './.taskyard-embedded',
  listen: false, // no server of its own: we mount the API below
}).start();

const app = Fastify();
await app.register(taskyardApi, { prefix: '/v1', deps: taskyard.deps });

const client = createClient<typeof tasks>({ url: `http://127.0.0.1:${port}` });
app.post('/count', async (request, reply) => {
  const job = await client.enqueue('word-count', { text: String(request.body ?? '') });
  return reply.status(202).send({ id: job.id, events: `/v1/jobs/${job.id}/events` });
});

app.addHook('onClose', () => taskyard.stop());
await app.listen({ port, host: '127.0.0.1' });
console.log(`ready at http://127.0.0.1:${port}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close());
