/**
 * The ports passive data listeners may use. Binding goes straight to the next port of the
 * range and moves on when that port is taken (no probe-then-bind race).
 *
 * @module
 */

import { FtpError } from "../errors.ts";
import type { Listener } from "../socket.ts";

/** No port of the passive range could be bound. */
export class NoFreePortError extends FtpError {
  /** Creates the error. */
  constructor(message = "No free port in the passive range", options?: ErrorOptions) {
    super(message, options);
    this.name = "NoFreePortError";
  }
}

/** A bound passive listener and the function that gives its port back. */
export interface PooledListener {
  /** The listener. */
  listener: Listener;
  /** Closes the listener and returns its port to the pool. Idempotent. */
  release(): Promise<void>;
}

/**
 * Hands out passive ports from a range. Without a range every listener binds port 0 (any free
 * port). Ports are tried in turn, starting after the last one handed out, so that a port just
 * released rests a while; a port another process holds is skipped.
 */
export class PassivePortPool {
  readonly #ports: readonly number[] | undefined;
  readonly #inUse = new Set<number>();
  #cursor = 0;

  /**
   * Creates a pool.
   *
   * @param ports The allowed ports, a `{min, max}` range, or `undefined` for any free port.
   * @throws {RangeError} When a port is not an integer in 1–65535 or the list is empty.
   */
  constructor(ports?: Iterable<number> | { min: number; max: number }) {
    if (ports === undefined) return;
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

  /** How many ports of the range are handed out now (0 without a range). */
  get used(): number {
    return this.#inUse.size;
  }

  /**
   * Binds a listener on a free port of the pool.
   *
   * @param listen Binds one port (the caller's network and host).
   * @returns The listener and its release function.
   * @throws {NoFreePortError} When every port is in use.
   */
  async bind(listen: (port: number) => Promise<Listener>): Promise<PooledListener> {
    const ports = this.#ports;
    if (!ports) {
      const listener = await listen(0);
      return { listener, release: once(() => listener.close()) };
    }
    for (let i = 0; i < ports.length; i++) {
      const index = (this.#cursor + i) % ports.length;
      const port = ports[index];
      if (this.#inUse.has(port)) continue;
      this.#inUse.add(port);
      let listener: Listener;
      try {
        listener = await listen(port);
      } catch (error) {
        this.#inUse.delete(port);
        if (isAddressInUse(error)) continue;
        throw error;
      }
      this.#cursor = index + 1;
      return {
        listener,
        release: once(async () => {
          try {
            await listener.close();
          } finally {
            this.#inUse.delete(port);
          }
        }),
      };
    }
    throw new NoFreePortError();
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
