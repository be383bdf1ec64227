// Who used the CPU during a phase, split by process: named processes (the
// servers), the harness itself, PostgreSQL and Redis (found by their command
// name in /proc), and everything else. Linux only; NaN elsewhere.
import { readdirSync, readFileSync } from 'node:fs';
import { machineCpuSeconds } from './processes.js';

const CLOCK_TICKS = 100; // USER_HZ
/** Command names (/proc/<pid>/stat) of the database servers, and how the split calls them. */
const SERVICES: ReadonlyArray<[comm: RegExp, label: string]> = [
  [/^postgres$/, 'postgres'],
  [/^redis-server$/, 'redis'],
];

interface Sample {
  comm: string;
  seconds: number;
}

/** CPU seconds of every process now, by pid. */
function processTable(): Map<number, Sample> {
  const out = new Map<number, Sample>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      out.set(Number(pid), { comm: stat.slice(open + 1, close), seconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Average cores used over the window, by who used them (1.0 = one core busy throughout). */
export type CoreSplit = Record<string, number>;

/**
 * Measures who used the CPU between start() and stop(). `named` maps a label to
 * the pids it covers (e.g. `api: [pid1, pid2]`). A process that started within
 * the window counts in full; one that ended within it is lost (to `others`).
 */
export class CpuSplit {
  private before = new Map<number, Sample>();
  private machine0 = 0;
  private harness0: NodeJS.CpuUsage = { user: 0, system: 0 };
  private wall0 = 0;
  /** Length of the last start() → stop() window, in seconds. */
  windowS = Number.NaN;

  constructor(private readonly named: Readonly<Record<string, readonly number[]>>) {}

  start(): void {
    this.before = processTable();
    this.machine0 = machineCpuSeconds();
    this.harness0 = process.cpuUsage();
    this.wall0 = performance.now();
  }

  stop(): CoreSplit {
    const wall = (performance.now() - this.wall0) / 1000;
    this.windowS = wall;
    const after = processTable();
    const harnessUsage = process.cpuUsage(this.harness0);
    const used = (pid: number): number => {
      const now = after.get(pid);
      if (!now) return 0;
      const then = this.before.get(pid);
      return now.seconds - (then && then.comm === now.comm ? then.seconds : 0);
    };
    const out: CoreSplit = {};
    const counted = new Set<number>([process.pid]);
    for (const [label, pids] of Object.entries(this.named)) {
      out[label] = pids.reduce((sum, pid) => sum + used(pid), 0) / wall;
      for (const pid of pids) counted.add(pid);
    }
    out.harness = (harnessUsage.user + harnessUsage.system) / 1e6 / wall;
    for (const [comm, label] of SERVICES) {
      let seconds = 0;
      for (const [pid, sample] of after) {
        if (!counted.has(pid) && comm.test(sample.comm)) {
          seconds += used(pid);
          counted.add(pid);
        }
      }
      out[label] = seconds / wall;
    }
    const machine = (machineCpuSeconds() - this.machine0) / wall;
    const known = Object.values(out).reduce((sum, cores) => sum + cores, 0);
    out.others = Math.max(0, machine - known);
    return out;
  }
}
