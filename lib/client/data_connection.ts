/**
 * The client's data connector: negotiates a data connection for a transfer command and returns
 * the transfer as a {@linkcode DataStream}. Passive mode tries EPSV, then PASV when the server
 * refuses EPSV with a 5xx; active mode sends EPRT or PORT for a listener bound to the control
 * connection's local address. A PASV reply naming a host other than the control peer is not
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
import { type ExpectedCodes, matchesCode, type Reply, toPatterns } from "../protocol/reply.ts";
import type { Conn, Listener, Network } from "../socket.ts";
import { abortError } from "../stream/abort.ts";
import type { Throttle } from "../stream/throttle.ts";
import type { ControlChannel } from "./control_channel.ts";
import { watchDeadline } from "./deadline.ts";
import { DataStream } from "./data_stream.ts";
import type { Release } from "./operation_queue.ts";
import type { TransferExplainer } from "./secure.ts";

/**
 * A passive-mode command.
 *
 * @example PASV only, for an old server
 * ```ts
 * import { Client, type PassiveCommand } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * const passiveCommands: PassiveCommand[] = ["PASV"]; // IPv4 only; no EPSV first
 * const commands: string[] = [];
 * await using client = await Client.connect("127.0.0.1", server.address.port, {
 *   passiveCommands,
 *   onCommand: (line) => commands.push(line),
 * });
 * await client.login();
 * await client.listAll();
 * assert.ok(commands.includes("PASV") && !commands.includes("EPSV"));
 * ```
 */
export type PassiveCommand = "EPSV" | "PASV";
/**
 * An active-mode command.
 *
 * @example Active mode with PORT
 * ```ts
 * import { type ActiveCommand, Client } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * const activeCommands: ActiveCommand[] = ["PORT"];
 * const commands: string[] = [];
 * await using client = await Client.connect("127.0.0.1", server.address.port, {
 *   mode: "active", // the server connects to the client
 *   activeCommands,
 *   onCommand: (line) => commands.push(line.split(" ")[0]),
 * });
 * await client.login();
 * await client.listAll();
 * assert.ok(commands.includes("PORT") && !commands.includes("EPRT"));
 * ```
 */
export type ActiveCommand = "EPRT" | "PORT";

/**
 * How the client opens data connections (read on every transfer, so changes apply at once).
 *
 * @example
 * ```ts
 * import type { DataConnectionSettings } from "./data_connection.ts";
 *
 * // The client's defaults.
 * const settings: DataConnectionSettings = {
 *   mode: "passive",
 *   passiveCommands: ["EPSV", "PASV"],
 *   activeCommands: ["EPRT", "PORT"],
 *   allowForeignPassiveHost: false,
 *   dataConnectTimeout: 30_000,
 * };
 * settings.mode = "active"; // the next transfer connects the other way
 * ```
 */
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

/**
 * Secures data connections (the client's FTPS state).
 *
 * @example Its shape
 * ```ts
 * import type { DataProtector } from "./data_connection.ts";
 *
 * // A protector for a session whose data goes in clear (what a plain client does without one).
 * const clear: DataProtector = {
 *   protectsData: false,
 *   secureData: (conn) => Promise.resolve(conn),
 *   explainRefusal: (error) => error,
 *   explainerFor: () => undefined,
 * };
 * console.assert(!clear.protectsData);
 * ```
 */
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
  /**
   * Explains a transfer command that failed once the data connection was being set up (a
   * refusal for lack of TLS session reuse); other failures are returned as they are.
   *
   * @param error The failure.
   * @param replies The server's replies read while getting back in step.
   */
  explainRefusal(error: unknown, replies: readonly Reply[]): unknown;
  /**
   * Returns how a transfer on `conn` explains its failures (`undefined` for a plain one).
   *
   * @param conn The data connection.
   */
  explainerFor(conn: Conn): TransferExplainer | undefined;
}

/**
 * A data connection being set up: connected already (passive) or awaiting the server (active).
 *
 * @example Its shape
 * ```ts
 * import type { Conn } from "../socket.ts";
 * import type { DataLink } from "./data_connection.ts";
 *
 * // A passive link: the connection exists before the command is sent.
 * function passiveLink(conn: Conn): DataLink {
 *   return { connection: () => Promise.resolve(conn), close: () => conn.close() };
 * }
 * console.assert(typeof passiveLink === "function");
 * ```
 */
export interface DataLink {
  /**
   * Returns the connection, waiting for the server's connection in active mode, and secured
   * by TLS under `PROT P` (call it after the server accepted the transfer command: servers
   * start their side of the handshake then).
   *
   * @param signal Stops waiting.
   */
  connection(signal?: AbortSignal): Promise<Conn>;
  /**
   * For a passive connection still being made when the command goes out: aborts, with the
   * connect's error as its reason, when the connection cannot be made.
   */
  readonly failed?: AbortSignal;
  /** Closes the connection or the listener (a connection still being made, once it is). */
  close(): void;
}

