/**
 * Counts failed logins per client address across sessions, so that reconnecting does not reset
 * a password guesser's budget: an address with too many failures in a time window is refused
 * until its oldest failures leave the window.
 *
 * @module
 */

/** Limits of {@linkcode LoginGuard}. */
export interface LoginGuardOptions {
  /** Failed logins from one address within `window` after which it is refused. */
  maxFailures: number;
  /** The window in milliseconds. */
  window: number;
}

/** Addresses kept before expired ones are swept out. */
const SWEEP_AT = 10_000;

/** Failed logins per address within a sliding window. */
export class LoginGuard {
  readonly #options: LoginGuardOptions;
  readonly #failures = new Map<string, number[]>();

  /**
   * Creates a guard.
   *
   * @param options The limit and its window.
   */
  constructor(options: LoginGuardOptions) {
    this.#options = options;
  }

  /**
   * Records a failed login.
   *
   * @param ip The client's address.
   */
  recordFailure(ip: string): void {
    const now = Date.now();
    if (this.#failures.size >= SWEEP_AT) this.#sweep(now);
    const times = this.#recent(ip, now);
    times.push(now);
    this.#failures.set(ip, times);
  }

  /**
   * Whether an address has used up its failed logins.
   *
   * @param ip The client's address.
   * @returns `true` when it must be refused.
   */
  blocked(ip: string): boolean {
    return this.#recent(ip, Date.now()).length >= this.#options.maxFailures;
  }

  #recent(ip: string, now: number): number[] {
    const since = now - this.#options.window;
    const times = (this.#failures.get(ip) ?? []).filter((t) => t > since);
    if (times.length === 0) this.#failures.delete(ip);
    else this.#failures.set(ip, times);
    return times;
  }

  #sweep(now: number): void {
    for (const ip of [...this.#failures.keys()]) this.#recent(ip, now);
  }
}
