/**
 * One line per phase on the terminal: rewritten in place (\r) when stdout is a
 * TTY, plain lines otherwise (at most one every few seconds, so a CI log stays short).
 */
export class Progress {
  private readonly tty: boolean;

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {
    this.tty = out.isTTY === true;
  }

  phase(label: string): PhaseLine {
    return new PhaseLine(this.out, this.tty, label);
  }

  /** A line of its own, between phases. */
  note(text: string): void {
    this.out.write(`${text}\n`);
  }
}

const PLAIN_EVERY_MS = 5000;
const BAR_WIDTH = 20;

/** `[#######·············]  35%` */
export function bar(fraction: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(f * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'·'.repeat(BAR_WIDTH - filled)}] ${String(Math.round(f * 100)).padStart(3)}%`;
}

export class PhaseLine {
  private readonly startedAt = performance.now();
  private lastWrite = 0;
  private ended = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly tty: boolean,
    private readonly label: string,
  ) {
    if (tty) this.out.write(`${label} …`);
    else this.out.write(`${label} …\n`);
  }

  /** Seconds since the phase began. */
  get elapsed(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  /** Rewrites the phase's line; with `fraction` (0..1) it leads with a bar and a percentage. */
  update(text: string, fraction?: number): void {
    if (this.ended) return;
    const now = performance.now();
    if (now - this.lastWrite < (this.tty ? 100 : PLAIN_EVERY_MS)) return;
    this.lastWrite = now;
    const line = fraction === undefined ? text : `${bar(fraction)} ${text}`;
    if (this.tty) this.out.write(`\r\x1b[2K${this.label}: ${line}`);
    else this.out.write(`${this.label}: ${line}\n`);
  }

  done(text = 'done'): void {
    if (this.ended) return;
    this.ended = true;
    const line = `${this.label}: ${text} (${this.elapsed.toFixed(1)} s)`;
    this.out.write(this.tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }

  fail(error: unknown): void {
    this.done(`FAILED — ${error instanceof Error ? error.message : String(error)}`);
  }
}
