/**
 * Time limits of the client's waits (a data connection's connect, a reply under
 * `socketTimeout`, an idle data connection) on one shared timer. Most such waits end long
 * before their limit, and a timer per wait costs more than the wait itself in some runtimes (in
 * Deno 2.9 a `setTimeout` with its `clearTimeout` takes tens of microseconds of a small file's
 * few hundred). So the timer is armed for the earliest limit only, left running when waits end
 * early (it then finds nothing to do, or the next limit to wait for), and unreferenced, so that
 * it never keeps a program alive: what it limits (a pending connect or read) does that.
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
let timer: ReturnType<typeof setTimeout> | undefined;
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
  if (timer !== undefined) clearTimeout(timer);
  timerAt = at;
  timer = setTimeout(expire, Math.min(MAX_DELAY, Math.max(0, at - Date.now())));
  (timer as { unref?: () => void }).unref?.();
}

function expire(): void {
  timer = undefined;
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
