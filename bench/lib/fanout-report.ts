// The fan-out bench's settings, what one step measured, and its tables (the scenario is
// bench/scenarios/fanout.ts).
import type { StorageBackend } from './storage.js';
import { round, type Summary } from './stats.js';
import type { Table } from './table.js';

/** The issue's bar for "keeps up": the highest N under it is reported. */
export const THRESHOLD_P99_MS = 100;
/** The targets: p99 at 100 clients × 1,000 events/s, and concurrent SSE clients on one API process. */
export const TARGET_P99_MS = 10;
export const TARGET_SSE_CLIENTS = 10_000;
export const MODES = ['sse', 'ws'] as const;
export type Mode = (typeof MODES)[number];

export interface FanoutSettings {
  backend: StorageBackend;
  modes: Mode[];
  steps: number[];
  /** Partials per second, all from one job. */
  rate: number;
  durationS: number;
  /** Most client processes per step (fewer for small N). */
  clientProcs: number;
  connectConcurrency: number;
  /** How long after the last emit the clients may take to receive everything. */
  drainTimeoutS: number;
  /** Emit at every step, even past the first that breached the threshold. */
  emitAll: boolean;
  /** Wait up to this long for a quiet machine before each measured step. */
  waitQuietS: number;
  profileDir: string | undefined;
}

export interface Step {
  mode: Mode;
  clients: number;
  /** False when the step only connected the clients (a smaller N already breached the threshold). */
  emitted: boolean;
  connected: number;
  failed: number;
  completed: number;
  connections: number;
  updates: number;
  delivered: number;
  /** Lost: a client received a later partial but not this one. */
  missed: number;
  /** Not received by the end of the drain timeout (after each client's last one). */
  late: number;
  duplicated: number;
  /** Every client received every partial before the drain timeout. */
  complete: boolean;
  latencyMs: Summary | undefined;
  /** A connect-only step's one partial, to all N clients. */
  burstLatencyMs: Summary | undefined;
  /** Partials delivered per second, from the gate opening to the last receipt. */
  deliveredPerS: number;
  connectS: number;
  /** The API process after a full GC, before the clients connected and with them connected. */
  memoryBefore: MemoryMiB;
  memoryWith: MemoryMiB;
  /** RSS growth ÷ N. */
  kibPerConnection: number;
  /** JS heap + external (Buffers) growth ÷ N: less noisy than RSS, which also holds freed pages. */
  heapKibPerConnection: number;
  apiCores: number;
  clientCores: number;
  othersCores: number;
  /** What other processes used just before the step (after waiting for a quiet machine). */
  othersBeforeCores: number;
  clientProcs: number;
  errors: string[];
}

export interface MemoryMiB {
  rss: number;
  /** heapUsed + external. */
  heap: number;
}


export const breachedThreshold = (step: Step): boolean => !step.complete || step.duplicated > 0 || !step.latencyMs || step.latencyMs.p99 >= THRESHOLD_P99_MS;

export const modeName = (mode: Mode): string => (mode === 'sse' ? 'SSE' : 'WebSocket');
export const fmt = (n: number): string => n.toLocaleString('en-US');

