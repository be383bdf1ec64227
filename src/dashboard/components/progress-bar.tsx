import type { JobProgress } from '../api/types';

/** Percent 0–100 of a progress report (from `percent`, else current/total), or undefined. */
export function percentOf(progress: JobProgress | null | undefined): number | undefined {
  if (!progress) return undefined;
  if (typeof progress.percent === 'number') return Math.min(100, Math.max(0, progress.percent));
  if (typeof progress.current === 'number' && typeof progress.total === 'number' && progress.total > 0) {
    return Math.min(100, Math.max(0, (progress.current / progress.total) * 100));
  }
  return undefined;
}

export function ProgressBar({ percent, label, testid }: { percent: number | undefined; label: string; testid?: string }) {
  const value = percent ?? 0;
  return (
    <div
      class="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(value)}
      data-testid={testid}
    >
      <div class="progress-fill" style={{ width: `${value}%` }} />
    </div>
  );
}
