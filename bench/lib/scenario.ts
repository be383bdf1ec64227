import type { ParseArgsConfig } from 'node:util';
import type { Progress } from './progress.js';
import type { Table } from './table.js';

export type ScenarioOptions = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | undefined>;

export interface ScenarioContext {
  /** Shorter phases, for a smoke run. */
  quick: boolean;
  /** Values of the flags the scenario declared. */
  values: OptionValues;
  progress: Progress;
  /** This run's folder under bench-results/, for extra files (profiles). */
  resultsDir: string;
}

export interface ScenarioResult {
  tables: Table[];
  /** Everything measured, written to bench-results/<time>/<scenario>.json. */
  data: Record<string, unknown>;
  /** Set when the run breached a threshold the scenario enforces: the bench exits non-zero. */
  breached?: string[];
}

/** What a module in bench/scenarios/ exports as `scenario`. */
export interface Scenario {
  description: string;
  /** Flags of its own, parsed with node:util parseArgs. */
  options?: ScenarioOptions;
  /** One line per flag, for `--help`. */
  usage?: string[];
  run(context: ScenarioContext): Promise<ScenarioResult>;
}

/** A flag's number, or `fallback` when it is not given; throws (naming the flag) unless it is > 0. */
export function positiveFlag(values: OptionValues, name: string, fallback: number): number {
  const n = values[name] === undefined ? fallback : Number(values[name]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}
