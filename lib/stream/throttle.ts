/**
 * Rate limiting: a token bucket per limit (global, per connection, per user...) and a
 * pass-through stream that honours several of them at once. Without a limit nothing waits and
 * no timer runs.
 *
 * @module
 */

import { abortError } from "./abort.ts";

/** Pieces a throttled stream passes on are at least this big, so that waits stay few. */
const MIN_PIECE = 16 * 1024;
/** The bucket holds a tenth of a second of traffic, which keeps the rate smooth. */
const BURST_SECONDS = 0.1;

const RESOLVED: Promise<void> = Promise.resolve();

interface Waiter {
  bytes: number;
  resolve(): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * A token bucket limiting a byte rate. Callers {@linkcode Throttle.wait} before they pass bytes
 * on; waiters are served in order. The limit may change at any time, and waiters adapt at once.
 *
 * @example Limiting a loop to 100 kB/s
 * ```ts
 * import { Throttle } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * const throttle = new Throttle(100_000);
 * const started = Date.now();
 * for (let sent = 0; sent < 30_000; sent += 10_000) await throttle.wait(10_000);
 * // A tenth of a second's worth passes at once, the other 20 kB at 100 kB/s.
 * assert.ok(Date.now() - started >= 150);
 * throttle.limit = undefined; // unlimited from now on
 * await throttle.wait(1e9);
 * ```
 */
export class Throttle {
  #limit: number | undefined;
  #tokens = 0;
  #stamp = 0;
  #queue: Waiter[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Creates a throttle.
   *
   * @param limit Bytes per second; `undefined` or `0` for unlimited.
   * @throws {RangeError} When the limit is negative or not a number.
   */
  constructor(limit?: number) {
    this.limit = limit;
  }

  /**
   * Bytes per second, or `undefined` when unlimited (setting `0` or `Infinity` means
   * unlimited).
   */
  get limit(): number | undefined {
    return this.#limit;
  }

  set limit(value: number | undefined) {
    if (value !== undefined && !(value >= 0)) {
      throw new RangeError(`Invalid speed limit "${value}": expected bytes per second >= 0`);
    }
    const next = value === undefined || value === 0 || value === Infinity ? undefined : value;
    if (this.#limit !== undefined) this.#refill();
    const wasUnlimited = this.#limit === undefined;
    this.#limit = next;
    if (next === undefined) {
      this.#release();
      return;
    }
    if (wasUnlimited) {
      this.#tokens = next * BURST_SECONDS;
      this.#stamp = performance.now();
    } else {
      this.#tokens = Math.min(this.#tokens, next * BURST_SECONDS);
    }
    this.#serve();
  }

  /**
   * Waits until `bytes` may pass, then counts them. Without a limit it returns at once. A chunk
   * bigger than the bucket passes when the bucket is full and leaves a debt that later waiters
   * pay, so any chunk size keeps the rate.
   *
   * @param bytes The number of bytes about to pass.
   * @param signal Stops waiting; the bytes are then not counted.
   * @returns When the bytes may pass.
   * @throws The signal's reason (a runtime timeout becomes `TimeoutError`) when it aborts.
   */
  wait(bytes: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal.reason));
    const limit = this.#limit;
    if (limit === undefined || bytes <= 0) return RESOLVED;
    if (this.#queue.length === 0) {
      this.#refill();
      if (this.#mayPass(bytes, limit)) {
        this.#tokens -= bytes;
        return RESOLVED;
      }
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, signal };
      if (signal) {
        waiter.onAbort = () => {
          const index = this.#queue.indexOf(waiter);
          if (index < 0) return;
          this.#queue.splice(index, 1);
          if (index === 0) this.#serve();
          reject(abortError(signal.reason));
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      if (this.#queue.length === 1) this.#serve();
    });
  }

  /** Whether the bucket lets `bytes` through, allowing a millisecond of timer jitter. */
  #mayPass(bytes: number, limit: number): boolean {
    return this.#tokens + limit / 1000 >= Math.min(bytes, limit * BURST_SECONDS);
  }

  #refill(): void {
    const now = performance.now();
    const limit = this.#limit ?? 0;
    const burst = limit * BURST_SECONDS;
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#stamp) * limit) / 1000);
    this.#stamp = now;
  }

  /** Lets through every waiter the bucket allows and sets a timer for the next one. */
  #serve(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const limit = this.#limit;
    if (limit === undefined) return;
    this.#refill();
    while (this.#queue.length > 0) {
      const head = this.#queue[0];
      if (!this.#mayPass(head.bytes, limit)) {
        const missing = Math.min(head.bytes, limit * BURST_SECONDS) - this.#tokens;
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#serve();
        }, Math.ceil((missing * 1000) / limit));
        return;
      }
      this.#tokens -= head.bytes;
      this.#queue.shift();
      this.#settle(head);
    }
  }

  #release(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#tokens = 0;
    const waiters = this.#queue;
    this.#queue = [];
    for (const waiter of waiters) this.#settle(waiter);
  }

  #settle(waiter: Waiter): void {
    if (waiter.onAbort) waiter.signal!.removeEventListener("abort", waiter.onAbort);
    waiter.resolve();
  }
}

