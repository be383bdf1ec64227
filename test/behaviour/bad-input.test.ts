import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKENDS, waitForTerminal, type StartedTaskyard, useTaskyard } from '../helpers/taskyard.js';

interface Answer {
  status: number;
  body: any;
  what: string;
}

/**
 * Sends a request and checks what every answer of the API must satisfy: never a
 * 5xx, and every error body is `{ error: { code: string, message: string } }`.
 */
async function send(url: string, init: RequestInit & { what?: string } = {}): Promise<Answer> {
  const what = init.what ?? `${init.method ?? 'GET'} ${url}`;
  const res = await fetch(url, init);
  const text = await res.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    assert.fail(`${what}: answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  assert.ok(res.status < 500, `${what}: answered ${res.status} ${text.slice(0, 300)}`);
  if (res.status >= 400) {
    assert.equal(typeof body?.error, 'object', `${what}: error body ${text.slice(0, 300)}`);
    assert.equal(typeof body.error.code, 'string', `${what}: error.code`);
    assert.equal(typeof body.error.message, 'string', `${what}: error.message`);
    assert.match(body.error.code, /^TASKYARD_ERR_[A-Z_]+$/, what);
  }
  return { status: res.status, body, what };
}

function post(url: string, body: string, contentType = 'application/json', what?: string): Promise<Answer> {
  return send(url, { method: 'POST', headers: { 'content-type': contentType }, body, what: what ?? `POST ${url} ${body.slice(0, 60)}` });
}

function expectError(answer: Answer, status: number, code: string): void {
  assert.equal(answer.status, status, `${answer.what}: ${JSON.stringify(answer.body)?.slice(0, 300)}`);
  assert.equal(answer.body.error.code, code, answer.what);
}

/** The API still serves: health, readiness, and a job runs to completion. */
async function assertStillServing(url: string): Promise<void> {
  const health = await send(`${url}/health`);
  assert.equal(health.status, 200);
  const ready = await send(`${url}/ready`);
  assert.equal(ready.status, 200);
  assert.equal(ready.body.status, 'ready');
  const accepted = await post(`${url}/v1/tasks/sleep/jobs`, JSON.stringify({ input: { ms: 10, steps: 1 } }));
  assert.equal(accepted.status, 202);
  const job = await waitForTerminal(url, accepted.body.id);
  assert.equal(job.status, 'completed');
  assert.deepEqual(job.result, { sleptMs: 10, steps: 1 });
}

for (const backend of BACKENDS) {
  describe(`bad input [${backend}]`, () => {
    let ty!: StartedTaskyard;
    let jobs: string;
    useTaskyard(backend, { bodyLimitBytes: 4096 }, (started) => {
      ty = started;
      jobs = `${ty.url}/v1/tasks/sleep/jobs`;
    });

    test('a body that is not valid JSON → 400 TASKYARD_ERR_INVALID_JSON', async () => {
      expectError(await post(jobs, '{"input": {"ms": 1'), 400, 'TASKYARD_ERR_INVALID_JSON');
      expectError(await post(jobs, "{'input': {}}"), 400, 'TASKYARD_ERR_INVALID_JSON');
      // An empty body is no body: here the task's required input is then missing.
      expectError(await post(jobs, ''), 400, 'TASKYARD_ERR_VALIDATION');
    });

    test('input that fails the task schema → 400 TASKYARD_ERR_VALIDATION naming the fields', async () => {
      const wrongType = await post(jobs, JSON.stringify({ input: { ms: 'soon' } }));
      expectError(wrongType, 400, 'TASKYARD_ERR_VALIDATION');
      assert.ok(Array.isArray(wrongType.body.error.details));
      for (const detail of wrongType.body.error.details) {
        assert.equal(typeof detail.path, 'string');
        assert.equal(typeof detail.message, 'string');
      }
      assert.ok(wrongType.body.error.details.some((d: { path: string }) => d.path === 'input.ms'));

      const missing = await post(`${ty.url}/v1/tasks/compute-pi/jobs`, JSON.stringify({ input: {} }));
      expectError(missing, 400, 'TASKYARD_ERR_VALIDATION');
      assert.ok(missing.body.error.details.some((d: { path: string }) => d.path === 'input.digits'));

      const outOfRange = await post(`${ty.url}/v1/tasks/compute-pi/jobs`, JSON.stringify({ input: { digits: 0 } }));
      expectError(outOfRange, 400, 'TASKYARD_ERR_VALIDATION');
      assert.ok(outOfRange.body.error.details.some((d: { path: string }) => d.path === 'input.digits'));

      // No input at all is validated too (the task needs `ms`).
      expectError(await post(jobs, '{}'), 400, 'TASKYARD_ERR_VALIDATION');
    });

    test('an unknown body field → 400', async () => {
      const answer = await post(jobs, JSON.stringify({ input: { ms: 1 }, colour: 'red' }));
      expectError(answer, 400, 'TASKYARD_ERR_VALIDATION');
    });

    test('a body that is a JSON array, string or number → 400', async () => {
      for (const body of ['[]', '[{"input":{"ms":1}}]', '"hello"', '42', 'true']) {
        const answer = await post(jobs, body);
        assert.equal(answer.status, 400, `${body}: ${JSON.stringify(answer.body)}`);
      }
    });

    test('priority 101, delayMs -1, attempts 0 and friends → 400', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ priority: 101 }, 'priority'],
        [{ priority: -1 }, 'priority'],
        [{ priority: 1.5 }, 'priority'],
        [{ priority: '5' }, 'priority'],
        [{ delayMs: -1 }, 'delayMs'],
        [{ delayMs: 'later' }, 'delayMs'],
        [{ attempts: 0 }, 'attempts'],
        [{ attempts: 101 }, 'attempts'],
      ];
      for (const [extra, field] of cases) {
        const answer = await post(jobs, JSON.stringify({ input: { ms: 1 }, ...extra }));
        expectError(answer, 400, 'TASKYARD_ERR_VALIDATION');
        assert.ok(
          answer.body.error.details.some((d: { path: string }) => d.path === field),
          `${JSON.stringify(extra)} names ${field}: ${JSON.stringify(answer.body.error.details)}`,
        );
      }
      const badKey = await send(jobs, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'has spaces in it' },
        body: JSON.stringify({ input: { ms: 1 } }),
      });
      expectError(badKey, 400, 'TASKYARD_ERR_VALIDATION');
    });

    test('an unknown task → 404 TASKYARD_ERR_TASK_NOT_FOUND', async () => {
      expectError(await post(`${ty.url}/v1/tasks/no-such-task/jobs`, JSON.stringify({ input: {} })), 404, 'TASKYARD_ERR_TASK_NOT_FOUND');
    });

    test('an unknown job → 404 TASKYARD_ERR_JOB_NOT_FOUND on GET, events and cancel', async () => {
      const id = '0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee';
      expectError(await send(`${ty.url}/v1/jobs/${id}`), 404, 'TASKYARD_ERR_JOB_NOT_FOUND');
      expectError(await send(`${ty.url}/v1/jobs/${id}/events`, { headers: { accept: 'application/json' } }), 404, 'TASKYARD_ERR_JOB_NOT_FOUND');
      expectError(await send(`${ty.url}/v1/jobs/${id}/events`, { headers: { accept: 'text/event-stream' } }), 404, 'TASKYARD_ERR_JOB_NOT_FOUND');
      expectError(await send(`${ty.url}/v1/jobs/${id}/cancel`, { method: 'POST' }), 404, 'TASKYARD_ERR_JOB_NOT_FOUND');
    });

    test('an unknown route → 404 TASKYARD_ERR_ROUTE_NOT_FOUND', async () => {
      expectError(await send(`${ty.url}/v1/nothing-here`), 404, 'TASKYARD_ERR_ROUTE_NOT_FOUND');
      expectError(await send(`${ty.url}/nothing-here?x=1`), 404, 'TASKYARD_ERR_ROUTE_NOT_FOUND');
      expectError(await post(`${ty.url}/v1/tasks/sleep`, '{}'), 404, 'TASKYARD_ERR_ROUTE_NOT_FOUND');
      expectError(await send(`${ty.url}/v2/jobs`), 404, 'TASKYARD_ERR_ROUTE_NOT_FOUND');
    });

    test('a body over the limit → 413 TASKYARD_ERR_BODY_TOO_LARGE', async () => {
      const body = JSON.stringify({ input: { ms: 1, padding: 'x'.repeat(10 * 1024) } });
      assert.ok(body.length > 10 * 1024);
      expectError(await post(jobs, body), 413, 'TASKYARD_ERR_BODY_TOO_LARGE');
    });

    test('a body that is not JSON by content type → 415 TASKYARD_ERR_UNSUPPORTED_MEDIA_TYPE', async () => {
      const json = JSON.stringify({ input: { ms: 1 } });
      for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'text/csv']) {
        expectError(await post(jobs, json, type), 415, 'TASKYARD_ERR_UNSUPPORTED_MEDIA_TYPE');
      }
    });

    test('input nested deeper than the API accepts → 400, not 5xx', async () => {
      // Deep as fits under this server's 4 KB body limit; the 10,000-level case has its own server below.
      const deep = `${'['.repeat(1000)}${']'.repeat(1000)}`;
      expectError(await post(jobs, `{"input":{"ms":1,"nested":${deep}}}`), 400, 'TASKYARD_ERR_VALIDATION');
      expectError(await post(jobs, `{"input":${deep}}`), 400, 'TASKYARD_ERR_VALIDATION');
      expectError(await post(jobs, `{"priority":${deep}}`), 400, 'TASKYARD_ERR_VALIDATION');
    });

    test('a very long job id → 4xx on GET, events and cancel', async () => {
      const id = 'j'.repeat(300);
      for (const answer of [
        await send(`${ty.url}/v1/jobs/${id}`),
        await send(`${ty.url}/v1/jobs/${id}/events`, { headers: { accept: 'application/json' } }),
        await send(`${ty.url}/v1/jobs/${id}/events`, { headers: { accept: 'text/event-stream' } }),
        await send(`${ty.url}/v1/jobs/${id}/cancel`, { method: 'POST' }),
      ]) {
        assert.ok(answer.status >= 400 && answer.status < 500, `${answer.what}: ${answer.status}`);
      }
      // Long, but under the router's limit: the route itself refuses it.
      expectError(await send(`${ty.url}/v1/jobs/${'j'.repeat(150)}`), 400, 'TASKYARD_ERR_VALIDATION');
    });

    test('bad list and events queries → 400', async () => {
      expectError(await send(`${ty.url}/v1/jobs?limit=0`), 400, 'TASKYARD_ERR_VALIDATION');
      expectError(await send(`${ty.url}/v1/jobs?status=sleeping`), 400, 'TASKYARD_ERR_VALIDATION');
      expectError(await send(`${ty.url}/v1/jobs?colour=red`), 400, 'TASKYARD_ERR_VALIDATION');
    });

    test('the NUL character (PostgreSQL cannot store it) in input values or keys → 400, not 5xx', async () => {
      expectError(await post(jobs, JSON.stringify({ input: { ms: 1, note: 'a\u0000b' } })), 400, 'TASKYARD_ERR_VALIDATION');
      expectError(await post(jobs, JSON.stringify({ input: { ms: 1, ['k\u0000']: 1 } })), 400, 'TASKYARD_ERR_VALIDATION');
    });

    test('a body of null → 400; a bodiless POST with a JSON content type is no body', async () => {
      expectError(await post(jobs, 'null'), 400, 'TASKYARD_ERR_VALIDATION');
      const accepted = await post(jobs, JSON.stringify({ input: { ms: 60_000 } }));
      assert.equal(accepted.status, 202);
      const cancelled = await post(`${ty.url}/v1/jobs/${accepted.body.id}/cancel`, '');
      assert.equal(cancelled.status, 202);
    });

    test('request headers over the limit → 431 in the same error format', async () => {
      const answer = await send(`${ty.url}/health`, { headers: { 'x-big': 'x'.repeat(20_000) } });
      expectError(answer, 431, 'TASKYARD_ERR_HEADERS_TOO_LARGE');
    });

    test('after the whole matrix the API is healthy, ready, and runs jobs', async () => {
      await assertStillServing(ty.url);
    });
  });

  describe(`deeply nested input [${backend}]`, () => {
    // The default body limit, so 10,000 levels of nesting reach the route.
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));

    test('10,000 levels of nesting → 4xx, never 5xx, and the API goes on serving', async () => {
      const depth = 10_000;
      const objects = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      const arrays = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const jobs = `${ty.url}/v1/tasks/sleep/jobs`;
      for (const body of [
        `{"input":{"ms":1,"nested":${objects}}}`,
        `{"input":{"ms":1,"nested":${arrays}}}`,
        `{"input":${objects}}`,
        `{"input":${arrays}}`,
        objects,
        arrays,
      ]) {
        const answer = await post(jobs, body, 'application/json', `POST ${body.slice(0, 40)}…`);
        assert.ok(answer.status >= 400 && answer.status < 500, `${answer.what}: ${answer.status}`);
      }
      await assertStillServing(ty.url);
    });
  });
}
