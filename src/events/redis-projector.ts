import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { connectRedis, type RedisClient, type RedisTarget } from '../engine/redis-connection.js';
import type { JobStore } from '../history/jobs.js';
import type { Logger } from '../logger.js';
import { entryFields, eventOf } from './redis-event-log.js';
import { PARTITIONS, type RedisKeys } from './redis-keys.js';
import type { JobEvent } from './types.js';

const GROUP = 'projector';
const BATCH = 500;
const BLOCK_MS = 2000;
/** A consumer with nothing pending and silent this long is gone: drop it from the group. */
const FORGET_CONSUMER_MS = 3600_000;
const TRIM_EVERY_MS = 200;

export interface RedisProjectorOptions {
  target: RedisTarget;
  /** For acks, claims and trims (non-blocking commands). */
  client: RedisClient;
  keys: RedisKeys;
  store: JobStore;
  logger: Logger;
  /**
   * Entries another consumer took but has not acknowledged for this long are
   * claimed (their consumer is taken for dead).
   * @defaultValue 30000
   */
  claimIdleMs?: number;
}

type StreamEntry = [id: string, fields: string[]];

/**
 * Copies the Redis event log into history. Every API instance is a consumer of
 * one group per partition stream, so each entry is projected by one instance;
 * an entry is acknowledged only once its history write committed (a crash
 * before that leaves it pending, and a live instance claims it with XAUTOCLAIM).
 * The write is idempotent on (job, seq), so an entry projected twice is stored
 * once. Acknowledged entries are trimmed from the partition stream.
 */
export class RedisProjector {
  readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly readers: RedisClient[] = [];
  private readonly loops: Promise<void>[] = [];
  private stopped = false;
  private readonly claimIdleMs: number;
  private lastWarning = 0;
  /** Entries projected by this instance (for tests and metrics). */
  projected = 0;
  private readonly pendingWrites: Array<{ stream: string; entries: readonly StreamEntry[]; resolve: () => void; reject: (error: unknown) => void }> = [];
  private flushing: Promise<void> | undefined;
  private readonly trimTimers = new Map<string, NodeJS.Timeout>();
  private readonly trimDue = new Set<string>();

  constructor(private readonly options: RedisProjectorOptions) {
    this.claimIdleMs = options.claimIdleMs ?? 30_000;
  }

