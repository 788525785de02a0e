/**
 * The transfer worker of a session: holds the data channel PASV/EPSV/PORT/EPRT prepared (and
 * closes a passive one nobody uses within the data-connect timeout), takes it for a transfer,
 * opens the data connection (with the TLS server handshake under PROT P), sends `150`, runs
 * the transfer in the background, ends a stalled one, and sends the final reply. One transfer
 * at a time; ABOR, QUIT and the end of the session abort it.
 *
 * @module
 */

import { PathError } from "../errors.ts";
import type { Conn, TlsServerOptions } from "../socket.ts";
import { abortable, type Deferred, deferred } from "../stream/abort.ts";
import type { Throttle } from "../stream/throttle.ts";
import { type DataChannel, PassiveDataChannel } from "./data_channel.ts";
import { DataConnection } from "./data_connection.ts";
import type { FileTransfer } from "./hooks.ts";
import { LazyDeadlines } from "./lazy_deadline.ts";
import type { PassiveListener } from "./passive_listener.ts";
import { type FinalReply, pathErrorReply } from "./path_error_reply.ts";

/**
 * What `CommandContext.startTransfer` runs: the transfer's replies and its `run`, which moves
 * the data in the background while the control connection stays responsive.
 *
 * @example An upload that is only counted
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server, type StartTransferOptions } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * server.commands.set("XCOUNT", {
 *   requires: ["login", "data-channel"],
 *   handler(ctx) {
 *     let total = 0;
 *     const counting = new WritableStream<Uint8Array>({
 *       write: (chunk) => void (total += chunk.length),
 *     });
 *     const options: StartTransferOptions = {
 *       description: "XCOUNT",
 *       opening: "send your bytes",
 *       abortedText: "counting aborted",
 *       async run(data, signal) {
 *         await data.receive(counting, signal);
 *         return { code: 226, text: `${total} bytes` };
 *       },
 *     };
 *     return ctx.startTransfer(options);
 *   },
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const stream = await client.getStream("XCOUNT");
 * await new Blob(["hello"]).stream().pipeTo(stream.writable);
 * assert.deepEqual((await stream.finish()).lines, ["5 bytes"]);
 * ```
 */
export interface StartTransferOptions {
  /** What STAT shows while the transfer runs (`"RETR /a.txt"`). */
  description: string;
  /** Text of the `150` reply, sent once the data connection is open. */
  opening: string;
  /** Text of the `426` reply when the transfer is aborted (default `"transfer aborted"`). */
  abortedText?: string;
  /**
   * The file this transfer moves, for the server's `transfer` hook (called when it ends);
   * leave it out for transfers of no file (listings, extensions' data commands).
   */
  file?: FileTransfer;
  /**
   * Moves the data. Resolves with the final reply (default `226 transfer done`). On ABOR,
   * QUIT or a closed session, `signal` aborts and the data connection is closed.
   *
   * @param data The open data connection.
   * @param signal Aborts when the transfer must stop.
   */
  run(data: DataConnection, signal: AbortSignal): Promise<FinalReply | void>;
  /**
   * Frees what the handler opened for `run` (a file) when the transfer never gets to run: it
   * was refused, or its data connection could not be made.
   */
  discard?(): Promise<void>;
}

/**
 * A running transfer, as STAT reports it (`CommandContext.transfer`).
 *
 * @example A transfer that reports its own progress
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server, type TransferStatus } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * server.commands.set("XZEROS", {
 *   requires: ["login", "data-channel"],
 *   handler: (ctx) =>
 *     ctx.startTransfer({
 *       description: "XZEROS",
 *       opening: "zeros coming",
 *       async run(data, signal) {
 *         await data.send(new Blob([new Uint8Array(1000)]).stream(), signal);
 *         const status: TransferStatus = ctx.transfer!;
 *         return { code: 226, text: `${status.description}: ${status.bytes} bytes` };
 *       },
 *     }),
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const stream = await client.getStream("XZEROS");
 * assert.equal((await new Response(stream.readable).arrayBuffer()).byteLength, 1000);
 * assert.deepEqual((await stream.finish()).lines, ["XZEROS: 1000 bytes"]);
 * ```
 */
