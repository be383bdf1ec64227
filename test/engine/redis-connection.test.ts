import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { connectRedis, parseRedisUrl, redactRedisUrl } from '../../src/engine/redis-connection.js';

describe('parseRedisUrl', () => {
  test('redis:// and rediss:// are one server, left for ioredis to read', () => {
    assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6379/2'), { kind: 'single', url: 'redis://127.0.0.1:6379/2' });
    assert.deepEqual(parseRedisUrl('rediss://:secret@cache.example:6380'), { kind: 'single', url: 'rediss://:secret@cache.example:6380' });
  });

  test('redis+sentinel:// names the sentinels (default port 26379) and the master', () => {
    assert.deepEqual(parseRedisUrl('redis+sentinel://s1:26380,s2,10.0.0.3:5000/mymaster'), {
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
        { host: '10.0.0.3', port: 5000 },
      ],
      name: 'mymaster',
      options: {},
    });
    assert.deepEqual(parseRedisUrl('redis+sentinel://[::1],[fe80::2]:26381/m'), {
      kind: 'sentinel',
      sentinels: [
        { host: '::1', port: 26379 },
        { host: 'fe80::2', port: 26381 },
      ],
      name: 'm',
      options: {},
    });
  });

  test('redis+sentinel:// takes a database after the master name, and a URL-encoded master name', () => {
    const target = parseRedisUrl('redis+sentinel://s1/my%20master/3');
    assert.equal(target.kind, 'sentinel');
    assert.equal(target.kind === 'sentinel' && target.name, 'my master');
    assert.deepEqual(target.kind === 'sentinel' && target.options, { db: 3 });
    assert.deepEqual((parseRedisUrl('redis+sentinel://s1/m/') as { options: unknown }).options, {}, 'a trailing slash is no database');
  });

  test('credentials are decoded: reserved characters in the password survive', () => {
    const password = 'p@ss:w/rd,%#?';
    const url = `redis+sentinel://app:${encodeURIComponent(password)}@s1:26379,s2:26379/mymaster/1`;
    assert.deepEqual(parseRedisUrl(url), {
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      options: { username: 'app', password, db: 1 },
    });
    assert.deepEqual((parseRedisUrl('redis+sentinel://:only%40pass@s1/m') as { options: unknown }).options, { password: 'only@pass' });
    // An unencoded "@" in the password still splits at the last one.
    assert.deepEqual((parseRedisUrl('redis+cluster://:a@b@n1:7000') as { options: unknown }).options, { password: 'a@b' });
  });

  test('redis+cluster:// lists the nodes (default port 6379)', () => {
    assert.deepEqual(parseRedisUrl('redis+cluster://n1:7000,n2:7001,n3'), {
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
        { host: 'n3', port: 6379 },
      ],
      options: {},
    });
  });

  for (const [url, reason] of [
    ['http://localhost:6379', /unsupported Redis URL scheme "http"/],
    ['redis+sentinel://s1:26379', /ends with \/<master name>/],
    ['redis+sentinel://s1:26379/', /ends with \/<master name>/],
    ['redis+sentinel:///mymaster', /names no host/],
    ['redis+sentinel://s1:0/m', /bad host "s1:0"/],
    ['redis+sentinel://s1:65536/m', /bad host "s1:65536"/],
    ['redis+sentinel://s1:port/m', /bad host "s1:port"/],
    ['redis+sentinel://s1:/m', /bad host "s1:"/],
    ['redis+sentinel://::1/m', /bad host "::1"/],
    ['redis+sentinel://s1/m/x', /bad database "x"/],
    ['redis+sentinel://s1/m/-1', /bad database "-1"/],
    ['redis+sentinel://s1/m/1/extra', /\/<master name>\[\/<db>\]/],
    ['redis+sentinel://:%zz@s1/m', /URI malformed/],
    ['redis+cluster://', /names no host/],
    ['redis+cluster://n1:7000/2', /only database 0/],
  ] as const) {
    test(`refuses ${url}`, () => {
      assert.throws(() => parseRedisUrl(url), reason);
    });
  }

  test('an error about a host never shows the password', () => {
    assert.throws(
      () => parseRedisUrl('redis+sentinel://:hunter2@s1:nope/m'),
      (error: Error) => !error.message.includes('hunter2'),
    );
    assert.equal(redactRedisUrl('redis+sentinel://app:hunter2@s1/m'), 'redis+sentinel://app:***@s1/m');
  });
});

describe('connectRedis', () => {
  test('a Sentinel target becomes an ioredis client that asks the sentinels for the master', () => {
    const target = parseRedisUrl(`redis+sentinel://app:${encodeURIComponent('p@ss')}@s1:26380,s2/mymaster/4`);
    const client = connectRedis(target, { lazyConnect: true, maxRetriesPerRequest: null });
    try {
      assert.ok(client instanceof Redis);
      const { options } = client as Redis;
      assert.deepEqual(options.sentinels, [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
      ]);
      assert.equal(options.name, 'mymaster');
      assert.equal(options.db, 4);
      assert.equal(options.username, 'app');
      assert.equal(options.password, 'p@ss', 'the password is for the master');
      assert.equal(options.maxRetriesPerRequest, null, 'extra options pass through');
    } finally {
      client.disconnect();
    }
  });
});
