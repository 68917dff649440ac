/**
 * One-line progress display for long CLI jobs (index, generate). Only on a TTY: when output is
 * piped or logged, nothing is printed until the caller's final summary line (no log spam).
 */

/** The part of a stream the progress line needs (process.stderr, or a test double). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressState {
  /** Units completed / total (e.g. files). */
  done: number;
  total: number;
  /** Bytes processed so far and expected in total (rate and ETA are based on bytes when known). */
  bytes?: number;
  totalBytes?: number;
  /** Completed fraction 0..1 when neither count nor bytes measure it well (e.g. samples generated). */
  fraction?: number;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

/** `m:ss` or `h:mm:ss`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export interface ProgressLineOptions {
  /** Minimum milliseconds between redraws (default 100). */
  intervalMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Force on/off regardless of isTTY (tests). */
  enabled?: boolean;
}

export class ProgressLine {
  readonly enabled: boolean;
  private readonly startMs: number;
  private lastDrawMs = -Infinity;
  private lastText = '';
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly out: ProgressStream,
    private readonly label: string,
    private readonly unit: string,
    opts: ProgressLineOptions = {},
  ) {
    this.enabled = opts.enabled ?? out.isTTY === true;
    this.intervalMs = opts.intervalMs ?? 100;
    this.now = opts.now ?? (() => Date.now());
    this.startMs = this.now();
  }

  /** The text of the line for a state (exported for tests; no escape codes). */
  render(state: ProgressState, width = 100): string {
    const elapsed = (this.now() - this.startMs) / 1000;
    const useBytes = state.totalBytes !== undefined && state.totalBytes > 0 && state.bytes !== undefined;
    const fraction = state.fraction !== undefined ? state.fraction : useBytes ? state.bytes! / state.totalBytes! : state.total > 0 ? state.done / state.total : 0;
    const clamped = Math.max(0, Math.min(1, fraction));
    const parts = [`${state.done}/${state.total} ${this.unit}`];
    if (state.bytes !== undefined) {
      parts.push(formatBytes(state.bytes));
      if (elapsed > 0) parts.push(`${formatBytes(state.bytes / elapsed)}/s`);
    }
    const eta = clamped > 0 && clamped < 1 ? (elapsed * (1 - clamped)) / clamped : clamped >= 1 ? 0 : NaN;
    parts.push(`ETA ${formatDuration(eta)}`);
    const pct = `${(clamped * 100).toFixed(0).padStart(3)}%`;
    const tail = `${pct} ${parts.join('  ')}`;
    // The bar gives way first on narrow terminals; the numbers matter more.
    const room = width - this.label.length - tail.length - 4;
    const barWidth = Math.min(30, room);
    const filled = Math.round(clamped * barWidth);
    const bar = barWidth >= 10 ? ` [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]` : '';
    const line = `${this.label}${bar} ${tail}`;
    return line.length > width ? line.slice(0, width) : line;
  }

  update(state: ProgressState, force = false): void {
    if (!this.enabled) return;
    const t = this.now();
    if (!force && t - this.lastDrawMs < this.intervalMs) return;
    this.lastDrawMs = t;
    // columns is 0 or undefined when the terminal size is unknown.
    const width = (this.out.columns || 100) - 1;
    this.lastText = this.render(state, width);
    // \r + erase-line: redraw in place.
    this.out.write(`\r\x1b[2K${this.lastText}`);
  }

  /** Remove the line so the summary that follows starts clean. */
  clear(): void {
    if (!this.enabled || this.lastText === '') return;
    this.out.write('\r\x1b[2K');
    this.lastText = '';
  }
}
