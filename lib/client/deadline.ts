/**
 * Time limits of the client's waits (a data connection's connect, a reply under
 * `socketTimeout`, an idle data connection) on one shared timer. Most such waits end long
 * before their limit, and a timer per wait costs more than the wait itself in some runtimes (in
 * Deno 2.9 a `setTimeout` with its `clearTimeout` takes tens of microseconds of a small file's
 * few hundred). So the timer is armed for the earliest limit only, left running when waits end
 * early (it then finds nothing to do, or the next limit to wait for), and unreferenced, so that
 * it never keeps a program alive: what it limits (a pending connect or read) does that.
 *
 * In Deno the timer is an `Atomics.waitAsync` on a cell of its own, which times out as a timer
 * does and holds no process open, as an unreferenced timer: Deno 2.9's `setTimeout` loads its
 * Node-compatible timers at its first call, 10–12 ms of a client process's start-up.
 *
 * @module
 */

interface Watch {
  /** When the wait expires (`Date.now()` time). */
  at: number;
  /** Called when it does. */
  onExpired: () => void;
}

const watches = new Set<Watch>();
/** Stops the armed timer, if one is. */
let disarm: (() => void) | undefined;
let timerAt = Infinity;

/**
 * Calls `onExpired` once `ms` milliseconds have passed, unless the returned function is called
 * first.
 *
 * @example A wait that ends in time, and one that does not
 * ```ts
 * import { watchDeadline } from "./deadline.ts";
 * import assert from "node:assert/strict";
 *
 * let early = false;
 * const stop = watchDeadline(10_000, () => early = true);
 * stop(); // the wait ended: nothing is called
 * // The shared timer keeps no program alive; what is waited for does (here, another timer).
 * const waiting = setTimeout(() => {}, 1_000);
 * const expired = await new Promise<boolean>((resolve) => watchDeadline(5, () => resolve(true)));
 * clearTimeout(waiting);
 * assert.equal(expired, true);
 * assert.equal(early, false);
 * ```
 *
 * @param ms The limit in milliseconds.
 * @param onExpired Called when the limit passes.
 * @returns Ends the watch.
 */
export function watchDeadline(ms: number, onExpired: () => void): () => void {
  const watch: Watch = { at: Date.now() + ms, onExpired };
  watches.add(watch);
  if (watch.at < timerAt) arm(watch.at);
  return () => void watches.delete(watch);
}

/** The longest delay timers take (a longer one fires at once): longer limits re-arm. */
const MAX_DELAY = 2 ** 31 - 1;

function arm(at: number): void {
  disarm?.();
  timerAt = at;
  disarm = startTimer(Math.min(MAX_DELAY, Math.max(0, at - Date.now())), expire);
}

/** `Atomics.waitAsync` (ES2024, beyond the npm build's library types). */
type WaitAsync = (
  cell: Int32Array,
  index: number,
  value: number,
  timeout: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };

/** Calls `onTime` after `ms` without keeping the process alive; returns what stops it. */
function startTimer(ms: number, onTime: () => void): () => void {
  if ("Deno" in globalThis) {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const wait = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync(cell, 0, 0, ms);
    let stopped = false;
    if (wait.async) {
      // Woken by the stop with "ok": only a time-out calls back.
      wait.value.then((result) => result === "timed-out" && onTime());
    } else queueMicrotask(() => stopped || onTime());
    return () => {
      stopped = true;
      Atomics.notify(cell, 0);
    };
  }
  const timer = setTimeout(onTime, ms);
  (timer as { unref?: () => void }).unref?.();
  return () => clearTimeout(timer);
}

function expire(): void {
  disarm = undefined;
  timerAt = Infinity;
  const now = Date.now();
  const expired: Watch[] = [];
  let next = Infinity;
  for (const watch of watches) {
    if (watch.at <= now) expired.push(watch);
    else next = Math.min(next, watch.at);
  }
  for (const watch of expired) watches.delete(watch);
  if (next < Infinity) arm(next);
  for (const watch of expired) watch.onExpired();
}