  async start(): Promise<void> {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const stream = this.options.keys.partitionStream(partition);
      await this.options.client.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM').catch((error: unknown) => {
        if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
      });
    }
    for (let partition = 0; partition < PARTITIONS; partition++) {
      // Blocking reads hold their connection: one per partition.
      const reader = connectRedis(this.options.target, { maxRetriesPerRequest: null });
      reader.on('error', () => undefined);
      this.readers.push(reader);
      this.loops.push(this.run(partition, reader));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.trimTimers.values()) clearTimeout(timer);
    this.trimTimers.clear();
    for (const reader of this.readers) reader.disconnect();
    await Promise.allSettled(this.loops);
    // A blocked read cut short by the disconnect may already have taken entries: project them
    // now, or they would wait for another instance to claim them (claimIdleMs). With Redis or
    // history away, they do wait: a stop must not hang on an outage.
    if (this.options.client.status !== 'ready') return;
    for (let partition = 0; partition < PARTITIONS; partition++) {
      await this.projectOwnPending(partition).catch((error: unknown) => this.warn(error, partition));
    }
  }

  private async projectOwnPending(partition: number): Promise<void> {
    const stream = this.options.keys.partitionStream(partition);
    let cursor = '0';
    for (;;) {
      const reply = (await this.options.client.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', BATCH, 'STREAMS', stream, cursor)) as
        | Array<[string, Array<[string, string[] | null]>]>
        | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) return;
      cursor = entries[entries.length - 1]![0];
      const live = await this.dropTrimmed(stream, entries);
      if (live.length > 0) await this.project(stream, live);
    }
  }

  /**
   * An entry of our pending list that was trimmed from the stream meanwhile (a
   * backlog past PARTITION_MAXLEN while history was away) comes back without
   * fields: there is nothing left to project. It is acknowledged, so it leaves
   * the pending list, and the live entries are returned. Left pending, it would
   * fail every retry of the read that returns it, and hold up the entries
   * behind it for good.
   */
  private async dropTrimmed(stream: string, entries: ReadonlyArray<[string, string[] | null]>): Promise<StreamEntry[]> {
    const live = entries.filter((entry): entry is StreamEntry => Array.isArray(entry[1]));
    if (live.length < entries.length) {
      const gone = entries.filter((entry) => !Array.isArray(entry[1])).map(([id]) => id);
      this.options.logger.warn({ stream, entries: gone.length }, 'projector: events were trimmed from Redis before they reached history');
      await this.options.client.xack(stream, GROUP, ...gone);
    }
    return live;
  }

  private async run(partition: number, reader: RedisClient): Promise<void> {
    const stream = this.options.keys.partitionStream(partition);
    // Our own pending entries first (none for a new consumer), then new ones.
    let backlog = true;
    let nextClaim = 0;
    let failures = 0;
    while (!this.stopped) {
      try {
        if (Date.now() >= nextClaim) {
          await this.claim(stream);
          nextClaim = Date.now() + Math.max(1000, this.claimIdleMs / 2);
        }
        const reply = (backlog
          ? await reader.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', BATCH, 'STREAMS', stream, '0')
          : await reader.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', stream, '>')) as
          | Array<[string, Array<[string, string[] | null]>]>
          | null;
        const entries = reply?.[0]?.[1] ?? [];
        if (backlog && entries.length === 0) backlog = false;
        const live = await this.dropTrimmed(stream, entries);
        if (live.length > 0) {
          await this.project(stream, live);
          this.scheduleTrim(stream);
        }
        failures = 0;
      } catch (error) {
        if (this.stopped) break;
        // History or Redis is away: the entries stay pending; read them again when it is back.
        backlog = true;
        failures++;
        this.warn(error, partition);
        await sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  /**
   * Group commit: what the partition loops read while a history write is under
   * way goes into the next write, all partitions together, so a steady trickle
   * of events costs a few transactions per second rather than one per read.
   * Resolves once the entries are in history and acknowledged.
   */
  private project(stream: string, entries: readonly StreamEntry[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingWrites.push({ stream, entries, resolve, reject });
      this.flushing ??= this.flush().finally(() => {
        this.flushing = undefined;
      });
    });
  }

  private async flush(): Promise<void> {
    // Let the other partitions' reads of this moment join.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pendingWrites.length > 0) {
      const batch = this.pendingWrites.splice(0, this.pendingWrites.length);
      try {
        const events: JobEvent[] = [];
        for (const { entries } of batch) for (const [, fields] of entries) {
          const event = toProjectedEvent(fields);
          if (event) events.push(event);
        }
        await this.options.store.project(events);
        const idsByStream = new Map<string, string[]>();
        for (const { stream, entries } of batch) idsByStream.set(stream, [...(idsByStream.get(stream) ?? []), ...entries.map(([id]) => id)]);
        await Promise.all([...idsByStream].map(([stream, ids]) => this.options.client.xack(stream, GROUP, ...ids)));
        for (const { entries, resolve } of batch) {
          this.projected += entries.length;
          resolve();
        }
      } catch (error) {
        for (const { reject } of batch) reject(error);
      }
    }
  }

  /** Takes over entries that a dead consumer read but never acknowledged. */
  private async claim(stream: string): Promise<void> {
    let cursor = '0-0';
    do {
      const [next, entries] = (await this.options.client.xautoclaim(stream, GROUP, this.consumer, this.claimIdleMs, cursor, 'COUNT', BATCH)) as [
        string,
        StreamEntry[],
        string[]?,
      ];
      const live = entries.filter((entry): entry is StreamEntry => Array.isArray(entry) && Array.isArray(entry[1]));
      if (live.length > 0) {
        await this.project(stream, live);
        // What the dead consumer held may have been all that kept the stream from being trimmed.
        this.scheduleTrim(stream);
      }
      cursor = next;
    } while (cursor !== '0-0' && !this.stopped);
    await this.forgetIdleConsumers(stream);
    // Another consumer may have acknowledged entries and gone (stopped) before trimming them.
    this.scheduleTrim(stream);
  }

  private async forgetIdleConsumers(stream: string): Promise<void> {
    const consumers = (await this.options.client.xinfo('CONSUMERS', stream, GROUP)) as Array<Array<string | number>>;
    for (const fields of consumers) {
      const info = new Map<string, string | number>();
      for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1]!);
      const name = String(info.get('name'));
      if (name !== this.consumer && Number(info.get('pending')) === 0 && Number(info.get('idle')) > FORGET_CONSUMER_MS) {
        await this.options.client.xgroup('DELCONSUMER', stream, GROUP, name);
      }
    }
  }

  /** Trims a stream soon, at most every TRIM_EVERY_MS: trimming after every read would double the Redis calls. */
  private scheduleTrim(stream: string): void {
    this.trimDue.add(stream);
    if (this.stopped || this.trimTimers.has(stream)) return;
    const timer = setTimeout(() => {
      // A trim sees every acknowledgement made before it starts; one made while it runs asks again.
      this.trimDue.delete(stream);
      void this.trim(stream)
        .catch(() => undefined)
        .finally(() => {
          this.trimTimers.delete(stream);
          if (this.trimDue.has(stream)) this.scheduleTrim(stream);
        });
    }, TRIM_EVERY_MS);
    this.trimTimers.set(stream, timer);
  }

  /**
   * Drops what every consumer has acknowledged: everything before the oldest
   * pending entry, or else all that the group had handed out. The group's
   * position is read before its pending list: the other way round, a read in
   * between could hand out entries (pending, not yet projected) that the trim
   * would take for acknowledged. In this order an entry handed out in between
   * lies past the position read, and is kept.
   */
  private async trim(stream: string): Promise<void> {
    const groups = (await this.options.client.xinfo('GROUPS', stream)) as Array<Array<string | number>>;
    let lastDelivered: string | undefined;
    for (const fields of groups) {
      if (fields[fields.indexOf('name') + 1] === GROUP) lastDelivered = String(fields[fields.indexOf('last-delivered-id') + 1]);
    }
    const pending = (await this.options.client.xpending(stream, GROUP)) as [number, string | null, string | null, unknown];
    const minId = pending[0] > 0 ? pending[1] : lastDelivered;
    if (minId && minId !== '0-0') await this.options.client.xtrim(stream, 'MINID', minId);
  }

  /** Entries of the partition streams that history does not have yet: not read by any instance, or read and not acknowledged. */
  async lag(): Promise<number> {
    let total = 0;
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const groups = (await this.options.client.xinfo('GROUPS', this.options.keys.partitionStream(partition))) as Array<Array<string | number | null>>;
      for (const fields of groups) {
        const field = (name: string) => fields[fields.indexOf(name) + 1];
        if (field('name') !== GROUP) continue;
        total += Number(field('pending') ?? 0) + Number(field('lag') ?? 0);
      }
    }
    return total;
  }

  private warn(error: unknown, partition: number): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.options.logger.warn({ err: error, partition }, 'projector: history write failed; events stay in Redis and will be written when it is back');
  }
}

function toProjectedEvent(fields: readonly string[]): JobEvent | undefined {
  const map = entryFields(fields);
  const jobId = map.get('j');
  const seq = Number(map.get('s'));
  if (!jobId || !Number.isInteger(seq)) return undefined;
  return eventOf(jobId, seq, map);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
