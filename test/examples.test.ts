// The runnable examples are part of the suite, so the README's code stays true.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { postJson, readSse, startTaskyard, waitForTerminal } from './helpers/taskyard.js';

describe('examples', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  test('examples/my-tasks.ts loads with --tasks and counts words, streaming long words', async () => {
    const ty = await startTaskyard('pglite', { tasks: ['examples/my-tasks.ts'] });
    cleanup.push(() => ty.stop());
    const text = 'a somewhat extraordinarily long line\nsecond line here';
    const accepted = await postJson(`${ty.url}/v1/tasks/word-count/jobs`, { input: { text } });
    assert.equal(accepted.status, 202);
    const events = await readSse(`${ty.url}${accepted.body.links.events}`);
    assert.deepEqual(
      events.filter((e) => e.event === 'partial').map((e) => e.data),
      [{ line: 1, word: 'extraordinarily' }],
    );
    assert.deepEqual(events.find((e) => e.event === 'result')?.data, { words: 8, lines: 2 });

    const empty = await postJson(`${ty.url}/v1/tasks/word-count/jobs`, { input: { text: '   ' } });
    const job = await waitForTerminal(ty.url, empty.body.id);
    assert.equal(job.status, 'failed');
    assert.equal(job.error.code, 'TASKYARD_ERR_PERMANENT');
    assert.equal(job.attempts, 1, 'a PermanentError is not retried');
  });

  test('examples/embed-in-fastify.ts serves /v1 inside its own app and enqueues through the client', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'taskyard-embed-'));
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'examples/embed-in-fastify.ts'], {
      env: { ...process.env, PORT: String(port), TASKYARD_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanup.push(async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      await rm(dataDir, { recursive: true, force: true });
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready at')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`example exited with ${code}: ${out}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    const res = await fetch(`${url}/count`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'one two three' });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    const job = await waitForTerminal(url, id);
    assert.equal(job.status, 'completed');
    assert.deepEqual(job.result, { words: 3, lines: 1 });
  });
});
