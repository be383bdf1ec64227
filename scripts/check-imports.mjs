// Enforces the import rules of .dependency-cruiser.cjs (folders, no cycles, BullMQ only in engine/).
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const bin = new URL('../node_modules/dependency-cruiser/bin/dependency-cruise.mjs', import.meta.url).pathname;
const result = spawnSync(process.execPath, [bin, '--config', '.dependency-cruiser.cjs', '--output-type', 'err', 'src'], { stdio: 'inherit', cwd: root });
process.exit(result.status ?? 1);
