// Real, test-owned Redis servers (one per test that needs to kill, restart or
// cluster one, or put a Sentinel in front of one), so fault tests never touch
// the shared Redis on :6379.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
/** How many fresh ports to try when another process takes the one we picked. */
const PORT_ATTEMPTS = 5;

export interface RedisServerOptions {
  /** Keep an append-only file, fsynced on every write, so `kill()` + `restart()` loses nothing acknowledged. @defaultValue false */
  appendonly?: boolean;
  /** Listen on this port instead of a free one. @defaultValue a free port */
  port?: number;
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The server's own temporary directory (data, append-only file, `redis.log`). */
  readonly dir: string;
  /** SIGTERM (Redis shuts down cleanly), waits for the exit, removes `dir`. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, waits for the exit; keeps `dir` so `restart()` finds the data. */
  kill(): Promise<void>;
  /** Starts again on the same port and directory (stopping it cleanly first if it still runs); resolves once it answers PING. */
  restart(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Number of master nodes (no replicas); Redis needs at least 3. @defaultValue 3 */
  masters?: number;
}

export interface RedisCluster {
  readonly ports: number[];
  readonly nodes: Array<{ host: '127.0.0.1'; port: number }>;
  /** `redis+cluster://127.0.0.1:<p1>,127.0.0.1:<p2>,…` */
  readonly url: string;
  /** Kills every node and removes the cluster's directory. */
  stop(): Promise<void>;
}

export interface RedisSentinelOptions {
  /** The name Sentinel knows the master by. @defaultValue 'mymaster' */
  masterName?: string;
}

export interface RedisSentinel {
  readonly port: number;
  readonly masterName: string;
  /** `redis+sentinel://127.0.0.1:<port>/<masterName>` */
  readonly url: string;
  /** The sentinel's own temporary directory (`sentinel.conf`, which Sentinel rewrites, and `sentinel.log`). */
  readonly dir: string;
  /** SIGTERM, waits for the exit, removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

/** Every redis-server child still running, and every directory not yet removed, for the exit hook. */
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const child of liveChildren) child.kill('SIGKILL');
    liveChildren.clear();
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
    liveDirs.clear();
  };
  process.on('exit', killAll);
  // A test file killed by a signal never emits 'exit'. Clean up, then die of the
  // same signal — but only if nobody else handles it (their graceful shutdown may need Redis).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      killAll();
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function requireOnPath(command: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(`${command} is not on PATH; these tests need a real Redis 7 (e.g. apt-get install redis-server)`);
}

/** A port nobody listens on right now (the kernel's pick for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Asks whoever listens on `port` for `PING` and `INFO server` over raw RESP:
 * 'ready' once it answers PONG from process `pid` (a server already on the port
 * is not ours), 'other'/'loading' otherwise, null if nothing answers in time.
 */
function probe(port: number, pid: number, timeoutMs = 500): Promise<'ready' | 'loading' | 'other' | null> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\nINFO server\r\n'));
    const done = (result: 'ready' | 'loading' | 'other' | null): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    // latin1 keeps one character per byte, so the bulk length can be compared with string lengths.
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      reply += chunk;
      // Replies: a status or error line, then `$<length>\r\n<INFO text>\r\n` (INFO is answered while loading too).
      const first = /^([^\r]*)\r\n\$(\d+)\r\n/.exec(reply);
      if (!first || reply.length < first[0].length + Number(first[2])) return;
      const info = reply.slice(first[0].length, first[0].length + Number(first[2]));
      if (!new RegExp(`^process_id:${pid}\\r?$`, 'm').test(info)) done('other');
      else done(first[1] === '+PONG' ? 'ready' : 'loading');
    });
    socket.once('error', () => done(null));
    socket.once('close', () => done(null));
  });
}

async function logTail(file: string, chars = 3000): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).slice(-chars);
  } catch {
    return '(no log written)';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
}

type LaunchResult = { ok: true; running: Running } | { ok: false; portInUse: boolean; message: string };

