import { InvalidArgumentError } from 'commander';

/** Parses an integer flag, naming the flag when the value is not one. */
export const int = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
  return n;
};

/** A repeatable, comma-separated list flag. */
export const list = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
