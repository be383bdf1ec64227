// `npm test`: checks the services and the browser the suite needs are there (fails, never skips),
// type-checks and builds, checks import rules, then runs every test file.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import { join, relative } from 'node:path';
import pg from 'pg';

const root = new URL('..', import.meta.url).pathname;
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS = { host: '127.0.0.1', port: Number(process.env.TEST_REDIS_PORT ?? 6379) };
// The browser tests drive Debian's Chromium (test/helpers/browser.ts); .ci/run installs it.
const CHROMIUM = '/usr/bin/chromium';

async function checkPostgres() {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  await client.query('SELECT 1');
  await client.end();
}

function checkRedis() {
  return new Promise((resolve, reject) => {
    const socket = net.connect(REDIS, () => socket.write('PING\r\n'));
    socket.setTimeout(3000, () => socket.destroy(new Error('timed out')));
    socket.once('data', (data) => {
      socket.end();
      data.toString().startsWith('+PONG') ? resolve() : reject(new Error(`unexpected reply ${data}`));
    });
    socket.once('error', reject);
  });
}

function checkChromium() {
  if (!existsSync(CHROMIUM)) throw new Error('not found; install it with `apt-get install -y chromium` (.ci/run does)');
  const result = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`\`${CHROMIUM} --version\` failed: ${result.error?.message ?? result.stderr.trim()}`);
}

function step(name, command, args) {
  process.stdout.write(`\n▶ ${name}\n`);
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root });
  if (result.status !== 0) {
    process.stderr.write(`\n✖ ${name} failed\n`);
    process.exit(result.status ?? 1);
  }
}

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}

for (const [name, problem, check] of [
  [`PostgreSQL at ${DATABASE_URL}`, 'is unreachable', checkPostgres],
  [`Redis at ${REDIS.host}:${REDIS.port}`, 'is unreachable', checkRedis],
  [`Chromium at ${CHROMIUM}`, 'is not usable', checkChromium],
]) {
  try {
    await check();
  } catch (error) {
    process.stderr.write(`✖ ${name} ${problem}: ${error.message}\n  The test suite needs it (see README, "Tests").\n`);
    process.exit(1);
  }
}

// Type-checks too. The examples import the package by name (`taskyard`), which resolves to dist/.
step('type-check and build', process.execPath, [join(root, 'scripts/build.mjs')]);
// The typed client's compile-time guarantees (@ts-expect-error cases) are tests too.
step('client type tests', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'test/client/tsconfig.json']);
step('test type-check', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'test/tsconfig.json']);
step('dashboard type-check', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'src/dashboard/tsconfig.json']);
step('bench type-check', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'bench/tsconfig.json']);
step('import rules', process.execPath, [join(root, 'scripts/check-imports.mjs')]);
const only = process.argv.slice(2);
const files = only.length ? only : testFiles(join(root, 'test'));
step(`tests (${files.length} files)`, process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files]);
