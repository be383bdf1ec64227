// Follows a job's SSE stream (EventSource resumes with Last-Event-ID by itself) and renders
// at most ~10 times a second however fast events arrive. Closes once the job is finished.
import { useEffect, useRef, useState } from 'preact/hooks';
import { jobEventsUrl } from '../api/endpoints';
import { ApiError } from '../api/http';
import { isTerminal } from '../api/types';
import { useReportError } from '../errors';
import { emptyLiveJob, LiveJobBuffer, type LiveJob } from './live-job';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'closed';

const TYPES = ['status', 'progress', 'partial', 'log', 'result', 'job-error'] as const;
const FLUSH_MS = 100;

/**
 * `id` null: not yet (the job is still being looked up). `finished`: the job had already
 * finished when the page loaded it, so everything the stream sends is history.
 */
export function useJobEvents(id: string | null, finished: boolean, onFinished: () => void): { live: LiveJob; connection: Connection } {
  const [live, setLive] = useState<LiveJob>(emptyLiveJob);
  const [connection, setConnection] = useState<Connection>('connecting');
  const report = useReportError();
  const onDone = useRef(onFinished);
  onDone.current = onFinished;
  const historyOnly = useRef(finished);
  historyOnly.current = finished; // read when the stream opens, not after

  useEffect(() => {
    if (id === null) return;
    let openedAt = Date.now();
    const startedFinished = historyOnly.current;
    const buffer = new LiveJobBuffer(() => (startedFinished ? Number.NEGATIVE_INFINITY : openedAt));
    const source = new EventSource(jobEventsUrl(id));
    let timer: number | undefined;
    const flush = (): void => {
      timer = undefined;
      setLive(buffer.snapshot());
    };
    const schedule = (): void => {
      timer ??= window.setTimeout(flush, FLUSH_MS);
    };
    const close = (): void => {
      source.close();
      setConnection('closed');
    };
    for (const type of TYPES) {
      source.addEventListener(type, (event: MessageEvent<string>) => {
        let data: unknown;
        try {
          data = JSON.parse(event.data);
        } catch {
          data = event.data;
        }
        buffer.add(type, Number(event.lastEventId), data);
        schedule();
        if (type === 'status' && typeof data === 'object' && data !== null && isTerminal(String((data as { status?: unknown }).status))) {
          close();
          window.clearTimeout(timer);
          flush();
          onDone.current();
        }
      });
    }
    let opened = false;
    source.addEventListener('open', () => {
      // What arrives in the first second after connecting is the replayed history.
      if (!opened) openedAt = Date.now();
      opened = true;
      setConnection('live');
    });
    // The browser's own `error` event: the connection dropped (it retries) or was refused (it gives up).
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) {
        setConnection('closed');
        report(new ApiError('EVENTS_UNAVAILABLE', `The event stream of job ${id} could not be opened`, 0));
      } else setConnection('reconnecting');
    });
    return () => {
      source.close();
      window.clearTimeout(timer);
    };
  }, [id, report]);

  return { live, connection };
}
