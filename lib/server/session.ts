/**
 * One client of the server: a {@linkcode Session} ties together the control connection (which
 * may turn to TLS), the dispatcher, the transfer worker, the login, the speed limits, the
 * hooks' events and the session's state, and is the {@linkcode CommandContext} its handlers
 * receive.
 *
 * @module
 */

import type { FileStat, FileSystem } from "../fs/file_system.ts";
import { resolveVirtualPath } from "../fs/virtual_path.ts";
import type { Conn, NetAddr } from "../socket.ts";
import { abortable, CLOSING, deadlineSignal } from "../stream/abort.ts";
import { LineTooLongError } from "../stream/line_reader.ts";
import type { CommandContext, DataProtection, TransferType } from "./command_context.ts";
import type { CommandRequest, CommandSpec, PathRule } from "./command_table.ts";
import { ControlConnection } from "./control_connection.ts";
import type { DataChannel } from "./data_channel.ts";
import { Dispatcher } from "./dispatcher.ts";
import type { FileChange, FileTransfer, LoginFailureReason } from "./hooks.ts";
import { MLSX_FACTS } from "./listing_format.ts";
import type { LogRecord } from "./log_record.ts";
import { PassiveListener } from "./passive_listener.ts";
import { inspectPath, type PathCheckContext } from "./path_check.ts";
import { RecentStat } from "./recent_stat.ts";
import type { FinalReply } from "./path_error_reply.ts";
import { sameHost } from "./same_host.ts";
import type { Server } from "./server.ts";
import { SessionEvents } from "./session_events.ts";
import { SessionLogin } from "./session_login.ts";
import { SessionThrottles } from "./session_throttles.ts";
import {
  type StartTransferOptions,
  type TransferStatus,
  TransferWorker,
} from "./transfer_worker.ts";
import type { Permission } from "./permission.ts";
import type { User } from "./user.ts";

export type { DataProtection, SessionState, TransferType } from "./command_context.ts";
export type { FinalReply } from "./path_error_reply.ts";
export type { LogRecord } from "./log_record.ts";
export type { StartTransferOptions, TransferStatus } from "./transfer_worker.ts";

/** How long a closing session may take to flush its last replies. */
const CLOSE_GRACE_MS = 2000;
const NO_DATA_CHANNEL = "bad sequence of commands (use PASV, EPSV, PORT or EPRT first)";

/**
 * One control connection and its state; handlers see it as their {@linkcode CommandContext}.
 * The server makes one per accepted connection and lists the open ones in `server.sessions`.
 *
 * @example Who is connected
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type Session, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const [session]: Session[] = [...server.sessions];
 * assert.equal(session.loginName, "anonymous");
 * assert.equal(session.loggedIn, true);
 * assert.equal(session.remoteAddr.port, client.connection.localAddr.port);
 * ```
 */
export class Session implements CommandContext {
  /** The server this session belongs to. */
  readonly server: Server;
  /** A number unique within the server (for logs). */
  readonly id: number;
  /** Free room for extensions' per-session state (the aioftp tutorial's "connection" values). */
  readonly attributes: Map<string, unknown> = new Map();

  #cwd = "/";
  #transferType: TransferType = "I";
  #restOffset = 0;
  #renameFrom: string | undefined;
  #epsvAll = false;
  #mlstFacts: readonly string[] = [...MLSX_FACTS];
  #hashAlgorithm = "SHA-256";
  #protectionBufferSet = false;
  #dataProtection: DataProtection = "C";

