import type { Logger } from '../../logger.js';
import type { Broadcast } from '../../services/broadcast.js';
import type { EventStatus, ValidationIssue } from './types.js';

/** One channel for every app: a channel per app would outgrow NOTIFY's 63-byte channel names. */
export const RESULTS_CHANNEL = 'ingestion.results';

/** Below the broadcast's 7,900 bytes, with room for the envelope. */
const MAX_MESSAGE_BYTES = 7_600;
/** How long results wait for others to travel with. */
const COALESCE_MS = 20;

/** A validation result as the live view shows it. */
export interface LiveResult {
  eventName: string;
  status: EventStatus;
  errors?: ValidationIssue[];
  jobId: string;
  receivedAt: string;
}

type Listener = (result: LiveResult) => void;

/**
 * Validation results, live, across processes: the API process that validated
 * an event publishes it; every API process that has a stream open for the
 * app hears it. Fire-and-forget, like the broadcast beneath it: a stream
 * sees what happens while it is open, not what came before.
 */
export class LiveResults {
  private readonly listeners = new Map<string, Set<Listener>>();
  private subscribed: Promise<() => Promise<void>> | undefined;
  private pending = new Map<string, LiveResult[]>();
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly broadcast: Broadcast,
    private readonly logger: Logger,
  ) {}

  /**
   * Queues a request's results for the live view. They leave together with
   * whatever other requests validated within the next few milliseconds, packed
   * into as few messages as fit: at hundreds of requests a second that is a
   * few NOTIFYs (or Redis PUBLISHes) a second instead of one per request, and
   * none of it on a request's path.
   */
  publish(appId: string, results: readonly LiveResult[]): void {
    const pending = this.pending.get(appId);
    if (pending) pending.push(...results);
    else this.pending.set(appId, [...results]);
    this.timer ??= setTimeout(() => void this.flush(), COALESCE_MS);
  }

  /** Hands what is pending to the chain of sends: one flush after another, so results leave in order. */
  private flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batches = this.pending;
    this.pending = new Map();
    this.sending = this.sending.then(async () => {
      for (const [appId, results] of batches) {
        await this.send(appId, results).catch((error: unknown) => {
          this.logger.warn({ err: error, appId, results: results.length }, 'ingestion: could not publish validation results to the live view');
        });
      }
    });
    return this.sending;
  }

  /** Sends in order, each message as full as fits. */
  private async send(appId: string, results: readonly LiveResult[]): Promise<void> {
    const envelope = (items: string[]): string => `{"appId":${JSON.stringify(appId)},"results":[${items.join(',')}]}`;
    let batch: string[] = [];
    let bytes = 0;
    for (const result of results) {
      const json = JSON.stringify(result);
      const size = Buffer.byteLength(json) + 1;
      if (batch.length > 0 && bytes + size > MAX_MESSAGE_BYTES) {
        await this.broadcast.publish(RESULTS_CHANNEL, envelope(batch));
        batch = [];
        bytes = 0;
      }
      // A result too large alone (long error messages) travels without its errors.
      if (size > MAX_MESSAGE_BYTES) batch.push(JSON.stringify({ ...result, errors: undefined }));
      else batch.push(json);
      bytes += Math.min(size, MAX_MESSAGE_BYTES);
    }
    if (batch.length > 0) await this.broadcast.publish(RESULTS_CHANNEL, envelope(batch));
  }

  /**
   * Calls `listener` with every result for `appId` until the returned function
   * is called. Resolves once this process is subscribed: what is published
   * after that reaches it.
   */
  async follow(appId: string, listener: Listener): Promise<() => void> {
    // This process subscribes on its first stream only: a process nobody watches parses nothing.
    this.subscribed ??= this.broadcast.subscribe(RESULTS_CHANNEL, (message) => this.dispatch(message));
    try {
      await this.subscribed;
    } catch (error) {
      this.subscribed = undefined;
      throw error;
    }
    let set = this.listeners.get(appId);
    if (!set) this.listeners.set(appId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(appId) === set) this.listeners.delete(appId);
    };
  }

  async close(): Promise<void> {
    await this.flush();
    this.listeners.clear();
    const subscribed = this.subscribed;
    this.subscribed = undefined;
    if (subscribed) await (await subscribed.catch(() => async () => undefined))();
  }

  private dispatch(message: string): void {
    let parsed: { appId?: unknown; results?: unknown };
    try {
      parsed = JSON.parse(message) as { appId?: unknown; results?: unknown };
    } catch {
      this.logger.warn({ message: message.slice(0, 200) }, 'ingestion: ignored a malformed live result');
      return;
    }
    const set = typeof parsed.appId === 'string' ? this.listeners.get(parsed.appId) : undefined;
    if (!set || !Array.isArray(parsed.results)) return;
    for (const result of parsed.results as LiveResult[]) for (const listener of set) listener(result);
  }
}
