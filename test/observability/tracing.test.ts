// One trace per job: the HTTP request, the enqueue, the wait in the queue, each
// run (retries included) and each client's delivery of its events, linked by
// parent ids; the worker's log lines carry the job and trace ids. The SDK's
// in-memory exporter collects the spans. Run on every backend.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { pino } from 'pino';
import { BACKENDS, readSse, startTaskyard, type StartedTaskyard, until, waitForTerminal } from '../helpers/taskyard.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

for (const backend of BACKENDS) {
  describe(`tracing [${backend}]`, () => {
    let ty!: StartedTaskyard;
    const lines: Array<Record<string, unknown>> = [];
    before(async () => {
      provider.register();
      const logger = pino(
        { level: 'info' },
        new Writable({
          write(chunk, _encoding, done) {
            for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
            done();
          },
        }),
      );
      ty = await startTaskyard(backend, { tasks: ['test/fixtures/tasks.ts'], logger });
    });
    after(async () => {
      await ty?.stop();
      // Later suites in this file register the provider again.
      trace.disable();
      propagation.disable();
      context.disable();
    });

    test('a job that failed once and then completed is one trace: request → enqueue → queue wait, two runs, its delivery', async () => {
      exporter.reset();
      const res = await fetch(`${ty.url}/v1/tasks/flaky/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` },
        body: JSON.stringify({ input: { succeedOn: 2 } }),
      });
      assert.equal(res.status, 202);
      const { id } = (await res.json()) as { id: string };
      // Followed live while it runs: its delivery is a span of the trace too.
      const events = await readSse(`${ty.url}/v1/jobs/${id}/events`);
      assert.equal(events.at(-1)?.data.status, 'completed');
      await waitForTerminal(ty.url, id);

      const spans = await until('every span of the job to end', () => {
        const found = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === TRACE_ID);
        return found.some((span) => span.name === 'deliver events') && found.filter((span) => span.name === 'run flaky').length === 2 ? found : undefined;
      });
      const named = (name: string) => spans.filter((span) => span.name === name);
      const [http] = named('POST /v1/tasks/:task/jobs');
      const [enqueue] = named('enqueue flaky');
      assert.ok(http && enqueue, `spans: ${spans.map((span) => span.name).join(', ')}`);
      assert.equal(parentOf(http), CALLER_SPAN, 'the request continues the caller\'s trace');
      assert.equal(http.attributes['http.response.status_code'], 202);
      assert.equal(parentOf(enqueue), http.spanContext().spanId);
      assert.equal(enqueue.attributes['taskyard.job.id'], id);

      const [wait] = named('queue wait');
      assert.ok(wait, 'the first run waited in the queue');
      assert.equal(parentOf(wait), enqueue.spanContext().spanId);
      const runs = named('run flaky').sort((a, b) => Number(a.attributes['taskyard.attempt']) - Number(b.attributes['taskyard.attempt']));
      assert.deepEqual(
        runs.map((run) => [run.attributes['taskyard.attempt'], run.attributes['taskyard.outcome'], run.status.code, parentOf(run) === enqueue.spanContext().spanId]),
        [
          [1, 'retried', 2, true],
          [2, 'completed', 1, true],
        ],
        'attempt 1 failed (status ERROR, with the exception), attempt 2 completed (OK), both under the enqueue',
      );
      assert.ok(runs[0]!.events.some((event) => event.name === 'exception'));

      const [delivery] = named('deliver events');
      assert.equal(parentOf(delivery!), enqueue.spanContext().spanId);
      assert.equal(delivery!.attributes['taskyard.transport'], 'sse');
      assert.equal(delivery!.attributes['taskyard.events'], events.length);

      // The worker's lines about the job carry its ids and the trace's.
      const completed = lines.find((line) => line.jobId === id && line.msg === 'job completed');
      assert.ok(completed, `log lines: ${JSON.stringify(lines.filter((line) => line.jobId === id))}`);
      assert.deepEqual(
        { task: completed.task, queue: completed.queue, attempt: completed.attempt, trace_id: completed.trace_id, span_id: completed.span_id },
        { task: 'flaky', queue: 'default', attempt: 2, trace_id: TRACE_ID, span_id: runs[1]!.spanContext().spanId },
      );
      const retried = lines.find((line) => line.jobId === id && line.attempt === 1);
      assert.equal(retried?.msg, 'job failed; it will be retried');
    });

    test('with tracing off, a job carries no trace context and its log lines no trace ids', async () => {
      trace.disable();
      propagation.disable();
      context.disable();
      try {
        exporter.reset();
        const res = await fetch(`${ty.url}/v1/tasks/sleep/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` },
          body: JSON.stringify({ input: { ms: 2000 } }),
        });
        const { id } = (await res.json()) as { id: string };
        assert.equal(await ty.taskyard.deps.engine.traceOf('default', id), undefined, 'nothing stored in the job');
        await waitForTerminal(ty.url, id);
        assert.deepEqual(exporter.getFinishedSpans(), []);
        const completed = lines.find((line) => line.jobId === id && line.msg === 'job completed');
        assert.ok(completed && !('trace_id' in completed));
      } finally {
        provider.register();
      }
    });
  });
}

for (const backend of ['pglite', 'redis'] as const) {
  describe(`tracing the pricing recipe [${backend}]`, () => {
    let ty!: StartedTaskyard;
    before(async () => {
      provider.register();
      ty = await startTaskyard(backend, { recipes: ['pricing'], tasks: [] });
    });
    after(async () => {
      await ty?.stop();
      trace.disable();
      propagation.disable();
      context.disable();
    });

    test('a market event and the recalculation it starts are one trace, across the broadcast to every worker', async () => {
      exporter.reset();
      const eventId = `evt-trace-${backend}-${Date.now()}`;
      const res = await fetch(`${ty.url}/api/v1/market-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` },
        body: JSON.stringify({ eventId, type: 'demand-surge', category: 'books', factor: 1.1 }),
      });
      assert.equal(res.status, 202);
      const spans = await until('the recalculation run to end', () => {
        const found = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === TRACE_ID);
        return found.some((span) => span.name === 'run recalculate-all-prices') ? found : undefined;
      }, 30_000);
      const one = (name: string) => {
        const found = spans.filter((span) => span.name === name);
        assert.ok(found.length >= 1, `${name} in ${spans.map((span) => span.name).join(', ')}`);
        return found[0]!;
      };
      const http = one('POST /api/v1/market-events');
      const publish = one('publish market event');
      const heard = one('market event');
      const enqueue = one('enqueue recalculate-all-prices');
      const run = one('run recalculate-all-prices');
      assert.equal(parentOf(publish), http.spanContext().spanId);
      assert.equal(parentOf(heard), publish.spanContext().spanId, 'the listener continues the publisher\'s trace');
      assert.equal(parentOf(enqueue), heard.spanContext().spanId);
      assert.equal(parentOf(run), enqueue.spanContext().spanId);
      assert.equal(heard.attributes['pricing.event.id'], eventId);
    });
  });
}
