// HTTP load with autocannon, run in the harness's process (the server has its own).
import autocannon from 'autocannon';
import type { PhaseLine } from './progress.js';
import { summarize, type Summary } from './stats.js';

export interface LoadSpec {
  /** Several URLs (several server processes) share the connections round-robin. */
  url: string | readonly string[];
  body: unknown;
  connections: number;
  /** Run for this long… */
  durationS?: number;
  /** …or until this many requests are answered… */
  amount?: number;
  /** …at most this many requests per second across all connections. */
  overallRate?: number;
  /** A body per request instead of one for all (called once per request, in order). */
  nextBody?: () => unknown;
}

export interface LoadResult {
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  /** 2xx answers per second over the whole run. */
  okPerS: number;
  latencyMs: { p50: number; p97_5: number; p99: number; mean: number; max: number };
  /** Every answer's latency as the client saw it, unrounded (autocannon's histogram has no p95). */
  responseMs: Summary;
}

/** POSTs `body` as JSON to `url` as fast as the spec allows; shows the count on `line`. */
export function postLoad(spec: LoadSpec, line: PhaseLine): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    let ok = 0;
    let other = 0;
    const responseTimes: number[] = [];
    const goal = spec.amount ? `/${spec.amount}` : '';
    const timer = setInterval(() => {
      const time = spec.durationS ? `${line.elapsed.toFixed(0)}/${spec.durationS} s` : `${line.elapsed.toFixed(1)} s`;
      const fraction = spec.amount ? (ok + other) / spec.amount : spec.durationS ? line.elapsed / spec.durationS : undefined;
      line.update(`${ok}${goal} accepted${other ? `, ${other} not 2xx` : ''}, ${time}`, fraction);
    }, 250);
    const options: autocannon.Options = {
      // autocannon takes an array of URLs (its README); @types/autocannon only knows a string.
      url: (typeof spec.url === 'string' ? spec.url : [...spec.url]) as string,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(spec.body),
      connections: spec.connections,
      timeout: 30,
    };
    if (spec.amount !== undefined) options.amount = spec.amount;
    else options.duration = spec.durationS ?? 10;
    if (spec.overallRate !== undefined) options.overallRate = spec.overallRate;
    const { nextBody } = spec;
    if (nextBody) options.requests = [{ setupRequest: (request) => ({ ...request, body: JSON.stringify(nextBody()) }) }];
    const t0 = performance.now();
    const instance = autocannon(options, (error: unknown, result) => {
      clearInterval(timer);
      if (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      // Wall time, measured here: autocannon's own `duration` is coarse for short runs.
      const durationS = (performance.now() - t0) / 1000;
      resolve({
        requests: result.requests.total,
        ok: result['2xx'],
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        durationS,
        okPerS: result['2xx'] / durationS,
        latencyMs: {
          p50: result.latency.p50,
          p97_5: result.latency.p97_5,
          p99: result.latency.p99,
          mean: result.latency.mean,
          max: result.latency.max,
        },
        responseMs: summarize(responseTimes),
      });
    });
    instance.on('response', (_client, status, _bytes, responseTime) => {
      responseTimes.push(responseTime);
      if (status >= 200 && status < 300) ok++;
      else other++;
    });
  });
}

/** `amount` POSTs over `connections` concurrent fetch loops; resolves when all are answered (no whole-second rounding). */
export async function burst(spec: { url: string; body: unknown; amount: number; connections: number }): Promise<{ ok: number; failed: number }> {
  const body = JSON.stringify(spec.body);
  let next = 0;
  let ok = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      while (next++ < spec.amount) {
        const response = await fetch(spec.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).catch(() => undefined);
        await response?.arrayBuffer();
        if (response && response.status >= 200 && response.status < 300) ok++;
        else failed++;
      }
    }),
  );
  return { ok, failed };
}
