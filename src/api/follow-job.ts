import { isTerminalEvent } from '../events/types.js';
import type { ApiDeps } from './deps.js';
import type { LiveBuffer } from './live-buffer.js';

/** Events read from the log per round trip of a replay; at most one page per replay is in memory. */
const REPLAY_PAGE = 100;

export interface FollowedJob {
  stop(): void;
  /** Resolves once the stored events have been handed on (or the follow stopped). */
  replayed: Promise<void>;
}

/**
 * Feeds a job's events after `after` into `buffer`. The stored ones are read
 * page by page at the client's pace: a replay comes out of the log all at once
 * and would pass the hard limit even for a fast client (only a run of progress
 * may wait in the buffer, where it is coalesced). Then Delivery brings
 * the live ones, which the buffer coalesces, or overflows on. `onEnd` runs
 * after the terminal event is pushed, or with the error when reading failed.
 * The replay waits for `turn` (a WebSocket replays one subscription at a time).
 */
export function followJob(
  deps: Pick<ApiDeps, 'log' | 'delivery'>,
  jobId: string,
  after: number,
  buffer: LiveBuffer,
  onEnd: (error?: unknown) => void,
  turn: Promise<void> = Promise.resolve(),
): FollowedJob {
  let stopped = false;
  let stopLive: (() => void) | undefined;
  const done = (): boolean => stopped || !buffer.open;

  const replay = async (): Promise<void> => {
    await turn;
    let cursor = after;
    for (;;) {
      await buffer.drained();
      if (done()) return;
      const page = await deps.log.read(jobId, cursor, REPLAY_PAGE);
      for (const event of page) {
        // Progress may queue behind a backed-up client: it is coalesced there, as live.
        if (buffer.backedUp && event.type !== 'progress') await buffer.drained();
        if (done()) return;
        buffer.push(event);
        cursor = event.seq;
        if (isTerminalEvent(event)) {
          stopped = true;
          onEnd();
          return;
        }
      }
      if (page.length < REPLAY_PAGE) break;
    }
    if (done()) return;
    // Delivery reads from `cursor` itself first, so what was appended since the last page is not missed.
    stopLive = deps.delivery.watch(jobId, cursor, { onEvent: (event) => buffer.push(event), onEnd });
  };

  const replayed = replay().catch((error: unknown) => {
    if (done()) return;
    stopped = true;
    onEnd(error);
  });
  return {
    stop() {
      stopped = true;
      stopLive?.();
    },
    replayed,
  };
}
