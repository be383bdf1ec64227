// The streaming recipe through its public routes, on every backend: the demo
// page, documents sent as JSON or uploaded, their matches streamed as partials,
// and the same events whether followed over SSE or by polling.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { BACKENDS, getJson, parseSse, postJson, type StartedTaskyard, useTaskyard } from '../helpers/taskyard.js';

const DOCUMENT_BYTES = readFileSync(new URL('../fixtures/documents/known-matches.txt', import.meta.url));
const DOCUMENT = DOCUMENT_BYTES.toString('utf8');
const KEYWORDS = ['queue', 'worker', 'stream', 'partial result'];
/** Counted by hand in test/fixtures/documents/known-matches.txt (case ignored, inside words too). */
const COUNTS = { queue: 6, worker: 4, stream: 4, 'partial result': 2 };
const LINES = [1, 2, 2, 2, 2, 4, 4, 4, 6, 8, 8, 8, 9, 9, 9, 10];

interface Event {
  seq: number;
  type: string;
  data: any;
}

const isTerminal = (e: Event): boolean => e.type === 'status' && ['completed', 'failed', 'cancelled'].includes(e.data.status);

/**
 * The job's events over SSE, as the polling API names them. Like EventSource,
 * it reconnects with Last-Event-ID when the server closes a stream that fell
 * behind with a `resume` frame (a burst of thousands of partials can do that).
 */
async function streamed(ty: StartedTaskyard, events: string): Promise<Event[]> {
  const all: Event[] = [];
  for (;;) {
    const res = await fetch(`${ty.url}${events}`, { headers: { accept: 'text/event-stream', 'last-event-id': String(all.at(-1)?.seq ?? 0) } });
    assert.equal(res.status, 200);
    const text = await res.text();
    all.push(...parseSse(text).map((e) => ({ seq: e.id, type: e.event === 'job-error' ? 'error' : e.event, data: e.data })));
    if (!/event: resume\n/.test(text)) return all;
  }
}

/** The job's events by polling `?after=` with Accept: application/json, a few at a time, until the terminal one. */
async function polled(ty: StartedTaskyard, events: string, limit = 7): Promise<Event[]> {
  const all: Event[] = [];
  for (;;) {
    const page = await getJson(`${ty.url}${events}?after=${all.at(-1)?.seq ?? 0}&limit=${limit}`);
    assert.equal(page.status, 200);
    all.push(...page.body.map(({ seq, type, data }: Event) => ({ seq, type, data })));
    if (all.some(isTerminal)) return all;
    if (page.body.length < limit) await sleep(25);
  }
}

function upload(ty: StartedTaskyard, fields: Record<string, string>, file?: Uint8Array): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file) form.append('file', new Blob([file], { type: 'text/plain' }), 'document.txt');
  return fetch(`${ty.url}/streaming/documents`, { method: 'POST', body: form });
}

async function expectRefused(res: { status: number; body: any }, status: number, code: string, path?: string): Promise<void> {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
  if (path) assert.ok(res.body.error.details.some((d: { path: string }) => d.path === path), `details name ${path}: ${JSON.stringify(res.body.error.details)}`);
}

const json = async (res: Response): Promise<{ status: number; body: any }> => ({ status: res.status, body: await res.json() });

