/**
 * Data-channel negotiation on the client side: passive mode (EPSV, then PASV when the server
 * refuses EPSV with a 5xx) and active mode (EPRT or PORT on a listener bound to the control
 * connection's local address). A PASV reply naming a host other than the control peer is not
 * followed unless allowed (FTP bounce protection), and an active-mode connection from any host
 * but the control peer is refused. Under `PROT P` the client runs the TLS client handshake on
 * every data connection, in both modes, once the server has accepted the transfer command.
 *
 * @module
 */

import { ReplyError, TimeoutError } from "../errors.ts";
import {
  formatEprtArgument,
  formatPortArgument,
  parseEpsvReply,
  parsePasvReply,
} from "../protocol/address.ts";
import type { Reply } from "../protocol/reply.ts";
import type { Conn, Listener, Network } from "../socket.ts";
import { abortError } from "../stream/abort.ts";
import type { ControlChannel } from "./control_channel.ts";

/** A passive-mode command. */
export type PassiveCommand = "EPSV" | "PASV";
/** An active-mode command. */
export type ActiveCommand = "EPRT" | "PORT";

/** How the client opens data connections (read on every transfer, so changes apply at once). */
export interface DataConnectionSettings {
  /** `"passive"` (the client connects) or `"active"` (the server connects). */
  mode: "passive" | "active";
  /** Passive commands in the order to try. */
  passiveCommands: readonly PassiveCommand[];
  /** Active commands in the order to try (PORT is skipped on IPv6). */
  activeCommands: readonly ActiveCommand[];
  /** Follow a PASV reply that names another host than the control peer. */
  allowForeignPassiveHost: boolean;
  /** Longest wait for the data connection in milliseconds. */
  dataConnectTimeout: number;
}

/** Secures data connections (the client's FTPS state). */
export interface DataProtector {
  /** Whether data connections opened now must run TLS (`PROT P` is in force). */
  readonly protectsData: boolean;
  /**
   * Runs the TLS client handshake on a data connection.
   *
   * @param conn The plain data connection; consumed.
   * @param control The control connection, whose TLS session the handshake resumes.
   * @param timeoutMs Longest wait.
   * @param signal Cancels the handshake.
   * @returns The secured connection.
   */
  secureData(conn: Conn, control: Conn, timeoutMs: number, signal?: AbortSignal): Promise<Conn>;
}

/** A data connection being set up: connected already (passive) or awaiting the server (active). */
export interface DataLink {
  /**
   * Returns the connection, waiting for the server's connection in active mode, and secured
   * by TLS under `PROT P` (call it after the server accepted the transfer command: servers
   * start their side of the handshake then).
   *
   * @param signal Stops waiting.
   */
  connection(signal?: AbortSignal): Promise<Conn>;
  /** Closes the connection or the listener. */
  close(): void;
}

/** Opens data connections for one control connection, remembering which commands work. */
export class DataConnector {
  readonly #control: ControlChannel;
  readonly #network: Network;
  readonly #settings: DataConnectionSettings;
  readonly #protector: DataProtector | undefined;
  readonly #refused = new Set<string>();

  /**
   * Creates the connector.
   *
   * @param control The control channel.
   * @param network Opens connections and listeners.
   * @param settings Mode and command order (a live object: changes apply to later transfers).
   * @param protector Secures data connections under `PROT P` (FTPS clients only).
   */
  constructor(
    control: ControlChannel,
    network: Network,
    settings: DataConnectionSettings,
    protector?: DataProtector,
  ) {
    this.#control = control;
    this.#network = network;
    this.#settings = settings;
    this.#protector = protector;
  }

  /**
   * Negotiates a data connection with the server.
   *
   * @param signal Cancels the negotiation.
   * @returns The link; send the transfer command, then call `connection()`.
   */
  async open(signal?: AbortSignal): Promise<DataLink> {
    const link = this.#settings.mode === "active"
      ? await this.#active(signal)
      : await this.#passive(signal);
    return this.#protector?.protectsData ? this.#secured(link, this.#protector) : link;
  }

