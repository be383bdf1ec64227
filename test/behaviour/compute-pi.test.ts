import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BACKENDS,
  getJson,
  postJson,
  readSse,
  type StartedTaskyard,
  useTaskyard,
} from '../helpers/taskyard.js';

/** arctan(1/x) scaled by `scale`, by its Taylor series in BigInt. */
function arccotScaled(x: bigint, scale: bigint): bigint {
  const x2 = x * x;
  let power = scale / x; // scale / x^(2k+1)
  let sum = power;
  for (let k = 1n; power !== 0n; k++) {
    power /= x2;
    const term = power / (2n * k + 1n);
    sum += k % 2n === 1n ? -term : term;
  }
  return sum;
}

/** π's first `count` digits ("3141…"), by Machin's formula: π = 16·arctan(1/5) − 4·arctan(1/239). */
function machinPi(count: number): string {
  const guard = 20;
  const scale = 10n ** BigInt(count - 1 + guard);
  const pi = 16n * arccotScaled(5n, scale) - 4n * arccotScaled(239n, scale);
  return pi.toString().slice(0, count);
}

for (const backend of BACKENDS) {
  describe(`compute-pi [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));

    test('1000 digits: the result is π, and each digit arrives once, in order, as a partial', async () => {
      const expected = machinPi(1000);
      assert.equal(expected.slice(0, 10), '3141592653', 'the reference itself is π');

      const accepted = await postJson(`${ty.url}/v1/tasks/compute-pi/jobs`, { input: { digits: 1000 } });
      assert.equal(accepted.status, 202);
      const events = await readSse(`${ty.url}${accepted.body.links.events}`);

      assert.deepEqual(
        events.map((e) => e.id),
        events.map((_, i) => i + 1),
        'seqs start at 1 with no gap',
      );
      const partials = events.filter((e) => e.event === 'partial');
      assert.equal(partials.length, 1000);
      assert.deepEqual(
        partials.map((e) => e.data.position),
        Array.from({ length: 1000 }, (_, i) => i + 1),
      );
      assert.equal(partials.map((e) => String(e.data.digit)).join(''), expected);

      const statuses = events.filter((e) => e.event === 'status').map((e) => e.data.status);
      assert.deepEqual(statuses, ['queued', 'active', 'completed']);
      assert.equal(events.find((e) => e.event === 'result')?.data, expected);

      const job = await getJson(`${ty.url}/v1/jobs/${accepted.body.id}`);
      assert.equal(job.body.status, 'completed');
      assert.equal(job.body.result, expected);
    });

    test('1 digit is "3"', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/compute-pi/jobs`, { input: { digits: 1 } });
      assert.equal(accepted.status, 202);
      const events = await readSse(`${ty.url}${accepted.body.links.events}`);
      assert.deepEqual(
        events.filter((e) => e.event === 'partial').map((e) => e.data),
        [{ position: 1, digit: 3 }],
      );
      assert.equal(events.find((e) => e.event === 'result')?.data, '3');
      assert.equal(events.at(-1)?.event, 'status');
      assert.equal(events.at(-1)?.data.status, 'completed');
    });

    for (const digits of [0, 5001, 'ten']) {
      test(`digits ${JSON.stringify(digits)} is refused with 400 naming input.digits`, async () => {
        const refused = await postJson(`${ty.url}/v1/tasks/compute-pi/jobs`, { input: { digits } });
        assert.equal(refused.status, 400);
        assert.equal(refused.body.error.code, 'TASKYARD_ERR_VALIDATION');
        assert.ok(Array.isArray(refused.body.error.details));
        assert.ok(
          refused.body.error.details.some((d: { path: string }) => d.path === 'input.digits'),
          `details name input.digits: ${JSON.stringify(refused.body.error.details)}`,
        );
      });
    }

    test('a refused input creates no job', async () => {
      const before = await getJson(`${ty.url}/v1/jobs?task=compute-pi&limit=100`);
      const refused = await postJson(`${ty.url}/v1/tasks/compute-pi/jobs`, { input: { digits: 0 } });
      assert.equal(refused.status, 400);
      const afterList = await getJson(`${ty.url}/v1/jobs?task=compute-pi&limit=100`);
      assert.equal(afterList.body.jobs.length, before.body.jobs.length);
    });
  });
}
