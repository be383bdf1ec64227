// The error banner: any page reports a failed call here; the banner shows its code and
// message until dismissed. The same error reported again is counted, not repeated.
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { asApiError } from './api/http';

interface Shown {
  key: string;
  code: string;
  message: string;
  count: number;
}

type Report = (error: unknown) => void;

const ReportContext = createContext<Report>(() => undefined);
const ShownContext = createContext<{ shown: Shown[]; dismiss: (key: string) => void }>({ shown: [], dismiss: () => undefined });

/** The function a component calls with whatever a request rejected with. */
export const useReportError = (): Report => useContext(ReportContext);

/** The banners, where the shell puts them (below the header, so the skip link stays first). */
export function ErrorBanners() {
  const { shown, dismiss } = useContext(ShownContext);
  if (shown.length === 0) return null;
  return (
    <div class="banners" role="alert">
      {shown.map((item) => (
        <div class="banner" data-testid="error-banner" key={item.key}>
          <p>
            <code data-testid="error-code">{item.code}</code> <span data-testid="error-message">{item.message}</span>
            {item.count > 1 && <span class="muted"> (×{item.count})</span>}
          </p>
          <button type="button" class="quiet" onClick={() => dismiss(item.key)} aria-label={`Dismiss error ${item.code}`}>
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}

export function ErrorProvider({ children }: { children: ComponentChildren }) {
  const [shown, setShown] = useState<Shown[]>([]);
  const report = useCallback<Report>((error) => {
    const { code, message } = asApiError(error);
    const key = `${code}\n${message}`;
    setShown((list) => {
      const same = list.find((item) => item.key === key);
      if (same) return list.map((item) => (item === same ? { ...item, count: item.count + 1 } : item));
      return [...list, { key, code, message, count: 1 }].slice(-5);
    });
  }, []);
  useEffect(() => {
    // A rejection nobody caught still reaches the user, as a banner rather than a console error.
    const onRejection = (event: PromiseRejectionEvent): void => {
      event.preventDefault();
      report(event.reason);
    };
    window.addEventListener('unhandledrejection', onRejection);
    return () => window.removeEventListener('unhandledrejection', onRejection);
  }, [report]);
  const dismiss = useCallback((key: string): void => setShown((list) => list.filter((item) => item.key !== key)), []);
  const banners = useMemo(() => ({ shown, dismiss }), [shown, dismiss]);
  return (
    <ReportContext.Provider value={report}>
      <ShownContext.Provider value={banners}>{children}</ShownContext.Provider>
    </ReportContext.Provider>
  );
}