/**
 * Options of {@linkcode throttleStream}.
 *
 * @example Giving up on a slow stream
 * ```ts
 * import { Throttle, throttleStream } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * const controller = new AbortController();
 * const slow = new Blob([new Uint8Array(10_000)]).stream()
 *   .pipeThrough(throttleStream([new Throttle(1000)], { signal: controller.signal }));
 * const reading = new Response(slow).arrayBuffer(); // would take ten seconds at 1 kB/s
 * controller.abort(new Error("too slow"));
 * await assert.rejects(reading, /too slow/);
 * ```
 */
export interface ThrottleStreamOptions {
  /** Stops waiting for the throttles; the stream then errors with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * A pass-through stream that waits on every given throttle before passing bytes on, so the
 * slowest limit sets the rate. While all throttles are unlimited chunks pass untouched and
 * nothing waits; with a limit, big chunks are split into pieces (at least 16 KiB, or a tenth
 * of a second at the slowest limit) so the rate stays smooth.
 *
 * @example A stream under a shared limit and its own
 * ```ts
 * import { Throttle, throttleStream } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * const everyone = new Throttle(10 * 1024 * 1024); // 10 MiB/s for all streams together
 * const mine = new Throttle(1024 * 1024); // 1 MiB/s for this one
 * const limited = new Blob(["data"]).stream().pipeThrough(throttleStream([everyone, mine]));
 * assert.equal(await new Response(limited).text(), "data");
 * ```
 *
 * @param throttles The throttles; their limits are read for every chunk, so changes apply at
 * once.
 * @param options A signal that cancels waiting.
 * @returns The transform stream.
 */
export function throttleStream(
  throttles: readonly Throttle[],
  options: ThrottleStreamOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  const { signal } = options;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform: (chunk, controller) =>
      passThrottled(chunk, throttles, (piece) => controller.enqueue(piece), signal),
  });
}

/**
 * Hands a chunk to `pass` at the pace of the throttles: whole and at once when none has a
 * limit, otherwise cut into pieces of about a tenth of a second at the slowest limit, each
 * passed once every throttle lets it through (so a big chunk does not leave in one burst
 * followed by a long pause). {@linkcode throttleStream} is this as a transform stream; a data
 * path that owns its reads and writes calls it directly.
 *
 * @param chunk The bytes.
 * @param throttles The throttles; their limits are read now.
 * @param pass Receives the chunk or its pieces, in order; awaited when it returns a promise.
 * @param signal Cancels waiting.
 * @returns Settles once everything was passed (synchronously done when nothing is limited).
 */
export function passThrottled(
  chunk: Uint8Array,
  throttles: readonly Throttle[],
  pass: (piece: Uint8Array) => void | Promise<void>,
  signal?: AbortSignal,
): void | Promise<void> {
  const slowest = slowestLimit(throttles);
  if (slowest === undefined) return pass(chunk);
  return passPieces(chunk, throttles, slowest, pass, signal);
}

function slowestLimit(throttles: readonly Throttle[]): number | undefined {
  let slowest: number | undefined;
  for (const throttle of throttles) {
    const limit = throttle.limit;
    if (limit !== undefined && (slowest === undefined || limit < slowest)) slowest = limit;
  }
  return slowest;
}

/**
 * The largest chunk {@linkcode passThrottled} passes whole under the throttles' limits now, or
 * `undefined` when none has a limit: a reader that reads at most this much per read gets every
 * chunk paced in one piece.
 *
 * @example
 * ```ts
 * import { pieceSizeOf, Throttle } from "./throttle.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(pieceSizeOf([new Throttle()]), undefined);
 * assert.equal(pieceSizeOf([new Throttle(1024 * 1024)]), Math.ceil(1024 * 1024 * 0.1));
 * ```
 *
 * @param throttles The throttles; their limits are read now.
 * @returns Bytes, or `undefined` when unlimited.
 */
export function pieceSizeOf(throttles: readonly Throttle[]): number | undefined {
  const slowest = slowestLimit(throttles);
  return slowest === undefined ? undefined : pieceSize(slowest);
}

function pieceSize(slowest: number): number {
  return Math.max(MIN_PIECE, Math.ceil(slowest * BURST_SECONDS));
}

async function passPieces(
  chunk: Uint8Array,
  throttles: readonly Throttle[],
  slowest: number,
  pass: (piece: Uint8Array) => void | Promise<void>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const piece = pieceSize(slowest);
  for (let offset = 0; offset < chunk.length; offset += piece) {
    const part = chunk.length <= piece ? chunk : chunk.subarray(offset, offset + piece);
    for (const throttle of throttles) await throttle.wait(part.length, signal);
    await pass(part);
  }
}
