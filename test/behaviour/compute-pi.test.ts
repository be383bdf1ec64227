import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKENDS, getJson, postJson, readSse, type StartedTaskyard, useTaskyard } from '../helpers/taskyard.js';
import { computePiCase } from './core-cases.js';

for (const backend of BACKENDS) {
  describe(`compute-pi [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));

    test('1000 digits: the result is π, and each digit arrives once, in order, as a partial', () => computePiCase(ty, 1000));

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
