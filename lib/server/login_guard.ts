/**
 * Counts failed logins per client address across sessions, so that reconnecting does not reset
 * a password guesser's budget: an address with too many failures in a time window is refused
 * until its oldest failures leave the window. Attempts still being checked count against the
 * budget too, so that many parallel guesses cannot overrun it. Addresses are counted by
 * {@linkcode addressKey}: IPv4 addresses one by one, IPv6 addresses by their /64 network.
 *
 * @module
 */

import { addressKey } from "./address_key.ts";

/** Limits of {@linkcode LoginGuard}. */
export interface LoginGuardOptions {
  /** Failed logins from one address within `window` after which it is refused. */
  maxFailures: number;
  /** The window in milliseconds. */
  window: number;
}

/**
 * A login attempt admitted by {@linkcode LoginGuard.begin}; end it once (later calls do
 * nothing). An attempt begun with a signal also ends, not as a failure, when that aborts.
 */
export interface LoginAttempt {
  /**
   * Ends the attempt.
   *
   * @param failed Whether the login failed (it then counts for the address).
   */
  end(failed: boolean): void;
}

/** Addresses kept before expired ones are swept out. */
const SWEEP_AT = 10_000;

/** Failed logins per address within a sliding window, and the attempts being checked. */
export class LoginGuard {
  readonly #options: LoginGuardOptions;
  readonly #failures = new Map<string, number[]>();
  readonly #inFlight = new Map<string, number>();
  /** Attempts waiting for one in flight to end, per address. */
  readonly #waiting = new Map<string, Array<() => void>>();

  /**
   * Creates a guard.
   *
   * @example
   * ```ts
   * import { LoginGuard } from "./login_guard.ts";
   * import assert from "node:assert/strict";
   *
   * const guard = new LoginGuard({ maxFailures: 2, window: 60_000 });
   * const first = (await guard.begin("2001:db8::1"))!;
   * const second = (await guard.begin("2001:db8::2"))!; // the same /64
   * const third = guard.begin("2001:db8::3"); // waits: two in flight fill the budget
   * first.end(true);
   * second.end(true);
   * assert.equal(await third, undefined); // both failed: the /64 is blocked
   * assert.equal(guard.blocked("2001:db8::99"), true);
   * ```
   *
   * @example An attempt whose session closed gives its place back
   * ```ts
   * import { LoginGuard } from "./login_guard.ts";
   * import assert from "node:assert/strict";
   *
   * const guard = new LoginGuard({ maxFailures: 1, window: 60_000 });
   * const session = new AbortController();
   * await guard.begin("192.0.2.1", session.signal); // its password check never answers
   * const next = guard.begin("192.0.2.1"); // waits for it
   * session.abort(); // the session closed: the attempt ends, not as a failure
   * const attempt = await next;
   * assert.ok(attempt);
   * attempt.end(false);
   * assert.equal(guard.blocked("192.0.2.1"), false);
   * ```
   *
   * @param options The limit and its window.
   */
  constructor(options: LoginGuardOptions) {
    this.#options = options;
  }

  /**
   * Admits a login attempt from an address. While its failures and the attempts from it still
   * in flight fill its budget, the attempt waits for one of those to end (so that parallel
   * guesses cannot overrun the budget, and parallel right logins are only queued); once the
   * failures alone fill it, the address is refused. With a `signal` (the session's), the wait
   * ends when it aborts, and so does the admitted attempt: a session that closed while its
   * user manager hangs does not hold the address's budget.
   *
   * @param ip The client's address.
   * @param signal Aborts when the attempt is abandoned (its session closed).
   * @returns The attempt, to end once the login succeeded or failed; `undefined` when the
   * address must be refused.
   * @throws The signal's reason, when it aborts before the attempt is admitted.
   */
  async begin(ip: string, signal?: AbortSignal): Promise<LoginAttempt | undefined> {
    const key = addressKey(ip);
    for (;;) {
      signal?.throwIfAborted();
      const failures = this.#recent(key, Date.now()).length;
      if (failures >= this.#options.maxFailures) {
        this.#wakeOne(key); // the next one in line is refused as well
        return undefined;
      }
      const inFlight = this.#inFlight.get(key) ?? 0;
      if (failures + inFlight < this.#options.maxFailures) {
        this.#inFlight.set(key, inFlight + 1);
        return this.#attempt(key, signal);
      }
      await this.#turn(key, signal);
    }
  }

  /**
   * Whether an address has used up its failed logins (attempts in flight not counted).
   *
   * @param ip The client's address.
   * @returns `true` when it must be refused.
   */
  blocked(ip: string): boolean {
    return this.#recent(addressKey(ip), Date.now()).length >= this.#options.maxFailures;
  }

  #attempt(key: string, signal: AbortSignal | undefined): LoginAttempt {
    let ended = false;
    const end = (failed: boolean) => {
      if (ended) return;
      ended = true;
      signal?.removeEventListener("abort", abandoned);
      const left = (this.#inFlight.get(key) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(key, left);
      else this.#inFlight.delete(key);
      if (failed) this.#record(key);
      this.#wakeOne(key);
    };
    const abandoned = () => end(false);
    signal?.addEventListener("abort", abandoned, { once: true });
    return { end };
  }

  /** Waits in the address's line until an attempt ends, or rejects when `signal` aborts. */
  #turn(key: string, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener("abort", leave);
        resolve();
      };
      const leave = () => {
        const waiting = this.#waiting.get(key);
        const index = waiting?.indexOf(wake) ?? -1;
        if (index >= 0) waiting!.splice(index, 1);
        if (waiting?.length === 0) this.#waiting.delete(key);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", leave, { once: true });
      const waiting = this.#waiting.get(key);
      if (waiting) waiting.push(wake);
      else this.#waiting.set(key, [wake]);
    });
  }

  /** Lets the longest-waiting attempt of an address look again (it waits again if need be). */
  #wakeOne(key: string): void {
    const waiting = this.#waiting.get(key);
    if (!waiting) return;
    const wake = waiting.shift()!;
    if (waiting.length === 0) this.#waiting.delete(key);
    wake();
  }

  #record(key: string): void {
    const now = Date.now();
    if (this.#failures.size >= SWEEP_AT) this.#sweep(now);
    const times = this.#recent(key, now);
    times.push(now);
    this.#failures.set(key, times);
  }

  #recent(key: string, now: number): number[] {
    const since = now - this.#options.window;
    const times = (this.#failures.get(key) ?? []).filter((t) => t > since);
    if (times.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, times);
    return times;
  }

  #sweep(now: number): void {
    for (const key of [...this.#failures.keys()]) this.#recent(key, now);
  }
}
