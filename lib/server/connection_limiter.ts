/**
 * Counts control connections, in total and per client address, against the server's limits.
 *
 * @module
 */

/** Limits of {@linkcode ConnectionLimiter}; `undefined` means unlimited. */
export interface ConnectionLimits {
  /** Most control connections at once. */
  maxConnections?: number;
  /** Most control connections at once from one IP address. */
  maxConnectionsPerIp?: number;
}

/** Which limit refused a connection. */
export type ConnectionRefusal = "server" | "ip";

/** Hands out connection slots; every successful `acquire` must be paired with a `release`. */
export class ConnectionLimiter {
  readonly #limits: ConnectionLimits;
  readonly #perIp = new Map<string, number>();
  #total = 0;

  /**
   * Creates a limiter.
   *
   * @param limits The limits.
   */
  constructor(limits: ConnectionLimits) {
    this.#limits = limits;
  }

  /** Control connections holding a slot now. */
  get total(): number {
    return this.#total;
  }

  /**
   * Takes a slot for a connection from `ip`.
   *
   * @param ip The client's address.
   * @returns `undefined` when a slot was taken, otherwise the limit that refused it.
   */
  acquire(ip: string): ConnectionRefusal | undefined {
    const { maxConnections, maxConnectionsPerIp } = this.#limits;
    if (maxConnections !== undefined && this.#total >= maxConnections) return "server";
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (maxConnectionsPerIp !== undefined && fromIp >= maxConnectionsPerIp) return "ip";
    this.#total++;
    this.#perIp.set(ip, fromIp + 1);
    return undefined;
  }

  /**
   * Gives back a slot taken for `ip`.
   *
   * @param ip The client's address.
   */
  release(ip: string): void {
    this.#total--;
    const fromIp = (this.#perIp.get(ip) ?? 1) - 1;
    if (fromIp <= 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, fromIp);
  }
}
