/**
 * One client of the server: a {@linkcode Session} ties together the control connection (which
 * may turn to TLS), the dispatcher, the transfer worker and the session's state, and is the
 * {@linkcode CommandContext} its handlers receive.
 *
 * @module
 */

import { PathError } from "../errors.ts";
import type { FileStat, FileSystem } from "../fs/file_system.ts";
import { resolveVirtualPath } from "../fs/virtual_path.ts";
import { parseCommand } from "../protocol/command.ts";
import type { Conn, NetAddr } from "../socket.ts";
import { deadlineSignal, deferred } from "../stream/abort.ts";
import { LineTooLongError } from "../stream/line_reader.ts";
import { Throttle } from "../stream/throttle.ts";
import type { CommandContext, DataProtection, TransferType } from "./command_context.ts";
import type { CommandSpec, PathRule } from "./command_table.ts";
import { ControlConnection } from "./control_connection.ts";
import type { DataChannel } from "./data_channel.ts";
import { Dispatcher } from "./dispatcher.ts";
import {
  askHook,
  type FileChange,
  type FileTransfer,
  type LoginFailureReason,
  notifyHook,
  type ServerHooks,
  type SessionEvent,
} from "./hooks.ts";
import { MLSX_FACTS } from "./listing_format.ts";
import type { LogRecord } from "./log_record.ts";
import type { FinalReply } from "./path_error_reply.ts";
import type { Server } from "./server.ts";
import {
  type StartTransferOptions,
  type TransferOutcome,
  type TransferStatus,
  TransferWorker,
} from "./transfer_worker.ts";
import { type AccessRight, type Permission, uniformRights } from "./permission.ts";
import type { User } from "./user.ts";

export type { DataProtection, SessionState, TransferType } from "./command_context.ts";
export type { FinalReply } from "./path_error_reply.ts";
export type { LogRecord } from "./log_record.ts";
export type { StartTransferOptions, TransferStatus } from "./transfer_worker.ts";

/** How long a closing session may take to flush its last replies. */
const CLOSE_GRACE_MS = 2000;
const NO_DATA_CHANNEL = "bad sequence of commands (use PASV, EPSV, PORT or EPRT first)";
/** What a hook that throws gets its connection, login or transfer refused with. */
const CONNECT_HOOK_FAILED = {
  code: 421,
  text: "service not available, closing control connection",
};
const LOGIN_HOOK_FAILED = { code: 530, text: "login refused" };
const TRANSFER_HOOK_FAILED = {
  code: 451,
  text: "requested action aborted: local error in processing",
};

/** One control connection and its state; handlers see it as their {@linkcode CommandContext}. */
export class Session implements CommandContext {
  /** The server this session belongs to. */
  readonly server: Server;
  /** A number unique within the server (for logs). */
  readonly id: number;
  /** Free room for extensions' per-session state (the aioftp tutorial's "connection" values). */
  readonly attributes: Map<string, unknown> = new Map();

  #user: User | undefined;
  #loginName: string | undefined;
  #loggedIn = false;
  #cwd = "/";
  #transferType: TransferType = "I";
  #restOffset = 0;
  #renameFrom: string | undefined;
  #epsvAll = false;
  #mlstFacts: readonly string[] = [...MLSX_FACTS];
  #hashAlgorithm = "SHA-256";
  #loginFailures = 0;
  #protectionBufferSet = false;
  #dataProtection: DataProtection = "C";
  /** The first reply of the command a `command` hook observes; -1 when none is observed. */
  #commandCode = -1;
  #commandText = "";
  /** When the session started serving (after an implicit TLS handshake); 0 before. */
  #startedAt = 0;

