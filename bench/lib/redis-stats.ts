// What Redis did during a phase, from INFO commandstats: calls and server time
// per command. Commands run inside Lua scripts count too (Redis 7), so `evalsha`
// is the number of script round trips and the rest includes what the scripts did.
// The counts are server-wide: anything else using the same Redis adds to them.
import { Redis } from 'ioredis';

export type CommandStats = Map<string, { calls: number; usec: number }>;

export async function commandStats(redisUrl: string): Promise<CommandStats> {
  const redis = new Redis(redisUrl);
  try {
    const info = await redis.info('commandstats');
    const out: CommandStats = new Map();
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      out.set(match[1]!, { calls: Number(match[2]), usec: Number(match[3]) });
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

export interface RedisPerJob {
  /** Every command Redis executed, per job (script internals included). */
  calls: number;
  /** Script round trips (EVALSHA + EVAL) per job. */
  scripts: number;
  /** Redis's own time executing commands, µs per job. */
  usec: number;
  /** The busiest commands, per job. */
  top: Array<{ command: string; calls: number; usec: number }>;
}

export function perJob(before: CommandStats, after: CommandStats, jobs: number): RedisPerJob {
  const rows: Array<{ command: string; calls: number; usec: number }> = [];
  for (const [command, now] of after) {
    const then = before.get(command) ?? { calls: 0, usec: 0 };
    const calls = now.calls - then.calls;
    if (calls > 0) rows.push({ command, calls: calls / jobs, usec: (now.usec - then.usec) / jobs });
  }
  rows.sort((a, b) => b.usec - a.usec);
  const sum = (pick: (row: { command: string; calls: number; usec: number }) => number, only?: (command: string) => boolean): number =>
    rows.filter((row) => !only || only(row.command)).reduce((total, row) => total + pick(row), 0);
  const round2 = (value: number): number => Math.round(value * 100) / 100;
  return {
    calls: round2(sum((row) => row.calls)),
    scripts: round2(sum((row) => row.calls, (command) => command === 'evalsha' || command === 'eval')),
    usec: round2(sum((row) => row.usec)),
    top: rows.slice(0, 12).map((row) => ({ command: row.command, calls: round2(row.calls), usec: round2(row.usec) })),
  };
}
