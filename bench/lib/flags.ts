// Parsing of the scenarios' numeric flags, with messages that name the flag.

/** A positive integer flag, or `fallback` when not given. */
export function positiveInt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

/** A comma-separated list of positive integers (`10,100`), or `fallback`'s. */
export function positiveIntList(name: string, value: unknown, fallback: string): number[] {
  return String(value ?? fallback)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => positiveInt(name, item, 1));
}
