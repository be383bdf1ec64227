import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { cancelJob, events, range } from '../behaviour/core-cases.js';
import { CuttableProxy } from '../helpers/cuttable-proxy.js';
import {
  BACKENDS,
  dropSchemas,
  getJson,
  isolatedStorage,
  postJson,
  REDIS_URL,
  startTaskyard,
  type StartedTaskyard,
  useTaskyard,
  waitForTerminal,
} from '../helpers/taskyard.js';

const HEAVY = 'catalog.heavy-process';
/** The seed migration's catalog: 300 products over 6 categories. */
const SEEDED = 300;

async function putJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Polls `/job-status/:id` until the job ends: the statuses seen, in order, without repeats, and the last answer. */
async function followStatus(url: string, id: string, timeoutMs = 30_000): Promise<{ seen: string[]; last: any }> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await getJson(`${url}/job-status/${id}`);
    assert.equal(status, 200, JSON.stringify(body));
    if (seen.at(-1) !== body.status) seen.push(body.status);
    if (body.status === 'completed' || body.status === 'failed') return { seen, last: body };
    if (Date.now() > deadline) throw new Error(`job ${id} still ${body.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function assertValidation(answer: { status: number; body: any }, what: string, code = 'TASKYARD_ERR_VALIDATION'): void {
  assert.equal(answer.status, 400, `${what}: ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.error.code, code, what);
  assert.equal(typeof answer.body.error.message, 'string', what);
}

