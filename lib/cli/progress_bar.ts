/**
 * The progress bar of long transfers: bytes done (of the total when known), rate and time
 * left, redrawn in place on one line of a terminal. Nothing is drawn before a transfer has
 * run for a while (short ones stay silent) nor when stderr is not a terminal.
 *
 * @module
 */

import process from "node:process";

/**
 * Where the bar is drawn: a terminal's stream (`process.stderr`).
 *
 * @example
 * ```ts
 * import type { ProgressOutput } from "./progress_bar.ts";
 *
 * // A pretend terminal that keeps what is drawn.
 * const drawn: string[] = [];
 * const output: ProgressOutput = { isTTY: true, columns: 60, write: (text) => drawn.push(text) };
 * console.assert(output.isTTY);
 * ```
 */
export interface ProgressOutput {
  /** Whether it is a terminal. */
  readonly isTTY?: boolean;
  /** Its width in characters. */
  readonly columns?: number;
  /** Writes text. */
  write(text: string): unknown;
}

/**
 * Options of {@linkcode ProgressBar}.
 *
 * @example
 * ```ts
 * import type { ProgressBarOptions } from "./progress_bar.ts";
 *
 * let clock = 0;
 * const options: ProgressBarOptions = { delay: 500, interval: 100, now: () => clock };
 * clock += 1000;
 * console.assert(options.now?.() === 1000);
 * ```
 */
export interface ProgressBarOptions {
  /** How long a transfer runs before the bar shows, in milliseconds (default 1000). */
  delay?: number;
  /** Least time between two redraws, in milliseconds (default 200). */
  interval?: number;
  /** The clock, in milliseconds (default `performance.now`). */
  now?: () => number;
}

const CLEAR_LINE = "\r\x1b[K";
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/**
 * A progress bar on one terminal line.
 *
 * @example
 * ```ts
 * import { ProgressBar } from "./progress_bar.ts";
 * import assert from "node:assert/strict";
 *
 * const drawn: string[] = [];
 * let clock = 0;
 * const bar = new ProgressBar(
 *   { isTTY: true, columns: 60, write: (text) => drawn.push(text) },
 *   { delay: 1000, interval: 200, now: () => clock },
 * );
 * bar.update(0, 8 << 20); // the transfer starts: nothing yet
 * clock = 1000;
 * bar.update(1 << 20, 8 << 20); // a second later: drawn
 * clock = 1100;
 * bar.update(2 << 20, 8 << 20); // too soon to redraw
 * bar.finish(); // erased
 * assert.equal(drawn.length, 2);
 * assert.match(drawn[0], /12%/);
 * ```
 */
export class ProgressBar {
  readonly #output: ProgressOutput;
  readonly #delay: number;
  readonly #interval: number;
  readonly #now: () => number;
  #started: number | undefined;
  #drawnAt: number | undefined;