/** Spawns one redis-server and waits until it answers PING (not LOADING), or fails with its log. */
async function launch(args: readonly string[], port: number, logFile: string): Promise<LaunchResult> {
  const bin = requireOnPath('redis-server');
  installExitHook();
  const child = spawn(bin, [...args, '--port', String(port), '--logfile', logFile], { stdio: 'ignore' });
  liveChildren.add(child);
  let hasExited = false;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      hasExited = true;
      liveChildren.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err;
      hasExited = true;
      liveChildren.delete(child);
      resolve();
    });
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (hasExited) {
      const log = await logTail(logFile);
      const message = spawnError
        ? `redis-server could not be started: ${spawnError.message}`
        : `redis-server on port ${port} exited during start-up (code ${child.exitCode}, signal ${child.signalCode})\n--- ${logFile} ---\n${log}`;
      return { ok: false, portInUse: /address already in use/i.test(log), message };
    }
    const reply = child.pid === undefined ? null : await probe(port, child.pid);
    if (reply === 'ready') return { ok: true, running: { child, exited } };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      return {
        ok: false,
        portInUse: false,
        message: `redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms (last probe: ${reply ?? 'no answer'})\n--- ${logFile} ---\n${await logTail(logFile)}`,
      };
    }
    await sleep(50);
  }
}

/**
 * Launches on `port`, or on fresh free ports when none is fixed and the one
 * picked was taken meanwhile. A fixed port that is busy is retried briefly
 * (a restart may race the old socket's release).
 */
async function launchOnPort(argsFor: (port: number) => readonly string[], fixedPort: number | undefined, logFileFor: (port: number) => string): Promise<{ port: number; running: Running }> {
  let last = '';
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = fixedPort ?? (await freePort());
    const result = await launch(argsFor(port), port, logFileFor(port));
    if (result.ok) return { port, running: result.running };
    last = result.message;
    if (!result.portInUse) break;
    if (fixedPort !== undefined) await sleep(200);
  }
  throw new Error(last);
}

async function stopChild(running: Running | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!running) return;
  const { child, exited } = running;
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

async function makeDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  liveDirs.add(dir);
  return dir;
}

async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/** Starts a standalone redis-server of the test's own, on 127.0.0.1, in a fresh temporary directory. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  requireOnPath('redis-server');
  const appendonly = options.appendonly ?? false;
  const dir = await makeDir('taskyard-redis-');
  const logFile = path.join(dir, 'redis.log');
  const args = [
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', appendonly ? 'yes' : 'no',
    ...(appendonly ? ['--appendfsync', 'always'] : []),
    '--dir', dir,
    '--daemonize', 'no',
  ];
  let started: { port: number; running: Running };
  try {
    started = await launchOnPort(() => args, options.port, () => logFile);
  } catch (err) {
    await removeDir(dir);
    throw err;
  }
  const { port } = started;
  let running: Running | undefined = started.running;
  let removed = false;

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    async stop() {
      await stopChild(running, 'SIGTERM');
      running = undefined;
      if (!removed) {
        removed = true;
        await removeDir(dir);
      }
    },
    async kill() {
      await stopChild(running, 'SIGKILL');
      running = undefined;
    },
    async restart() {
      if (removed) throw new Error(`redis-server on port ${port} was stopped and its directory removed; it cannot restart`);
      await stopChild(running, 'SIGTERM');
      running = undefined;
      running = (await launchOnPort(() => args, port, () => logFile)).running;
    },
  };
}

function redisCli(args: readonly string[], timeoutMs = 5000): Promise<{ stdout: string; stderr: string }> {
  const bin = requireOnPath('redis-cli');
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')} failed: ${err.message}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** Every key matching `pattern` on the one server at `port` (a Cluster node: that node's keys only). */
export async function scanKeys(port: number, pattern: string): Promise<string[]> {
  const { stdout } = await redisCli(['-p', String(port), '--scan', '--pattern', pattern]);
  return stdout.split('\n').filter(Boolean);
}

