import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  startRedisCluster,
  startRedisSentinel,
  startRedisServer,
  type RedisCluster,
  type RedisSentinel,
  type RedisServer,
} from '../helpers/redis-servers.js';

const run = promisify(execFile);

/** One redis-cli command; its reply, trimmed. */
async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 5000 });
  return stdout.trim();
}

describe('test-owned Redis servers', () => {
  const started: Array<RedisServer | RedisCluster | RedisSentinel> = [];
  after(() => Promise.all(started.map((server) => server.stop())));

  test('an appendonly server keeps an acknowledged write across kill() and restart()', async () => {
    const server = await startRedisServer({ appendonly: true });
    started.push(server);
    assert.equal(server.url, `redis://127.0.0.1:${server.port}`);
    assert.equal(await cli(server.port, 'set', 'survivor', 'still-here'), 'OK');

    await server.kill();
    await assert.rejects(cli(server.port, 'ping'), 'a killed server answers nothing');
    await server.restart();

    assert.equal(await cli(server.port, 'get', 'survivor'), 'still-here');
    await server.stop();
    assert.equal(existsSync(server.dir), false, 'stop() removes the server directory');
  });

  test('a 3-master cluster spreads keys over its nodes and serves them through redirects', async () => {
    const cluster = await startRedisCluster();
    started.push(cluster);
    assert.equal(cluster.ports.length, 3);
    assert.deepEqual(cluster.nodes, cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    assert.equal(cluster.url, `redis+cluster://${cluster.ports.map((port) => `127.0.0.1:${port}`).join(',')}`);

    const [first] = cluster.ports as [number];
    const info = await cli(first, 'cluster', 'info');
    assert.match(info, /^cluster_state:ok\r?$/m);
    assert.match(info, /^cluster_size:3\r?$/m);

    const keys = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];
    for (const key of keys) assert.equal(await cli(first, '-c', 'set', key, `value-${key}`), 'OK');
    for (const key of keys) assert.equal(await cli(first, '-c', 'get', key), `value-${key}`);

    const perNode = await Promise.all(cluster.ports.map(async (port) => Number(await cli(port, 'dbsize'))));
    assert.equal(perNode.reduce((a, b) => a + b, 0), keys.length);
    assert.ok(perNode.filter((n) => n > 0).length >= 2, `keys landed on more than one node (${perNode.join(', ')})`);
  });

  test('a sentinel names the master it monitors, and stop() removes its directory', async () => {
    const master = await startRedisServer();
    started.push(master);
    const sentinel = await startRedisSentinel(master.port);
    started.push(sentinel);
    assert.equal(sentinel.url, `redis+sentinel://127.0.0.1:${sentinel.port}/mymaster`);
    assert.equal(await cli(sentinel.port, 'sentinel', 'get-master-addr-by-name', 'mymaster'), `127.0.0.1\n${master.port}`);

    await sentinel.stop();
    assert.equal(existsSync(sentinel.dir), false);
    await assert.rejects(cli(sentinel.port, 'ping'), 'a stopped sentinel answers nothing');
  });
});
