import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { BACKENDS, getJson, parseSse, postJson, startTaskyard, type StartedTaskyard, until, waitForTerminal } from '../helpers/taskyard.js';

const MAIL_FROM = 'Ingestion test <ingestion@test.local>';

interface Mail {
  to: string[];
  headers: Record<string, string>;
  body: string;
}

/**
 * A real SMTP server in this process. It refuses `nobody…@` for good (550) and
 * defers `busy…@` twice per address (451) before accepting.
 */
async function startSmtp(): Promise<{ url: string; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const deferred = new Map<string, number>();
  const refuse = (code: number, message: string): Error => Object.assign(new Error(message), { responseCode: code });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const local = address.address.split('@')[0] ?? '';
      if (local.startsWith('nobody')) return callback(refuse(550, 'No such mailbox'));
      const times = deferred.get(address.address) ?? 0;
      if (local.startsWith('busy') && times < 2) {
        deferred.set(address.address, times + 1);
        return callback(refuse(451, 'Mailbox busy, try again later'));
      }
      callback();
    },
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk));
      stream.on('end', () => {
        const text = raw.replace(/\r\n/g, '\n');
        const split = text.indexOf('\n\n');
        const headers: Record<string, string> = {};
        for (const line of text.slice(0, split).replace(/\n[ \t]+/g, ' ').split('\n')) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        mails.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), headers, body: text.slice(split + 2) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The recipe reads its settings from the environment when it starts: set them for that moment only. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

async function postText(url: string, text: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text });
  return { status: res.status, body: await res.json() };
}

