/**
 * One control connection: its state (user, directory, type, REST offset, data channel...) and
 * its dispatcher. The dispatcher reads one command at a time and awaits its handler, so replies
 * leave in command order; a transfer runs as a background worker, so NOOP, STAT and ABOR are
 * answered while data moves.
 *
 * @module
 */

import { PathError } from "../errors.ts";
import type { FileSystem } from "../fs/file_system.ts";
import { resolveVirtualPath } from "../fs/virtual_path.ts";
import { parseCommand } from "../protocol/command.ts";
import { formatReply } from "../protocol/reply.ts";
import type { Conn, NetAddr } from "../socket.ts";
import { deadlineSignal, type Deferred, deferred } from "../stream/abort.ts";
import { LineReader, LineTooLongError } from "../stream/line_reader.ts";
import { Throttle } from "../stream/throttle.ts";
import type { CommandRequest, CommandSpec, PathRule } from "./command_table.ts";
import { terminateBareCr } from "./control_input.ts";
import type { DataChannel } from "./data_channel.ts";
import { DataConnection } from "./data_connection.ts";
import { MLSX_FACTS } from "./listing_format.ts";
import { type FinalReply, pathErrorReply } from "./path_error_reply.ts";
import type { Server } from "./server.ts";
import type { Permission, User } from "./user.ts";

export type { FinalReply } from "./path_error_reply.ts";

/** How a transfer's data is represented: `"A"` (ASCII, CRLF line ends) or `"I"` (image). */
export type TransferType = "A" | "I";

/** What {@linkcode Session.startTransfer} runs. */
export interface StartTransferOptions {
  /** What STAT shows while the transfer runs (`"RETR /a.txt"`). */
  description: string;
  /** Text of the `150` reply, sent once the data connection is open. */
  opening: string;
  /** Text of the `426` reply when the transfer is aborted (default `"transfer aborted"`). */
  abortedText?: string;
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

interface RunningTransfer extends TransferStatus {
  bytes: number;
  readonly controller: AbortController;
  /** Settles once the 150 (or the reply that replaced it) is written. */
  readonly opened: Deferred<void>;
  done: Promise<void>;
}

/** Where a log record comes from and what it says. */
export interface LogRecord {
  /** Severity. */
  level: "debug" | "info" | "warn" | "error";
  /** What happened. */
  message: string;
  /** The session's number, when the record concerns one. */
  session?: number;
  /** The error, for failures. */
  error?: unknown;
}

const encoder = new TextEncoder();
/** How long a closing session may take to flush its last replies. */
const CLOSE_GRACE_MS = 2000;
/** Batch size of long multi-line replies. */
const REPLY_BATCH = 64 * 1024;
const NO_DATA_CHANNEL = "bad sequence of commands (use PASV, EPSV, PORT or EPRT first)";

/** One control connection and its state. Handlers get it as their first argument. */
export class Session {
  /** The server this session belongs to. */
  readonly server: Server;
  /** A number unique within the server (for logs). */
  readonly id: number;
  /** The client's address. */
  readonly remoteAddr: NetAddr;
  /** The server's address of this connection. */
  readonly localAddr: NetAddr;
  /** Free room for extensions' per-session state (the aioftp tutorial's "connection" values). */
  readonly attributes: Map<string, unknown> = new Map();

  /** The user named by USER (logged in or waiting for PASS). */
  user: User | undefined;
  /** Whether the user is logged in. */
  loggedIn = false;
  /** Current directory (absolute virtual path). */
  cwd = "/";
  /** Representation type (binary by default, where RFC 959 says ASCII: no client relies on it). */
  transferType: TransferType = "I";
  /** REST offset for the next RETR or STOR; the transfer command consumes it. */
  restOffset = 0;
  /** Source path stored by RNFR for RNTO. */
  renameFrom: string | undefined;
  /** Whether EPSV ALL was received (PASV, PORT and EPRT are refused from then on). */
  epsvAll = false;
  /** The MLSx facts chosen with OPTS MLST. */
  mlstFacts: string[] = [...MLSX_FACTS];
  /** The algorithm HASH uses, chosen with OPTS HASH. */
  hashAlgorithm = "SHA-256";
  /** Failed logins so far (for the lockout). */
  loginFailures = 0;

  readonly #conn: Conn;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: LineReader;
  readonly #closed: Promise<void>;
  readonly #closer = new AbortController();
  #dataChannel: DataChannel | undefined;
  #transfer: RunningTransfer | undefined;
  #waitingForCommand = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #readThrottle = new Throttle();
  readonly #writeThrottle = new Throttle();
  #userReadThrottle: Throttle | undefined;
  #userWriteThrottle: Throttle | undefined;
  #resolveClosed!: () => void;
  #forceTimer: ReturnType<typeof setTimeout> | undefined;
  #tail: Promise<void> = Promise.resolve();