for (const backend of BACKENDS) {
  describe(`catalog recipe [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, { recipes: ['catalog'] }, (started) => (ty = started));

    test('GET /health is the platform route', async () => {
      const health = await getJson(`${ty.url}/health`);
      assert.equal(health.status, 200);
      assert.equal(health.body.status, 'ok');
    });

    test('GET /products answers from the database first, then from the cache', async () => {
      const first = await getJson(`${ty.url}/products`);
      assert.equal(first.status, 200);
      assert.equal(first.body.source, 'database');
      assert.deepEqual(first.body.products.map((p: { id: number }) => p.id), range(1, 100));
      assert.deepEqual(Object.keys(first.body.products[0]).sort(), ['category', 'id', 'name', 'priceCents', 'sku', 'stock', 'updatedAt']);

      const second = await getJson(`${ty.url}/products`);
      assert.equal(second.body.source, 'cache');
      assert.deepEqual(second.body.products, first.body.products);
    });

    test('GET /products pages and filters by category', async () => {
      const tail = await getJson(`${ty.url}/products?limit=5&offset=${SEEDED - 3}`);
      assert.deepEqual(tail.body.products.map((p: { id: number }) => p.id), [298, 299, 300]);
      const books = await getJson(`${ty.url}/products?category=books&limit=500`);
      assert.equal(books.body.products.length, SEEDED / 6);
      assert.ok(books.body.products.every((p: { category: string }) => p.category === 'books'));
      const none = await getJson(`${ty.url}/products?category=no-such-category`);
      assert.equal(none.status, 200);
      assert.deepEqual(none.body.products, []);
    });

    test('after PUT /products/:id every list shows the new value, never the cached old one', async () => {
      // Two cached pages that hold product 7.
      for (const query of ['limit=10', 'category=electronics&limit=500']) {
        await getJson(`${ty.url}/products?${query}`);
        assert.equal((await getJson(`${ty.url}/products?${query}`)).body.source, 'cache');
      }
      const put = await putJson(`${ty.url}/products/7`, { name: 'Renamed Lamp', priceCents: 1234 });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.id, 7);
      assert.equal(put.body.name, 'Renamed Lamp');
      assert.equal(put.body.priceCents, 1234);
      assert.equal(put.body.category, 'electronics', 'fields not given are kept');

      for (const query of ['limit=10', 'category=electronics&limit=500']) {
        for (const source of ['database', 'cache']) {
          const page = await getJson(`${ty.url}/products?${query}`);
          assert.equal(page.body.source, source, query);
          const seven = page.body.products.find((p: { id: number }) => p.id === 7);
          assert.deepEqual(seven, put.body, `${query}, from the ${source}`);
        }
      }
    });

    test('PUT /products/:id of an unknown product answers 404', async () => {
      const put = await putJson(`${ty.url}/products/999999`, { stock: 1 });
      assert.equal(put.status, 404);
      assert.equal(put.body.error.code, 'TASKYARD_ERR_NOT_FOUND');
    });

    test('bad input answers 400 with a code, never 500', async () => {
      for (const query of ['limit=0', 'limit=501', 'limit=ten', 'offset=-1', 'category=Not%20This', 'colour=red']) {
        assertValidation(await getJson(`${ty.url}/products?${query}`), `GET /products?${query}`);
      }
      assertValidation(await putJson(`${ty.url}/products/abc`, { stock: 1 }), 'non-numeric id');
      assertValidation(await putJson(`${ty.url}/products/0`, { stock: 1 }), 'id 0');
      for (const body of [{}, { priceCents: -1 }, { stock: 1.5 }, { name: '' }, { colour: 'red' }, [1], null]) {
        assertValidation(await putJson(`${ty.url}/products/1`, body), `PUT ${JSON.stringify(body)}`);
      }
      assertValidation(await putJson(`${ty.url}/products/1`, '{"stock":'), 'PUT with broken JSON', 'TASKYARD_ERR_INVALID_JSON');
      for (const body of [{ iterations: 0 }, { iterations: 1.5 }, { iterations: 1e12 }, { failTimes: 'x' }, { colour: 'red' }, [], null]) {
        assertValidation(await postJson(`${ty.url}/heavy-process`, body), `POST /heavy-process ${JSON.stringify(body)}`);
      }
      const id = 'x'.repeat(101);
      assertValidation(await getJson(`${ty.url}/job-status/${id}`), 'an overlong job id');
    });

    test('POST /heavy-process answers 202 with a job id; the job ends completed with its result', async () => {
      const accepted = await postJson(`${ty.url}/heavy-process`, {});
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      const id: string = accepted.body.jobId;
      assert.equal(accepted.body.status, 'pending');
      assert.equal(accepted.body.statusUrl, `/job-status/${id}`);

      const { seen, last } = await followStatus(ty.url, id);
      // Whatever polling caught, it went forward only.
      const order = ['pending', 'processing', 'completed'];
      assert.deepEqual([...seen].sort((a, b) => order.indexOf(a) - order.indexOf(b)), seen);
      assert.equal(last.attempts, 1);
      assert.equal(last.result.productsCount, SEEDED);
      assert.equal(typeof last.result.processingTimeMs, 'number');
      assert.deepEqual(Object.keys(last.result).sort(), ['processingTimeMs', 'productsCount']);
    });

    test('a transient failure is retried and the job completes on attempt 2', async () => {
      const accepted = await postJson(`${ty.url}/heavy-process`, { iterations: 1000, failTimes: 1 });
      assert.equal(accepted.status, 202);
      const { last } = await followStatus(ty.url, accepted.body.jobId);
      assert.equal(last.status, 'completed');
      assert.equal(last.attempts, 2);
      assert.equal(last.result.productsCount, SEEDED);
      const trail = (await events(ty.url, accepted.body.jobId)).filter((e) => e.type === 'status').map((e) => e.data.status);
      assert.deepEqual(trail, ['queued', 'active', 'retrying', 'active', 'completed']);
    });

    test('a job that fails on every attempt ends failed, with its error', async () => {
      const accepted = await postJson(`${ty.url}/heavy-process`, { iterations: 1000, failTimes: 3 });
      const { last } = await followStatus(ty.url, accepted.body.jobId);
      assert.equal(last.status, 'failed');
      assert.equal(last.attempts, 3);
      assert.equal(last.result, undefined);
      assert.match(last.error.message, /Transient failure on attempt 3/);
    });

    test('a waiting job is pending, and a cancelled one failed', async () => {
      // Submitted through the platform API, to make it wait.
      const accepted = await postJson(`${ty.url}/v1/tasks/${HEAVY}/jobs`, { input: {}, delayMs: 60_000 });
      assert.equal(accepted.status, 202);
      const id: string = accepted.body.id;
      assert.deepEqual((await getJson(`${ty.url}/job-status/${id}`)).body, { jobId: id, status: 'pending', attempts: 0 });

      assert.equal((await cancelJob(ty.url, id)).status, 202);
      await waitForTerminal(ty.url, id);
      const cancelled = await getJson(`${ty.url}/job-status/${id}`);
      assert.equal(cancelled.body.status, 'failed');
      assert.equal(cancelled.body.error.code, 'TASKYARD_ERR_CANCELLED');
    });

    test('GET /job-status/:id of an unknown job, or of another task\'s job, answers 404', async () => {
      const unknown = await getJson(`${ty.url}/job-status/no-such-job`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'TASKYARD_ERR_JOB_NOT_FOUND');

      const other = await postJson(`${ty.url}/v1/tasks/whoami/jobs`, { input: {} });
      assert.equal(other.status, 202);
      await waitForTerminal(ty.url, other.body.id);
      const hidden = await getJson(`${ty.url}/job-status/${other.body.id}`);
      assert.equal(hidden.status, 404);
      assert.equal(hidden.body.error.code, 'TASKYARD_ERR_JOB_NOT_FOUND');
    });
  });
}

describe('catalog recipe while Redis is unreachable [redis]', () => {
  const proxy = new CuttableProxy(REDIS_URL);
  const storage = isolatedStorage('redis');
  let ty: StartedTaskyard | undefined;

  after(async () => {
    await proxy.open();
    await ty?.stop();
    await proxy.cut();
    await dropSchemas(storage);
  });

  test('the list falls back to the database; an update it cannot invalidate says so, and lands once repeated', { timeout: 60_000 }, async () => {
    await proxy.open();
    ty = await startTaskyard('redis', { ...storage, redisUrl: proxy.url, recipes: ['catalog'] });
    await getJson(`${ty.url}/products?limit=3`);
    assert.equal((await getJson(`${ty.url}/products?limit=3`)).body.source, 'cache');

    await proxy.cut();
    const during = await getJson(`${ty.url}/products?limit=3`);
    assert.equal(during.status, 200, JSON.stringify(during.body));
    assert.equal(during.body.source, 'database');
    const put = await putJson(`${ty.url}/products/2`, { priceCents: 42 });
    assert.equal(put.status, 503, 'the old value is still cached: the client must be told');
    assert.equal(put.body.error.code, 'TASKYARD_ERR_NOT_READY');
    const saved = await getJson(`${ty.url}/products?limit=3`);
    assert.equal(saved.body.products[1].priceCents, 42, 'the change itself was saved');

    await proxy.open();
    // Repeating the PUT (it is idempotent) once Redis is back drops the stale pages.
    let repeated = put;
    for (const deadline = Date.now() + 20_000; repeated.status !== 200 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      repeated = await putJson(`${ty.url}/products/2`, { priceCents: 42 });
    }
    assert.equal(repeated.status, 200, JSON.stringify(repeated.body));
    const fresh = await getJson(`${ty.url}/products?limit=3`);
    assert.equal(fresh.body.source, 'database');
    assert.equal(fresh.body.products[1].priceCents, 42);
  });
});