  /**
   * Creates a bar; nothing is drawn until {@linkcode ProgressBar.update}.
   *
   * @param output The terminal.
   * @param options Delay, redraw interval, clock.
   */
  constructor(output: ProgressOutput, options: ProgressBarOptions = {}) {
    this.#output = output;
    this.#delay = options.delay ?? 1000;
    this.#interval = options.interval ?? 200;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Reports progress; redraws when the transfer has run long enough and the last redraw is
   * old enough.
   *
   * @param bytes Bytes done.
   * @param total Bytes in all, when known.
   */
  update(bytes: number, total?: number): void {
    const now = this.#now();
    this.#started ??= now;
    const elapsed = now - this.#started;
    if (elapsed < this.#delay) return;
    if (this.#drawnAt !== undefined && now - this.#drawnAt < this.#interval) return;
    this.#drawnAt = now;
    const columns = this.#output.columns || 80; // 0 on a terminal that reports no size
    this.#output.write(CLEAR_LINE + formatProgressLine(bytes, total, elapsed, columns));
  }

  /** Erases the bar, if it was drawn. */
  finish(): void {
    if (this.#drawnAt !== undefined) this.#output.write(CLEAR_LINE);
    this.#drawnAt = undefined;
  }
}

/**
 * A progress bar on stderr when stderr is a terminal.
 *
 * @example
 * ```ts
 * import process from "node:process";
 * import { stderrProgressBar } from "./progress_bar.ts";
 * import assert from "node:assert/strict";
 *
 * const bar = stderrProgressBar();
 * assert.equal(bar !== undefined, Boolean(process.stderr.isTTY));
 * bar?.finish();
 * ```
 *
 * @returns The bar, or `undefined` when stderr is not a terminal.
 */
export function stderrProgressBar(): ProgressBar | undefined {
  return process.stderr.isTTY ? new ProgressBar(process.stderr) : undefined;
}

/**
 * One line of progress: with a total, percentage, bar, bytes of total, rate and time left;
 * without, bytes and rate.
 *
 * @example
 * ```ts
 * import { formatProgressLine } from "./progress_bar.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   formatProgressLine(3 << 20, 12 << 20, 2000, 60),
 *   " 25% [=====>              ] 3.0/12.0 MiB 1.5 MiB/s ETA 0:06",
 * );
 * assert.equal(formatProgressLine(3 << 20, undefined, 2000, 60), "3.0 MiB 1.5 MiB/s");
 * ```
 *
 * @param bytes Bytes done.
 * @param total Bytes in all, when known.
 * @param elapsed Milliseconds since the start.
 * @param columns The line's width.
 * @returns The line, at most `columns - 1` characters.
 */
export function formatProgressLine(
  bytes: number,
  total: number | undefined,
  elapsed: number,
  columns: number,
): string {
  const rate = elapsed > 0 ? bytes / (elapsed / 1000) : 0;
  const speed = `${formatBytes(rate)}/s`;
  if (total === undefined || total <= 0) return clip(`${formatBytes(bytes)} ${speed}`, columns);
  const fraction = Math.min(1, bytes / total);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const left = rate > 0 ? `ETA ${formatDuration((total - bytes) / rate)}` : "ETA --:--";
  const counts = formatBytePair(bytes, total);
  const text = `${counts} ${speed} ${left}`;
  const width = columns - 1 - percent.length - text.length - 4;
  if (width < 10) return clip(`${percent} ${text}`, columns);
  const done = Math.floor(fraction * width);
  const bar = done >= width ? "=".repeat(width) : `${"=".repeat(done)}>`.padEnd(width);
  return `${percent} [${bar}] ${text}`;
}

function clip(text: string, columns: number): string {
  return text.slice(0, Math.max(0, columns - 1));
}

function unitOf(bytes: number): number {
  let unit = 0;
  while (bytes >= 1024 && unit < UNITS.length - 1) {
    bytes /= 1024;
    unit++;
  }
  return unit;
}

function scaled(bytes: number, unit: number): string {
  return unit === 0 ? String(Math.round(bytes)) : (bytes / 1024 ** unit).toFixed(1);
}

/**
 * A byte count in binary units: `512 B`, `1.5 KiB`, `3.0 MiB`.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./progress_bar.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatBytes(512), "512 B");
 * assert.equal(formatBytes(1536), "1.5 KiB");
 * assert.equal(formatBytes(3 << 20), "3.0 MiB");
 * ```
 *
 * @param bytes The count.
 * @returns The text.
 */
export function formatBytes(bytes: number): string {
  const unit = unitOf(bytes);
  return `${scaled(bytes, unit)} ${UNITS[unit]}`;
}

/** `3.0/12.0 MiB`: both in the total's unit. */
function formatBytePair(bytes: number, total: number): string {
  const unit = unitOf(total);
  return `${scaled(bytes, unit)}/${scaled(total, unit)} ${UNITS[unit]}`;
}

/** `0:06`, `12:00`, `1:02:03`. */
function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}
