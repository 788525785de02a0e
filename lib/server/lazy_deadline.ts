/**
 * {@linkcode LazyDeadlines}: one timer for deadlines that are set and met far more often than
 * they pass, such as a session's "the data connection must come within `dataConnectTimeout`",
 * set and met once per transfer.
 *
 * @module
 */

/**
 * One timer for the deadlines of one owner. Setting a deadline sets the timer only when none
 * is pending that fires before it; meeting a deadline does not touch the timer. When the timer
 * fires, the owner's `check` ends whatever is past its deadline and returns the next deadline,
 * and the timer is set for that one. So a session that moves its deadline with every transfer
 * sets about one timer per timeout rather than one per transfer, and none while no deadline is
 * set.
 *
 * Times are `performance.now()` values; `Infinity` means "no deadline".
 *
 * @example
 * ```ts
 * import { LazyDeadlines } from "./lazy_deadline.ts";
 * let due = Infinity;
 * const deadlines = new LazyDeadlines((now) => {
 *   if (due <= now) due = Infinity; // expired: give up on what waited
 *   return due;
 * });
 * due = performance.now() + 1000;
 * deadlines.wake(due);
 * due = Infinity; // met: the timer stays, and finds nothing to do when it fires
 * deadlines.stop();
 * ```
 */
export class LazyDeadlines {
  readonly #check: (now: number) => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending timer fires; `Infinity` when none is pending. */
  #firesAt = Infinity;

  /**
   * Creates the timer (nothing is set yet).
   *
   * @param check Called when the timer fires, with the time: ends what is past its deadline
   * and returns the earliest deadline left (`Infinity` for none).
   */
  constructor(check: (now: number) => number) {
    this.#check = check;
  }

  /**
   * Makes sure `check` runs no later than `due`.
   *
   * @param due A `performance.now()` time.
   */
  wake(due: number): void {
    if (due >= this.#firesAt) return;
    clearTimeout(this.#timer);
    this.#set(due);
  }

  /** Clears the timer (the owner is done); a later {@linkcode LazyDeadlines.wake} sets it again. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#firesAt = Infinity;
  }

  #set(due: number): void {
    this.#firesAt = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#firesAt = Infinity;
      const next = this.#check(performance.now());
      if (next !== Infinity) this.#set(next);
    }, Math.max(0, due - performance.now()));
  }
}
