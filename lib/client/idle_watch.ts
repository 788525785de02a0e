/**
 * An idle timeout for data connections that costs no timer per chunk: callers mark when they
 * start and stop waiting on the socket, and one lazily re-armed deadline (on the client's
 * shared timer, which keeps no program alive: the socket waited on does) checks how long the
 * current wait has lasted.
 *
 * @module
 */

import { watchDeadline } from "./deadline.ts";

/**
 * Fires a callback when one wait on a socket lasts longer than the timeout.
 *
 * @example
 * ```ts
 * import { IdleWatch } from "./idle_watch.ts";
 * import assert from "node:assert/strict";
 *
 * const { promise: idle, resolve } = Promise.withResolvers<void>();
 * const watch = new IdleWatch(10, resolve);
 * watch.begin(); // a read starts... and nothing arrives
 * const socket = setTimeout(() => {}, 1_000); // what keeps a program alive meanwhile
 * await idle; // called after 10 ms
 * clearTimeout(socket);
 * watch.stop();
 *
 * const quiet = new IdleWatch(10, () => assert.fail("no wait was too long"));
 * quiet.begin();
 * quiet.end(); // the read completed in time
 * quiet.stop();
 * ```
 */
export class IdleWatch {
  readonly #timeoutMs: number;
  readonly #onIdle: () => void;
  #unwatch: (() => void) | undefined;
  #waitingSince = 0;
  #stopped = false;

  /**
   * Creates the watch; it does nothing until {@linkcode IdleWatch.begin}.
   *
   * @param timeoutMs The longest allowed wait in milliseconds.
   * @param onIdle Called once when a wait exceeds it; the watch then stops.
   */
  constructor(timeoutMs: number, onIdle: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#onIdle = onIdle;
  }

  /** Marks the start of a wait on the socket. */
  begin(): void {
    if (this.#stopped) return;
    this.#waitingSince = Date.now();
    if (this.#unwatch === undefined) this.#arm(this.#timeoutMs);
  }

  /** Marks the end of the wait. */
  end(): void {
    this.#waitingSince = 0;
  }

  /** Stops watching for good. */
  stop(): void {
    this.#stopped = true;
    this.#unwatch?.();
    this.#unwatch = undefined;
  }

  #arm(ms: number): void {
    this.#unwatch = watchDeadline(ms, () => this.#check());
  }

  #check(): void {
    this.#unwatch = undefined;
    if (this.#stopped || this.#waitingSince === 0) return;
    const waited = Date.now() - this.#waitingSince;
    if (waited < this.#timeoutMs) {
      this.#arm(this.#timeoutMs - waited);
      return;
    }
    this.stop();
    this.#onIdle();
  }
}
