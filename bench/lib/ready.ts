// Time from spawning `node bin/taskyard.js start` (what `npm start` runs) until
// GET /ready answers 200.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, spawnLogged, terminate } from './processes.js';

export interface ReadySample {
  /** Spawn → first 200 from /ready, measured by the harness. */
  readyMs: number;
  /** What the CLI itself printed ("ready at … (1.2 s)"), from its own start. */
  reportedS: number | null;
  exitCode: number | null;
}

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

/**
 * bin/taskyard.js rebuilds dist/ when src/ is newer; that build must not be
 * timed as start-up, so build first when needed. Returns why it built, if it did.
 */
export function ensureBuilt(root: string): string | null {
  const entry = path.join(root, 'dist', 'cli', 'main.js');
  const reason = !existsSync(entry) ? 'dist/ was missing' : newest(path.join(root, 'src')) > statSync(entry).mtimeMs ? 'src/ was newer than dist/' : null;
  if (!reason) return null;
  const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stdout}${built.stderr}`);
  return reason;
}

export async function measureReady(root: string, dataDir: string, timeoutMs = 60_000): Promise<ReadySample> {
  const port = await freePort();
  const t0 = performance.now();
  const { child, output } = spawnLogged(process.execPath, ['bin/taskyard.js', 'start', '--port', String(port), '--data-dir', dataDir], { cwd: root });
  try {
    const url = `http://127.0.0.1:${port}/ready`;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`taskyard start exited with ${child.exitCode}:\n${output()}`);
      if (performance.now() - t0 > timeoutMs) throw new Error(`/ready not 200 within ${timeoutMs} ms:\n${output()}`);
      const status = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
        async (response) => {
          await response.arrayBuffer();
          return response.status;
        },
        () => 0,
      );
      if (status === 200) break;
      await sleep(10);
    }
    const readyMs = performance.now() - t0;
    // The CLI prints its banner right after listen(); give it a moment to arrive.
    await sleep(50);
    if (/taskyard: building/.test(output())) throw new Error('bin/taskyard.js rebuilt dist/ during the measurement (src/ changed?)');
    const reported = /ready at \S+\s+\((\d+(?:\.\d+)?) s\)/.exec(output());
    const exitCode = await terminate(child);
    return { readyMs, reportedS: reported ? Number(reported[1]) : null, exitCode };
  } catch (error) {
    await terminate(child, 2000);
    throw error;
  }
}
