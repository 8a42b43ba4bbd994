/**
 * A one-line progress bar on stderr for long CLI work (`replay`, `redrive --aws`). Drawn only when
 * stderr is a terminal, so pipes and CI logs stay clean; the command prints its final count itself.
 */

/** What the bar writes to: stderr, or a stand-in in tests. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export interface Progress {
  /** `done` of `total` (unknown total: a plain count); redrawn at most every `minIntervalMs`. */
  update(done: number, total?: number): void;
  /** Removes the bar from the terminal. */
  finish(): void;
}

export interface ProgressOptions {
  /** @default process.stderr */
  readonly stream?: ProgressStream;
  /** @default 100 */
  readonly minIntervalMs?: number;
  readonly now?: () => number;
}

const BAR_WIDTH = 24;

/** A bar labelled `label` (e.g. `replaying`), or a silent one when the stream is not a terminal. */
export function createProgress(label: string, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (!stream.isTTY) return { update() {}, finish() {} };
  const now = opts.now ?? Date.now;
  const minIntervalMs = opts.minIntervalMs ?? 100;
  let last = -Infinity;
  let drawn = false;
  return {
    update(done, total) {
      const t = now();
      const complete = total !== undefined && done >= total;
      if (!complete && t - last < minIntervalMs) return;
      last = t;
      drawn = true;
      stream.write(`\r\x1b[K${render(label, done, total, stream.columns)}`);
    },
    finish() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}

/** The bar's text: `label [#####-----]  42% 420/1000`, or `label 420` with no total. */
export function render(label: string, done: number, total?: number, columns = 80): string {
  if (total === undefined || total <= 0) return truncate(`${label} ${done}`, columns);
  const ratio = Math.min(1, Math.max(0, done / total));
  const filled = Math.round(ratio * BAR_WIDTH);
  const pct = `${Math.floor(ratio * 100)}%`.padStart(4);
  return truncate(`${label} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${pct} ${done}/${total}`, columns);
}

function truncate(text: string, columns: number): string {
  return text.length < columns ? text : text.slice(0, Math.max(0, columns - 1));
}