export interface TransferStatus {
  /** What the transfer does (`"RETR /a.txt"`). */
  readonly description: string;
  /** Bytes moved so far on the data connection. */
  readonly bytes: number;
}

/** TLS on data connections: the server's certificate and what the handshake must prove. */
export interface DataTls {
  /** The certificate, key and session scope of the control connection. */
  options: TlsServerOptions;
  /** Refuse (`522`) a data connection that does not resume the control connection's session. */
  requireSessionReuse: boolean;
}

/** What a {@linkcode TransferWorker} works with. */
export interface TransferWorkerOptions {
  /** Sends a reply on the control connection. */
  reply(code: number, text: string | readonly string[]): Promise<void>;
  /** Logs a failure, or a passive listener closed unused (debug level). */
  log(message: string, error: unknown): void;
  /**
   * How long to wait for the data connection (and its TLS handshake) before `425`, and how
   * long a prepared passive channel (or the listener kept after a transfer) waits unused
   * before its listener is closed.
   */
  dataConnectTimeout: number;
  /** How long a transfer may move no byte before it ends with `426` (0: no limit). */
  dataTimeout: number;
}

/** What one call of {@linkcode TransferWorker.start} needs besides the transfer itself. */
export interface TransferSetup {
  /** TLS for this data connection (PROT P), or nothing for clear text. */
  tls?: DataTls;
  /** Limits on bytes received; empty for none. */
  readThrottles: readonly Throttle[];
  /** Limits on bytes sent; empty for none. */
  writeThrottles: readonly Throttle[];
  /** Called once the transfer has ended, before its final reply is sent. */
  onEnd?(outcome: TransferOutcome): Promise<void>;
}

/** How a transfer ended, as {@linkcode TransferSetup.onEnd} gets it. */
export interface TransferOutcome {
  /** Bytes moved on the data connection. */
  bytes: number;
  /** Milliseconds from the start to the end. */
  duration: number;
  /** The final reply's code. */
  code: number;
}

const CANT_OPEN: FinalReply = { code: 425, text: "Can't open data connection" };
/**
 * How long an aborted transfer's work (ABOR, QUIT, the data timeout) may take to end before
 * the transfer is given up on: a file system that never answers must not hold the session.
 */
const ABANDON_AFTER_MS = 2000;

class RunningTransfer implements TransferStatus {
  readonly description: string;
  readonly controller = new AbortController();
  /** Settles with the 150 (or the reply that replaced it) once it is written. */
  readonly opened: Deferred<FinalReply> = deferred<FinalReply>();
  /** The data connection, once open: its byte counts are the transfer's. */
  data: DataConnection | undefined;
  /** Set when a timeout of the worker ended the transfer: connecting, or moving no byte. */
  timedOut: "connect" | "stall" | undefined;
  done: Promise<void> = Promise.resolve();

  constructor(description: string) {
    this.description = description;
  }

  get bytes(): number {
    return this.data?.bytes ?? 0;
  }
}

/** Holds a session's prepared data channel and runs its transfers, one at a time. */
export class TransferWorker {
  readonly #options: TransferWorkerOptions;
  #channel: DataChannel | undefined;
  #transfer: RunningTransfer | undefined;
  /**
   * The data-connect deadlines, on one timer that is not set per transfer: when the prepared
   * channel expires unused, and when the running transfer's connect (or TLS) step gives up.
   */
  readonly #deadlines = new LazyDeadlines((now) => this.#deadlinesPassed(now));
  #channelDue = Infinity;
  #stepDue = Infinity;
  /** The passive listener of the last transfer, kept for the next PASV/EPSV, and until when. */
  #kept: PassiveListener | undefined;
  #keptDue = Infinity;
  /** The stall check's timer, kept from one transfer to the next (see `#watchForStall`). */
  #stallTimer: ReturnType<typeof setInterval> | undefined;
  /** The transfer the stall check saw at its last tick, and its byte count then. */
  #stallSeen: { transfer: RunningTransfer; bytes: number } | undefined;

