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

/** The function a component calls with whatever a request rejected with. */
export const useReportError = (): Report => useContext(ReportContext);

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
  const dismiss = (key: string): void => setShown((list) => list.filter((item) => item.key !== key));
  const value = useMemo(() => report, [report]);
  return (
    <ReportContext.Provider value={value}>
      {shown.length > 0 && (
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
      )}
      {children}
    </ReportContext.Provider>
  );
}
