// Type-level tests: each `@ts-expect-error` line must fail to compile and the rest
// must compile; check with `npx tsc -p test/client`. At run time only the
// client's construction is exercised: no request is made.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { createClient, TaskyardClient, type JobEvent, type JobInfo, type TasksOf } from '../../src/client/index.js';
import type * as builtin from '../../src/tasks/builtin/index.js';
import { defineTask } from '../../src/tasks/define-task.js';

type Equal<A, B> = (<V>() => V extends A ? 1 : 2) extends <V>() => V extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | void {}

const resize = defineTask({
  name: 'resize-image',
  input: z.object({ url: z.string().url(), width: z.number().int().default(800) }),
  run: async ({ url, width }) => ({ url, width, bytes: 0 }),
});
const ping = defineTask({
  name: 'ping',
  input: z.object({}),
  run: () => 'pong' as const,
});
/** A module of tasks, with a non-task export beside them. */
const tasksModule = { resize, ping, VERSION: '1.0' };

// Never called: these bodies only have to type-check.
export async function recordOfTasks(client = createClient<typeof tasksModule>({ url: 'http://x' })): Promise<void> {
  expectType<Equal<TasksOf<typeof tasksModule>['name'], 'resize-image' | 'ping'>>();

  const job = await client.enqueue('resize-image', { url: 'https://a/b.png' }, { priority: 10, idempotencyKey: 'k' });
  const result: { url: string; width: number; bytes: number } = await job.result();
  expectType<Equal<Awaited<ReturnType<typeof job.result>>, { url: string; width: number; bytes: number }>>();
  const pong: 'pong' = await (await client.enqueue('ping', {})).result();

  // @ts-expect-error -- no task has this name
  await client.enqueue('resize-imag', { url: 'https://a/b.png' });
  // @ts-expect-error -- width must be a number
  await client.enqueue('resize-image', { url: 'https://a/b.png', width: '800' });
  // @ts-expect-error -- url is required
  await client.enqueue('resize-image', { width: 800 });
  // @ts-expect-error -- the result is an object, not a string
  const wrong: string = await job.result();

  const existing: JobInfo<'pong'> = await client.getJob<'ping'>('id');
  const handle = client.job<'resize-image'>('id');
  const width: number = (await handle.result()).width;
  // @ts-expect-error -- not a task name
  client.job<'nope'>('id');
  for await (const event of handle.events({ after: 3 })) expectType<Equal<typeof event, JobEvent>>();
  await client.listJobs({ task: 'ping', status: 'failed' });
  // @ts-expect-error -- not a task name
  await client.listJobs({ task: 'nope' });
  void [result, pong, wrong, existing, width];
}

export async function arrayOfTasks(client = createClient<[typeof resize, typeof ping]>({ url: 'http://x' })): Promise<void> {
  const pong: 'pong' = await (await client.enqueue('ping', {})).result();
  // @ts-expect-error -- no task has this name
  await client.enqueue('compute-pi', { digits: 3 });
  void pong;
}

export async function moduleNamespace(client = createClient<typeof builtin>({ url: 'http://x' })): Promise<void> {
  const job = await client.enqueue('compute-pi', { digits: 10 });
  const digits: string = await job.result();
  const slept: { sleptMs: number; steps: number } = await (await client.enqueue('sleep', { ms: 10 })).result();
  // @ts-expect-error -- digits must be a number
  await client.enqueue('compute-pi', { digits: '10' });
  // @ts-expect-error -- no task has this name
  await client.enqueue('compute-py', { digits: 10 });
  void [digits, slept];
}

export async function untyped(client = createClient({ url: 'http://x' })): Promise<void> {
  const job = await client.enqueue('anything', { whatever: true });
  const result = await job.result();
  expectType<Equal<typeof result, unknown>>();
  await client.enqueue('other', 42);
}

test('createClient makes a TaskyardClient; the types above compile', () => {
  assert.ok(createClient<typeof tasksModule>({ url: 'http://127.0.0.1:1' }) instanceof TaskyardClient);
  assert.equal(typeof recordOfTasks, 'function');
});