  /**
   * Creates the worker.
   *
   * @param options The reply function, logging and timeouts.
   */
  constructor(options: TransferWorkerOptions) {
    this.#options = options;
  }

  /** The prepared data channel that no transfer took yet, if any. */
  get channel(): DataChannel | undefined {
    return this.#channel;
  }

  /** The running transfer, if any. */
  get status(): TransferStatus | undefined {
    return this.#transfer;
  }

  /**
   * Settles once the running transfer's `150` (or the reply that replaced it, such as `425`)
   * is written, with that reply; at once, with `undefined`, when none runs.
   */
  get opened(): Promise<FinalReply | undefined> {
    return this.#transfer?.opened.promise ?? Promise.resolve(undefined);
  }

  /**
   * Replaces the prepared data channel, closing the previous one. A channel that can expire (a
   * passive one) is expired when no transfer takes it within `dataConnectTimeout`.
   *
   * @param channel The new channel, or `undefined` to drop it.
   */
  async prepare(channel: DataChannel | undefined): Promise<void> {
    // The kept passive listener is for the next PASV/EPSV: an active channel ends it.
    if (channel && !(channel instanceof PassiveDataChannel)) await this.#dropKept();
    const previous = this.#channel;
    this.#channel = channel;
    this.#channelDue = Infinity;
    const timeout = this.#options.dataConnectTimeout;
    if (channel?.expire && timeout > 0 && Number.isFinite(timeout)) {
      this.#channelDue = performance.now() + timeout;
      this.#deadlines.wake(this.#channelDue);
    }
    if (previous && previous !== channel) await previous.close();
  }

  /**
   * Prepares a passive channel (PASV, EPSV), closing the prepared one: on the listener kept
   * from the last transfer when it may serve another, else on one that `bind` makes.
   *
   * @param bind Binds a new listener.
   * @param options Told (with the port) when the channel expires unused.
   * @returns The channel, now the prepared one.
   */
  async preparePassive(
    bind: () => Promise<PassiveListener>,
    options: { onExpired(port: number): void },
  ): Promise<PassiveDataChannel> {
    await this.prepare(undefined);
    const kept = this.#kept;
    this.#kept = undefined;
    this.#keptDue = Infinity;
    let listener: PassiveListener | undefined = kept;
    if (!listener?.reusable) {
      await kept?.close();
      listener = await bind();
    }
    const { port } = listener.addr;
    const channel = new PassiveDataChannel(listener, { onExpired: () => options.onExpired(port) });
    await this.prepare(channel);
    return channel;
  }