/** An SSE stream read as it arrives; `until` waits for the events seen so far to satisfy `done`. */
async function openStream(url: string) {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: Array<{ event: string; data: any }> = [];
  let buffer = '';
  return {
    async until(done: (seen: typeof events) => boolean, timeoutMs = 20_000): Promise<typeof events> {
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      try {
        while (!done(events)) {
          const { value, done: ended } = await reader.read();
          if (ended) throw new Error(`the stream ended; seen: ${JSON.stringify(events)}`);
          buffer += value;
          const end = buffer.lastIndexOf('\n\n');
          if (end === -1) continue;
          events.push(...parseSse(buffer.slice(0, end + 2)));
          buffer = buffer.slice(end + 2);
        }
        return events;
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => controller.abort(),
  };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const ORDERS_APP = {
  id: 'orders',
  name: 'Orders',
  events: {
    'order.created': { type: 'object', required: ['orderId', 'amount'], properties: { orderId: { type: 'string' }, amount: { type: 'number', minimum: 0 } } },
    'order.cancelled': { type: 'object', required: ['orderId'] },
  },
};

let smtp!: Awaited<ReturnType<typeof startSmtp>>;
before(async () => {
  smtp = await startSmtp();
});
after(async () => {
  await smtp?.close();
});

test('a bad ingestion setting in the environment stops start-up, naming it', async () => {
  await assert.rejects(
    withEnv({ INGESTION_STATS_EVERY_MS: '10' }, () => startTaskyard('pglite', { recipes: ['ingestion'], builtins: false, tasks: [] })),
    (error: Error & { code?: string }) => error.code === 'TASKYARD_ERR_CONFIG' && /INGESTION_STATS_EVERY_MS/.test(error.message),
  );
});

for (const backend of BACKENDS) {
  describe(`ingestion recipe [${backend}]`, () => {
    let ty!: StartedTaskyard;
    const opsMail = `ops-${backend}@example.com`;
    const logs = (appId: string) => `${ty.url}/api/logs/${appId}`;
    const processed = async (jobIds: string[]) => Promise.all(jobIds.map((id) => waitForTerminal(ty.url, id)));

    before(async () => {
      ty = await withEnv({ SMTP_URL: smtp.url, INGESTION_MAIL_FROM: MAIL_FROM, INGESTION_STATS_EVERY_MS: '1000' }, () =>
        startTaskyard(backend, { recipes: ['ingestion'], builtins: false, tasks: [] }),
      );
      const registered = await postJson(`${ty.url}/api/apps`, { ...ORDERS_APP, notify: { email: opsMail, when: 'invalid' } });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
    });
    after(async () => {
      await ty?.stop();
    });

    test('one JSON event is validated at once against its schema: 202 with its status and job id', async () => {
      const valid = await postJson(logs('orders'), { eventName: 'order.created', orderId: 'A1', amount: 12.5 });
      assert.equal(valid.status, 202);
      assert.deepEqual(Object.keys(valid.body.results[0]).sort(), ['eventName', 'jobId', 'status']);
      assert.equal(valid.body.results[0].status, 'valid');

      const invalid = await postJson(logs('orders'), { eventName: 'order.created', orderId: 'A2', amount: -1 });
      assert.equal(invalid.status, 202);
      assert.equal(invalid.body.results[0].status, 'invalid');
      assert.deepEqual(invalid.body.results[0].errors, [{ path: '/amount', message: 'must be >= 0' }]);

      const unknown = await postJson(logs('orders'), { eventName: 'order.shipped', orderId: 'A3' });
      assert.equal(unknown.body.results[0].status, 'invalid');
      assert.match(unknown.body.results[0].errors[0].message, /unknown event "order.shipped"/);
      // Invalid events are enqueued too, to be stored with their result.
      for (const res of [valid, invalid, unknown]) assert.match(res.body.results[0].jobId, /^[0-9a-f-]{36}$/);
    });

    test('text/plain takes one "Event Payload: {…}" per line, skips blank lines, answers in order', async () => {
      const text = [
        'Event Payload: {"eventName": "order.created", "orderId": "T1", "amount": 3}',
        '',
        'Event Payload: {"eventName": "order.cancelled"}',
        'Event Payload: {"eventName": "order.cancelled", "orderId": "T1"}\r',
      ].join('\n');
      const { status, body } = await postText(logs('orders'), text);
      assert.equal(status, 202);
      assert.deepEqual(body.results.map((r: any) => [r.eventName, r.status]), [['order.created', 'valid'], ['order.cancelled', 'invalid'], ['order.cancelled', 'valid']]);
      assert.deepEqual(body.results[1].errors, [{ path: '/orderId', message: 'is required' }]);
    });

    test('a malformed body is refused whole: 400 naming the line, nothing enqueued; an unknown app is a 404', async () => {
      // Each refused body below carries a well-formed event with orderId "X" or "M0": none may be enqueued.
      const enqueued = async () =>
        (await getJson(`${ty.url}/v1/jobs?task=process-event&limit=100`)).body.jobs.filter((job: any) => ['X', 'M0'].includes(job.input.payload.orderId));
      const badLine = await postText(logs('orders'), 'Event Payload: {"eventName": "order.cancelled", "orderId": "X"}\nEvent Payload: {"eventName": ');
      assert.equal(badLine.status, 400);
      assert.equal(badLine.body.error.code, 'TASKYARD_ERR_VALIDATION');
      assert.match(badLine.body.error.message, /^Line 2\b/);
      assert.equal((await postText(logs('orders'), 'hello\n')).body.error.message.startsWith('Line 1'), true);
      for (const body of [{ orderId: 'no name' }, [], 'just a string', [{ eventName: 'order.cancelled', orderId: 'X' }, 7]]) {
        const res = await postJson(logs('orders'), body);
        assert.equal(res.status, 400, JSON.stringify(body));
      }
      const broken = await fetch(logs('orders'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"eventName":' });
      assert.equal(broken.status, 400);
      const tooMany = await postJson(logs('orders'), Array.from({ length: 1001 }, (_, i) => ({ eventName: 'order.cancelled', orderId: `M${i}` })));
      assert.equal(tooMany.status, 413);
      assert.deepEqual(await enqueued(), []);

      const missing = await postJson(logs('no-such-app'), { eventName: 'x' });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'TASKYARD_ERR_NOT_FOUND');
      assert.equal((await getJson(`${ty.url}/api/apps/no-such-app/stream`)).status, 404);
    });

    test('an app whose schema does not compile is refused; a changed app is validated by its new rules at once', async () => {
      const typo = await postJson(`${ty.url}/api/apps`, { id: 'sensors', events: { reading: { type: 'object', requried: ['value'] } } });
      assert.equal(typo.status, 400);
      assert.match(typo.body.error.message, /reading.*requried/);
      const schema = (type: string) => ({ reading: { type: 'object', properties: { value: { type } }, required: ['value'] } });
      assert.equal((await postJson(`${ty.url}/api/apps`, { id: 'sensors', events: schema('integer') })).status, 201);
      assert.equal((await postJson(logs('sensors'), { eventName: 'reading', value: 'high' })).body.results[0].status, 'invalid');
      assert.equal((await postJson(`${ty.url}/api/apps`, { id: 'sensors', events: schema('string') })).status, 200);
      assert.equal((await postJson(logs('sensors'), { eventName: 'reading', value: 'high' })).body.results[0].status, 'valid');
      const listed = (await getJson(`${ty.url}/api/apps`)).body.apps.map((app: any) => app.id);
      for (const id of ['auth', 'iot', 'shop', 'orders', 'sensors']) assert.ok(listed.includes(id), `${id} in ${listed}`);
    });

    test('process-event stores each event with its payload hash and result; the same payload again is stored once', async () => {
      const event = { eventName: 'order.created', orderId: 'D1', amount: 7 };
      const first = await postJson(logs('orders'), event);
      // The same payload with its keys in another order, then a different one.
      const again = await postJson(logs('orders'), { amount: 7, orderId: 'D1', eventName: 'order.created' });
      const other = await postJson(logs('orders'), { ...event, amount: 8 });
      const [a, b, c] = await processed([first, again, other].map((res) => res.body.results[0].jobId));
      assert.deepEqual([a.status, b.status, c.status], ['completed', 'completed', 'completed']);
      // The two jobs may run in either order: whichever runs first stores the event.
      const [kept, duplicate] = a.result.stored ? [a, b] : [b, a];
      assert.deepEqual([kept.result.stored, duplicate.result.stored], [true, false]);
      assert.equal(duplicate.result.eventId, kept.result.eventId, 'the duplicate names the stored event');
      assert.equal(c.result.stored, true);

      const stored = (await getJson(`${ty.url}/api/apps/orders/events?limit=500`)).body.events.filter((e: any) => e.payload.orderId === 'D1');
      assert.equal(stored.length, 2);
      const d1 = stored.find((e: any) => e.payload.amount === 7);
      assert.equal(d1.id, kept.result.eventId);
      assert.equal(d1.status, 'valid');
      assert.equal(d1.payloadHash, sha256('{"amount":7,"orderId":"D1"}'));
      assert.equal(d1.jobId, kept.id);
    });

    test('batch-stats counts an app\'s events per status over the last hours, on the batch queue', async () => {
      assert.equal((await postJson(`${ty.url}/api/apps`, { id: 'counted', events: { ping: { type: 'object', required: ['n'] } } })).status, 201);
      const text = [
        'Event Payload: {"eventName": "ping", "n": 1}',
        'Event Payload: {"eventName": "ping", "n": 2}',
        'Event Payload: {"eventName": "ping", "n": 3}',
        'Event Payload: {"eventName": "ping"}',
        'Event Payload: {"eventName": "ping", "m": 1}',
      ].join('\n');
      const { body } = await postText(logs('counted'), text);
      await processed(body.results.map((r: any) => r.jobId));
      const submitted = await postJson(`${ty.url}/v1/tasks/batch-stats/jobs`, { input: { appId: 'counted', hours: 1 } });
      const job = await waitForTerminal(ty.url, submitted.body.id);
      assert.equal(job.queue, 'batch');
      assert.equal(job.status, 'completed', JSON.stringify(job.error));
      assert.deepEqual({ ...job.result, worker: undefined }, { appId: 'counted', hours: 1, counts: { valid: 3, invalid: 2 }, total: 5, worker: undefined });
      assert.equal((await postJson(`${ty.url}/v1/tasks/batch-stats/jobs`, { input: { appId: 'counted', hours: 169 } })).status, 400);
    });

    test('batch-stats also runs on a schedule (here every second) for every app', async () => {
      const scheduled = await until('a scheduled batch-stats job to complete', async () => {
        const { body } = await getJson(`${ty.url}/v1/jobs?task=batch-stats&status=completed&limit=100`);
        return body.jobs.find((job: any) => job.input.appId === '*');
      });
      const apps = scheduled.result.apps.map((app: any) => app.appId);
      for (const id of ['auth', 'iot', 'shop', 'orders']) assert.ok(apps.includes(id), `${id} in ${apps}`);
      // The seeded shop events of the last 24 hours.
      assert.ok(scheduled.result.apps.find((app: any) => app.appId === 'shop').total > 0);
    });

    test('an event matching the app\'s notify rule is mailed through SMTP from the emails queue', async () => {
      const res = await postJson(logs('orders'), [
        { eventName: 'order.created', orderId: 'N1', amount: -3 },
        { eventName: 'order.created', orderId: 'N2', amount: 3 },
      ]);
      const [invalid, valid] = await processed(res.body.results.map((r: any) => r.jobId));
      assert.equal(valid.result.emailJobId, undefined, 'the rule asks for invalid events only');
      const mailJob = await waitForTerminal(ty.url, invalid.result.emailJobId);
      assert.equal(mailJob.status, 'completed', JSON.stringify(mailJob.error));
      assert.equal(mailJob.queue, 'emails');
      const mail = smtp.mails.find((m) => m.body.includes(`Event id: ${invalid.result.eventId}`));
      assert.ok(mail, 'the SMTP server received the mail');
      assert.equal(mail.headers.from, MAIL_FROM);
      assert.equal(mail.headers.to, opsMail);
      assert.equal(mail.headers.subject, '[orders] invalid event: order.created');
      assert.match(mail.body, /\/amount: must be >= 0/);
      assert.match(mail.body, /"orderId": "N1"/);
      assert.deepEqual(mail.to, [opsMail]);
    });

    test('a mail the server refuses for good (550) fails at once, without retry', async () => {
      const submitted = await postJson(`${ty.url}/v1/tasks/send-email/jobs`, { input: { to: `nobody-${backend}@example.com`, subject: 'Hello', text: 'Hi' } });
      assert.equal(submitted.status, 202);
      const job = await waitForTerminal(ty.url, submitted.body.id);
      assert.equal(job.status, 'failed');
      assert.equal(job.attempts, 1);
      assert.equal(job.error.code, 'TASKYARD_ERR_PERMANENT');
      assert.match(job.error.message, /550 No such mailbox/);
      assert.equal((await postJson(`${ty.url}/v1/tasks/send-email/jobs`, { input: { to: 'not an address', subject: 'x', text: 'y' } })).status, 400);
    });

    test('a mail the server defers (451, twice) is retried with backoff and delivered on attempt 3', async () => {
      const to = `busy-${backend}@example.com`;
      const submitted = await postJson(`${ty.url}/v1/tasks/send-email/jobs`, { input: { to, subject: 'Retry me', text: 'Third time lucky' } });
      const job = await waitForTerminal(ty.url, submitted.body.id);
      assert.equal(job.status, 'completed', JSON.stringify(job.error));
      assert.equal(job.attempts, 3);
      const errors = (await getJson(`${ty.url}/v1/jobs/${submitted.body.id}/events`)).body.filter((e: any) => e.type === 'error');
      assert.equal(errors.length, 2);
      for (const error of errors) assert.match(error.data.message, /451 Mailbox busy/);
      assert.equal(smtp.mails.filter((m) => m.to.includes(to)).length, 1);
    });

    test('the live view streams every validation result of the app as it happens', async () => {
      const stream = await openStream(`${ty.url}/api/apps/orders/stream`);
      try {
        await stream.until((seen) => seen.some((e) => e.event === 'ready'));
        const json = await postJson(logs('orders'), { eventName: 'order.created', orderId: 'L1', amount: 1 });
        const text = await postText(logs('orders'), 'Event Payload: {"eventName": "order.cancelled"}\nEvent Payload: {"eventName": "order.cancelled", "orderId": "L1"}');
        // Another app's results are not this stream's.
        await postJson(logs('sensors'), { eventName: 'reading', value: 'x' });
        const seen = await stream.until((events) => events.filter((e) => e.event === 'result').length >= 3);
        const results = seen.filter((e) => e.event === 'result').map((e) => e.data);
        // Two requests' results may be published in either order: compare by job.
        const byJob = (a: any, b: any) => a.jobId.localeCompare(b.jobId);
        const posted = [...json.body.results, ...text.body.results];
        assert.deepEqual(
          results.map(({ receivedAt, ...rest }) => rest).sort(byJob),
          posted.sort(byJob),
        );
        for (const result of results) assert.ok(!Number.isNaN(Date.parse(result.receivedAt)));
      } finally {
        stream.close();
      }
    });

    test('the tasks carry their queues, retries and time limits', async () => {
      const { body } = await getJson(`${ty.url}/v1/tasks`);
      const info = (name: string) => body.tasks.find((task: any) => task.name === name);
      assert.deepEqual([info('process-event').queue, info('process-event').timeoutMs, info('process-event').hardTimeoutMs], ['default', 300_000, 600_000]);
      assert.deepEqual([info('send-email').queue, info('send-email').attempts], ['emails', 5]);
      assert.equal(info('batch-stats').queue, 'batch');
    });
  });
}
