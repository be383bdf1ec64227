// Reads a V8 .cpuprofile and says where the time went: the top frames by self
// time, and self time grouped by who owns the code (PGlite's WASM, BullMQ, Fastify…).
import { readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface FrameShare {
  frame: string;
  owner: string;
  selfMs: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Share of the wall time the main thread was not idle. */
  busyPercent: number;
  topFrames: FrameShare[];
  byOwner: Array<{ owner: string; selfMs: number; percent: number }>;
}

/** Who a frame belongs to, from its script URL. */
export function ownerOf(url: string, functionName: string): string {
  if (functionName === '(idle)') return '(idle)';
  if (functionName === '(garbage collector)') return '(gc)';
  if (functionName === '(program)' || functionName === '(root)') return '(program: native/VM)';
  if (url.startsWith('wasm://') || /^wasm-function|^\$/.test(functionName)) return 'pglite (wasm)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith('node:')) return 'node core';
  if (/\/src\//.test(url)) return 'taskyard src';
  if (/\/bench\//.test(url)) return 'bench';
  if (url === '') return '(native)';
  return url;
}

export async function summarizeProfile(file: string, top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  // Self time per node: sum of the deltas of the samples that landed in it.
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const delta = deltas[i + 1] ?? 0; // a sample's time runs until the next one
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + delta);
  }
  const totalUs = profile.endTime - profile.startTime;
  const frames = new Map<string, { owner: string; us: number }>();
  const owners = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const owner = ownerOf(url, functionName);
    if (owner === '(idle)') {
      idleUs += us;
      continue;
    }
    owners.set(owner, (owners.get(owner) ?? 0) + us);
    const short = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
    const entry = frames.get(key) ?? { owner, us: 0 };
    entry.us += us;
    frames.set(key, entry);
  }
  const pct = (us: number): number => Math.round((us / totalUs) * 1000) / 10;
  return {
    file,
    totalMs: Math.round(totalUs / 1000),
    busyPercent: pct(totalUs - idleUs),
    topFrames: [...frames.entries()]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, top)
      .map(([frame, { owner, us }]) => ({ frame, owner, selfMs: Math.round(us / 1000), percent: pct(us) })),
    byOwner: [...owners.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([owner, us]) => ({ owner, selfMs: Math.round(us / 1000), percent: pct(us) })),
  };
}

/** Prints a profile's summary under the phase lines: busy share, owners, then the top frames. */
export async function noteProfile(progress: { note(text: string): void }, label: string, file: string, top = 12): Promise<ProfileSummary> {
  const profile = await summarizeProfile(file, top);
  progress.note(`${label} ${path.basename(file)}: busy ${profile.busyPercent}% — ${profile.byOwner.map((o) => `${o.owner} ${o.percent}%`).join(', ')}`);
  for (const frame of profile.topFrames) progress.note(`    ${String(frame.percent).padStart(5)}%  ${frame.frame}`);
  return profile;
}
