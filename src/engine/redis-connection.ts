import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** A Redis client: one server (possibly found through Sentinel), or a Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * Where Redis is, from a URL:
 * - `redis://[user:pass@]host:port[/db]` (or `rediss://` for TLS): one server;
 * - `redis+sentinel://[user:pass@]s1:26379,s2:26379/<master name>[/db]`: the master Sentinel names;
 * - `redis+cluster://[user:pass@]n1:7000,n2:7001`: a Redis Cluster, from any of its nodes.
 */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'sentinel'; sentinels: Array<{ host: string; port: number }>; name: string; options: RedisOptions }
  | { kind: 'cluster'; nodes: Array<{ host: string; port: number }>; options: RedisOptions };

/** `host`, `host:port`, `[ipv6]` or `[ipv6]:port`. */
const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/;

export const REDIS_URL_PATTERN = /^(redis|rediss|redis\+sentinel|redis\+cluster):\/\/./;

export function parseRedisUrl(url: string): RedisTarget {
  const scheme = url.slice(0, url.indexOf('://'));
  if (scheme === 'redis' || scheme === 'rediss') return { kind: 'single', url };
  if (scheme !== 'redis+sentinel' && scheme !== 'redis+cluster') throw new Error(`unsupported Redis URL scheme "${scheme}"`);
  // Several hosts do not make a valid WHATWG URL: split by hand.
  const rest = url.slice(scheme.length + 3);
  const at = rest.lastIndexOf('@');
  const auth = at >= 0 ? rest.slice(0, at) : '';
  const [hostList = '', ...path] = (at >= 0 ? rest.slice(at + 1) : rest).split('/');
  const defaultPort = scheme === 'redis+sentinel' ? 26379 : 6379;
  const hosts = hostList
    .split(',')
    .filter(Boolean)
    .map((entry) => {
      const match = HOST_PORT.exec(entry);
      const host = match?.[1] ?? match?.[2];
      const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
      if (!host || port <= 0 || port > 65535) throw new Error(`bad host "${entry}" in Redis URL`);
      return { host, port };
    });
  if (hosts.length === 0) throw new Error('the Redis URL names no host');
  const options: RedisOptions = {};
  if (auth) {
    const colon = auth.indexOf(':');
    const username = decodeURIComponent(colon >= 0 ? auth.slice(0, colon) : '');
    const password = decodeURIComponent(colon >= 0 ? auth.slice(colon + 1) : auth);
    if (username) options.username = username;
    if (password) options.password = password;
  }
  if (scheme === 'redis+cluster') {
    if (path.some(Boolean)) throw new Error('a redis+cluster:// URL has no path: a Redis Cluster has only database 0');
    return { kind: 'cluster', nodes: hosts, options };
  }
  const [name, db, ...extra] = path;
  if (!name) throw new Error('a redis+sentinel:// URL ends with /<master name>');
  if (extra.some(Boolean)) throw new Error('a redis+sentinel:// URL ends with /<master name>[/<db>]');
  if (db !== undefined && db !== '') {
    if (!/^\d+$/.test(db)) throw new Error(`bad database "${db}" in Redis URL (a number)`);
    options.db = Number(db);
  }
  return { kind: 'sentinel', sentinels: hosts, name: decodeURIComponent(name), options };
}

/** A new client for the target, with `extra` options (e.g. BullMQ's `maxRetriesPerRequest: null`). */
export function connectRedis(target: RedisTarget, extra: RedisOptions = {}): RedisClient {
  switch (target.kind) {
    case 'single':
      return new Redis(target.url, extra);
    case 'sentinel':
      return new Redis({ ...target.options, ...extra, sentinels: target.sentinels, name: target.name });
    case 'cluster':
      return new Cluster(target.nodes, {
        redisOptions: { ...target.options, ...extra },
        enableOfflineQueue: extra.enableOfflineQueue ?? true,
        // Blocking reads and Lua scripts go to masters; a replica would refuse writes.
        scaleReads: 'master',
      });
  }
}

/** Hides the password in a Redis URL for logs. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/]*):([^@/]*)@/, '//$1:***@');
}

/** Resolves once the client is connected and ready; rejects after `timeoutMs`. */
export async function untilReady(client: RedisClient, timeoutMs: number, what = 'Redis'): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let lastError: unknown;
    const onError = (error: unknown): void => {
      lastError = error;
    };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      client.off('error', onError);
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      reject(new Error(`${what} did not answer within ${timeoutMs} ms${reason}`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      client.off('error', onError);
      resolve();
    };
    client.once('ready', onReady);
    client.on('error', onError);
  });
}

/** Errors ioredis raises while Redis is unreachable (as opposed to a bad command). */
export function isRedisUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /enableOfflineQueue|Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|CLUSTERDOWN|LOADING|TRYAGAIN|Failed to refresh slots cache/i.test(error.message)
  );
}