/**
 * What every transfer of one client shares.
 *
 * @example
 * ```ts
 * import { Throttle } from "../stream/throttle.ts";
 * import type { DataConnectorOptions } from "./data_connection.ts";
 *
 * const options: DataConnectorOptions = {
 *   settings: {
 *     mode: "passive",
 *     passiveCommands: ["EPSV", "PASV"],
 *     activeCommands: ["EPRT", "PORT"],
 *     allowForeignPassiveHost: false,
 *     dataConnectTimeout: 30_000,
 *   },
 *   socketTimeout: 60_000,
 *   readThrottle: new Throttle(1 << 20), // downloads at 1 MiB/s
 * };
 * console.assert(options.protector === undefined); // plain FTP
 * ```
 */
export interface DataConnectorOptions {
  /** Mode and command order (a live object: changes apply to later transfers). */
  settings: DataConnectionSettings;
  /** Secures data connections under `PROT P` (FTPS clients only). */
  protector?: DataProtector;
  /** Idle timeout for data reads and writes in milliseconds. */
  socketTimeout?: number;
  /** Limits the download rate when its limit is set. */
  readThrottle?: Throttle;
  /** Limits the upload rate when its limit is set. */
  writeThrottle?: Throttle;
}

/**
 * Options of {@linkcode DataConnector.open}.
 *
 * @example
 * ```ts
 * import type { TransferCommandOptions } from "./data_connection.ts";
 *
 * const options: TransferCommandOptions = {
 *   expected: "1xx",
 *   offset: 1024, // REST 1024 first
 *   autoFinish: "2xx", // the readable's end checks the 226
 *   release: () => {}, // ends the caller's turn on the control channel
 * };
 * console.assert(options.offset === 1024);
 * ```
 */
export interface TransferCommandOptions {
  /** Codes that mean "transfer starting" (a `2xx` also starts a stream, finished already). */
  expected: ExpectedCodes;
  /** Sends `REST offset` before the command. */
  offset?: number;
  /**
   * Finish the stream by itself, expecting these codes, when its readable ends or writable
   * closes.
   */
  autoFinish?: ExpectedCodes;
  /** Cancels the set-up and, later, aborts the transfer. */
  signal?: AbortSignal;
  /** Ends the caller's turn on the control channel once the transfer has ended. */
  release: Release;
  /** Called once when the transfer has ended. */
  onSettled?: () => void;
}

/**
 * Opens data connections for one control connection, remembering which commands work, and
 * starts transfers over them.
 *
 * @example What `Client.getStream` does once it has the turn
 * ```ts
 * import { Server, User } from "../../server.ts";
 * import { openControl } from "./connect.ts";
 * import { DataConnector } from "./data_connection.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * const endpoint = { hostname: "127.0.0.1", port: server.address.port, secure: undefined };
 * const { control, network } = await openControl(endpoint, {});
 * await control.exchange("USER anonymous", "2xx");
 * const connector = new DataConnector(control, network, {
 *   settings: {
 *     mode: "passive",
 *     passiveCommands: ["EPSV", "PASV"],
 *     activeCommands: ["EPRT", "PORT"],
 *     allowForeignPassiveHost: false,
 *     dataConnectTimeout: 5_000,
 *   },
 * });
 * try {
 *   let released = false;
 *   const release = () => void (released = true);
 *   const stream = await connector.open("LIST", { expected: "1xx", release });
 *   assert.equal(await new Response(stream.readable).text(), ""); // an empty directory
 *   assert.equal((await stream.finish()).code, 226);
 *   assert.ok(released);
 * } finally {
 *   control.close();
 * }
 * ```
 */
export class DataConnector {
  readonly #control: ControlChannel;
  readonly #network: Network;
  readonly #settings: DataConnectionSettings;
  readonly #protector: DataProtector | undefined;
  readonly #options: DataConnectorOptions;
  readonly #refused = new Set<string>();
  /**
   * Whether the command of a passive transfer is sent while its connection is being made:
   * once a passive connection of this session has been made before its command, until one
   * fails. (When a connect fails after the command went out, the server's reply to it, an
   * error, has to be waited for; the session's first transfer, and the one after a failure,
   * fail at the connect as before.)
   */
  #connectsAhead = false;

  /**
   * Creates the connector.
   *
   * @param control The control channel.
   * @param network Opens connections and listeners.
   * @param options Settings, FTPS, idle timeout and throttles shared by every transfer.
   */
  constructor(control: ControlChannel, network: Network, options: DataConnectorOptions) {
    this.#control = control;
    this.#network = network;
    this.#settings = options.settings;
    this.#protector = options.protector;
    this.#options = options;
  }

