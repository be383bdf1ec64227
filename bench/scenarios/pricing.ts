// The pricing recipe's read path: POST /api/v1/price served from the cache
// (a few hot keys) vs from the database (every request a new key), with the
// server in a process of its own and autocannon as the client.
import { startBenchServer } from '../lib/bench-server.js';
import { postLoad, type LoadResult } from '../lib/load.js';
import type { Scenario } from '../lib/scenario.js';
import { round } from '../lib/stats.js';
import { parseBackend, withStorage } from '../lib/storage.js';

const PRODUCTS = 300;
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Every (product, two-letter region, membership): 405,600 distinct keys, so a cold run never repeats one. */
function coldBody(n: number): unknown {
  const product = `P${String((n % PRODUCTS) + 1).padStart(4, '0')}`;
  const region = Math.floor(n / PRODUCTS);
  const code = `${LETTERS[Math.floor(region / 26) % 26]}${LETTERS[region % 26]}`;
  return { productId: product, userLocation: code, isPrimeMember: Math.floor(n / (PRODUCTS * 676)) % 2 === 1 };
}
const HOT = Array.from({ length: 20 }, (_, i) => ({ productId: `P${String(i + 1).padStart(4, '0')}`, userLocation: 'US', isPrimeMember: i % 2 === 0 }));

export const scenario: Scenario = {
  description: 'pricing recipe: POST /api/v1/price from the cache vs from the database',
  options: {
    backend: { type: 'string' },
    connections: { type: 'string' },
    duration: { type: 'string' },
  },
  usage: ['--backend pglite|postgres|redis   (default pglite)', '--connections N   (default 10)', '--duration S   seconds per phase (default 15; --quick 4)'],
  async run({ quick, values, progress }) {
    const backend = parseBackend(values.backend);
    const connections = Number(values.connections ?? 10);
    const durationS = Number(values.duration ?? (quick ? 4 : 15));
    if (!Number.isInteger(connections) || connections < 1) throw new Error('--connections must be a positive integer');
    if (!(durationS > 0)) throw new Error('--duration must be a positive number of seconds');
    return withStorage(backend, async (storage) => {
      const server = await startBenchServer({ ...storage, recipes: ['pricing'], builtins: false, tasks: [], logLevel: 'warn' });
      try {
        const url = `${server.url}/api/v1/price`;
        let hot = 0;
        // Fill the cache with the hot keys first, so the hot phase measures hits only.
        for (const body of HOT) await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const hit = await postLoad({ url, body: HOT[0], connections, durationS, nextBody: () => HOT[hot++ % HOT.length] }, progress.phase(`cache hits (${backend})`));
        let cold = 0;
        const miss = await postLoad({ url, body: coldBody(0), connections, durationS, nextBody: () => coldBody(cold++) }, progress.phase(`cache misses (${backend})`));
        const row = (name: string, r: LoadResult) => [
          name,
          round(r.okPerS, 0),
          round(r.responseMs.p50, 2),
          round(r.responseMs.p95, 2),
          round(r.responseMs.p99, 2),
          r.non2xx + r.errors,
        ];
        return {
          tables: [
            {
              title: `POST /api/v1/price on ${backend}, ${connections} connections, ${durationS} s per phase`,
              columns: ['phase', 'answers/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors'],
              rows: [row('cache hit (20 hot keys)', hit), row('cache miss (every key new: 2 lookups at once)', miss)],
              notes: [`hits serve ${round(hit.okPerS / Math.max(1, miss.okPerS), 1)}× the answers per second of misses`],
            },
          ],
          data: { backend, connections, durationS, hit, miss },
        };
      } finally {
        await server.stop();
      }
    });
  },
};