  #secured(link: DataLink, protector: DataProtector): DataLink {
    let secured: Conn | undefined;
    let closed = false;
    return {
      connection: async (signal) => {
        const plain = await link.connection(signal);
        const control = this.#control.conn;
        const conn = await protector.secureData(
          plain,
          control,
          this.#settings.dataConnectTimeout,
          signal,
        );
        if (closed) conn.close();
        else secured = conn;
        return conn;
      },
      close: () => {
        closed = true;
        link.close();
        secured?.close();
      },
    };
  }

  async #passive(signal?: AbortSignal): Promise<DataLink> {
    const peer = this.#control.conn.remoteAddr.hostname;
    const commands = this.#usable(this.#settings.passiveCommands);
    let port = 0;
    let hostname = peer;
    for (let i = 0; i < commands.length; i++) {
      const verb = commands[i];
      const reply = await this.#control.exchange(verb, undefined, signal);
      if (verb === "EPSV" && reply.code === 229) {
        port = parseEpsvReply(lastLine(reply));
        break;
      }
      if (verb === "PASV" && reply.code === 227) {
        const address = parsePasv(reply);
        port = address.port;
        hostname = this.#passiveHost(address.hostname, peer);
        break;
      }
      if (reply.code >= 500 && i < commands.length - 1) {
        this.#refused.add(verb);
        continue;
      }
      throw new ReplyError([verb === "EPSV" ? "229" : "227"], reply);
    }
    const conn = await connectWithin(
      this.#network,
      hostname,
      port,
      this.#settings.dataConnectTimeout,
      signal,
    );
    return { connection: () => Promise.resolve(conn), close: () => conn.close() };
  }

  #passiveHost(advertised: string, peer: string): string {
    if (advertised === "0.0.0.0" || advertised === peer) return peer;
    return this.#settings.allowForeignPassiveHost ? advertised : peer;
  }

  async #active(signal?: AbortSignal): Promise<DataLink> {
    const local = this.#control.conn.localAddr;
    const peer = this.#control.conn.remoteAddr.hostname;
    const listener = await this.#network.listen({ hostname: local.hostname, port: 0 });
    try {
      const commands = this.#usable(this.#settings.activeCommands).filter((verb) =>
        verb === "EPRT" || local.family === "IPv4"
      );
      if (commands.length === 0) throw new TypeError("No active-mode command for an IPv6 address");
      for (let i = 0; i < commands.length; i++) {
        const verb = commands[i];
        const argument = verb === "EPRT"
          ? formatEprtArgument(local.hostname, listener.addr.port)
          : formatPortArgument(local.hostname, listener.addr.port);
        const reply = await this.#control.exchange(`${verb} ${argument}`, undefined, signal);
        if (reply.code >= 200 && reply.code < 300) break;
        if (reply.code >= 500 && i < commands.length - 1) {
          this.#refused.add(verb);
          continue;
        }
        throw new ReplyError(["200"], reply);
      }
    } catch (error) {
      await listener.close();
      throw error;
    }
    const timeout = this.#settings.dataConnectTimeout;
    return {
      connection: (waitSignal) => acceptFrom(listener, peer, timeout, waitSignal),
      close: () => void listener.close().catch(() => {}),
    };
  }

  #usable<T extends string>(commands: readonly T[]): T[] {
    const upper = commands.map((c) => c.toUpperCase() as T);
    const left = upper.filter((c) => !this.#refused.has(c));
    return left.length > 0 ? left : upper;
  }
}

/**
 * Connects with a time limit, closing a connection that arrives after the caller gave up.
 *
 * @param network The adapter.
 * @param hostname Host to connect to.
 * @param port Port to connect to.
 * @param timeoutMs Time limit in milliseconds.
 * @param signal Cancels the attempt.
 * @returns The connection.
 * @throws {TimeoutError} When the limit passes first.
 */
export async function connectWithin(
  network: Network,
  hostname: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Conn> {
  signal?.throwIfAborted();
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const attempt = network.connect({ hostname, port, signal: controller.signal });
  const stopped = new Promise<never>((_, reject) => {
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), {
      once: true,
    });
  });
  stopped.catch(() => {});
  try {
    return await Promise.race([attempt, stopped]);
  } catch (error) {
    attempt.then((conn) => conn.close(), () => {});
    if (timedOut) {
      throw new TimeoutError(`Cannot connect to ${hostname} port ${port} within ${timeoutMs} ms`, {
        cause: error,
      });
    }
    if (signal?.aborted) throw abortError(signal.reason);
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

async function acceptFrom(
  listener: Listener,
  peer: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Conn> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void listener.close().catch(() => {});
  }, timeoutMs);
  const onAbort = () => void listener.close().catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (true) {
      const conn = await listener.accept();
      // Only the server we talk to may deliver the data (no third-party injection).
      if (conn.remoteAddr.hostname === peer) return conn;
      conn.close();
    }
  } catch (error) {
    if (timedOut) {
      throw new TimeoutError(`Server did not open the data connection within ${timeoutMs} ms`, {
        cause: error,
      });
    }
    if (signal?.aborted) throw abortError(signal.reason);
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    await listener.close().catch(() => {});
  }
}

function lastLine(reply: Reply): string {
  return reply.lines[reply.lines.length - 1];
}

function parsePasv(reply: Reply): { hostname: string; port: number } {
  try {
    return parsePasvReply(lastLine(reply));
  } catch (error) {
    if (reply.lines.length === 1) throw error;
    return parsePasvReply(reply.lines.join(" "));
  }
}
