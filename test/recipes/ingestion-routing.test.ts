// Queue routing across processes: an API, a worker for `emails` only and a
// worker for `default,batch` (recycling its sandbox threads every 2 jobs), on
// one PostgreSQL. Each task's result says which process and thread ran it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { killAllCli, spawnCli, waitForExit, waitForJob, type CliProcess } from '../helpers/cli-process.js';
import { dropSchemas, getJson, isolatedStorage, postJson } from '../helpers/taskyard.js';

/** A real SMTP server that accepts everything and keeps the recipients of what it received. */
async function startSmtp(): Promise<{ url: string; recipients: string[][]; close(): Promise<void> }> {
  const recipients: string[][] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      stream.resume().on('end', () => {
        recipients.push(session.envelope.rcptTo.map((rcpt) => rcpt.address));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return { url: `smtp://127.0.0.1:${port}`, recipients, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const completed = (job: any): boolean => ['completed', 'failed', 'cancelled'].includes(job.status);

describe('ingestion: each queue is consumed by the worker started for it', () => {
  const storage = isolatedStorage('postgres');
  const common = ['--database', storage.databaseUrl!, '--recipes', 'ingestion', '--no-builtins', '--history-schema', storage.historySchema!, '--engine-schema', storage.engineSchema!];
  let smtp!: Awaited<ReturnType<typeof startSmtp>>;
  let api!: CliProcess;
  let url!: string;
  let mailer!: CliProcess;
  let processor!: CliProcess;

  before(async () => {
    smtp = await startSmtp();
    // The API migrates the schemas and declares the stats schedule (every second here); then the workers start on them.
    api = spawnCli(['api', '--port', '0', ...common], { INGESTION_STATS_EVERY_MS: '1000' });
    url = (await api.waitForOutput(/ready at (http:\/\/\S+)/))[1]!;
    mailer = spawnCli(['worker', ...common, '--queues', 'emails'], { SMTP_URL: smtp.url });
    processor = spawnCli(['worker', ...common, '--queues', 'default,batch', '--concurrency', '1', '--max-jobs-per-child', '2'], { SMTP_URL: smtp.url });
    await Promise.all([mailer, processor].map((worker) => worker.waitForOutput(/Taskyard worker \d+ is running/)));
  });
  after(async () => {
    for (const proc of [mailer, processor, api]) proc?.signal('SIGTERM');
    await Promise.all([mailer, processor, api].map((proc) => proc && waitForExit(proc, 15_000).catch(() => undefined)));
    await killAllCli();
    await dropSchemas(storage);
    await smtp?.close();
  });

  test('process-event and batch-stats run on the default,batch worker, send-email on the emails worker', async () => {
    // The demo app "shop" mails ops@example.com about invalid events.
    const events = [
      { eventName: 'order.created', orderId: 'O-1', amount: -1, currency: 'EUR' },
      ...Array.from({ length: 5 }, (_, i) => ({ eventName: 'order.created', orderId: `O-${i + 2}`, amount: 10 + i, currency: 'EUR' })),
    ];
    const accepted = await postJson(`${url}/api/logs/shop`, events);
    assert.equal(accepted.status, 202);
    assert.deepEqual(accepted.body.results.map((r: any) => r.status), ['invalid', 'valid', 'valid', 'valid', 'valid', 'valid']);

    const processed = await Promise.all(accepted.body.results.map((r: any) => waitForJob(url, r.jobId, completed)));
    for (const job of processed) {
      assert.equal(job.status, 'completed', JSON.stringify(job.error));
      assert.equal(job.result.worker.pid, processor.pid, 'process-event ran on the default,batch worker');
    }

    const mail = await waitForJob(url, processed[0].result.emailJobId, completed);
    assert.equal(mail.status, 'completed', JSON.stringify(mail.error));
    assert.equal(mail.queue, 'emails');
    assert.equal(mail.result.worker.pid, mailer.pid, 'send-email ran on the emails worker');
    assert.deepEqual(smtp.recipients, [['ops@example.com']]);

    const stats = await waitForScheduledStats(url);
    assert.equal(stats.result.worker.pid, processor.pid, 'batch-stats ran on the default,batch worker');

    // --max-jobs-per-child 2: no sandbox thread of that worker ran more than two jobs.
    const perThread = new Map<number, number>();
    for (const job of [...processed, stats]) perThread.set(job.result.worker.threadId, (perThread.get(job.result.worker.threadId) ?? 0) + 1);
    for (const [thread, jobs] of perThread) assert.ok(jobs <= 2, `thread ${thread} ran ${jobs} jobs`);
    assert.ok(perThread.size >= 4, `7 jobs on ${perThread.size} threads`);
  });
});

async function waitForScheduledStats(url: string): Promise<any> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await getJson(`${url}/v1/jobs?task=batch-stats&status=completed&limit=10`);
    const job = body.jobs.find((candidate: any) => candidate.input.appId === '*');
    if (job) return job;
    if (Date.now() > deadline) throw new Error('no scheduled batch-stats job completed within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
