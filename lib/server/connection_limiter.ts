/**
 * Counts control connections against the server's limits: all of them, and apart those that
 * have not logged in yet (which anyone can open), each in total and per client address. An
 * address is its {@linkcode addressKey}: an IPv4 address, or the /64 network of an IPv6 one
 * (one host usually holds a whole /64).
 *
 * @module
 */

import { addressKey } from "./address_key.ts";

/** Limits of {@linkcode ConnectionLimiter}; `undefined` or `Infinity` means unlimited. */
export interface ConnectionLimits {
  /** Most control connections at once. */
  maxConnections?: number;
  /** Most control connections at once from one address. */
  maxConnectionsPerIp?: number;
  /** Most control connections at once that have not logged in yet. */
  maxPreLoginConnections?: number;
  /** Most control connections at once from one address that have not logged in yet. */
  maxPreLoginConnectionsPerIp?: number;
}

/**
 * Which limit refused a connection: `"server"` and `"ip"` count every connection,
 * `"pre-login"` and `"pre-login-ip"` those not logged in yet.
 */
export type ConnectionRefusal = "server" | "ip" | "pre-login" | "pre-login-ip";

/** A connection's place in the counts, from {@linkcode ConnectionLimiter.acquire}. */
export interface ConnectionSlot {
  /** The session logged in: it stops counting as not logged in, for good. Idempotent. */
  loggedIn(): void;
  /** Gives the slot back (the session ended). Idempotent. */
  release(): void;
}

/** Connections in total and per address. */
class Tally {
  readonly #perKey = new Map<string, number>();
  total = 0;

  full(key: string, maxTotal = Infinity, maxPerKey = Infinity): "total" | "key" | undefined {
    if (this.total >= maxTotal) return "total";
    if ((this.#perKey.get(key) ?? 0) >= maxPerKey) return "key";
    return undefined;
  }

  add(key: string): void {
    this.total++;
    this.#perKey.set(key, (this.#perKey.get(key) ?? 0) + 1);
  }

  remove(key: string): void {
    this.total--;
    const left = (this.#perKey.get(key) ?? 1) - 1;
    if (left <= 0) this.#perKey.delete(key);
    else this.#perKey.set(key, left);
  }
}

/**
 * Hands out connection slots. A new connection needs room among all connections and among
 * those not logged in; logging in moves it out of the second count.
 *
 * @example
 * ```ts
 * import { ConnectionLimiter } from "./connection_limiter.ts";
 * import assert from "node:assert/strict";
 *
 * const limiter = new ConnectionLimiter({ maxPreLoginConnectionsPerIp: 1 });
 * const slot = limiter.acquire("192.0.2.1");
 * assert.equal(limiter.acquire("192.0.2.1"), "pre-login-ip");
 * if (typeof slot !== "string") slot.loggedIn();
 * assert.equal(typeof limiter.acquire("192.0.2.1"), "object"); // a slot: the first logged in
 * ```
 */
export class ConnectionLimiter {
  readonly #limits: ConnectionLimits;
  readonly #all = new Tally();
  readonly #preLogin = new Tally();

  /**
   * Creates a limiter.
   *
   * @param limits The limits.
   */
  constructor(limits: ConnectionLimits) {
    this.#limits = limits;
  }

  /** Connections holding a slot now. */
  get total(): number {
    return this.#all.total;
  }

  /** Connections holding a slot now that have not logged in. */
  get preLogin(): number {
    return this.#preLogin.total;
  }

  /**
   * Takes a slot for a new connection from `ip`.
   *
   * @param ip The client's address.
   * @returns The slot, or the limit that refused it.
   */
  acquire(ip: string): ConnectionSlot | ConnectionRefusal {
    const limits = this.#limits;
    const key = addressKey(ip);
    const all = this.#all.full(key, limits.maxConnections, limits.maxConnectionsPerIp);
    if (all) return all === "total" ? "server" : "ip";
    const preLogin = this.#preLogin.full(
      key,
      limits.maxPreLoginConnections,
      limits.maxPreLoginConnectionsPerIp,
    );
    if (preLogin) return preLogin === "total" ? "pre-login" : "pre-login-ip";
    this.#all.add(key);
    this.#preLogin.add(key);
    let waitingForLogin = true;
    let held = true;
    const leavePreLogin = () => {
      if (!waitingForLogin) return;
      waitingForLogin = false;
      this.#preLogin.remove(key);
    };
    return {
      loggedIn: () => {
        if (held) leavePreLogin();
      },
      release: () => {
        if (!held) return;
        held = false;
        leavePreLogin();
        this.#all.remove(key);
      },
    };
  }
}