  /**
   * Wraps an accepted control connection; {@linkcode Session.run} serves it. Servers create
   * sessions; there is no need to call this.
   *
   * @param server The owning server.
   * @param conn The control connection.
   * @param id The session number.
   */
  constructor(server: Server, conn: Conn, id: number) {
    this.server = server;
    this.id = id;
    this.#conn = conn;
    this.remoteAddr = conn.remoteAddr;
    this.localAddr = conn.localAddr;
    this.#writer = conn.writable.getWriter();
    this.#writer.closed.catch(() => {});
    this.#lines = new LineReader(terminateBareCr(conn.readable), {
      maxLineLength: server.options.maxLineLength,
    });
    this.#readThrottle.limit = server.options.readSpeedLimitPerConnection;
    this.#writeThrottle.limit = server.options.writeSpeedLimitPerConnection;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /** Settles when the session has ended and released everything. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Whether the session is ending. */
  get closing(): boolean {
    return this.#closer.signal.aborted;
  }

  /** Aborts when the session starts closing (for handlers' long waits). */
  get signal(): AbortSignal {
    return this.#closer.signal;
  }

  /**
   * Waits, but no longer than the session lives.
   *
   * @param ms Milliseconds.
   * @returns Settles after `ms`, or at once when the session closes.
   */
  sleep(ms: number): Promise<void> {
    const signal = this.#closer.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** The file system of the session's user (or the server's). */
  get fileSystem(): FileSystem {
    return this.user?.fileSystem ?? this.server.fileSystem;
  }

  /** The prepared data channel, if PASV/EPSV/PORT/EPRT made one that no transfer took yet. */
  get dataChannel(): DataChannel | undefined {
    return this.#dataChannel;
  }

  /** The running transfer, if any. */
  get transfer(): TransferStatus | undefined {
    return this.#transfer;
  }

  /**
   * Sends a reply. Replies leave in the order of the calls.
   *
   * @param code The reply code.
   * @param text One line or several (multi-line replies are formatted per RFC 959).
   * @returns Settles when the socket took the reply.
   */
  reply(code: number, text: string | readonly string[] = ""): Promise<void> {
    if (this.server.options.log) {
      this.log("debug", `< ${code} ${typeof text === "string" ? text : text.join(" | ")}`);
    }
    const bytes = encoder.encode(formatReply(code, text));
    return this.#exclusive(() => this.#writer.write(bytes));
  }

  /**
   * Sends a multi-line reply whose body is produced lazily (a long STAT listing), in batches
   * of about 64 KiB. Body lines are indented by one space, so none can pass for a reply line.
   * No other reply can come between its lines. When the body fails after a batch was sent,
   * the reply is ended with `last` saying so and the error is logged (a second reply would
   * desynchronize the client).
   *
   * @param code The reply code.
   * @param first The first line's text.
   * @param body The body lines.
   * @param last The last line's text.
   */
  replyLines(
    code: number,
    first: string,
    body: AsyncIterable<string>,
    last: string,
  ): Promise<void> {
    return this.#exclusive(async () => {
      let batch = `${code}-${oneLine(first)}\r\n`;
      let sent = false;
      try {
        for await (const line of body) {
          batch += ` ${oneLine(line)}\r\n`;
          if (batch.length >= REPLY_BATCH) {
            await this.#writer.write(encoder.encode(batch));
            batch = "";
            sent = true;
          }
        }
      } catch (error) {
        if (!sent) throw error;
        this.log("error", "Multi-line reply body failed", error);
        last = `${last} (incomplete: the listing failed)`;
      }
      await this.#writer.write(encoder.encode(`${batch}${code} ${oneLine(last)}\r\n`));
    });
  }

  /** Runs a write after every earlier one, so multi-write replies stay whole. */
  #exclusive(work: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(() => this.#withinIdleTimeout(work));
    this.#tail = run.catch(() => {});
    return run;
  }

  /**
   * Runs a reply's writes; when the client has not taken them within the idle timeout, the
   * connection is closed, so that a client that stops reading cannot hold its session forever.
   */
  async #withinIdleTimeout(work: () => Promise<void>): Promise<void> {
    const timeout = this.server.options.idleTimeout;
    if (!timeout || !Number.isFinite(timeout)) return await work();
    const timer = setTimeout(() => {
      this.log("info", "The client took no reply within the idle timeout, closing");
      this.#conn.close();
    }, timeout);
    try {
      await work();
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Writes a log record through the server's `log` option (nothing by default).
   *
   * @param level Severity.
   * @param message What happened.
   * @param error The error, for failures.
   */
  log(level: LogRecord["level"], message: string, error?: unknown): void {
    this.server.options.log?.({ level, message, session: this.id, error });
  }

  /**
   * Resolves a path argument against the current directory.
   *
   * @param argument The argument (empty means the current directory).
   * @returns The absolute, normalized virtual path.
   * @throws {PathError} `invalid-path` for a NUL byte.
   */
  resolvePath(argument: string): string {
    return resolveVirtualPath(this.cwd, argument);
  }

  /**
   * The permission that decides for a path (nothing is allowed before login).
   *
   * @param path An absolute virtual path.
   * @returns The nearest-ancestor permission of the user.
   */
  permissionFor(path: string): Permission | undefined {
    return this.loggedIn ? this.user?.permissionFor(path) : undefined;
  }

  /**
   * Checks a path against a rule: permission first (so an unreadable path's existence does not
   * leak), then the condition. On failure it sends the `550` reply itself.
   *
   * @param path An absolute virtual path.
   * @param rule The right and the condition.
   * @returns `true` when the command may go on.
   */
  async checkPath(path: string, rule: PathRule): Promise<boolean> {
    const permission = this.permissionFor(path);
    if (!(rule.access === "read" ? permission?.readable : permission?.writable)) {
      await this.reply(550, "permission denied");
      return false;
    }
    if (!rule.must) return true;
    const fs = this.fileSystem;
    let failure: string | undefined;
    switch (rule.must) {
      case "exists":
        if (!await fs.exists(path)) failure = "path does not exists";
        break;
      case "absent":
        if (await fs.exists(path)) failure = "path already exists";
        break;
      case "file":
        if (!await fs.exists(path)) failure = "path does not exists";
        else if (!await fs.isFile(path)) failure = "path is not a file";
        break;
      case "dir":
        if (!await fs.exists(path)) failure = "path does not exists";
        else if (!await fs.isDir(path)) failure = "path is not a directory";
        break;
    }
    if (failure) await this.reply(550, failure);
    return failure === undefined;
  }

  /**
   * Logs the user in (or out, with `undefined`), installing the user's speed limits. The
   * previous user, if its login had completed, is reported to the user manager as logged out.
   *
   * @param user The user `UserManager.getUser` returned, or `undefined`.
   * @param loggedIn Whether the login is complete (otherwise PASS must follow).
   */
  async setUser(user: User | undefined, loggedIn: boolean): Promise<void> {
    if (this.user && this.loggedIn && this.user !== user) {
      await this.server.userManager.notifyLogout(this.user).catch((e) =>
        this.log("error", "User manager failed on logout", e)
      );
    }
    this.user = user;
    this.loggedIn = user !== undefined && loggedIn;
    if (user) {
      this.cwd = user.home;
      this.#userReadThrottle = new Throttle(user.readSpeedLimitPerConnection);
      this.#userWriteThrottle = new Throttle(user.writeSpeedLimitPerConnection);
    } else {
      this.#userReadThrottle = this.#userWriteThrottle = undefined;
    }
  }

  /**
   * Replaces the data channel (closing the previous one, and any connection it accepted).
   *
   * @param channel The new channel, or `undefined` to drop it.
   */
  async setDataChannel(channel: DataChannel | undefined): Promise<void> {
    const previous = this.#dataChannel;
    this.#dataChannel = channel;
    if (previous && previous !== channel) await previous.close();
  }

  /**
   * Starts a data transfer as a background worker and returns at once: the worker takes the
   * prepared data channel, waits for the connection (`425 Can't open data connection` after
   * the server's `dataConnectTimeout`), sends `150 <opening>`, runs `options.run` and sends its
   * final reply. ABOR aborts it with `426` (then ABOR's own `226`). The idle timeout is off
   * while it runs. Only one transfer runs at a time: a second gets `450`.
   *
   * @param options What to do with the data connection and what to reply.
   * @returns Settles when the transfer was started or refused (not when it ends).
   */
  async startTransfer(options: StartTransferOptions): Promise<void> {
    if (!await this.readyForTransfer()) {
      await options.discard?.().catch(() => {});
      return;
    }
    const channel = this.#dataChannel!;
    this.#dataChannel = undefined;
    const transfer: RunningTransfer = {
      description: options.description,
      bytes: 0,
      controller: new AbortController(),
      opened: deferred<void>(),
      done: Promise.resolve(),
    };
    this.#transfer = transfer;
    this.#disarmIdle();
    transfer.done = this.#runTransfer(channel, options, transfer).finally(() => {
      transfer.opened.resolve();
      this.#transfer = undefined;
      if (this.#waitingForCommand) this.#armIdle();
    });
  }

  /**
   * Whether a transfer may start now: a data channel is prepared and no transfer runs. When
   * not, it sends the reply itself (`503`, `450`). Handlers that open a file before
   * {@linkcode Session.startTransfer} ask first, so that a refusal opens nothing.
   *
   * @returns `true` when a transfer may start.
   */
  async readyForTransfer(): Promise<boolean> {
    if (!this.#dataChannel) {
      await this.reply(503, NO_DATA_CHANNEL);
      return false;
    }
    if (this.#transfer) {
      await this.reply(450, "another transfer is in progress");
      return false;
    }
    return true;
  }

  /**
   * Aborts the running transfer, which replies `426`, and waits for it to end.
   *
   * @returns `true` when a transfer was running.
   */
  async abortTransfer(): Promise<boolean> {
    const transfer = this.#transfer;
    if (!transfer) return false;
    transfer.controller.abort();
    await transfer.done;
    return true;
  }

  /**
   * Ends the session: aborts a running transfer, closes the data channel and, once the replies
   * already written are flushed, the connection. Safe to call from a handler (QUIT) and more
   * than once; await {@linkcode Session.closed} to know when it is over.
   */
  close(): void {
    if (this.closing) return;
    this.#closer.abort();
    this.#disarmIdle();
    this.#transfer?.controller.abort();
    if (this.#waitingForCommand) this.#lines.cancel();
    // A handler stuck on a client that reads nothing must not hold the session open forever.
    this.#forceTimer = setTimeout(() => this.#conn.close(), CLOSE_GRACE_MS);
  }

  /**
   * Serves the connection: greeting, then commands until QUIT, EOF, idle timeout or
   * {@linkcode Session.close}. Servers call it; it never rejects.
   */
  async run(): Promise<void> {
    try {
      await this.reply(220, this.server.options.welcome.split(/\r?\n/));
      while (!this.closing) {
        const line = await this.#readLine();
        if (line === null) break;
        if (line === undefined) continue;
        await this.#dispatch(line);
      }
    } catch (error) {
      if (!this.closing) this.log("debug", "Control connection failed", error);
    } finally {
      await this.#cleanUp();
    }
  }

  async #readLine(): Promise<string | null | undefined> {
    this.#waitingForCommand = true;
    this.#armIdle();
    try {
      return await this.#lines.readLine();
    } catch (error) {
      if (!(error instanceof LineTooLongError)) throw error;
      await this.reply(500, "command line too long");
      return undefined;
    } finally {
      this.#waitingForCommand = false;
      this.#disarmIdle();
    }
  }

  async #dispatch(line: string): Promise<void> {
    const { verb, argument } = parseCommand(line);
    const spec = this.server.commands.get(verb);
    if (this.server.options.log) this.log("debug", `> ${spec?.secret ? `${verb} ****` : line}`);
    // A pipelined command waits for the running transfer's 150, so that replies keep the order
    // of the commands; ABOR and QUIT must not wait (they may be what ends that wait).
    if (this.#transfer && verb !== "ABOR" && verb !== "QUIT") await this.#transfer.opened.promise;
    if (!spec) {
      await this.reply(500, `unknown command '${printable(verb)}'`);
      return;
    }
    try {
      if (!await this.#meetsRequirements(spec)) return;
      const request: CommandRequest = { verb, argument, path: "" };
      if (spec.path) {
        if (argument === "" && !spec.path.optional) {
          await this.reply(501, `syntax error: ${verb} needs a path`);
          return;
        }
        request.path = this.resolvePath(argument);
        if (!await this.checkPath(request.path, spec.path)) return;
      }
      await spec.handler(this, request);
    } catch (error) {
      if (this.closing) return;
      if (error instanceof PathError) {
        const { code, text } = pathErrorReply(error, spec.path?.creating);
        await this.reply(code, text);
        return;
      }
      this.log("error", `Command ${verb} failed`, error);
      await this.reply(451, "requested action aborted: local error in processing");
    }
  }

  async #meetsRequirements(spec: CommandSpec): Promise<boolean> {
    for (const requirement of spec.requires ?? []) {
      if (requirement === "login" && !this.loggedIn) {
        await this.reply(530, "Please login with USER and PASS");
        return false;
      }
      if (requirement === "data-channel" && !this.#dataChannel) {
        await this.reply(503, NO_DATA_CHANNEL);
        return false;
      }
    }
    return true;
  }

  async #runTransfer(
    channel: DataChannel,
    options: StartTransferOptions,
    transfer: RunningTransfer,
  ): Promise<void> {
    const signal = transfer.controller.signal;
    const aborted = { code: 426, text: options.abortedText ?? "transfer aborted" };
    let conn: Conn;
    try {
      conn = await channel.open(deadlineSignal(signal, this.server.options.dataConnectTimeout));
    } catch {
      await channel.close();
      await options.discard?.().catch(() => {});
      await this.#replyQuietly(
        signal.aborted ? aborted : {
          code: 425,
          text: "Can't open data connection",
        },
      );
      return;
    }
    const closeOnAbort = () => conn.close();
    signal.addEventListener("abort", closeOnAbort, { once: true });
    const stall = this.#watchForStall(transfer);
    let final: FinalReply;
    try {
      await this.reply(150, options.opening).finally(() => transfer.opened.resolve());
      const data = new DataConnection(conn, {
        readThrottles: this.#throttles("read"),
        writeThrottles: this.#throttles("write"),
        onBytes: (count) => (transfer.bytes += count),
        signal,
      });
      const result = await options.run(data, signal);
      await data.finish();
      final = result ?? { code: 226, text: "transfer done" };
    } catch (error) {
      if (stall.stalled) final = { code: 426, text: "data connection timed out" };
      else if (signal.aborted) final = aborted;
      else if (error instanceof PathError) final = pathErrorReply(error);
      else {
        this.log("debug", `Transfer "${options.description}" failed`, error);
        final = { code: 426, text: options.abortedText ?? "data connection closed" };
      }
    } finally {
      stall.stop();
      signal.removeEventListener("abort", closeOnAbort);
      conn.close();
    }
    await this.#replyQuietly(final);
  }

  /**
   * Aborts a transfer that moves no byte for the server's `dataTimeout`: one timer per
   * transfer that compares the byte count with the one of its previous tick.
   */
  #watchForStall(transfer: RunningTransfer): { readonly stalled: boolean; stop(): void } {
    const period = this.server.options.dataTimeout;
    const state = { stalled: false, stop: () => {} };
    if (!period || !Number.isFinite(period)) return state;
    let seen = -1;
    const timer = setInterval(() => {
      if (transfer.bytes === seen) {
        state.stalled = true;
        clearInterval(timer);
        transfer.controller.abort();
      }
      seen = transfer.bytes;
    }, period);
    state.stop = () => clearInterval(timer);
    return state;
  }

  async #replyQuietly(reply: FinalReply): Promise<void> {
    await this.reply(reply.code, reply.text).catch(() => {});
  }

  /** The throttles with a limit that apply to this session's data in one direction. */
  #throttles(direction: "read" | "write"): Throttle[] {
    const server = this.server;
    const user = this.user;
    const candidates = direction === "read"
      ? [
        server.readThrottle,
        this.#readThrottle,
        user && server.userThrottles(user).read,
        this.#userReadThrottle,
      ]
      : [
        server.writeThrottle,
        this.#writeThrottle,
        user && server.userThrottles(user).write,
        this.#userWriteThrottle,
      ];
    return candidates.filter((t): t is Throttle => t !== undefined && t.limit !== undefined);
  }

  #armIdle(): void {
    const timeout = this.server.options.idleTimeout;
    if (this.#transfer || this.closing || !timeout || !Number.isFinite(timeout)) return;
    this.#disarmIdle();
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      this.reply(421, "idle timeout, closing control connection").catch(() => {});
      this.close();
    }, timeout);
  }

  #disarmIdle(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  async #cleanUp(): Promise<void> {
    this.#closer.abort();
    this.#disarmIdle();
    const transfer = this.#transfer;
    if (transfer) {
      transfer.controller.abort();
      await transfer.done;
    }
    await this.setDataChannel(undefined).catch(() => {});
    if (this.user) await this.setUser(undefined, false);
    if (this.#forceTimer === undefined) {
      this.#forceTimer = setTimeout(() => this.#conn.close(), CLOSE_GRACE_MS);
    }
    await this.#writer.close().catch(() => {});
    clearTimeout(this.#forceTimer);
    this.#conn.close();
    this.log("info", `Session from ${this.remoteAddr.hostname} closed`);
    this.#resolveClosed();
  }
}

/** Text that cannot break out of its reply line. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]/g, " ");
}

/** A verb as it may appear in a reply: control characters dropped, length capped. */
function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f]/g, "");
  return clean.length > 32 ? `${clean.slice(0, 32)}...` : clean;
}
