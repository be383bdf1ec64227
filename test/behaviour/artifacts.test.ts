import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKENDS, getJson, postJson, type StartedTaskyard, useTaskyard, waitForTerminal } from '../helpers/taskyard.js';

for (const backend of BACKENDS) {
  describe(`artifacts [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));

    const archive = async (files: unknown[]) => {
      const accepted = await postJson(`${ty.url}/v1/tasks/archivist/jobs`, { input: { files } });
      assert.equal(accepted.status, 202);
      const job = await waitForTerminal(ty.url, accepted.body.id);
      assert.equal(job.status, 'completed', JSON.stringify(job.error));
      return job;
    };

    test('a job stores files; they are listed and download byte for byte with their type', async () => {
      const bytes = [0, 1, 2, 255, 254, 10, 13];
      const job = await archive([
        { name: 'report.xml', text: '<?xml version="1.0"?><r>é</r>' },
        { name: 'raw.bin', bytes },
      ]);
      assert.deepEqual(job.result.stored, [
        { name: 'report.xml', size: 30 },
        { name: 'raw.bin', size: bytes.length },
      ]);
      const list = await getJson(`${ty.url}/v1/jobs/${job.id}/artifacts`);
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.artifacts.map((a: any) => [a.name, a.contentType, a.size, a.url]),
        [
          ['raw.bin', 'application/octet-stream', 7, `/v1/jobs/${job.id}/artifacts/raw.bin`],
          ['report.xml', 'application/xml', 30, `/v1/jobs/${job.id}/artifacts/report.xml`],
        ],
      );
      const xml = await fetch(`${ty.url}/v1/jobs/${job.id}/artifacts/report.xml`);
      assert.equal(xml.status, 200);
      assert.equal(xml.headers.get('content-type'), 'application/xml');
      assert.equal(xml.headers.get('content-disposition'), 'attachment; filename="report.xml"');
      assert.equal(await xml.text(), '<?xml version="1.0"?><r>é</r>');
      const raw = await fetch(`${ty.url}/v1/jobs/${job.id}/artifacts/raw.bin`);
      assert.deepEqual([...new Uint8Array(await raw.arrayBuffer())], bytes);
    });

    test('names are sanitised: no path tricks, no header injection', async () => {
      const job = await archive([
        { name: '../../etc/passwd', text: 'a' },
        { name: '..\\..\\boot.ini', text: 'b' },
        { name: 'evil"\r\nSet-Cookie: x=1.txt', text: 'c' },
        { name: '...', text: 'd' },
      ]);
      assert.deepEqual(
        job.result.stored.map((s: { name: string }) => s.name),
        ['passwd', 'boot.ini', 'evil___Set-Cookie_ x_1.txt', 'artifact'],
      );
      for (const trick of ['..%2F..%2Fetc%2Fpasswd', '.hidden', 'a%00b', 'x%0D%0Ay']) {
        const res = await getJson(`${ty.url}/v1/jobs/${job.id}/artifacts/${trick}`);
        assert.ok([400, 404].includes(res.status), `${trick}: ${res.status}`);
        assert.match(res.body.error.code, /TASKYARD_ERR_(VALIDATION|NOT_FOUND|ROUTE_NOT_FOUND)/);
      }
    });

    test('an unknown job or artifact is a 404 with its code', async () => {
      const job = await archive([]);
      assert.deepEqual((await getJson(`${ty.url}/v1/jobs/${job.id}/artifacts`)).body, { artifacts: [] });
      const missing = await getJson(`${ty.url}/v1/jobs/${job.id}/artifacts/nope.txt`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'TASKYARD_ERR_NOT_FOUND');
      const noJob = await getJson(`${ty.url}/v1/jobs/no-such-job/artifacts`);
      assert.equal(noJob.status, 404);
      assert.equal(noJob.body.error.code, 'TASKYARD_ERR_JOB_NOT_FOUND');
    });
  });
}

describe('artifacts: large files', () => {
  let ty!: StartedTaskyard;
  useTaskyard('pglite', {}, (started) => (ty = started));

  test('a file of many chunks is stored and streamed back whole; writing it again replaces it', async () => {
    // 300,001 bytes: two chunks of the store (256 KiB each), the last one partial.
    const text = 'abcdefghij'.repeat(30_000);
    const first = await postJson(`${ty.url}/v1/tasks/archivist/jobs`, { input: { files: [{ name: 'big.txt', text }, { name: 'big.txt', text: `${text}!` }] } });
    const job = await waitForTerminal(ty.url, first.body.id);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    const list = await getJson(`${ty.url}/v1/jobs/${job.id}/artifacts`);
    assert.deepEqual(list.body.artifacts.map((a: any) => [a.name, a.size]), [['big.txt', 300_001]]);
    const res = await fetch(`${ty.url}/v1/jobs/${job.id}/artifacts/big.txt`);
    assert.equal(res.headers.get('content-length'), '300001');
    assert.equal(await res.text(), `${text}!`);
  });
});