for (const backend of BACKENDS) {
  describe(`streaming recipe [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, { recipes: ['streaming'] }, (started) => (ty = started));

    test('GET /streaming/ serves the demo page, which uses the public API both ways', async () => {
      const res = await fetch(`${ty.url}/streaming/`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const page = await res.text();
      for (const used of ['/v1/tasks/compute-pi/jobs', '/streaming/documents', 'new EventSource(', "accept: 'application/json'", '?after=']) {
        assert.ok(page.includes(used), `the page uses ${used}`);
      }
      assert.ok(!/<script[^>]+src=|<link[^>]+href="http/i.test(page), 'self-contained: no external script or stylesheet');
    });

    test('a JSON document in small chunks: each match streams as a partial, in order, and the result counts them', async () => {
      const accepted = await postJson(`${ty.url}/streaming/documents`, { text: DOCUMENT, keywords: KEYWORDS, maxChunk: 16 });
      assert.equal(accepted.status, 202);
      assert.deepEqual(Object.keys(accepted.body).sort(), ['id', 'links']);
      assert.equal(accepted.body.links.events, `/v1/jobs/${accepted.body.id}/events`);

      const events = await streamed(ty, accepted.body.links.events);
      const partials = events.filter((e) => e.type === 'partial').map((e) => e.data);
      assert.deepEqual(partials.map((p) => p.line), LINES);
      assert.deepEqual(partials[0], { keyword: 'queue', snippet: 'Queue first: this line starts with ', line: 1, chunk: 0 });
      assert.deepEqual(partials[8], {
        keyword: 'partial result',
        snippet: '🚀 for the UTF-8 decoder.\nEach partial result is an event; a partial\nresult',
        line: 6,
        chunk: partials[8].chunk,
      });
      assert.deepEqual(
        partials.slice(9, 12).map((p) => p.snippet),
        [
          'r two lines is not one match.\nQUEUE, Queue, queue: case does not ',
          'ines is not one match.\nQUEUE, Queue, queue: case does not matter.',
          ' not one match.\nQUEUE, Queue, queue: case does not matter.\nThe st',
        ],
        'three matches on one line, each with its own snippet',
      );
      assert.equal(partials.at(-1).snippet, 'ine, ending on a keyword: the worker\n');
      assert.ok(partials.every((p, i) => i === 0 || p.chunk >= partials[i - 1].chunk), 'chunks in order');
      assert.ok(new Set(partials.map((p) => p.chunk)).size > 10, 'spread over many chunks');

      const result = events.find((e) => e.type === 'result')?.data;
      assert.deepEqual(result.counts, COUNTS);
      assert.equal(result.matches, 16);
      assert.ok(result.chunks > partials.at(-1).chunk, `${result.chunks} chunks`);
      const progress = events.filter((e) => e.type === 'progress').map((e) => e.data);
      assert.ok(progress.length > 0);
      assert.deepEqual(
        { current: progress.at(-1).current, total: progress.at(-1).total },
        { current: DOCUMENT.length, total: DOCUMENT.length },
      );
      assert.ok(progress.every((p, i) => i === 0 || p.current >= progress[i - 1].current), 'progress only grows');
      assert.equal(events.at(-1)?.type, 'status');
      assert.equal(events.at(-1)?.data.status, 'completed');
      assert.equal(events.at(-1)?.seq, events.length);
    });

    test('SSE and polling deliver the same events, followed while the job runs', async () => {
      const accepted = await postJson(`${ty.url}/streaming/documents`, { text: DOCUMENT, keywords: KEYWORDS, maxChunk: 32, chunkDelayMs: 10 });
      assert.equal(accepted.status, 202);
      const [sse, polling] = await Promise.all([streamed(ty, accepted.body.links.events), polled(ty, accepted.body.links.events)]);
      assert.deepEqual(
        sse.filter((e) => e.type !== 'progress'),
        polling.filter((e) => e.type !== 'progress'),
      );
      // A stream may coalesce progress for a client that lags; here none lags.
      assert.deepEqual(sse, polling);
      assert.deepEqual(
        sse.map((e) => e.seq),
        sse.map((_, i) => i + 1),
        'every seq once, in order',
      );
    });

    test('compute-pi (built in) streams the same digits over SSE and by polling', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/compute-pi/jobs`, { input: { digits: 30, delayMs: 5 } });
      assert.equal(accepted.status, 202);
      const [sse, polling] = await Promise.all([streamed(ty, accepted.body.links.events), polled(ty, accepted.body.links.events)]);
      const digits = (events: Event[]): string => events.filter((e) => e.type === 'partial').map((e) => e.data.digit).join('');
      assert.equal(digits(sse), '314159265358979323846264338327');
      assert.equal(digits(polling), digits(sse));
    });

    test('past 10,000 matches the partials stop, a log says so, and the result still counts every match', async () => {
      const accepted = await postJson(`${ty.url}/streaming/documents`, { text: 'ab'.repeat(12_000), keywords: ['b'] });
      assert.equal(accepted.status, 202);
      const events = await streamed(ty, accepted.body.links.events);
      assert.equal(events.filter((e) => e.type === 'partial').length, 10_000);
      assert.match(events.find((e) => e.type === 'log')?.data.message, /more than 10000 matches/);
      assert.deepEqual(events.find((e) => e.type === 'result')?.data.counts, { b: 12_000 });
    });

    test('an uploaded text file gives the same counts, keywords as a comma-separated list or a JSON array', async () => {
      for (const keywords of ['queue, worker, stream, partial result', JSON.stringify(KEYWORDS)]) {
        const accepted = await json(await upload(ty, { keywords }, DOCUMENT_BYTES));
        assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
        const events = await streamed(ty, accepted.body.links.events);
        assert.deepEqual(events.find((e) => e.type === 'result')?.data, { counts: COUNTS, matches: 16, chunks: 1 });
        assert.deepEqual(events.filter((e) => e.type === 'partial').map((e) => e.data.line), LINES);
      }
    });

    test('bad JSON input is refused with 400 naming the field, and creates no job', async () => {
      const before = await getJson(`${ty.url}/v1/jobs?task=document-analysis&limit=100`);
      const cases: Array<[unknown, string]> = [
        [{ text: DOCUMENT }, 'keywords'],
        [{ text: DOCUMENT, keywords: [] }, 'keywords'],
        [{ text: DOCUMENT, keywords: Array.from({ length: 51 }, (_, i) => `k${i}`) }, 'keywords'],
        [{ text: DOCUMENT, keywords: ['x'.repeat(101)] }, 'keywords.0'],
        [{ text: DOCUMENT, keywords: ['', 'queue'] }, 'keywords.0'],
        [{ text: DOCUMENT, keywords: ['Queue', 'queue'] }, 'keywords'],
        [{ text: '', keywords: ['queue'] }, 'text'],
        [{ text: 'a\u0000b', keywords: ['a'] }, 'text'],
        [{ text: DOCUMENT, keywords: ['queue'], chunkDelayMs: 5000 }, 'chunkDelayMs'],
        [{ text: DOCUMENT, keywords: ['queue'], maxChunk: 1 }, 'maxChunk'],
        [{ keywords: ['queue'] }, 'text'],
      ];
      for (const [body, path] of cases) {
        await expectRefused(await postJson(`${ty.url}/streaming/documents`, body), 400, 'TASKYARD_ERR_VALIDATION', path);
      }
      await expectRefused(await postJson(`${ty.url}/streaming/documents`, { text: 'a', keywords: ['a'], extra: 1 }), 400, 'TASKYARD_ERR_VALIDATION');
      const after = await getJson(`${ty.url}/v1/jobs?task=document-analysis&limit=100`);
      assert.equal(after.body.jobs.length, before.body.jobs.length);
    });

    test('an upload that is not a UTF-8 text file is refused with 400 naming the file', async () => {
      const binary = [Uint8Array.from([0x68, 0x69, 0x00, 0x01]), Uint8Array.from([0x68, 0xc3, 0x28, 0x69]), new Uint8Array(0)];
      for (const file of binary) {
        await expectRefused(await json(await upload(ty, { keywords: 'hi' }, file)), 400, 'TASKYARD_ERR_VALIDATION', 'file');
      }
      await expectRefused(await json(await upload(ty, { keywords: 'hi' })), 400, 'TASKYARD_ERR_VALIDATION', 'file');
      await expectRefused(await json(await upload(ty, { keywords: '["unclosed' }, DOCUMENT_BYTES)), 400, 'TASKYARD_ERR_VALIDATION', 'keywords');
      await expectRefused(await json(await upload(ty, {}, DOCUMENT_BYTES)), 400, 'TASKYARD_ERR_VALIDATION', 'keywords');
    });

    test('a file over 1 MiB (or a second file) is refused with 413; a body neither JSON nor multipart with 415', async () => {
      const large = new Uint8Array(1024 * 1024 + 1).fill(0x61);
      await expectRefused(await json(await upload(ty, { keywords: 'a' }, large)), 413, 'TASKYARD_ERR_BODY_TOO_LARGE');
      const exactly = new Uint8Array(1024 * 1024).fill(0x61);
      assert.equal((await upload(ty, { keywords: 'b' }, exactly)).status, 202, 'exactly 1 MiB is taken');
      const twoFiles = new FormData();
      twoFiles.append('keywords', 'a');
      for (const name of ['one.txt', 'two.txt']) twoFiles.append('file', new Blob(['a']), name);
      await expectRefused(await json(await fetch(`${ty.url}/streaming/documents`, { method: 'POST', body: twoFiles })), 413, 'TASKYARD_ERR_BODY_TOO_LARGE');
      const plain = await fetch(`${ty.url}/streaming/documents`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'queue' });
      await expectRefused(await json(plain), 415, 'TASKYARD_ERR_UNSUPPORTED_MEDIA_TYPE');
    });
  });
}