/**
 * Starts `masters` cluster-enabled redis-servers (no replicas), joins them with
 * `redis-cli --cluster create`, and resolves once every node reports cluster_state:ok.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  requireOnPath('redis-server');
  requireOnPath('redis-cli');
  const masters = options.masters ?? 3;
  if (masters < 3) throw new Error(`a Redis Cluster needs at least 3 masters (asked for ${masters})`);
  const dir = await makeDir('taskyard-redis-cluster-');
  const running: Running[] = [];
  const ports: number[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(running.map((node) => stopChild(node, 'SIGKILL')));
    running.length = 0;
    await removeDir(dir);
  };

  try {
    for (let i = 0; i < masters; i++) {
      // The bus port gets its own free port: the default (port + 10000) may be past 65535 or taken.
      const busPort = await freePort();
      const node = await launchOnPort(
        (port) => [
          '--bind', '127.0.0.1',
          '--save', '',
          '--appendonly', 'no',
          '--dir', dir,
          '--daemonize', 'no',
          '--cluster-enabled', 'yes',
          '--cluster-port', String(busPort),
          '--cluster-config-file', path.join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout', '2000',
        ],
        undefined,
        (port) => path.join(dir, `redis-${port}.log`),
      );
      running.push(node.running);
      ports.push(node.port);
    }

    await redisCli(['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], 30_000);

    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const infos = await Promise.all(ports.map(async (port) => (await redisCli(['-p', String(port), 'cluster', 'info'])).stdout));
      if (infos.every((info) => /^cluster_state:ok\r?$/m.test(info))) break;
      if (Date.now() > deadline) {
        const states = infos.map((info, i) => `${ports[i]}: ${/^cluster_state:(\w+)/m.exec(info)?.[1] ?? 'unknown'}`).join(', ');
        throw new Error(`Redis Cluster on ports ${ports.join(', ')} did not reach cluster_state:ok within ${READY_TIMEOUT_MS} ms (${states})\n--- CLUSTER INFO of ${ports[0]} ---\n${infos[0]}`);
      }
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    ports,
    nodes: ports.map((port) => ({ host: '127.0.0.1' as const, port })),
    url: `redis+cluster://${ports.map((port) => `127.0.0.1:${port}`).join(',')}`,
    stop,
  };
}

/**
 * Starts one `redis-server --sentinel` monitoring the master on `masterPort`
 * (quorum 1), and resolves once it answers PING and names that master.
 */
export async function startRedisSentinel(masterPort: number, options: RedisSentinelOptions = {}): Promise<RedisSentinel> {
  requireOnPath('redis-server');
  const masterName = options.masterName ?? 'mymaster';
  const dir = await makeDir('taskyard-redis-sentinel-');
  // Sentinel rewrites its config file: it must be a writable file of its own.
  const conf = path.join(dir, 'sentinel.conf');
  await writeFile(conf, `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 1\nsentinel down-after-milliseconds ${masterName} 2000\n`);
  const args = [conf, '--sentinel', '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no'];
  let running: Running | undefined;
  let port: number;
  try {
    const started = await launchOnPort(() => args, undefined, () => path.join(dir, 'sentinel.log'));
    running = started.running;
    port = started.port;
    const { stdout } = await redisCli(['-p', String(port), 'sentinel', 'get-master-addr-by-name', masterName]);
    if (stdout.split('\n').map((line) => line.trim())[1] !== String(masterPort)) {
      throw new Error(`the sentinel on port ${port} does not name master ${masterName} at port ${masterPort}: ${stdout}`);
    }
  } catch (err) {
    await stopChild(running, 'SIGKILL');
    await removeDir(dir);
    throw err;
  }
  let removed = false;

  return {
    port,
    masterName,
    url: `redis+sentinel://127.0.0.1:${port}/${masterName}`,
    dir,
    async stop() {
      await stopChild(running, 'SIGTERM');
      running = undefined;
      if (!removed) {
        removed = true;
        await removeDir(dir);
      }
    },
  };
}
