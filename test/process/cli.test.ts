import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { killAllCli, makeTempDir, spawnCli, startCli, waitForExit } from '../helpers/cli-process.js';
import { getJson, postJson, waitForTerminal } from '../helpers/taskyard.js';

describe('taskyard CLI', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  before(async () => {
    tmp = await makeTempDir();
  });
  after(async () => {
    await killAllCli();
    await tmp.remove();
  });

  test('`start --port 0` prints the URL it listens on; it is ready and runs jobs', async () => {
    const { proc, url } = await startCli(['--data-dir', tmp.dir]);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.doesNotMatch(url, /:0$/, 'the real port, not 0');

    const ready = await getJson(`${url}/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body.checks, { engine: 'ok', history: 'ok', worker: 'ok' }, 'the in-process worker takes work too');
    // Every recipe runs by default: the banner lists them and their routes answer.
    await proc.waitForOutput(/recipe: +pricing/);
    for (const recipe of ['catalog', 'streaming', 'pricing']) assert.match(proc.stdout(), new RegExp(`recipe: +${recipe}`));
    const price = await postJson(`${url}/api/v1/price`, { productId: 'P0001', userLocation: 'US', isPrimeMember: false });
    assert.equal(price.status, 200);

    const accepted = await postJson(`${url}/v1/tasks/compute-pi/jobs`, { input: { digits: 10 } });
    assert.equal(accepted.status, 202);
    const job = await waitForTerminal(url, accepted.body.id);
    assert.equal(job.status, 'completed');
    assert.equal(job.result, '3141592653');

    proc.signal('SIGTERM');
    assert.deepEqual(await waitForExit(proc), { code: 0, signal: null });
  });

  test('`--recipes pricing` runs that recipe only; `--no-recipes` none', async () => {
    const only = await startCli(['--data-dir', `${tmp.dir}/only`, '--recipes', 'pricing']);
    assert.equal((await getJson(`${only.url}/products`)).status, 404);
    assert.equal((await postJson(`${only.url}/api/v1/price`, { productId: 'P0001', userLocation: 'US', isPrimeMember: false })).status, 200);
    only.proc.signal('SIGTERM');
    await waitForExit(only.proc);

    const none = await startCli(['--data-dir', `${tmp.dir}/none`, '--no-recipes']);
    assert.equal((await postJson(`${none.url}/api/v1/price`, {})).status, 404);
    assert.doesNotMatch(none.proc.stdout(), /recipe:/);
    none.proc.signal('SIGTERM');
    await waitForExit(none.proc);
  });

  test('`--recipes nope` exits non-zero naming the setting and the known recipes', async () => {
    const proc = spawnCli(['start', '--port', '0', '--data-dir', tmp.dir, '--recipes', 'nope']);
    const { code } = await waitForExit(proc);
    assert.notEqual(code, 0);
    assert.match(proc.stderr(), /recipes: unknown "nope" \(known: catalog, streaming, pricing, ingestion, library\)/);
    assert.doesNotMatch(proc.stdout(), /ready at/);
  });

  test('`start --port notanumber` exits non-zero naming the port', async () => {
    const proc = spawnCli(['start', '--port', 'notanumber', '--data-dir', tmp.dir]);
    const { code } = await waitForExit(proc);
    assert.notEqual(code, 0);
    assert.match(proc.stderr(), /port/i);
    assert.match(proc.stderr(), /notanumber/);
    assert.doesNotMatch(proc.stdout(), /ready at/);
  });

  test('`--database mysql://x` exits non-zero naming databaseUrl', async () => {
    const proc = spawnCli(['start', '--port', '0', '--database', 'mysql://x']);
    const { code } = await waitForExit(proc);
    assert.notEqual(code, 0);
    assert.match(proc.stderr(), /databaseUrl/);
    assert.match(proc.stderr(), /postgres/);
    assert.doesNotMatch(proc.stdout(), /ready at/);
  });

  test('`worker --tasks ./does-not-exist.ts` exits non-zero saying the module is missing', async () => {
    const proc = spawnCli(['worker', '--data-dir', tmp.dir, '--tasks', './does-not-exist.ts']);
    const { code } = await waitForExit(proc);
    assert.notEqual(code, 0);
    assert.match(proc.stderr(), /does-not-exist\.ts/);
    assert.match(proc.stderr(), /not found/i);
    assert.doesNotMatch(proc.stdout(), /is running/);
  });
});
