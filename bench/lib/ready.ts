// Time from spawning `node bin/taskyard.js start` (what `npm start` runs) until
// GET /ready answers 200.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, spawnLogged, terminate } from './processes.js';

export interface ReadySample {
  /** Spawn → first 200 from /ready, measured by the harness. */
  readyMs: number;
  /** What the CLI itself printed ("ready at … (1.2 s)"), from its own start. */
  reportedS: number | null;
  exitCode: number | null;
  /** Cores other processes used just before this start (when the harness waited for quiet). */
  othersCoresBefore?: number;
}

export interface PrivateBuild {
  /** Root of the copy: run `node <dir>/bin/taskyard.js` there. */
  dir: string;
  /** tsc's complaints, if it had any (it still emits JavaScript). */
  warnings: string | null;
  /** How long the build took (not part of any measurement). */
  buildMs: number;
  remove(): Promise<void>;
}

/**
 * Builds the checkout as it is into a temporary copy and measures that, not the
 * shared dist/: other people working in the same checkout rebuild dist/ (which
 * empties it first) and edit src/ (which makes bin/taskyard.js rebuild inside the
 * timed start). The code and the command are the same; only the folder differs.
 */
export async function privateBuild(root: string): Promise<PrivateBuild> {
  const t0 = performance.now();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'taskyard-bench-build-'));
  try {
    for (const entry of ['bin', 'src', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) {
      await cp(path.join(root, entry), path.join(dir, entry), { recursive: true });
    }
    await symlink(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const built = spawnSync(process.execPath, [path.join(dir, 'scripts', 'build.mjs')], { cwd: dir, encoding: 'utf8' });
    if (!existsSync(path.join(dir, 'dist', 'cli', 'main.js'))) throw new Error(`the build produced no dist/cli/main.js:\n${built.stdout}${built.stderr}`);
    const warnings = built.status === 0 ? null : `${built.stdout}${built.stderr}`.trim();
    return { dir, warnings, buildMs: performance.now() - t0, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** `root` holds bin/ and a built dist/ (see privateBuild). */
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
    if (/taskyard: building/.test(output())) throw new Error('bin/taskyard.js rebuilt dist/ during the measurement');
    const reported = /ready at \S+\s+\((\d+(?:\.\d+)?) s\)/.exec(output());
    const exitCode = await terminate(child);
    return { readyMs, reportedS: reported ? Number(reported[1]) : null, exitCode };
  } catch (error) {
    await terminate(child, 2000);
    throw error;
  }
}
