// The CLI exports traces where the standard OTEL_* variables say: a real
// `taskyard start` sends OTLP (HTTP, JSON) to a collector stand-in in this process.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { killAllCli, spawnCli } from '../helpers/cli-process.js';
import { postJson, until, waitForTerminal } from '../helpers/taskyard.js';

after(() => killAllCli());

test('taskyard start with OTEL_EXPORTER_OTLP_ENDPOINT sends each job\'s spans over OTLP, named for its role', async () => {
  const bodies: Array<{ url: string; body: string }> = [];
  const collector = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      bodies.push({ url: request.url ?? '', body });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = collector.address() as AddressInfo;
    const cli = spawnCli(['start', '--data-dir', 'memory://', '--port', '0', '--no-recipes', '--log-level', 'warn'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    const [, url] = await cli.waitForOutput(/ready at (http:\/\/\S+)/);
    const res = await postJson(`${url}/v1/tasks/compute-pi/jobs`, { input: { digits: 10 } });
    assert.equal(res.status, 202);
    await waitForTerminal(url!, res.body.id);
    const sent = await until('the job\'s run span to reach the collector', () => {
      const traces = bodies.filter((b) => b.url === '/v1/traces').map((b) => b.body).join('\n');
      return traces.includes('run compute-pi') && traces.includes(res.body.id) ? traces : undefined;
    });
    assert.match(sent, /"service\.name","value":\{"stringValue":"taskyard-start"\}/);
    for (const name of ['POST /v1/tasks/:task/jobs', 'enqueue compute-pi', 'queue wait']) assert.ok(sent.includes(`"name":"${name}"`), `${name} exported`);
  } finally {
    collector.close();
  }
});
