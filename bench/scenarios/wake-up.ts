// What one wake-up costs a Node process on this machine: a bare process that
// LISTENs on PostgreSQL is sent notifications at a fixed gap, and its CPU per
// notification is measured (its idle CPU over the same time subtracted). This
// is the floor under every live event an API process delivers, whatever it does
// with it: `streaming-vs-polling` explains its ratio with these figures.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Scenario } from '../lib/scenario.js';
import { round } from '../lib/stats.js';
import { DATABASE_URL } from '../lib/storage.js';

const LISTENER = fileURLToPath(new URL('../lib/wake-listener.ts', import.meta.url));
const CHANNEL = 'taskyard_bench_wake_up';

interface Reading {
  cpu: NodeJS.CpuUsage;
  received: number;
}

function ask(child: ChildProcess): Promise<Reading> {
  const answer = once(child, 'message') as Promise<[Reading]>;
  child.send('cpu');
  return answer.then(([reading]) => reading);
}

const cpuMs = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number => (b.user + b.system - a.user - a.system) / 1000;

export const scenario: Scenario = {
  description: 'CPU one wake-up costs a bare Node process (a PostgreSQL NOTIFY received) at several gaps between them',
  options: { gaps: { type: 'string' }, notifications: { type: 'string' } },
  usage: ['--gaps 100,50,20,5,1    ms between notifications (default)', '--notifications 400     per gap (--quick: 100)'],
  async run({ quick, values, progress }) {
    const gaps = String(values.gaps ?? '100,50,20,5,1').split(',').map(Number);
    if (gaps.some((gap) => !Number.isFinite(gap) || gap < 0)) throw new Error('--gaps: a list of non-negative numbers');
    const count = Number(values.notifications ?? (quick ? 100 : 400));
    if (!Number.isInteger(count) || count < 1) throw new Error('--notifications must be a positive integer');

    const child = fork(LISTENER, [DATABASE_URL, CHANNEL], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const sender = new pg.Client({ connectionString: DATABASE_URL });
    try {
      await once(child, 'message');
      await sender.connect();
      const payload = (i: number): string => JSON.stringify({ j: '01a25196-f584-7069-b2c8-c211d260675f', s: i, t: 'partial', d: { i, sentAt: Date.now() }, a: new Date().toISOString() });
      // Warm-up: the listener's code paths compiled before anything is measured.
      for (let i = 0; i < 200; i++) await sender.query('SELECT pg_notify($1, $2)', [CHANNEL, payload(i)]);
      await sleep(500);

      const rows: Array<{ gapMs: number; notifications: number; seconds: number; cpuMs: number; idleCpuMs: number; usPerWakeUp: number }> = [];
      for (const gapMs of gaps) {
        const line = progress.phase(`[wake-up] ${count} notifications ${gapMs} ms apart`);
        const before = await ask(child);
        const t0 = performance.now();
        for (let i = 0; i < count; i++) {
          await sender.query('SELECT pg_notify($1, $2)', [CHANNEL, payload(i)]);
          if (gapMs > 0) await sleep(gapMs);
          line.update(`${i + 1}/${count}`, (i + 1) / count);
        }
        await sleep(50);
        const after = await ask(child);
        const seconds = (performance.now() - t0) / 1000;
        if (after.received - before.received !== count) throw new Error(`the listener received ${after.received - before.received} of ${count} notifications`);
        // The same time with nothing sent: what the process costs anyway.
        const idleLine = progress.phase(`[wake-up] idle for ${seconds.toFixed(1)} s`);
        const idle0 = await ask(child);
        await sleep(seconds * 1000);
        const idle1 = await ask(child);
        idleLine.done();
        const spent = cpuMs(before.cpu, after.cpu);
        const idle = cpuMs(idle0.cpu, idle1.cpu);
        rows.push({ gapMs, notifications: count, seconds: round(seconds, 2), cpuMs: round(spent), idleCpuMs: round(idle), usPerWakeUp: round(((spent - idle) * 1000) / count, 0) });
        line.done(`${round(((spent - idle) * 1000) / count, 0)} µs of CPU per notification`);
      }
      return {
        tables: [
          {
            title: 'One wake-up — a bare Node process receives a PostgreSQL NOTIFY and parses its JSON',
            columns: ['gap ms', 'notifications', 'seconds', 'CPU ms', 'idle CPU ms', 'CPU µs per wake-up'],
            rows: rows.map((r) => [r.gapMs, r.notifications, r.seconds, r.cpuMs, r.idleCpuMs, r.usPerWakeUp]),
            notes: [
              'CPU: the listener\'s process.cpuUsage() (user + system, all threads), minus its CPU over the same time with nothing sent.',
              'A process woken after a long sleep pays far more per wake-up than one kept busy: the floor of any push transport at a low event rate.',
            ],
          },
        ],
        data: { rows },
      };
    } finally {
      await sender.end().catch(() => undefined);
      child.send('stop');
      await Promise.race([once(child, 'exit'), sleep(3000)]);
      child.kill();
    }
  },
};
