/**
 * The ports passive data listeners may use, and how many listeners one client address may hold.
 * Each bind starts at a random port of the range (so that the next port cannot be predicted)
 * and goes straight to binding, moving on when that port is taken (no probe-then-bind race).
 *
 * @module
 */

import { FtpError } from "../errors.ts";
import type { Listener } from "../socket.ts";
import { addressKey } from "./address_key.ts";

/**
 * No port of the passive range could be bound.
 *
 * @example A range of one port, taken
 * ```ts
 * import { NoFreePortError, PassivePortPool } from "./passive_port_pool.ts";
 * import { nodeNetwork } from "../../adapters/node.ts";
 * import assert from "node:assert/strict";
 *
 * const taken = await nodeNetwork.listen({ hostname: "127.0.0.1", port: 0 });
 * const pool = new PassivePortPool([taken.addr.port]);
 * const listen = (port: number) => nodeNetwork.listen({ hostname: "127.0.0.1", port });
 * await assert.rejects(pool.bind(listen, "192.0.2.1"), NoFreePortError);
 * await taken.close();
 * ```
 */
export class NoFreePortError extends FtpError {
  /** Creates the error. */
  constructor(message = "No free port in the passive range", options?: ErrorOptions) {
    super(message, options);
    this.name = "NoFreePortError";
  }
}

/**
 * A client address already holds as many passive listeners as it may.
 *
 * @example
 * ```ts
 * import { PassiveListenerLimitError, PassivePortPool } from "./passive_port_pool.ts";
 * import { nodeNetwork } from "../../adapters/node.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new PassivePortPool(undefined, { maxPerIp: 1 });
 * const listen = (port: number) => nodeNetwork.listen({ hostname: "127.0.0.1", port });
 * const first = await pool.bind(listen, "192.0.2.1");
 * await assert.rejects(pool.bind(listen, "192.0.2.1"), PassiveListenerLimitError);
 * await first.release();
 * ```
 */
export class PassiveListenerLimitError extends FtpError {
  /**
   * Creates the error.
   *
   * @param limit The limit per address.
   */
  constructor(readonly limit: number) {
    super(`Too many passive listeners for one address (at most ${limit})`);
    this.name = "PassiveListenerLimitError";
  }
}

/**
 * A bound passive listener and the function that gives its port back.
 *
 * @example
 * ```ts
 * import { PassivePortPool, type PooledListener } from "./passive_port_pool.ts";
 * import { nodeNetwork } from "../../adapters/node.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new PassivePortPool(); // any free port
 * const listen = (port: number) => nodeNetwork.listen({ hostname: "127.0.0.1", port });
 * const pooled: PooledListener = await pool.bind(listen, "192.0.2.1");
 * assert.notEqual(pooled.listener.addr.port, 0);
 * await pooled.release(); // the listener is closed, and 192.0.2.1 may bind one more
 * ```
 */
export interface PooledListener {
  /** The listener. */
  listener: Listener;
  /** Closes the listener and returns its port to the pool. Idempotent. */
  release(): Promise<void>;
  /**
   * Marks the listener as kept unused (a session holds it for its next transfer): a bind that
   * finds no free port, or its client's address at the limit, then takes it back by calling
   * `reclaim` (which must release it) instead of failing. `undefined` unmarks it.
   */
  setIdle(reclaim: (() => Promise<void>) | undefined): void;
}

/** Options of {@linkcode PassivePortPool}. */
export interface PassivePortPoolOptions {
  /**
   * Most passive listeners one client address (IPv4, or IPv6 /64) may hold at once (default 32,
   * but at most half of a port range, and at least 1).
   */
  maxPerIp?: number;
}

/** Listeners one address may hold when the range does not make it less. */
const DEFAULT_MAX_PER_IP = 32;

/**
 * Hands out passive ports from a range, and counts the listeners of each client address.
 * Without a range every listener binds port 0 (any free port). A port another process holds is
 * skipped.
 *
 * @example
 * ```ts
 * import { PassivePortPool } from "./passive_port_pool.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new PassivePortPool({ min: 50000, max: 50009 });
 * assert.equal(pool.maxPerIp, 5); // half of the range
 * ```
 */
export class PassivePortPool {
  /** Most listeners one client address may hold at once. */
  readonly maxPerIp: number;
  readonly #ports: readonly number[] | undefined;
  readonly #inUse = new Set<number>();
  readonly #perAddress = new Map<string, number>();
  /** Listeners kept unused, which a bind may take back: their client's key and how. */
  readonly #idle = new Map<PooledListener, { key: string; reclaim(): Promise<void> }>();