  /**
   * Starts a transfer on the prepared channel in the background. The caller checked that a
   * channel is prepared and no transfer runs.
   *
   * @param setup The TLS and the throttles.
   * @param transfer What to run and reply.
   * @returns Settles when the transfer has ended (its final reply written).
   * @throws {Error} When no channel is prepared or a transfer runs.
   */
  start(setup: TransferSetup, transfer: StartTransferOptions): Promise<void> {
    const channel = this.#channel;
    if (!channel || this.#transfer) throw new Error("No data channel, or a transfer runs");
    this.#channel = undefined;
    this.#channelDue = Infinity;
    const running = new RunningTransfer(transfer.description);
    this.#transfer = running;
    running.done = this.#run(channel, setup, transfer, running).finally(() => {
      running.opened.resolve({ code: 451, text: "transfer failed" });
      this.#transfer = undefined;
    });
    return running.done;
  }

  /**
   * Aborts the running transfer, which replies `426`, and waits for it to end.
   *
   * @returns `true` when a transfer was running.
   */
  async abort(): Promise<boolean> {
    const transfer = this.#transfer;
    if (!transfer) return false;
    transfer.controller.abort();
    await transfer.done;
    return true;
  }

  async #run(
    channel: DataChannel,
    setup: TransferSetup,
    options: StartTransferOptions,
    transfer: RunningTransfer,
  ): Promise<void> {
    const signal = transfer.controller.signal;
    const aborted = { code: 426, text: options.abortedText ?? "transfer aborted" };
    const started = setup.onEnd ? performance.now() : 0;
    const end = async (final: FinalReply) => {
      await setup.onEnd?.({
        bytes: transfer.bytes,
        duration: performance.now() - started,
        code: final.code,
      });
      await this.#replyQuietly(final);
      transfer.opened.resolve(final);
    };
    let conn: Conn;
    try {
      conn = await this.#withinConnectTimeout(() => channel.open(signal));
    } catch {
      await channel.close();
      await options.discard?.().catch(() => {});
      await end(signal.aborted && transfer.timedOut !== "connect" ? aborted : CANT_OPEN);
      return;
    }
    const closeOnAbort = () => conn.close();
    signal.addEventListener("abort", closeOnAbort, { once: true });
    this.#watchForStall();
    let final: FinalReply;
    try {
      await this.#options.reply(150, options.opening).finally(() =>
        transfer.opened.resolve({ code: 150, text: options.opening })
      );
      const secured = setup.tls ? await this.#secure(conn, setup.tls, transfer) : { conn };
      if ("refusal" in secured) {
        await options.discard?.().catch(() => {});
        final = secured.refusal;
      } else {
        conn = secured.conn;
        const data = new DataConnection(conn, {
          readThrottles: setup.readThrottles,
          writeThrottles: setup.writeThrottles,
          signal,
        });
        transfer.data = data;
        // An aborted transfer ends once its work winds down, or after a grace period when the
        // work never answers (a hung file system): its 426 then goes out without it.
        const result = await abortable(options.run(data, signal), signal, {
          graceMs: ABANDON_AFTER_MS,
        });
        await data.finish();
        final = result ?? { code: 226, text: "transfer done" };
      }
    } catch (error) {
      if (transfer.timedOut === "stall") final = { code: 426, text: "data connection timed out" };
      else if (signal.aborted) final = aborted;
      else if (error instanceof PathError) final = pathErrorReply(error);
      else {
        this.#options.log(`Transfer "${options.description}" failed`, error);
        final = { code: 426, text: options.abortedText ?? "data connection closed" };
      }
    } finally {
      signal.removeEventListener("abort", closeOnAbort);
      conn.close();
    }
    await this.#afterTransfer(channel, final);
    await end(final);
  }

  /**
   * Keeps the passive listener of a transfer that ended cleanly for the next PASV/EPSV (until
   * the data-connect timeout), and closes every other channel.
   */
  async #afterTransfer(channel: DataChannel, final: FinalReply): Promise<void> {
    const timeout = this.#options.dataConnectTimeout;
    const expires = timeout > 0 && Number.isFinite(timeout);
    if (final.code >= 300 || !expires || !(channel instanceof PassiveDataChannel)) {
      await channel.close();
      return;
    }
    const listener = await channel.handOver();
    if (!listener) return;
    await this.#dropKept();
    this.#kept = listener;
    this.#keptDue = performance.now() + timeout;
    this.#deadlines.wake(this.#keptDue);
  }

  /**
   * Runs the TLS server handshake on a data connection (also in active mode, where the server
   * opened the TCP connection). Returns the secured connection, or the final reply that
   * refuses the transfer: `425` when the handshake fails or stalls, `522` when the session
   * had to be resumed and was not.
   */
  async #secure(
    conn: Conn,
    tls: DataTls,
    transfer: RunningTransfer,
  ): Promise<{ conn: Conn } | { refusal: FinalReply }> {
    const signal = transfer.controller.signal;
    let secured: Conn;
    try {
      secured = await this.#withinConnectTimeout(() => conn.startTls(tls.options, signal));
    } catch (error) {
      conn.close();
      if (signal.aborted && transfer.timedOut !== "connect") throw error;
      this.#options.log("TLS handshake on a data connection failed", error);
      return { refusal: { code: 425, text: "TLS handshake on the data connection failed" } };
    }
    if (tls.requireSessionReuse && secured.tlsSessionReused !== true) {
      secured.close();
      return { refusal: { code: 522, text: "TLS session reuse required on data connections" } };
    }
    return { conn: secured };
  }

  /**
   * Runs a step of opening the data connection (under the transfer's signal) within
   * `dataConnectTimeout`: when the deadline passes, the transfer is aborted and marked as
   * timed out. The deadline is a time the shared timer checks, not a timer of its own.
   */
  async #withinConnectTimeout<T>(step: () => Promise<T>): Promise<T> {
    const timeout = this.#options.dataConnectTimeout;
    if (!timeout || !Number.isFinite(timeout)) return await step();
    this.#stepDue = performance.now() + timeout;
    this.#deadlines.wake(this.#stepDue);
    try {
      return await step();
    } finally {
      this.#stepDue = Infinity;
    }
  }

  /** The deadline timer's check: ends the step or expires the channel whose time is up. */
  #deadlinesPassed(now: number): number {
    if (this.#stepDue <= now) {
      this.#stepDue = Infinity;
      const transfer = this.#transfer;
      if (transfer) {
        transfer.timedOut = "connect";
        transfer.controller.abort(
          new DOMException("The data connection timed out", "TimeoutError"),
        );
      }
    }
    if (this.#channelDue <= now) {
      this.#channelDue = Infinity;
      this.#channel?.expire?.();
    }
    if (this.#keptDue <= now) {
      this.#keptDue = Infinity;
      const kept = this.#kept;
      this.#kept = undefined;
      const unused = kept?.reusable === true;
      void kept?.close().then(() => {
        if (!unused) return;
        this.#options.log(
          `Closed passive port ${kept.addr.port}: no transfer used it again within ${this.#options.dataConnectTimeout} ms`,
          undefined,
        );
      });
    }
    return Math.min(this.#stepDue, this.#channelDue, this.#keptDue);
  }

  /**
   * Aborts a transfer that moves no byte for `dataTimeout`: one timer compares the running
   * transfer's byte count with the one it saw at its previous tick (so a transfer that
   * moves nothing ends after one to two periods). The timer is not made per transfer: it is
   * started by a transfer when none runs, and stops at a tick that finds no transfer, or when
   * the session ends ({@linkcode TransferWorker.close}).
   */
  #watchForStall(): void {
    const period = this.#options.dataTimeout;
    if (!period || !Number.isFinite(period) || this.#stallTimer !== undefined) return;
    this.#stallTimer = setInterval(() => {
      const transfer = this.#transfer;
      if (!transfer) {
        this.#stopStallCheck();
        return;
      }
      const seen = this.#stallSeen;
      if (seen?.transfer === transfer && seen.bytes === transfer.bytes) {
        transfer.timedOut = "stall";
        transfer.controller.abort();
      }
      this.#stallSeen = { transfer, bytes: transfer.bytes };
    }, period);
  }

  #stopStallCheck(): void {
    clearInterval(this.#stallTimer);
    this.#stallTimer = undefined;
    this.#stallSeen = undefined;
  }

  /**
   * Aborts the running transfer (it replies `426`), waits for it, stops the timers, and closes
   * the prepared channel and the kept listener.
   */
  async close(): Promise<void> {
    await this.abort();
    this.#stopStallCheck();
    this.#deadlines.stop();
    await this.prepare(undefined).catch(() => {});
    await this.#dropKept().catch(() => {});
  }

  /** Closes the passive listener kept for the next PASV/EPSV, if any. */
  async #dropKept(): Promise<void> {
    const kept = this.#kept;
    this.#kept = undefined;
    this.#keptDue = Infinity;
    await kept?.close();
  }

  async #replyQuietly(reply: FinalReply): Promise<void> {
    await this.#options.reply(reply.code, reply.text).catch(() => {});
  }
}