  /**
   * Starts a transfer: negotiates the data connection, sends `REST` when an offset is given,
   * sends the command and waits for its preliminary reply, then connects (or accepts) and,
   * under `PROT P`, secures the data connection. The caller holds the turn on the control
   * channel, and the stream releases it when the transfer ends.
   *
   * @param command The transfer command line.
   * @param options Expected codes, offset, finishing, signal and the turn's release.
   * @returns The transfer.
   * @throws {ReplyError} When the server refuses the negotiation, `REST` or the command.
   */
  async open(command: string, options: TransferCommandOptions): Promise<DataStream> {
    const { signal, expected } = options;
    const link = await this.#link(signal);
    // A passive connect still under way that fails stops the wait for the server's reply (a
    // server waits for the connection before it answers).
    const replySignal = link.failed && signal
      ? AbortSignal.any([signal, link.failed])
      : link.failed ?? signal;
    let finalOwed = false;
    let reply: Reply;
    let finalReply: Reply | undefined;
    let conn: Conn;
    try {
      if (options.offset) await this.#control.exchange(`REST ${options.offset}`, "350", signal);
      await this.#control.send(command);
      finalOwed = true;
      while (true) {
        reply = await this.#control.read(replySignal);
        if (reply.code >= 200) finalOwed = false;
        if (matchesCode(reply.code, expected)) break;
        if (reply.code < 200) continue;
        // A server may skip the preliminary reply and report success at once (an empty
        // listing, say); the stream then starts finished.
        if (reply.code < 300) break;
        throw new ReplyError(toPatterns(expected), reply);
      }
      if (reply.code >= 200) finalReply = reply;
      conn = await link.connection(signal);
    } catch (error) {
      link.close();
      // The sent command's final reply is still to come: get back in step.
      if (!finalOwed || this.#control.closed) throw error;
      const replies = await this.#control.resync().catch(() => []);
      throw this.#protector ? this.#protector.explainRefusal(error, replies) : error;
    }
    return new DataStream({
      control: this.#control,
      conn,
      reply,
      finalReply,
      release: options.release,
      socketTimeout: this.#options.socketTimeout,
      readThrottle: this.#options.readThrottle,
      writeThrottle: this.#options.writeThrottle,
      autoFinish: options.autoFinish,
      signal,
      onSettled: options.onSettled,
      explainer: this.#protector?.explainerFor(conn),
    });
  }

  /** Negotiates a data connection with the server; send the command, then `connection()`. */
  async #link(signal?: AbortSignal): Promise<DataLink> {
    const link = this.#settings.mode === "active"
      ? await this.#active(signal)
      : await this.#passive(signal);
    return this.#protector?.protectsData ? this.#secured(link, this.#protector) : link;
  }

  #secured(link: DataLink, protector: DataProtector): DataLink {
    let secured: Conn | undefined;
    let closed = false;
    return {
      failed: link.failed,
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
    const connecting = connectWithin(
      this.#network,
      hostname,
      port,
      this.#settings.dataConnectTimeout,
      signal,
    );
    if (this.#connectsAhead) return this.#connectingLink(connecting);
    const conn = await connecting;
    this.#connectsAhead = true;
    return { connection: () => Promise.resolve(conn), close: () => conn.close() };
  }

  /**
   * A passive link whose connection is still being made: the command goes out meanwhile (one
   * wait for the connect less per transfer: 4 KiB files from vsftpd, a raw Deno loop, 0.93 ->
   * 0.66-0.80 ms per file). A failed connect aborts `failed`, and the next transfers of the
   * session connect before their command again.
   */
  #connectingLink(connecting: Promise<Conn>): DataLink {
    const failure = new AbortController();
    connecting.catch((error) => {
      this.#connectsAhead = false;
      failure.abort(error);
    });
    return {
      connection: () => connecting,
      failed: failure.signal,
      close: () => void connecting.then((conn) => conn.close(), () => {}),
    };
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
 * @example
 * ```ts
 * import { Server } from "../../server.ts";
 * import { defaultNetwork } from "../network_registry.ts";
 * import { connectWithin } from "./data_connection.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * const conn = await connectWithin(defaultNetwork(), "127.0.0.1", server.address.port, 5_000);
 * assert.equal(conn.remoteAddr.port, server.address.port);
 * conn.close();
 * ```
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
  let stop!: (reason: unknown) => void;
  // Also for an adapter that would not give up on its signal.
  const stopped = new Promise<never>((_, reject) => stop = reject);
  stopped.catch(() => {});
  const cancel = (reason?: unknown) => {
    controller.abort(reason);
    stop(controller.signal.reason);
  };
  const unwatch = watchDeadline(timeoutMs, () => {
    timedOut = true;
    cancel();
  });
  const onAbort = () => cancel(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const attempt = network.connect({ hostname, port, signal: controller.signal });
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
    unwatch();
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
  const unwatch = watchDeadline(timeoutMs, () => {
    timedOut = true;
    void listener.close().catch(() => {});
  });
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
    unwatch();
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