  /**
   * Creates a pool.
   *
   * @param ports The allowed ports, a `{min, max}` range, or `undefined` for any free port.
   * @param options The limit per client address.
   * @throws {RangeError} When a port is not an integer in 1–65535, the list is empty, or
   * `maxPerIp` is not a positive integer (or `Infinity`).
   */
  constructor(
    ports?: Iterable<number> | { min: number; max: number },
    options: PassivePortPoolOptions = {},
  ) {
    if (ports !== undefined) {
      const list: number[] = [];
      if (Symbol.iterator in ports) {
        for (const port of ports) list.push(port);
      } else {
        for (let port = ports.min; port <= ports.max; port++) list.push(port);
      }
      for (const port of list) {
        if (!Number.isInteger(port) || port < 1 || port > 65535) {
          throw new RangeError(`Passive port ${JSON.stringify(port)} is not in 1-65535`);
        }
      }
      if (list.length === 0) throw new RangeError("Passive port range is empty");
      this.#ports = [...new Set(list)];
    }
    const maxPerIp = options.maxPerIp ??
      Math.max(1, Math.min(DEFAULT_MAX_PER_IP, Math.floor((this.#ports?.length ?? Infinity) / 2)));
    if (!(maxPerIp === Infinity || (Number.isInteger(maxPerIp) && maxPerIp > 0))) {
      throw new RangeError(`maxPerIp ${JSON.stringify(maxPerIp)} is not a positive integer`);
    }
    this.maxPerIp = maxPerIp;
  }

  /** How many ports of the range are handed out now (0 without a range). */
  get used(): number {
    return this.#inUse.size;
  }

  /**
   * Binds a listener on a free port of the pool for a client.
   *
   * @param listen Binds one port (the caller's network and host).
   * @param client The client's IP address (its listeners are counted).
   * @returns The listener and its release function.
   * @throws {PassiveListenerLimitError} When the client holds {@linkcode PassivePortPool.maxPerIp}
   * listeners already.
   * @throws {NoFreePortError} When every port is in use.
   */
  async bind(
    listen: (port: number) => Promise<Listener>,
    client: string,
  ): Promise<PooledListener> {
    const key = addressKey(client);
    if ((this.#perAddress.get(key) ?? 0) >= this.maxPerIp) {
      await this.#reclaim((idle) => idle.key === key);
    }
    const held = this.#perAddress.get(key) ?? 0;
    if (held >= this.maxPerIp) throw new PassiveListenerLimitError(this.maxPerIp);
    // Counted before the first await, so that parallel binds cannot pass the limit together.
    this.#perAddress.set(key, held + 1);
    const forget = () => {
      const left = (this.#perAddress.get(key) ?? 1) - 1;
      if (left <= 0) this.#perAddress.delete(key);
      else this.#perAddress.set(key, left);
    };
    try {
      const { listener, port } = await this.#bindPort(listen);
      const pooled: PooledListener = {
        listener,
        release: once(async () => {
          this.#idle.delete(pooled);
          try {
            await listener.close();
          } finally {
            if (port !== undefined) this.#inUse.delete(port);
            forget();
          }
        }),
        setIdle: (reclaim) => {
          if (reclaim) this.#idle.set(pooled, { key, reclaim });
          else this.#idle.delete(pooled);
        },
      };
      return pooled;
    } catch (error) {
      forget();
      throw error;
    }
  }

  async #bindPort(
    listen: (port: number) => Promise<Listener>,
  ): Promise<{ listener: Listener; port?: number }> {
    const ports = this.#ports;
    if (!ports) return { listener: await listen(0) };
    // Every port busy: a listener kept unused gives its port up, once.
    for (let attempt = 0; attempt < 2; attempt++) {
      const first = Math.floor(Math.random() * ports.length);
      for (let i = 0; i < ports.length; i++) {
        const port = ports[(first + i) % ports.length];
        if (this.#inUse.has(port)) continue;
        this.#inUse.add(port);
        try {
          return { listener: await listen(port), port };
        } catch (error) {
          this.#inUse.delete(port);
          if (isAddressInUse(error)) continue;
          throw error;
        }
      }
      if (!await this.#reclaim(() => true)) break;
    }
    throw new NoFreePortError();
  }

  /** Takes back one listener kept unused that `matches`; whether there was one. */
  async #reclaim(matches: (idle: { key: string }) => boolean): Promise<boolean> {
    for (const [pooled, idle] of this.#idle) {
      if (!matches(idle)) continue;
      this.#idle.delete(pooled);
      await idle.reclaim();
      return true;
    }
    return false;
  }
}

function once(action: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= action());
}

/**
 * Tells whether a bind failed because the port is taken. Runtimes report it differently: Node
 * and Bun set `code: "EADDRINUSE"`, Deno throws `Deno.errors.AddrInUse`.
 */
function isAddressInUse(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 4; depth++) {
    if (typeof e !== "object") break;
    const { code, name, message, cause } = e as {
      code?: unknown;
      name?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    if (code === "EADDRINUSE" || name === "AddrInUse") return true;
    if (typeof message === "string" && /EADDRINUSE|address already in use/i.test(message)) {
      return true;
    }
    e = cause;
  }
  return false;
}
