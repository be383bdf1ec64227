import { FencedError } from '../errors.js';
import type { RedisClient } from '../engine/redis-connection.js';
import type { JobStore } from '../history/jobs.js';
import { parseNote, type EventLog, type EventNote } from './event-log.js';
import { partitionOf, type RedisKeys } from './redis-keys.js';
import type { RedisPubSub } from './redis-pubsub.js';
import { isTerminalEvent, type EventType, type JobEvent, type NewEvent } from './types.js';

/**
 * Retention of the event log in Redis (history in PostgreSQL keeps everything):
 * a job's own stream keeps its last ~10,000 events; an unfinished job's keys
 * live 7 days after its last event, a finished job's 1 hour. Older replays are
 * read from history.
 */
export const JOB_LOG_MAXLEN = 10_000;
export const ACTIVE_TTL_SECONDS = 7 * 24 * 3600;
export const FINISHED_TTL_SECONDS = 3600;
/**
 * A partition stream is trimmed by the projector up to what it has committed;
 * this cap only bites if history stays unwritable for about a million events.
 */
export const PARTITION_MAXLEN = 1_000_000;

/**
 * Appends events in one atomic step: checks the run's fence (or takes the next
 * one, for `begin`), gives each event the job's next seq, adds it to the job's
 * own stream (id `0-<seq>`) and to the partition stream the projector consumes,
 * and publishes a note for live delivery. Seq 1 is the `queued` event history
 * wrote when the job was accepted, so Redis seqs start at 2.
 *
 * KEYS: job state hash, job log stream, partition stream.
 * ARGV: job id, fence ('' = none), time, terminal ('1'), job log maxlen,
 * partition maxlen, live ttl, finished ttl, notes channel, begin ('1'), then
 * (type, data json) pairs. Returns { first seq, fence }, { -1, fence } when
 * the fence is stale, or { -2, fence } when a run is begun on a finished job
 * (a worker that died between the job's last event and telling the queue: the
 * job must not run, nor end, a second time).
 */
const APPEND_LUA = `
local fence = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
if ARGV[10] == '1' then
  if redis.call('HEXISTS', KEYS[1], 'done') == 1 then return {-2, fence} end
  fence = redis.call('HINCRBY', KEYS[1], 'fence', 1)
elseif ARGV[2] ~= '' and tonumber(ARGV[2]) ~= fence then
  return {-1, fence}
end
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '1')
local first = seq + 1
local function add(t, d)
  seq = seq + 1
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '0-' .. seq, 't', t, 'd', d, 'a', ARGV[3])
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'j', ARGV[1], 's', seq, 't', t, 'd', d, 'a', ARGV[3])
  local note
  if #d <= 8000 then
    note = '{"j":"' .. ARGV[1] .. '","s":' .. seq .. ',"t":"' .. t .. '","a":"' .. ARGV[3] .. '","d":' .. d .. '}'
  else
    note = '{"j":"' .. ARGV[1] .. '","s":' .. seq .. '}'
  end
  redis.call('PUBLISH', ARGV[9], note)
end
if ARGV[10] == '1' then add('status', '{"status":"active","attempt":' .. fence .. '}') end
for i = 11, #ARGV, 2 do add(ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'seq', seq)
local ttl = ARGV[7]
if ARGV[4] == '1' then
  ttl = ARGV[8]
  redis.call('HSET', KEYS[1], 'done', 1)
end
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
return {first, fence}
`;

type AppendFn = (...args: Array<string | number>) => Promise<[number, number]>;

/**
 * The event log on Redis Streams. Workers append here (never to PostgreSQL);
 * the projector copies the partition streams into history; API instances
 * replay from a job's own stream, and from history for what was trimmed.
 */
export class RedisEventLog implements EventLog {
  readonly aheadOfHistory = true;
  private readonly appendScript: AppendFn;

  /**
   * @param client appends: waits out a Redis outage (a worker's events must not be lost).
   * @param reader reads for API requests: fails at once while Redis is away, so
   *   the request answers 503 instead of hanging.
   * @param store history, for replays of what Redis no longer holds. Workers run without it.
   */
  constructor(
    client: RedisClient,
    private readonly keys: RedisKeys,
    private readonly pubsub: RedisPubSub,
    private readonly store?: JobStore,
    private readonly reader: RedisClient = client,
  ) {
    if (!('tyAppend' in client)) client.defineCommand('tyAppend', { numberOfKeys: 3, lua: APPEND_LUA });
    const script = (client as unknown as { tyAppend: AppendFn }).tyAppend;
    this.appendScript = script.bind(client);
  }

