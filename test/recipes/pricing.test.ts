import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connectRedis, parseRedisUrl } from '../../src/engine/redis-connection.js';
import { BACKENDS, getJson, postJson, REDIS_URL, type StartedTaskyard, until, useTaskyard, waitForTerminal } from '../helpers/taskyard.js';

const price = (url: string, body: unknown) => postJson(`${url}/api/v1/price`, body);
const recalculate = (url: string, input: Record<string, unknown>) => postJson(`${url}/v1/tasks/recalculate-all-prices/jobs`, { input });

/** P0001 is in "electronics" with a list price of 84.18 (see the recipe's seed). */
const P0001 = { productId: 'P0001', userLocation: 'US', isPrimeMember: true };

for (const backend of BACKENDS) {
  describe(`pricing recipe [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, { recipes: ['pricing'], tasks: [] }, (started) => (ty = started));

    test('a price is read from the database, then served from the cache, identical', async () => {
      const first = await price(ty.url, { ...P0001, productId: 'P0007' });
      assert.equal(first.status, 200);
      assert.equal(first.body.source, 'database');
      const second = await price(ty.url, { ...P0001, productId: 'P0007' });
      assert.equal(second.status, 200);
      assert.equal(second.body.source, 'cache');
      assert.deepEqual({ ...second.body, source: 'database' }, first.body);
      // US prime members get 10 % off.
      assert.equal(first.body.discountRate, 0.1);
      assert.equal(first.body.finalPrice, Math.round(first.body.basePrice * 100 * 0.9) / 100);
    });

    test('an unknown region gets the default discount; lower-case codes are accepted', async () => {
      const { status, body } = await price(ty.url, { productId: 'P0002', userLocation: 'zz', isPrimeMember: false });
      assert.equal(status, 200);
      assert.equal(body.discountRate, 0);
      assert.equal(body.finalPrice, body.basePrice);
    });

    test('bad input is a 400 naming the field; an unknown product a 404', async () => {
      for (const body of [{}, { ...P0001, isPrimeMember: 'yes' }, { ...P0001, userLocation: 'USA' }, { ...P0001, productId: '../x' }, { ...P0001, extra: 1 }, []]) {
        const res = await price(ty.url, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.code, 'TASKYARD_ERR_VALIDATION');
      }
      const missing = await price(ty.url, { ...P0001, productId: 'P9999' });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'TASKYARD_ERR_NOT_FOUND');
    });

    test('two recalculations started together: exactly one runs, the other ends skipped', async () => {
      const input = { batchSize: 50, batchDelayMs: 300 };
      const [a, b] = await Promise.all([recalculate(ty.url, input), recalculate(ty.url, input)]);
      assert.equal(a.status, 202);
      assert.equal(b.status, 202);
      const results = (await Promise.all([waitForTerminal(ty.url, a.body.id), waitForTerminal(ty.url, b.body.id)])).map((job) => {
        assert.equal(job.status, 'completed');
        return job.result;
      });
      const ran = results.filter((result) => result.status === 'completed');
      const skipped = results.filter((result) => result.status === 'skipped');
      assert.equal(ran.length, 1, JSON.stringify(results));
      assert.equal(skipped.length, 1);
      assert.equal(ran[0].productsUpdated, 300);
      assert.match(skipped[0].reason, /another recalculation/);
      // The lock was given back: a later one runs.
      const later = await recalculate(ty.url, {});
      assert.equal((await waitForTerminal(ty.url, later.body.id)).result.status, 'completed');
    });

    test('transient failures are retried with backoff until the recalculation succeeds', async () => {
      const accepted = await recalculate(ty.url, { failUntilAttempt: 2 });
      const job = await waitForTerminal(ty.url, accepted.body.id);
      assert.equal(job.status, 'completed');
      assert.equal(job.attempts, 3);
      assert.equal(job.result.status, 'completed');
      const events = (await getJson(`${ty.url}/v1/jobs/${accepted.body.id}/events`)).body as Array<{ type: string; data: any }>;
      const retries = events.filter((event) => event.type === 'error').map((event) => event.data.message);
      assert.equal(retries.length, 2);
      for (const message of retries) assert.match(message, /transient/);
    });

    test('a market event (published twice) starts exactly one recalculation, and prices follow it', async () => {
      const before = await price(ty.url, { ...P0001, productId: 'P0013' });
      const eventId = `evt-${backend}-${Date.now()}`;
      const event = { eventId, type: 'demand-surge', category: 'electronics', factor: 1.5 };
      const published = await postJson(`${ty.url}/api/v1/market-events`, event);
      assert.equal(published.status, 202);
      assert.equal(published.body.eventId, eventId);
      assert.equal((await postJson(`${ty.url}/api/v1/market-events`, event)).status, 202);

      const recalculation = await until('the recalculation to finish', async () => {
        const { status, body } = await getJson(`${ty.url}/api/v1/market-events/${eventId}`);
        return status === 200 && body.recalculation.status === 'completed' ? body.recalculation : undefined;
      });
      assert.equal(recalculation.result.productsUpdated, 50);
      const jobs = (await getJson(`${ty.url}/v1/jobs?task=recalculate-all-prices&limit=100`)).body.jobs as Array<{ input: { reason?: string } }>;
      assert.equal(jobs.filter((job) => job.input.reason?.includes(eventId)).length, 1);

      // P0013 is electronics too: its base price is now 1.5 × its list price, read fresh.
      const after = await price(ty.url, { ...P0001, productId: 'P0013' });
      assert.equal(after.body.source, 'database');
      assert.equal(after.body.basePrice, Math.round(before.body.basePrice * 150) / 100);
    });

    test('a malformed market event is a 400 and publishes nothing', async () => {
      const res = await postJson(`${ty.url}/api/v1/market-events`, { type: 'x', factor: 0 });
      assert.equal(res.status, 400);
      assert.equal((await getJson(`${ty.url}/api/v1/market-events/nope`)).status, 404);
    });

    if (backend === 'redis') {
      test('a cached price that does not match the response schema is not served', async () => {
        const body = { ...P0001, productId: 'P0021' };
        assert.equal((await price(ty.url, body)).body.source, 'database');
        const redis = connectRedis(parseRedisUrl(REDIS_URL));
        try {
          const prefix = ty.taskyard.config.redisPrefix;
          const keys = await redis.keys(`${prefix}:cache:pricing:price:*:P0021:US:1`);
          assert.equal(keys.length, 1);
          await redis.set(keys[0]!, JSON.stringify({ productId: 'P0021', finalPrice: -1, basePrice: 'free' }));
        } finally {
          redis.disconnect();
        }
        const res = await price(ty.url, body);
        assert.equal(res.status, 200);
        assert.equal(res.body.source, 'database');
        assert.ok(res.body.finalPrice > 0);
      });
    }
  });
}