export function fanoutReport(s: FanoutSettings, steps: readonly Step[]): { tables: Table[]; breached: string[] } {
  const highest = (mode: Mode): Step | undefined => steps.filter((step) => step.mode === mode && step.emitted && !breachedThreshold(step)).at(-1);
  const at100 = (mode: Mode): Step | undefined => steps.find((step) => step.mode === mode && step.clients === 100 && step.emitted);
  const breached: string[] = [];
  for (const step of steps) {
    if (step.missed > 0 || step.duplicated > 0) breached.push(`${modeName(step.mode)} × ${step.clients}: ${step.missed} partials missed, ${step.duplicated} duplicated (must be 0)`);
    if (step.failed > 0) breached.push(`${modeName(step.mode)} × ${step.clients}: ${step.failed} clients failed`);
  }
  const targets: Table['rows'] = [];
  for (const mode of s.modes) {
    const step = at100(mode);
    const p99 = step?.latencyMs?.p99;
    targets.push([
      `${modeName(mode)}: p99 < ${TARGET_P99_MS} ms at 100 clients × ${fmt(s.rate)} events/s`,
      p99 === undefined ? 'not run (no 100-client step)' : `p99 ${p99} ms (p50 ${step!.latencyMs!.p50}, p95 ${step!.latencyMs!.p95})`,
      p99 === undefined ? '—' : p99 < TARGET_P99_MS ? 'met' : `MISSED by ${round(p99 - TARGET_P99_MS, 1)} ms (${round(p99 / TARGET_P99_MS, 1)}×)`,
    ]);
  }
  if (s.modes.includes('sse')) {
    const largest = steps.filter((step) => step.mode === 'sse' && step.failed === 0 && step.complete).at(-1);
    const most = largest?.connected ?? 0;
    const served = largest?.emitted ? `p99 ${largest.latencyMs?.p99} ms at ${fmt(s.rate)} partials/s` : `one partial reached all in ${largest?.burstLatencyMs?.max} ms`;
    targets.push([
      `SSE: ≥ ${fmt(TARGET_SSE_CLIENTS)} concurrent clients on one API process`,
      largest ? `${fmt(most)} connected, every one got every partial; ${served}` : 'no step completed',
      most >= TARGET_SSE_CLIENTS ? 'met (connected; see the latency table for how fast they were served)' : `MISSED (${fmt(most)}; the largest step tried was ${fmt(Math.max(...s.steps))})`,
    ]);
  }
  for (const mode of s.modes) {
    const best = highest(mode);
    targets.push([`${modeName(mode)}: highest N with p99 < ${THRESHOLD_P99_MS} ms at ${fmt(s.rate)} events/s`, best ? fmt(best.clients) : 'none of the steps', '']);
  }
  return {
    breached,
    tables: [
      {
        title:
          `Fan-out — N clients follow one job emitting ${fmt(s.rate)} partials/s for ${s.durationS} s, one API process (${s.backend}` +
          `${s.backend === 'pglite' ? ', worker in the same process' : ', worker apart'}); a fresh server per step`,
        columns: ['mode', 'N', 'connected', 'failed', 'connect s', 'delivered', 'missed', 'late', 'dup', 'resumed', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', '1 partial to all ms', 'delivered/s', 'RSS MiB', 'heap KiB/conn', 'RSS KiB/conn', 'API cores', 'client cores', 'other cores'],
        rows: steps.map((step) => {
          // A connect-only step has no delivery figures.
          const emitted = (value: number): number | null => (step.emitted ? value : null);
          return [
            modeName(step.mode),
            step.clients,
            step.connected,
            step.failed,
            step.connectS,
            emitted(step.delivered),
            emitted(step.missed),
            emitted(step.late),
            emitted(step.duplicated),
            step.connections - step.clients,
            step.latencyMs?.p50 ?? null,
            step.latencyMs?.p95 ?? null,
            step.latencyMs?.p99 ?? null,
            step.latencyMs?.max ?? null,
            step.burstLatencyMs?.max ?? null,
            emitted(step.deliveredPerS),
            `${step.memoryBefore.rss} → ${step.memoryWith.rss}`,
            step.heapKibPerConnection,
            step.kibPerConnection,
            emitted(step.apiCores),
            emitted(step.clientCores),
            emitted(step.othersCores),
          ];
        }),
        notes: [
          "Latency: the worker's Date.now() in each partial → Date.now() when the client parsed its frame (same machine clock, whole ms); every client's first receipt of every partial.",
          `delivered = distinct partials received over all clients (N × ${fmt(Math.round(s.rate * s.durationS))} when all arrived); missed = lost (a later one arrived); late = not arrived ${s.drainTimeoutS} s after the last emit; resumed = reconnections after the server closed a slow client (SSE \`resume\` / WS \`overflow\`).`,
          `A step counts as keeping up when every client got every partial and p99 < ${THRESHOLD_P99_MS} ms. ${s.emitAll ? '' : `Past the first step of a mode that did not, the larger steps only connect (memory, connect time) and send one partial.`}`,
          '1 partial to all: in a connect-only step, the worst latency of its one partial over the N clients.',
          'Memory of the API process after a full GC (inspector), after a warm-up, before → with the N clients connected: heap = JS heap used + external (Buffers); RSS also counts PGlite and freed-but-kept pages, so it is noisy below ~1,000 clients.',
          'delivered/s: partials delivered ÷ (gate opened → last receipt).',
          'client cores: the client processes (separate from the server, on the same 2 cores); other cores: everything else on the machine.',
        ],
      },
      { title: 'Fan-out against the targets', columns: ['target', 'measured', 'met'], rows: targets },
    ],
  };
}