  readonly #control: ControlConnection;
  readonly #dispatcher: Dispatcher;
  readonly #worker: TransferWorker;
  /** Data connections can resume the TLS session of this control connection, and no other. */
  readonly #tlsScope = {};
  readonly #closed: Promise<void>;
  readonly #closer = new AbortController();
  #dataChannel: DataChannel | undefined;
  #waitingForCommand = false;
  /** When the session last started to wait for a command with no transfer running. */
  #idleFrom = 0;
  /** Whether the idle timer is set (it is set once and moved on lazily, not per command). */
  #idleArmed = false;
  readonly #readThrottle = new Throttle();
  readonly #writeThrottle = new Throttle();
  #userReadThrottle: Throttle | undefined;
  #userWriteThrottle: Throttle | undefined;
  #resolveClosed!: () => void;
  #forceTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #loginCompleted = deferred<void>();
  #loginTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Wraps an accepted control connection; {@linkcode Session.run} serves it. Servers create
   * sessions; there is no need to call this.
   *
   * @param server The owning server.
   * @param conn The control connection (plain; with implicit TLS, `run` runs the handshake).
   * @param id The session number.
   */
  constructor(server: Server, conn: Conn, id: number) {
    this.server = server;
    this.id = id;
    const options = server.options;
    this.#control = new ControlConnection(conn, {
      maxLineLength: options.maxLineLength,
      replyTimeout: options.idleTimeout,
      onReplyTimeout: () =>
        this.log("info", "The client took no reply within the idle timeout, closing"),
    });
    this.#worker = new TransferWorker({
      reply: (code, text) => this.#send(code, text),
      log: (message, error) => this.log("debug", message, error),
      dataConnectTimeout: options.dataConnectTimeout,
      dataTimeout: options.dataTimeout,
    });
    this.#dispatcher = new Dispatcher(this, {
      commands: server.commands,
      transferOpened: async () => {
        await this.#worker.opened;
      },
      dataProtectionMissing: () =>
        this.#dataProtection !== "P" && server.tlsPolicy.dataNeedsTls(this.#loginName),
      logCommands: options.log !== undefined,
    });
    this.#readThrottle.limit = options.readSpeedLimitPerConnection;
    this.#writeThrottle.limit = options.writeSpeedLimitPerConnection;
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
    return this.#user;
  }

  /** The name sent with the last USER. */
  get loginName(): string | undefined {
    return this.#loginName;
  }

  /** Whether the user is logged in. */
  get loggedIn(): boolean {
    return this.#loggedIn;
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
    return this.#loginFailures;
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
    return this.#loginCompleted.promise;
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
    return this.#user?.fileSystem ?? this.server.fileSystem;
  }

  /** The prepared data channel, if PASV/EPSV/PORT/EPRT made one that no transfer took yet. */
  get dataChannel(): DataChannel | undefined {
    return this.#dataChannel;
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
    if (this.#commandCode === 0) this.#observeReply(code, text);
    return this.#send(code, text);
  }

  /** Sends a reply that belongs to no command (the transfer worker's). */
  #send(code: number, text: string | readonly string[]): Promise<void> {
    if (this.server.options.log) {
      this.log("debug", `< ${code} ${typeof text === "string" ? text : text.join(" | ")}`);
    }
    return this.#control.reply(code, text);
  }

  /** {@inheritDoc CommandContext.replyLines} */
  replyLines(
    code: number,
    first: string,
    body: AsyncIterable<string>,
    last: string,
  ): Promise<void> {
    if (this.#commandCode === 0) this.#observeReply(code, first);
    return this.#control.replyLines(
      code,
      { first, body, last },
      (error) => this.log("error", "Multi-line reply body failed", error),
    );
  }

  /** {@inheritDoc CommandContext.log} */
  log(level: LogRecord["level"], message: string, error?: unknown): void {
    this.server.options.log?.({ level, message, session: this.id, error });
  }

  /** {@inheritDoc CommandContext.resolvePath} */
  resolvePath(argument: string): string {
    return resolveVirtualPath(this.#cwd, argument);
  }

  /** {@inheritDoc CommandContext.permissionFor} */
  permissionFor(path: string): Permission | undefined {
    return this.#loggedIn ? this.#user?.permissionFor(path) : undefined;
  }

  /** {@inheritDoc CommandContext.checkPath} */
  async checkPath(path: string, rule: PathRule): Promise<boolean> {
    return (await this.inspectPath(path, rule)) !== undefined;
  }

  /** {@inheritDoc CommandContext.inspectPath} */
  async inspectPath(path: string, rule: PathRule): Promise<{ stat?: FileStat } | undefined> {
    const user = this.#loggedIn ? this.#user : undefined;
    if (!user) {
      await this.reply(550, "permission denied");
      return undefined;
    }
    // A link may lead under another rule: where the rules differ by path, the path it leads to
    // must allow the command too.
    const paths = [path];
    const fs = this.fileSystem;
    if (fs.realPath && !uniformRights(user.permissions)) {
      const real = await fs.realPath(path);
      if (real !== path) paths.push(real);
    }
    const rules = paths.map((p) => user.permissionFor(p));
    const allows = (right: AccessRight) => rules.every((p) => p.allows(right));
    const mayCreate = typeof rule.access === "string"
      ? allows(rule.access)
      : rule.access.some(allows);
    const mayReplace = rule.existing === undefined ? mayCreate : allows(rule.existing);
    if (!mayCreate && !mayReplace) {
      await this.reply(550, "permission denied");
      return undefined;
    }
    if (rule.moves && paths.some((p) => user.permissions.some((q) => q.liesBelow(p)))) {
      await this.reply(550, "permission denied: other rules apply below this path");
      return undefined;
    }
    const must = rule.must;
    if (!must && mayCreate === mayReplace) return {};
    // One stat answers every condition; a path that cannot be looked up (missing, a file in
    // the way, outside the root) does not exist, and only an I/O failure is an error.
    let stat: FileStat | undefined;
    try {
      stat = await this.fileSystem.stat(path);
    } catch (error) {
      if (!(error instanceof PathError) || error.kind === "io") throw error;
    }
    if (!(stat ? mayReplace : mayCreate)) {
      await this.reply(550, stat ? "permission denied: path exists" : "permission denied");
      return undefined;
    }
    let failure: string | undefined;
    if (must === "absent") {
      if (stat) failure = "path already exists";
    } else if (must && !stat) failure = "path does not exist";
    else if (must === "file" && stat?.type !== "file") failure = "path is not a file";
    else if (must === "dir" && stat?.type !== "dir") failure = "path is not a directory";
    if (failure) {
      await this.reply(550, failure);
      return undefined;
    }
    return { stat };
  }

  /** {@inheritDoc CommandContext.execute} */
  execute(spec: CommandSpec, verb: string, argument: string): Promise<void> {
    return this.#dispatcher.execute(spec, verb, argument);
  }

  /** {@inheritDoc CommandContext.setUser} */
  async setUser(user: User | undefined, loggedIn: boolean, loginName?: string): Promise<void> {
    if (this.#user && this.#loggedIn && this.#user !== user) {
      const name = this.#loginName ?? "anonymous";
      await this.#releaseLogin(this.#user);
      const hook = this.server.hooks.logout;
      if (hook) {
        await notifyHook(hook, { ...this.#event(), user: name }, {
          name: "logout",
          log: this.#hookFailed,
        });
      }
    }
    this.#user = user;
    this.#loginName = loginName ?? user?.login;
    this.#loggedIn = user !== undefined && loggedIn;
    if (this.#loggedIn) this.#loggedInOnce();
    if (user) {
      this.#cwd = user.home;
      this.#userReadThrottle = new Throttle(user.readSpeedLimitPerConnection);
      this.#userWriteThrottle = new Throttle(user.writeSpeedLimitPerConnection);
    } else {
      this.#userReadThrottle = this.#userWriteThrottle = undefined;
    }
  }

  /** {@inheritDoc CommandContext.completeLogin} */
  async completeLogin(): Promise<string | undefined> {
    const user = this.#user;
    if (!user) throw new Error("No user to log in: USER comes first");
    const hook = this.server.hooks.login;
    if (hook) {
      const event = {
        ...this.#event(),
        user: this.#loginName ?? "",
        anonymous: user.login === undefined,
      };
      const refusal = await askHook(hook, event, {
        name: "login",
        refusalCode: 530,
        failure: LOGIN_HOOK_FAILED,
        log: this.#hookFailed,
      });
      if (refusal) {
        // The user manager counted the login as complete: its slot goes back.
        await this.#releaseLogin(user);
        return typeof refusal.text === "string" ? refusal.text : refusal.text.join(" ");
      }
    }
    this.#loggedIn = true;
    this.#loginFailures = 0;
    this.#loggedInOnce();
    return undefined;
  }

  /** {@inheritDoc CommandContext.countLoginFailure} */
  async countLoginFailure(reason: LoginFailureReason): Promise<number> {
    const failures = ++this.#loginFailures;
    const hook = this.server.hooks.loginFailed;
    if (hook) {
      await notifyHook(hook, { ...this.#event(), user: this.#loginName ?? "", reason }, {
        name: "loginFailed",
        log: this.#hookFailed,
      });
    }
    return failures;
  }

  /** {@inheritDoc CommandContext.allowTransfer} */
  async allowTransfer(transfer: FileTransfer): Promise<boolean> {
    const hook = this.server.hooks.beforeTransfer;
    if (!hook) return true;
    const event = { ...this.#event(), ...transfer, dataProtection: this.#dataProtection };
    const refusal = await askHook(hook, event, {
      name: "beforeTransfer",
      refusalCode: 550,
      failure: TRANSFER_HOOK_FAILED,
      log: this.#hookFailed,
    });
    if (!refusal) return true;
    await this.reply(refusal.code, refusal.text);
    return false;
  }

  /** {@inheritDoc CommandContext.fileChanged} */
  async fileChanged(change: FileChange): Promise<void> {
    const hook = this.server.hooks[change.action] as
      | ((event: SessionEvent & FileChange) => void | Promise<void>)
      | undefined;
    if (hook) {
      await notifyHook(hook, { ...this.#event(), ...change }, {
        name: change.action,
        log: this.#hookFailed,
      });
    }
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
    const tls = this.server.tlsPolicy.handshake(this.#tlsScope);
    if (!tls) throw new Error("The server has no TLS certificate");
    const timeout = this.server.options.tlsHandshakeTimeout;
    const signal = deadlineSignal(this.#closer.signal, timeout);
    if (accept && this.server.options.log) this.log("debug", `< ${accept.code} ${accept.text}`);
    await this.#control.upgrade(tls, { accept, signal });
  }

  /** {@inheritDoc CommandContext.setDataChannel} */
  async setDataChannel(channel: DataChannel | undefined): Promise<void> {
    const previous = this.#dataChannel;
    this.#dataChannel = channel;
    if (previous && previous !== channel) await previous.close();
  }

  /** {@inheritDoc CommandContext.readyForTransfer} */
  async readyForTransfer(): Promise<boolean> {
    if (!this.#dataChannel) {
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
    const channel = this.#dataChannel;
    // The "data-channel" requirement checked this before the handler ran; a handler without
    // it, or a channel dropped meanwhile (QUIT), gets the reply here.
    if (!channel || this.#worker.status) {
      await this.readyForTransfer();
      await options.discard?.().catch(() => {});
      return;
    }
    this.#dataChannel = undefined;
    const policy = this.server.tlsPolicy;
    const tls = this.#dataProtection === "P" ? policy.handshake(this.#tlsScope) : undefined;
    // The idle timer stays set: when it fires during the transfer it does nothing.
    this.#worker.start({
      channel,
      tls: tls && { options: tls, requireSessionReuse: policy.requireSessionReuse },
      readThrottles: this.#throttles("read"),
      writeThrottles: this.#throttles("write"),
      onEnd: options.file && this.#transferEnded(options.file),
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
   * already written are flushed, the connection. Safe to call from a handler (QUIT) and more
   * than once; await {@linkcode Session.closed} to know when it is over.
   */
  close(): void {
    if (this.closing) return;
    this.#closer.abort();
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
    this.#startLoginDeadline();
    try {
      if (this.server.tlsPolicy.implicit && !await this.#implicitHandshake()) return;
      this.#startedAt = performance.now();
      const refusal = await this.#askConnectHook();
      if (refusal) {
        await this.reply(421, refusal.text);
        return;
      }
      await this.reply(220, this.server.options.welcome.split(/\r?\n/));
      while (!this.closing) {
        const line = await this.#readLine();
        if (line === null) break;
        if (line === undefined) continue;
        const observer = this.server.hooks.command;
        if (observer) await this.#dispatchObserved(line, observer);
        else await this.#dispatcher.dispatch(line);
      }
    } catch (error) {
      if (!this.closing) this.log("debug", "Control connection failed", error);
    } finally {
      await this.#cleanUp();
    }
  }

  /** The event fields every hook gets. */
  #event(): SessionEvent {
    return {
      sessionId: this.id,
      remoteAddr: this.remoteAddr,
      secure: this.secure,
      user: this.#loginName,
    };
  }

  readonly #hookFailed = (message: string, error: unknown): void =>
    this.log("error", message, error);

  /** Tells the user manager that a completed login is over. */
  async #releaseLogin(user: User): Promise<void> {
    const context = { remoteAddr: this.remoteAddr, secure: this.secure, sessionId: this.id };
    await this.server.userManager.notifyLogout(user, context).catch((e) =>
      this.log("error", "User manager failed on logout", e)
    );
  }

  async #askConnectHook(): Promise<FinalReply | undefined> {
    const hook = this.server.hooks.connect;
    if (!hook) return undefined;
    return await askHook(hook, this.#event(), {
      name: "connect",
      refusalCode: 421,
      failure: CONNECT_HOOK_FAILED,
      log: this.#hookFailed,
    });
  }

  /** The transfer worker's `onEnd` for a file transfer: the `transfer` hook, when set. */
  #transferEnded(file: FileTransfer): ((outcome: TransferOutcome) => Promise<void>) | undefined {
    const hook = this.server.hooks.transfer;
    if (!hook) return undefined;
    const dataProtection = this.#dataProtection;
    return (outcome) =>
      notifyHook(hook, {
        ...this.#event(),
        ...file,
        dataProtection,
        ...outcome,
        complete: outcome.code >= 200 && outcome.code < 300,
      }, { name: "transfer", log: this.#hookFailed });
  }

  #observeReply(code: number, text: string | readonly string[]): void {
    this.#commandCode = code;
    this.#commandText = typeof text === "string" ? text : text[0] ?? "";
  }

  /**
   * Runs a command for a `command` hook: the hook gets the command's first reply, or, for a
   * command that started a transfer, the `150` (or what replaced it) once it is out; that wait
   * does not hold up the next command (ABOR).
   */
  async #dispatchObserved(
    line: string,
    hook: NonNullable<ServerHooks["command"]>,
  ): Promise<void> {
    this.#commandCode = 0;
    await this.#dispatcher.dispatch(line);
    const reply = this.#commandCode
      ? { code: this.#commandCode, text: this.#commandText }
      : undefined;
    this.#commandCode = -1;
    const { verb, argument } = parseCommand(line);
    const shown = this.server.commands.get(verb)?.secret ? "****" : argument;
    const notify = ({ code, text }: FinalReply) =>
      notifyHook(hook, {
        ...this.#event(),
        verb,
        argument: shown,
        code,
        text: typeof text === "string" ? text : text[0] ?? "",
      }, { name: "command", log: this.#hookFailed });
    if (reply || !this.#worker.status) {
      await notify(reply ?? { code: 0, text: "" });
      return;
    }
    void this.#worker.opened.then((opened) => opened && notify(opened));
  }

  /** TLS from the first byte; a client that does not speak it gets no greeting. */
  async #implicitHandshake(): Promise<boolean> {
    try {
      await this.upgradeToTls();
      return true;
    } catch (error) {
      this.log("info", `TLS handshake with ${this.remoteAddr.hostname} failed`, error);
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

  /** The throttles with a limit that apply to this session's data in one direction. */
  #throttles(direction: "read" | "write"): Throttle[] {
    const server = this.server;
    const user = this.#user;
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
      this.reply(421, "idle timeout, closing control connection").catch(() => {});
      this.close();
    });
  }

  #disarmIdle(): void {
    this.#idleArmed = false;
    this.#control.disarmIdle();
  }

  /** Ends a session that has not logged in within the login timeout, however busy it keeps. */
  #startLoginDeadline(): void {
    const timeout = this.server.options.loginTimeout;
    if (!timeout || !Number.isFinite(timeout)) return;
    this.#loginTimer = setTimeout(() => {
      if (this.closing) return;
      this.log("info", `No login from ${this.remoteAddr.hostname} within ${timeout} ms, closing`);
      this.reply(421, "login timeout, closing control connection").catch(() => {});
      this.close();
    }, timeout);
  }

  #loggedInOnce(): void {
    clearTimeout(this.#loginTimer);
    this.#loginCompleted.resolve();
  }

  async #cleanUp(): Promise<void> {
    this.#closer.abort();
    clearTimeout(this.#loginTimer);
    this.#disarmIdle();
    await this.#worker.close();
    await this.setDataChannel(undefined).catch(() => {});
    const user = this.#loginName;
    if (this.#user) await this.setUser(undefined, false);
    if (this.#forceTimer === undefined) {
      this.#forceTimer = setTimeout(() => this.#control.close(), CLOSE_GRACE_MS);
    }
    await this.#control.finish();
    clearTimeout(this.#forceTimer);
    this.#control.close();
    const disconnect = this.server.hooks.disconnect;
    if (disconnect && this.#startedAt) {
      const duration = performance.now() - this.#startedAt;
      await notifyHook(disconnect, { ...this.#event(), user, duration }, {
        name: "disconnect",
        log: this.#hookFailed,
      });
    }
    this.log("info", `Session from ${this.remoteAddr.hostname} closed`);
    this.#resolveClosed();
  }
}