  readonly #control: ControlConnection;
  readonly #dispatcher: Dispatcher;
  readonly #recentStat = new RecentStat();
  readonly #worker: TransferWorker;
  readonly #login: SessionLogin;
  readonly #throttles: SessionThrottles;
  /** The hooks' view of the session; `undefined` when the server has no hooks. */
  readonly #events: SessionEvents | undefined;
  /** Data connections can resume the TLS session of this control connection, and no other. */
  readonly #tlsScope = {};
  readonly #closed: Promise<void>;
  readonly #closer = new AbortController();
  /** Whether the session sent its farewell (a `421`): no reply may follow it. */
  #saidFarewell = false;
  #waitingForCommand = false;
  /** When the session last started to wait for a command with no transfer running. */
  #idleFrom = 0;
  /** Whether the idle timer is set (it is set once and moved on lazily, not per command). */
  #idleArmed = false;
  #resolveClosed!: () => void;
  #forceTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Wraps an accepted control connection; {@linkcode Session.run} serves it. Servers create
   * sessions in `Server.createSession`, which a server subclass overrides to make a subclass
   * of `Session` instead.
   *
   * @example Sessions of one's own class
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { type Conn, Server, Session } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * class TimedSession extends Session {
   *   readonly startedAt = Date.now();
   * }
   * class TimedServer extends Server {
   *   protected override createSession(conn: Conn, id: number): Session {
   *     return new TimedSession(conn, { server: this, id });
   *   }
   * }
   * await using server = new TimedServer();
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * const [session] = server.sessions;
   * assert.ok(session instanceof TimedSession && session.startedAt <= Date.now());
   * ```
   *
   * @param conn The control connection (plain; with implicit TLS, `run` runs the handshake).
   * @param options The owning `server`, and the session's number as `id`.
   */
  constructor(conn: Conn, options: { server: Server; id: number }) {
    const { server, id } = options;
    this.server = server;
    this.id = id;
    const serverOptions = server.options;
    this.#control = new ControlConnection(conn, {
      maxLineLength: serverOptions.maxLineLength,
      replyTimeout: serverOptions.idleTimeout,
      onReplyTimeout: () =>
        this.log("info", "The client took no reply within the idle timeout, closing"),
    });
    this.#worker = new TransferWorker({
      reply: (code, text) => this.#send(code, text),
      log: (message, error) => this.log("debug", message, { error }),
      dataConnectTimeout: serverOptions.dataConnectTimeout,
      dataTimeout: serverOptions.dataTimeout,
    });
    this.#dispatcher = new Dispatcher(this, {
      commands: server.commands,
      transferOpened: async () => {
        await this.#worker.opened;
      },
      dataProtectionMissing: () =>
        this.#dataProtection !== "P" && server.tlsPolicy.dataNeedsTls(this.loginName),
      logCommands: serverOptions.log !== undefined,
      commandStarting: (verb, rule) => this.#recentStat.commandStarting(verb, rule),
      commandEnded: () => this.#recentStat.commandEnded(),
    });
    this.#events = SessionEvents.create(this, {
      hooks: server.hooks,
      commands: server.commands,
      dispatch: (line) => this.#dispatcher.dispatch(line),
      transfers: this.#worker,
    });
    this.#login = new SessionLogin({
      userManager: server.userManager,
      loginContext: () => ({
        remoteAddr: this.remoteAddr,
        secure: this.secure,
        sessionId: id,
        signal: this.signal,
      }),
      events: this.#events,
      log: (level, message, options) => this.log(level, message, options),
    });
    this.#throttles = new SessionThrottles(server);
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /** The client's address. */
  get remoteAddr(): NetAddr {
    return this.#control.remoteAddr;
  }

  /** The server's address of this connection. */
  get localAddr(): NetAddr {
    return this.#control.localAddr;
  }

  /** Whether the control connection runs TLS. */
  get secure(): boolean {
    return this.#control.secure;
  }

  /** The user named by USER (logged in or waiting for PASS). */
  get user(): User | undefined {
    return this.#login.user;
  }

  /** The name sent with the last USER. */
  get loginName(): string | undefined {
    return this.#login.loginName;
  }

  /** Whether the user is logged in. */
  get loggedIn(): boolean {
    return this.#login.loggedIn;
  }

  /** Current directory (absolute virtual path). */
  get cwd(): string {
    return this.#cwd;
  }

  /** Representation type. */
  get transferType(): TransferType {
    return this.#transferType;
  }

  /** REST offset for the next transfer. */
  get restOffset(): number {
    return this.#restOffset;
  }

  /** Source path stored by RNFR. */
  get renameFrom(): string | undefined {
    return this.#renameFrom;
  }

  /** Whether EPSV ALL was received. */
  get epsvAll(): boolean {
    return this.#epsvAll;
  }

  /** The MLSx facts chosen with OPTS MLST. */
  get mlstFacts(): readonly string[] {
    return this.#mlstFacts;
  }

  /** The algorithm HASH uses. */
  get hashAlgorithm(): string {
    return this.#hashAlgorithm;
  }

  /** Failed logins so far in this session. */
  get loginFailures(): number {
    return this.#login.failures;
  }

  /** Whether PBSZ was received. */
  get protectionBufferSet(): boolean {
    return this.#protectionBufferSet;
  }

  /** The protection of the next data connections. */
  get dataProtection(): DataProtection {
    return this.#dataProtection;
  }

  /** Settles when the session has ended and released everything. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Settles at the session's first completed login (never, when none completes). */
  get loginCompleted(): Promise<void> {
    return this.#login.completed;
  }

  /** Whether the session is ending. */
  get closing(): boolean {
    return this.#closer.signal.aborted;
  }

  /** Aborts when the session starts closing (for handlers' long waits). */
  get signal(): AbortSignal {
    return this.#closer.signal;
  }

  /** The file system of the session's user (or the server's). */
  get fileSystem(): FileSystem {
    return this.#login.user?.fileSystem ?? this.server.fileSystem;
  }

  /** The prepared data channel, if PASV/EPSV/PORT/EPRT made one that no transfer took yet. */
  get dataChannel(): DataChannel | undefined {
    return this.#worker.channel;
  }

  /** The running transfer, if any. */
  get transfer(): TransferStatus | undefined {
    return this.#worker.status;
  }

  /** {@inheritDoc CommandContext.sleep} */
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

  /** {@inheritDoc CommandContext.reply} */
  reply(code: number, text: string | readonly string[] = ""): Promise<void> {
    if (this.#saidFarewell) return this.#drop(code);
    this.#events?.observeReply(code, text);
    return this.#send(code, text);
  }

  /** Sends a reply that belongs to no command (the transfer worker's). */
  #send(code: number, text: string | readonly string[]): Promise<void> {
    if (this.#saidFarewell) return this.#drop(code);
    return this.#write(code, text);
  }

  #write(code: number, text: string | readonly string[]): Promise<void> {
    if (this.server.options.log) {
      this.log("debug", `< ${code} ${typeof text === "string" ? text : text.join(" | ")}`);
    }
    return this.#control.reply(code, text);
  }

  /** {@inheritDoc CommandContext.replyLines} */
  replyLines(
    code: number,
    lines: { first: string; body: AsyncIterable<string>; last: string },
  ): Promise<void> {
    if (this.#saidFarewell) return this.#drop(code);
    this.#events?.observeReply(code, lines.first);
    return this.#control.replyLines(
      code,
      lines,
      (error) => this.log("error", "Multi-line reply body failed", { error }),
    );
  }

  /** A reply after the farewell: the client must not read it, and its sender must not fail. */
  #drop(code: number): Promise<void> {
    this.log("debug", `Dropped a ${code} reply sent after the session's farewell`);
    return Promise.resolve();
  }

  /** {@inheritDoc CommandContext.log} */
  log(level: LogRecord["level"], message: string, options: Pick<LogRecord, "error"> = {}): void {
    this.server.options.log?.({ level, message, session: this.id, error: options.error });
  }

  /** {@inheritDoc CommandContext.resolvePath} */
  resolvePath(argument: string): string {
    return resolveVirtualPath(this.#cwd, argument);
  }

  /** {@inheritDoc CommandContext.permissionFor} */
  permissionFor(path: string): Permission | undefined {
    return this.loggedIn ? this.user?.permissionFor(path) : undefined;
  }

  /** {@inheritDoc CommandContext.checkPath} */
  async checkPath(path: string, rule: PathRule): Promise<boolean> {
    return (await this.inspectPath(path, rule)) !== undefined;
  }

  /** {@inheritDoc CommandContext.inspectPath} */
  inspectPath(path: string, rule: PathRule): Promise<{ stat?: FileStat } | undefined> {
    const fileSystem = this.fileSystem;
    const checks: PathCheckContext = {
      user: this.user,
      loggedIn: this.loggedIn,
      fileSystem,
      reply: (code, text) => this.reply(code, text),
      stat: (path) => this.#recentStat.stat(fileSystem, path),
    };
    return inspectPath(checks, path, rule);
  }

  /** {@inheritDoc CommandContext.execute} */
  execute(spec: CommandSpec, command: Pick<CommandRequest, "verb" | "argument">): Promise<void> {
    return this.#dispatcher.execute(spec, command);
  }

  /** {@inheritDoc CommandContext.setUser} */
  async setUser(
    user: User | undefined,
    options: { loggedIn?: boolean; loginName?: string } = {},
  ): Promise<void> {
    await this.#login.setUser(user, options);
    if (user) this.#cwd = user.home;
    this.#throttles.setUser(user);
  }

  /** {@inheritDoc CommandContext.completeLogin} */
  completeLogin(): Promise<string | undefined> {
    return this.#login.complete();
  }

  /** {@inheritDoc CommandContext.countLoginFailure} */
  countLoginFailure(reason: LoginFailureReason): Promise<number> {
    return this.#login.countFailure(reason);
  }

  /** {@inheritDoc CommandContext.allowTransfer} */
  async allowTransfer(transfer: FileTransfer): Promise<boolean> {
    const refusal = await this.#events?.beforeTransfer(transfer);
    if (!refusal) return true;
    await this.reply(refusal.code, refusal.text);
    return false;
  }

  /** {@inheritDoc CommandContext.fileChanged} */
  async fileChanged(change: FileChange): Promise<void> {
    await this.#events?.fileChanged(change);
  }

  /** {@inheritDoc CommandContext.setCwd} */
  setCwd(path: string): void {
    this.#cwd = path;
  }

  /** {@inheritDoc CommandContext.setTransferType} */
  setTransferType(type: TransferType): void {
    this.#transferType = type;
  }

  /** {@inheritDoc CommandContext.setRestOffset} */
  setRestOffset(offset: number): void {
    this.#restOffset = offset;
  }

  /** {@inheritDoc CommandContext.takeRestOffset} */
  takeRestOffset(): number {
    const offset = this.#restOffset;
    this.#restOffset = 0;
    return offset;
  }

  /** {@inheritDoc CommandContext.setRenameFrom} */
  setRenameFrom(path: string | undefined): void {
    this.#renameFrom = path;
  }

  /** {@inheritDoc CommandContext.setEpsvAll} */
  setEpsvAll(): void {
    this.#epsvAll = true;
  }

  /** {@inheritDoc CommandContext.setMlstFacts} */
  setMlstFacts(facts: readonly string[]): void {
    this.#mlstFacts = [...facts];
  }

  /** {@inheritDoc CommandContext.setHashAlgorithm} */
  setHashAlgorithm(algorithm: string): void {
    this.#hashAlgorithm = algorithm;
  }

  /** {@inheritDoc CommandContext.setProtectionBuffer} */
  setProtectionBuffer(): void {
    this.#protectionBufferSet = true;
  }

  /** {@inheritDoc CommandContext.setDataProtection} */
  setDataProtection(level: DataProtection): void {
    this.#dataProtection = level;
  }

  /** {@inheritDoc CommandContext.upgradeToTls} */
  async upgradeToTls(accept?: { code: number; text: string }): Promise<void> {
    this.#closer.signal.throwIfAborted();
    const tls = this.server.tlsPolicy.handshake(this.#tlsScope);
    if (!tls) throw new Error("The server has no TLS certificate");
    const timeout = this.server.options.tlsHandshakeTimeout;
    const signal = deadlineSignal(this.#closer.signal, timeout);
    if (accept && this.server.options.log) this.log("debug", `< ${accept.code} ${accept.text}`);
    await this.#control.upgrade(tls, { accept, signal });
  }

  /** {@inheritDoc CommandContext.setDataChannel} */
  async setDataChannel(channel: DataChannel | undefined): Promise<void> {
    // A command the closing session stopped waiting for must not leave a listener open.
    if (this.closing) await channel?.close();
    else await this.#worker.prepare(channel);
  }

  /** {@inheritDoc CommandContext.preparePassiveChannel} */
  async preparePassiveChannel(): Promise<DataChannel & { readonly addr: NetAddr }> {
    this.#closer.signal.throwIfAborted();
    const { server } = this;
    const timeout = server.options.dataConnectTimeout;
    const channel = await this.#worker.preparePassive(async () => {
      const pooled = await server.portPool.bind(
        (port) => server.network.listen({ hostname: this.localAddr.hostname, port }),
        this.remoteAddr.hostname,
      );
      return new PassiveListener(pooled, {
        acceptPeer: (peer) =>
          server.options.allowForeignDataPeer === true ||
          sameHost(peer.hostname, this.remoteAddr.hostname),
        onRefused: (peer) =>
          this.log("warn", `Refused a data connection from foreign peer ${peer.hostname}`),
      });
    }, {
      onExpired: (port) =>
        this.log("info", `Closed passive port ${port}: no data connection within ${timeout} ms`),
    });
    if (this.closing) {
      // The session ended while the port was bound: nothing may stay listening.
      await this.#worker.close();
      this.#closer.signal.throwIfAborted();
    }
    return channel;
  }

  /** {@inheritDoc CommandContext.readyForTransfer} */
  async readyForTransfer(): Promise<boolean> {
    if (!this.#worker.channel) {
      await this.reply(503, NO_DATA_CHANNEL);
      return false;
    }
    if (this.#worker.status) {
      await this.reply(450, "another transfer is in progress");
      return false;
    }
    return true;
  }

  /**
   * Starts a data transfer as a background worker and returns at once: the worker takes the
   * prepared data channel, waits for the connection (`425 Can't open data connection` after
   * the server's `dataConnectTimeout`), runs the TLS handshake under PROT P, sends
   * `150 <opening>`, runs `options.run` and sends its final reply. ABOR aborts it with `426`
   * (then ABOR's own `226`). The idle timeout is off while it runs. Only one transfer runs at
   * a time: a second gets `450`.
   *
   * @param options What to do with the data connection and what to reply.
   * @returns Settles when the transfer was started or refused (not when it ends).
   */
  async startTransfer(options: StartTransferOptions): Promise<void> {
    // The "data-channel" requirement checked this before the handler ran; a handler without
    // it, or a channel dropped meanwhile (QUIT), gets the reply here.
    if (!this.#worker.channel || this.#worker.status) {
      await this.readyForTransfer();
      await options.discard?.().catch(() => {});
      return;
    }
    const policy = this.server.tlsPolicy;
    const tls = this.#dataProtection === "P" ? policy.handshake(this.#tlsScope) : undefined;
    // The idle timer stays set: when it fires during the transfer it does nothing.
    this.#worker.start({
      tls: tls && { options: tls, requireSessionReuse: policy.requireSessionReuse },
      readThrottles: this.#throttles.forDirection("read"),
      writeThrottles: this.#throttles.forDirection("write"),
      onEnd: options.file && this.#events?.transferEnded(options.file),
    }, options).finally(() => {
      if (this.#waitingForCommand) this.#armIdle();
    });
  }

  /** {@inheritDoc CommandContext.abortTransfer} */
  abortTransfer(): Promise<boolean> {
    return this.#worker.abort();
  }

  /**
   * Ends the session: aborts a running transfer, closes the data channel and, once the replies
   * already written are flushed, the connection. A command still running is not waited for
   * (its handler's `signal` aborts). With a `farewell` (the server's `421`), that reply is
   * sent now and is the last: the replies a handler or the ending transfer send after it are
   * dropped (and resolve). Safe to call from a handler (QUIT) and more than once (only the
   * first call counts); await {@linkcode Session.closed} to know when it is over.
   *
   * @param farewell The session's last reply, e.g. `{ code: 421, text: "server shutting down" }`.
   */
  close(farewell?: FinalReply): void {
    if (this.closing) return;
    if (farewell) {
      this.#write(farewell.code, farewell.text).catch(() => {});
      this.#saidFarewell = true;
    }
    this.#closer.abort(CLOSING);
    this.#disarmIdle();
    void this.#worker.abort();
    if (this.#waitingForCommand) this.#control.cancelRead();
    // A handler stuck on a client that reads nothing must not hold the session open forever.
    this.#forceTimer = setTimeout(() => this.#control.close(), CLOSE_GRACE_MS);
  }

  /**
   * Serves the connection: the TLS handshake on an implicit-TLS server, the greeting, then
   * commands until QUIT, EOF, idle timeout or {@linkcode Session.close}. Servers call it; it
   * never rejects.
   */
  async run(): Promise<void> {
    this.#login.startDeadline(this.server.options.loginTimeout, () => this.#loginTimedOut());
    try {
      if (this.server.tlsPolicy.implicit && !await this.#implicitHandshake()) return;
      const refusal = await this.#events?.connected();
      if (refusal) {
        await this.reply(421, refusal.text);
        return;
      }
      await this.reply(220, this.server.options.welcome.split(/\r?\n/));
      const events = this.#events;
      while (!this.closing) {
        const line = await this.#readLine();
        if (line === null) break;
        if (line === undefined) continue;
        const command = events ? events.dispatch(line) : this.#dispatcher.dispatch(line);
        // A handler that never returns (a user manager that hangs) must not hold the session.
        await abortable(command, this.#closer.signal);
      }
    } catch (error) {
      if (!this.closing) this.log("debug", "Control connection failed", { error });
    } finally {
      await this.#cleanUp();
    }
  }

  /** TLS from the first byte; a client that does not speak it gets no greeting. */
  async #implicitHandshake(): Promise<boolean> {
    try {
      await this.upgradeToTls();
      return true;
    } catch (error) {
      this.log("info", `TLS handshake with ${this.remoteAddr.hostname} failed`, { error });
      return false;
    }
  }

  async #readLine(): Promise<string | null | undefined> {
    this.#waitingForCommand = true;
    this.#armIdle();
    try {
      return await this.#control.readLine();
    } catch (error) {
      if (!(error instanceof LineTooLongError)) throw error;
      await this.reply(500, "command line too long");
      return undefined;
    } finally {
      this.#waitingForCommand = false;
    }
  }

  /**
   * Starts the idle period (the session waits for a command, or a transfer ended while it
   * did). The timer is not reset per command: it is set when none is, and when it fires it
   * does nothing during a command or a transfer, moves itself to the end of the current idle
   * period, or ends the session.
   */
  #armIdle(): void {
    if (this.closing) return;
    this.#idleFrom = performance.now();
    if (!this.#idleArmed) this.#setIdleTimer(this.server.options.idleTimeout);
  }

  #setIdleTimer(ms: number): void {
    const timeout = this.server.options.idleTimeout;
    if (!timeout || !Number.isFinite(timeout)) return;
    this.#idleArmed = true;
    this.#control.armIdle(ms, () => {
      this.#idleArmed = false;
      // Busy: the end of the command (it waits for the next) or of the transfer re-arms.
      if (this.closing || !this.#waitingForCommand || this.#worker.status) return;
      const left = this.#idleFrom + timeout - performance.now();
      if (left > 0) {
        this.#setIdleTimer(left);
        return;
      }
      this.close({ code: 421, text: "idle timeout, closing control connection" });
    });
  }

  #disarmIdle(): void {
    this.#idleArmed = false;
    this.#control.disarmIdle();
  }

  /** Ends a session that has not logged in within the login timeout, however busy it keeps. */
  #loginTimedOut(): void {
    if (this.closing) return;
    const timeout = this.server.options.loginTimeout;
    this.log("info", `No login from ${this.remoteAddr.hostname} within ${timeout} ms, closing`);
    this.close({ code: 421, text: "login timeout, closing control connection" });
  }

  async #cleanUp(): Promise<void> {
    this.#closer.abort(CLOSING);
    this.#disarmIdle();
    this.#recentStat.close();
    await this.#worker.close();
    const user = this.loginName;
    await this.#withinGrace(this.#login.end(), "The logout (notifyLogout, logout hook)");
    this.#throttles.setUser(undefined);
    if (this.#forceTimer === undefined) {
      this.#forceTimer = setTimeout(() => this.#control.close(), CLOSE_GRACE_MS);
    }
    await this.#control.finish();
    clearTimeout(this.#forceTimer);
    this.#control.close();
    if (this.#events) {
      await this.#withinGrace(this.#events.disconnected(user), "The disconnect hook");
    }
    this.log("info", `Session from ${this.remoteAddr.hostname} closed`);
    this.#resolveClosed();
  }

  /**
   * Waits for a step of the session's end, but no longer than the close grace: a user manager
   * or a hook that hangs must not hold the session (and `server.close()`) open. A step that
   * takes longer is logged and left to finish on its own.
   */
  async #withinGrace(step: Promise<void>, what: string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), CLOSE_GRACE_MS);
    });
    const done = step.then(() => false, (error) => {
      this.log("error", `${what} failed`, { error });
      return false;
    });
    try {
      const timedOut = await Promise.race([done, late]);
      if (timedOut) this.log("error", `${what} took over ${CLOSE_GRACE_MS} ms; not waiting for it`);
    } finally {
      clearTimeout(timer);
    }
  }
}
