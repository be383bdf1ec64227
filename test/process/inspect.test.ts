// `taskyard inspect` against a real `taskyard start` (embedded PGlite), over HTTP,
// as an operator runs it: JSON for scripts, tables for people, one line when the
// deployment cannot be reached.
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import { killAllCli, runCli, startCli, waitForExit, type CliProcess } from '../helpers/cli-process.js';
import { getJson, postJson, until, waitForTerminal } from '../helpers/taskyard.js';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('taskyard inspect', () => {
  let server: CliProcess;
  let url: string;
  let napId: string;

  const inspect = async (view: string, ...flags: string[]): Promise<string> => {
    const { code, stdout, stderr } = await runCli(['inspect', view, '--url', url, ...flags]);
    assert.equal(code, 0, `inspect ${view} exited ${code}: ${stderr}`);
    return stdout;
  };
  const inspectJson = async (view: string, ...flags: string[]): Promise<any> => JSON.parse(await inspect(view, '--json', ...flags));

  before(async () => {
    ({ proc: server, url } = await startCli(['--data-dir', 'memory://', '--tasks', 'test/fixtures/ops-tasks.ts', '--no-builtins', '--no-recipes', '--log-level', 'warn']));
    const echo = await postJson(`${url}/v1/tasks/echo/jobs`, { input: { text: 'hello' } });
    assert.equal((await waitForTerminal(url, echo.body.id)).status, 'completed');
    napId = (await postJson(`${url}/v1/tasks/nap/jobs`, { input: { ms: 120_000 } })).body.id;
    // The worker's next heartbeat (every 2 s) shows the job in its hands.
    await until('the nap job in a worker\'s hands', async () => {
      const { body } = await getJson(`${url}/v1/workers`);
      return body.workers.some((worker: { active: Array<{ jobId: string }> }) => worker.active.some((job) => job.jobId === napId)) || undefined;
    });
    await until('the nap job\'s progress in history', async () => (await getJson(`${url}/v1/jobs/${napId}`)).body.progress ?? undefined);
  });

  after(async () => {
    server?.signal('SIGTERM');
    if (server) await waitForExit(server);
    await killAllCli();
  });

  test('`active --json` lists the running job on the worker that holds it, with its progress', async () => {
    const { active } = await inspectJson('active');
    assert.equal(active.length, 1, JSON.stringify(active));
    const [entry] = active;
    assert.equal(entry.jobId, napId);
    assert.equal(entry.task, 'nap');
    assert.equal(entry.queue, 'naps');
    assert.ok(Date.parse(entry.startedAt) <= Date.now());
    assert.deepEqual({ host: entry.worker.host, pid: entry.worker.pid, alive: entry.worker.alive }, { host: os.hostname(), pid: server.pid, alive: true });
    assert.equal(entry.attempts, 1);
    assert.equal(entry.progress.message, 'napping');
  });

  test('`active` prints a table with the job id, its task and the worker', async () => {
    const table = await inspect('active');
    assert.match(table, new RegExp(napId));
    assert.match(table, /│ nap +│ naps +│/);
    assert.match(table, new RegExp(`${os.hostname()}:${server.pid}`));
    assert.match(table, /50% napping/);
  });

  test('`registered` lists the tasks with their queues and the live workers consuming them', async () => {
    const { tasks } = await inspectJson('registered');
    const seen = tasks.map((task: { name: string; queue: string; workers: number }) => ({ name: task.name, queue: task.queue, workers: task.workers }));
    seen.sort((a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name));
    assert.deepEqual(seen, [
      { name: 'echo', queue: 'default', workers: 1 },
      { name: 'nap', queue: 'naps', workers: 1 },
    ]);
    assert.equal(tasks.find((task: { name: string }) => task.name === 'nap').description, 'Sleeps, on a queue of its own');
    const table = await inspect('registered');
    assert.match(table, /│ nap +│ naps +│ 1 +│/);
    assert.match(table, /│ echo +│ default +│ 1 +│/);
  });

  test('`stats` shows each queue\'s counts and how many jobs finished per minute', async () => {
    const { minutes, queues } = await inspectJson('stats', '--minutes', '5');
    assert.equal(minutes, 5);
    const byName = Object.fromEntries(queues.map((queue: { name: string }) => [queue.name, queue]));
    assert.deepEqual(Object.keys(byName).sort(), ['default', 'naps']);
    assert.equal(byName.naps.active, 1);
    assert.equal(byName.naps.completed, 0);
    assert.equal(byName.default.completed, 1);
    assert.equal(byName.default.active, 0);
    // One echo job finished within the last 5 minutes: 1 / 5 per minute.
    assert.deepEqual(byName.default.perMinute, { completed: 0.2, failed: 0, cancelled: 0 });
    assert.deepEqual(byName.naps.perMinute, { completed: 0, failed: 0, cancelled: 0 });
    const table = await inspect('stats');
    assert.match(table, /│ naps +│ no +│ 0 +│ 1 +│/, 'naps: not paused, 0 waiting, 1 active');
  });

  test('`workers` (URL from TASKYARD_URL) shows the worker: host, pid, queues, concurrency, jobs in hand, heartbeat, alive', async () => {
    const { code, stdout, stderr } = await runCli(['inspect', 'workers', '--json'], { TASKYARD_URL: url });
    assert.equal(code, 0, stderr);
    const { workers } = JSON.parse(stdout);
    assert.equal(workers.length, 1);
    const [worker] = workers;
    assert.equal(worker.host, os.hostname());
    assert.equal(worker.pid, server.pid);
    assert.deepEqual([...worker.queues].sort(), ['default', 'naps']);
    assert.equal(worker.concurrency, 4);
    assert.deepEqual(worker.active.map((job: { jobId: string }) => job.jobId), [napId]);
    assert.equal(worker.alive, true);
    assert.ok(Date.now() - Date.parse(worker.heartbeatAt) < 15_000, worker.heartbeatAt);

    const table = await inspect('workers');
    assert.match(table, new RegExp(`│ ${os.hostname()} +│ ${server.pid} +│ default, naps +│ 4 +│ 1 / 8 +│ \\d+ s ago +│ yes +│`));
  });

  test('once the job has ended, `active` says no job is running', async () => {
    await postJson(`${url}/v1/jobs/${napId}/cancel`, {});
    assert.equal((await waitForTerminal(url, napId)).status, 'cancelled');
    await until('the worker\'s hands empty', async () => ((await getJson(`${url}/v1/workers`)).body.workers[0]?.active.length === 0 ? true : undefined));
    assert.deepEqual(await inspectJson('active'), { active: [] });
    assert.equal(await inspect('active'), 'No job is running (1 live worker).\n');
  });

  test('an unreachable URL is one line on stderr and exit code 1, never a stack trace', async () => {
    const port = await closedPort();
    for (const json of [[], ['--json']]) {
      const { code, stdout, stderr } = await runCli(['inspect', 'workers', '--url', `http://127.0.0.1:${port}`, ...json]);
      assert.equal(code, 1);
      assert.equal(stdout, '');
      assert.equal(stderr, `taskyard: cannot reach Taskyard at http://127.0.0.1:${port} (ECONNREFUSED); is it running there? Set --url or TASKYARD_URL\n`);
    }
    const bad = await runCli(['inspect', 'stats', '--url', 'localhost:3000']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'taskyard: --url: "localhost:3000" is not an http:// or https:// URL (e.g. http://127.0.0.1:3000)\n');
  });

  test('an unknown view is commander\'s usage error, listing the views', async () => {
    const { code, stderr } = await runCli(['inspect', 'nope', '--url', url]);
    assert.equal(code, 1);
    assert.match(stderr, /error: unknown command 'nope'/);
    for (const view of ['active', 'registered', 'stats', 'workers']) assert.match(stderr, new RegExp(`^  ${view} `, 'm'));
  });
});
