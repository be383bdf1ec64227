// Loads now, then again `intervalMs` after each answer, while the tab is visible: never two
// requests at once, none from a hidden tab. Errors go to the banner; the last data stays.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useReportError } from './errors';

export interface Polled<T> {
  data: T | undefined;
  /** Load again now (after an action), without waiting for the next tick. */
  reload: () => void;
}

/** `key` names what is loaded: when it changes, the data is dropped and loading starts over. */
export function usePoll<T>(load: () => Promise<T>, intervalMs: number, key = ''): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const report = useReportError();
  const loadRef = useRef(load);
  loadRef.current = load;
  const kick = useRef<() => void>(() => undefined);

  useEffect(() => {
    // Another key is another question: its answer must not show the old one's data.
    setData(undefined);
    let stopped = false;
    let running = false;
    let again = false;
    let timer: number | undefined;
    const tick = async (): Promise<void> => {
      window.clearTimeout(timer);
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        const value = await loadRef.current();
        if (!stopped) setData(value);
      } catch (error) {
        if (!stopped) report(error);
      } finally {
        running = false;
      }
      if (stopped) return;
      if (again) {
        again = false;
        void tick();
      } else if (!document.hidden) timer = window.setTimeout(() => void tick(), intervalMs);
    };
    const onVisibility = (): void => {
      if (!document.hidden && !running) void tick();
    };
    kick.current = () => void tick();
    document.addEventListener('visibilitychange', onVisibility);
    void tick();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [intervalMs, key, report]);

  const reload = useCallback(() => kick.current(), []);
  return { data, reload };
}
