// Hash routing: `#/jobs/abc?x=1` → { parts: ['jobs', 'abc'], query }.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean).map((part) => decodeURIComponent(part));
  return { parts, query: new URLSearchParams(search) };
}

/** `#/path?query` for the given parts and query (empty values left out). */
export function href(parts: string[], query: Record<string, string> = {}): string {
  const search = new URLSearchParams(Object.entries(query).filter(([, value]) => value !== '')).toString();
  return `#/${parts.map(encodeURIComponent).join('/')}${search ? `?${search}` : ''}`;
}

export function navigate(hash: string): void {
  window.location.hash = hash;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** The old link form `/?job=<id>` (CLI output, the first home page) opens the job's page. */
export function redirectLegacyLink(): void {
  const job = new URLSearchParams(window.location.search).get('job');
  if (job) window.history.replaceState(null, '', `${window.location.pathname}${href(['jobs', job])}`);
}
