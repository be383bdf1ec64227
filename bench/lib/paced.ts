// Open-loop load at an even rate: one request every 1/rate s, whether or not the
// earlier ones have been answered. (autocannon's overallRate releases each
// second's quota in a burst, which measures queueing behind the burst instead.)
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadResult } from './load.js';
import type { PhaseLine } from './progress.js';
import { summarize } from './stats.js';

export interface PacedSpec {
  url: string;
  body: unknown;
  rate: number;
  durationS: number;
  /** Called with each 2xx answer's body as it arrives (performance.now() at `answeredAt`). */
  onAccepted?: (body: string, answeredAt: number) => void;
}

export interface PacedResult extends LoadResult {
  /** First send → last send: arrivals per second = requests / sendS. */
  sendS: number;
  /** How late the latest send was against its schedule (the harness's event loop falling behind), ms. */
  maxLagMs: number;
}

export async function pacedLoad(spec: PacedSpec, line: PhaseLine): Promise<PacedResult> {
  const body = JSON.stringify(spec.body);
  const total = Math.round(spec.rate * spec.durationS);
  const intervalMs = 1000 / spec.rate;
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const inFlight: Array<Promise<void>> = [];
  const t0 = performance.now();
  let lastSent = t0;
  let maxLagMs = 0;
  for (let i = 0; i < total; i++) {
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const sent = performance.now();
    lastSent = sent;
    maxLagMs = Math.max(maxLagMs, sent - due);
    inFlight.push(
      fetch(spec.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(30_000) }).then(
        async (response) => {
          const text = await response.text();
          const answeredAt = performance.now();
          latencies.push(answeredAt - sent);
          if (response.status >= 200 && response.status < 300) {
            ok++;
            spec.onAccepted?.(text, answeredAt);
          } else non2xx++;
        },
        () => {
          errors++;
        },
      ),
    );
    line.update(`${i + 1}/${total} sent at ${spec.rate}/s, ${ok} accepted`, (i + 1) / total);
  }
  await Promise.all(inFlight);
  const durationS = (performance.now() - t0) / 1000;
  const latency = summarize(latencies);
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    requests: total,
    ok,
    non2xx,
    errors,
    timeouts: 0,
    durationS,
    sendS: (lastSent - t0) / 1000,
    maxLagMs,
    okPerS: ok / durationS,
    latencyMs: {
      p50: Math.round(latency.p50 * 10) / 10,
      p97_5: Math.round((sorted[Math.ceil(0.975 * sorted.length) - 1] ?? Number.NaN) * 10) / 10,
      p99: Math.round(latency.p99 * 10) / 10,
      mean: Math.round(latency.mean * 10) / 10,
      max: Math.round(latency.max * 10) / 10,
    },
    responseMs: latency,
  };
}