  async append(jobId: string, events: readonly NewEvent[], fence?: number): Promise<JobEvent[]> {
    if (events.length === 0) return [];
    const at = new Date().toISOString();
    const data = events.map((event) => JSON.stringify(event.data ?? null));
    const [first] = await this.run(jobId, at, fence === undefined ? '' : String(fence), events.some(isTerminalEvent), false, events, data);
    if (first < 0) throw new FencedError(jobId, fence ?? 0);
    return events.map((event, i) => ({ jobId, seq: first + i, type: event.type, data: event.data ?? null, at }));
  }

  /** Undefined when the job has already finished: it gets no new run. */
  async beginAttempt(jobId: string): Promise<number | undefined> {
    const [first, fence] = await this.run(jobId, new Date().toISOString(), '', false, true, [], []);
    return first === -2 ? undefined : fence;
  }

  private run(
    jobId: string,
    at: string,
    fence: string,
    terminal: boolean,
    begin: boolean,
    events: readonly NewEvent[],
    data: readonly string[],
  ): Promise<[number, number]> {
    const pairs: string[] = [];
    events.forEach((event, i) => pairs.push(event.type, data[i]!));
    return this.appendScript(
      this.keys.jobState(jobId),
      this.keys.jobLog(jobId),
      this.keys.partitionStream(partitionOf(jobId)),
      jobId,
      fence,
      at,
      terminal ? '1' : '0',
      JOB_LOG_MAXLEN,
      PARTITION_MAXLEN,
      ACTIVE_TTL_SECONDS,
      FINISHED_TTL_SECONDS,
      this.keys.notesChannel,
      begin ? '1' : '0',
      ...pairs,
    );
  }

  /**
   * The job's own stream first; what it no longer holds (trimmed, expired, or
   * the `queued` event that only history has) comes from history.
   */
  async read(jobId: string, after: number, limit = 1000): Promise<JobEvent[]> {
    const entries = await this.reader.xrange(this.keys.jobLog(jobId), `0-${after + 1}`, '+', 'COUNT', limit);
    const fromStream = entries.map(([id, fields]) => toEvent(jobId, Number(id.slice(2)), fields));
    if (fromStream[0]?.seq === after + 1 || !this.store) return fromStream;
    const fromHistory = await this.store.events(jobId, after, limit);
    // History may lag behind the stream, and may have holes: two instances project one job's
    // entries concurrently, and a dead one's wait to be claimed. Each fills the other's holes;
    // only the gap-free run after `after` is returned.
    const bySeq = new Map(fromStream.map((event) => [event.seq, event]));
    for (const event of fromHistory) bySeq.set(event.seq, event);
    const out: JobEvent[] = [];
    for (let seq = after + 1; out.length < limit; seq++) {
      const event = bySeq.get(seq);
      if (!event) break;
      out.push(event);
    }
    return out;
  }

  subscribe(listener: (note: EventNote) => void, onResync?: () => void): Promise<() => Promise<void>> {
    return this.pubsub.subscribe(
      this.keys.notesChannel,
      (message) => {
        const note = parseNote(message);
        if (note) listener(note);
      },
      onResync,
    );
  }
}

/** Fields of a stream entry (`t`, `d`, `a`, and in partition streams `j`, `s`) as a map. */
export function entryFields(fields: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  return map;
}

function toEvent(jobId: string, seq: number, fields: readonly string[]): JobEvent {
  return eventOf(jobId, seq, entryFields(fields));
}

/** The event a stream entry holds (`t`, `d`, `a`), given its job and seq. */
export function eventOf(jobId: string, seq: number, map: ReadonlyMap<string, string>): JobEvent {
  return { jobId, seq, type: map.get('t') as EventType, data: JSON.parse(map.get('d') ?? 'null') as unknown, at: map.get('a') ?? new Date().toISOString() };
}
