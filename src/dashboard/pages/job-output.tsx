// Partial results (as π digits when they are `{ position, digit }`) and log lines, bounded.
import { json } from '../format';
import { KEEP, type LiveJob } from './live-job';

const shownOf = (shown: number, total: number, what: string): string =>
  total > shown ? `the last ${shown} of ${total} ${what}` : `${total} ${what}`;

export function JobPartials({ live }: { live: LiveJob }) {
  if (live.partialCount === 0) return <p class="muted">No partial results.</p>;
  const list = (
    <ol class="partials" data-testid="job-partials">
      {live.partials.map((chunk) => (
        <li key={chunk.seq} data-testid="job-partial">
          <code>{JSON.stringify(chunk.data)}</code>
        </li>
      ))}
    </ol>
  );
  if (live.digits !== null) {
    return (
      <>
        <p class="muted">{live.digits.length} digits</p>
        <p class="digits" data-testid="job-digits">
          {live.digits}
        </p>
        <details>
          <summary>Raw chunks ({shownOf(live.partials.length, live.partialCount, 'chunks')})</summary>
          {list}
        </details>
      </>
    );
  }
  return (
    <>
      <p class="muted">Showing {shownOf(live.partials.length, live.partialCount, 'chunks')}.</p>
      {list}
    </>
  );
}

export function JobLogs({ live }: { live: LiveJob }) {
  if (live.logCount === 0) return <p class="muted" data-testid="job-logs">No log lines.</p>;
  return (
    <>
      {live.logCount > KEEP && <p class="muted">Showing {shownOf(live.logs.length, live.logCount, 'lines')}.</p>}
      <pre class="logs" data-testid="job-logs">
        {live.logs.map((line) => (
          <span key={line.seq} class={`log-${line.level}`}>
            {line.level.padEnd(5)} {line.message}
            {'\n'}
          </span>
        ))}
      </pre>
    </>
  );
}

export const JsonBlock = ({ value, testid }: { value: unknown; testid?: string }) => (
  <pre class="json" data-testid={testid}>
    {json(value)}
  </pre>
);
