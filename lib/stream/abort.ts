/**
 * Small helpers for cancellation and deadlines: a deferred promise, a signal that combines a
 * caller's signal with a timeout, and racing a promise against a signal.
 *
 * @module
 */

import { TimeoutError } from "../errors.ts";

/** A promise together with the functions that settle it. */
export interface Deferred<T> {
  /** The promise. */
  promise: Promise<T>;
  /** Fulfils the promise. */
  resolve(value: T): void;
  /** Rejects the promise. */
  reject(reason: unknown): void;
}

/**
 * Creates a {@linkcode Deferred} (Node 20 lacks `Promise.withResolvers`).
 *
 * @returns The promise and its settle functions.
 */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Combines an optional caller signal with an optional timeout.
 *
 * @param signal The caller's signal.
 * @param timeoutMs Milliseconds until the result aborts with a `TimeoutError` reason.
 * @returns A signal, or `undefined` when neither was given.
 */
export function deadlineSignal(
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
): AbortSignal | undefined {
  const timer = timeoutMs !== undefined && timeoutMs > 0 && Number.isFinite(timeoutMs)
    ? AbortSignal.timeout(timeoutMs)
    : undefined;
  if (!timer) return signal;
  if (!signal) return timer;
  return AbortSignal.any([signal, timer]);
}

/**
 * Turns an abort reason into the error to throw: a runtime timeout becomes
 * {@linkcode TimeoutError}; anything else is passed through.
 *
 * @param reason The signal's reason.
 * @returns The error to throw.
 */
export function abortError(reason: unknown): unknown {
  if (
    reason instanceof Error && reason.name === "TimeoutError" && !(reason instanceof TimeoutError)
  ) {
    return new TimeoutError("Operation timed out", { cause: reason });
  }
  return reason ?? new DOMException("The operation was aborted", "AbortError");
}

/**
 * The reason a session or a data channel gives its signal when it closes: one `AbortError`
 * made once, since `abort()` without a reason makes a new `DOMException` each time, whose
 * stack costs Deno 30–40 µs (4% of a login) for a reason nothing looks into.
 *
 * @example
 * ```ts
 * import { CLOSING } from "./abort.ts";
 * import assert from "node:assert/strict";
 *
 * const closer = new AbortController();
 * closer.abort(CLOSING);
 * assert.equal((closer.signal.reason as DOMException).name, "AbortError");
 * ```
 */
export const CLOSING: DOMException = new DOMException("closing", "AbortError");

/** Options of {@linkcode abortable}. */
export interface AbortableOptions {
  /**
   * How long the work may still take once `signal` aborts, in milliseconds (default 0): work
   * that winds down when told (a transfer whose socket was closed) settles the wait itself;
   * work that never answers (a hung file system) is given up on after this.
   */
  graceMs?: number;
}

/**
 * Settles with `promise`, or rejects once `signal` aborts (at once, or after a grace period in
 * which the work may still settle the wait).
 *
 * @example
 * ```ts
 * import { abortable } from "./abort.ts";
 * import assert from "node:assert/strict";
 *
 * const never = new Promise<never>(() => {});
 * const controller = new AbortController();
 * const waiting = abortable(never, controller.signal, { graceMs: 10 });
 * controller.abort(new Error("stop"));
 * await assert.rejects(waiting, /stop/);
 * ```
 *
 * @param promise The work.
 * @param signal Cancels the wait (not the work).
 * @param options The grace period.
 * @returns The work's result.
 */
export function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  options: AbortableOptions = {},
): Promise<T> {
  if (!signal) return promise;
  const grace = options.graceMs ?? 0;
  if (signal.aborted && grace <= 0) {
    promise.catch(() => {});
    return Promise.reject(abortError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const giveUp = () => {
      promise.catch(() => {});
      reject(abortError(signal.reason));
    };
    const onAbort = () => {
      if (grace > 0) timer = setTimeout(giveUp, grace);
      else giveUp();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    const settled = () => {
      signal.removeEventListener("abort", onAbort);
      // Only a grace period starts a timer: a `clearTimeout` of nothing still costs Deno 2.9
      // the load of its Node-compatible timers (about 10 ms) at its first call.
      if (timer !== undefined) clearTimeout(timer);
    };
    promise.then(
      (v) => {
        settled();
        resolve(v);
      },
      (e) => {
        settled();
        reject(e);
      },
    );
  });
}
