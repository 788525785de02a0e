/**
 * The transfer worker of a session: takes a prepared data channel, opens the data connection
 * (with the TLS server handshake under PROT P), sends `150`, runs the transfer in the
 * background, counts its bytes, ends a stalled one, and sends the final reply. One transfer at
 * a time; ABOR, QUIT and the end of the session abort it.
 *
 * @module
 */

import { PathError } from "../errors.ts";
import type { Conn, TlsServerOptions } from "../socket.ts";
import { type Deferred, deferred } from "../stream/abort.ts";
import type { Throttle } from "../stream/throttle.ts";
import type { DataChannel } from "./data_channel.ts";
import { DataConnection } from "./data_connection.ts";
import type { FileTransfer } from "./hooks.ts";
import { type FinalReply, pathErrorReply } from "./path_error_reply.ts";

/** What `startTransfer` runs. */
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

/** A running transfer, as STAT reports it. */
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
  /** Logs a failure. */
  log(message: string, error: unknown): void;
  /** How long to wait for the data connection (and its TLS handshake) before `425`. */
  dataConnectTimeout: number;
  /** How long a transfer may move no byte before it ends with `426` (0: no limit). */
  dataTimeout: number;
}

/** What one call of {@linkcode TransferWorker.start} needs besides the transfer itself. */
export interface TransferSetup {
  /** The prepared data channel; the worker takes and closes it. */
  channel: DataChannel;
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

interface RunningTransfer extends TransferStatus {
  bytes: number;
  /** Set when the stall check ended the transfer. */
  stalled: boolean;
  readonly controller: AbortController;
  /** Settles with the 150 (or the reply that replaced it) once it is written. */
  readonly opened: Deferred<FinalReply>;
  done: Promise<void>;
}

/** Runs a session's transfers, one at a time. */
export class TransferWorker {
  readonly #options: TransferWorkerOptions;
  #transfer: RunningTransfer | undefined;
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
   * Starts a transfer in the background. The caller checked that none runs.
   *
   * @param setup The data channel, its TLS and the throttles.
   * @param transfer What to run and reply.
   * @returns Settles when the transfer has ended (its final reply written).
   */
  start(setup: TransferSetup, transfer: StartTransferOptions): Promise<void> {
    const running: RunningTransfer = {
      description: transfer.description,
      bytes: 0,
      stalled: false,
      controller: new AbortController(),
      opened: deferred<FinalReply>(),
      done: Promise.resolve(),
    };
    this.#transfer = running;
    running.done = this.#run(setup, transfer, running).finally(() => {
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
      conn = await this.#withinConnectTimeout(signal, (s) => setup.channel.open(s));
    } catch {
      await setup.channel.close();
      await options.discard?.().catch(() => {});
      await end(signal.aborted ? aborted : { code: 425, text: "Can't open data connection" });
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
      const secured = setup.tls ? await this.#secure(conn, setup.tls, signal) : { conn };
      if ("refusal" in secured) {
        await options.discard?.().catch(() => {});
        final = secured.refusal;
      } else {
        conn = secured.conn;
        const data = new DataConnection(conn, {
          readThrottles: setup.readThrottles,
          writeThrottles: setup.writeThrottles,
          onBytes: (count) => (transfer.bytes += count),
          signal,
        });
        const result = await options.run(data, signal);
        await data.finish();
        final = result ?? { code: 226, text: "transfer done" };
      }
    } catch (error) {
      if (transfer.stalled) final = { code: 426, text: "data connection timed out" };
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
    await end(final);
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
    signal: AbortSignal,
  ): Promise<{ conn: Conn } | { refusal: FinalReply }> {
    let secured: Conn;
    try {
      secured = await this.#withinConnectTimeout(signal, (s) => conn.startTls(tls.options, s));
    } catch (error) {
      conn.close();
      if (signal.aborted) throw error;
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
   * Runs a step of opening the data connection under a signal that aborts with the transfer's
   * or after `dataConnectTimeout`: one timer, cleared when the step ends (a timeout signal
   * would stay armed, and referenced, for the whole timeout after every transfer).
   */
  async #withinConnectTimeout<T>(
    signal: AbortSignal,
    step: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const timeout = this.#options.dataConnectTimeout;
    if (!timeout || !Number.isFinite(timeout)) return await step(signal);
    const deadline = new AbortController();
    const forward = () => deadline.abort(signal.reason);
    if (signal.aborted) forward();
    else signal.addEventListener("abort", forward, { once: true });
    const timer = setTimeout(
      () => deadline.abort(new DOMException("The data connection timed out", "TimeoutError")),
      timeout,
    );
    try {
      return await step(deadline.signal);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", forward);
    }
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
        transfer.stalled = true;
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

  /** Aborts the running transfer (it replies `426`), waits for it, and stops the timers. */
  async close(): Promise<void> {
    await this.abort();
    this.#stopStallCheck();
  }

  async #replyQuietly(reply: FinalReply): Promise<void> {
    await this.#options.reply(reply.code, reply.text).catch(() => {});
  }
}
