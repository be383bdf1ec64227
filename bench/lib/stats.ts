/** Summary statistics for the benchmark tables (nearest-rank percentiles, no interpolation). */

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Rounds for display and for the JSON file alike (no spurious 15-digit floats). */
export function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * Counts of whole-millisecond values (e.g. latencies between two Date.now()
 * readings), for when there are too many values to keep: millions of
 * deliveries in a fan-out. Serialises as [value, count] pairs.
 */
export class Histogram {
  private readonly counts = new Map<number, number>();

  add(valueMs: number, count = 1): void {
    const key = Math.max(0, Math.round(valueMs));
    this.counts.set(key, (this.counts.get(key) ?? 0) + count);
  }

  merge(pairs: ReadonlyArray<readonly [number, number]>): void {
    for (const [value, count] of pairs) this.add(value, count);
  }

  toJSON(): Array<[number, number]> {
    return [...this.counts.entries()].sort((a, b) => a[0] - b[0]);
  }

  /** The same figures as summarize() (nearest rank) over the counted values. */
  summary(): Summary {
    const pairs = this.toJSON();
    const n = pairs.reduce((total, [, count]) => total + count, 0);
    const sum = pairs.reduce((total, [value, count]) => total + value * count, 0);
    const at = (p: number): number => {
      const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
      let seen = 0;
      for (const [value, count] of pairs) if ((seen += count) >= rank) return value;
      return Number.NaN;
    };
    return {
      n,
      min: pairs[0]?.[0] ?? Number.NaN,
      p50: at(50),
      p95: at(95),
      p99: at(99),
      max: pairs[pairs.length - 1]?.[0] ?? Number.NaN,
      mean: n ? sum / n : Number.NaN,
    };
  }
}
