/**
 * {@linkcode SessionEvents}: what one session tells the server's hooks (`ServerOptions.hooks`)
 * and asks them: the events built from the session's state, the refusals of the "before"
 * hooks, the observation of each command's first reply, and the logging of hooks that fail.
 * A session makes one only when the server has hooks, so that a server without them pays
 * nothing per command.
 *
 * @module
 */

import type { NetAddr } from "../socket.ts";
import { parseCommand } from "../protocol/command.ts";
import type { DataProtection } from "./command_context.ts";
import type { CommandTable } from "./command_table.ts";
import {
  askHook,
  type FileChange,
  type FileTransfer,
  type LoginFailureReason,
  notifyHook,
  type ServerHooks,
  type SessionEvent,
} from "./hooks.ts";
import type { LogRecord } from "./log_record.ts";
import type { FinalReply } from "./path_error_reply.ts";
import type { TransferOutcome, TransferStatus } from "./transfer_worker.ts";
import type { User } from "./user.ts";

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

/** The session as its events read it (a `Session` is one). */
export interface EventSource {
  /** The session's number. */
  readonly id: number;
  /** The client's address. */
  readonly remoteAddr: NetAddr;
  /** Whether the control connection runs TLS. */
  readonly secure: boolean;
  /** The name sent with the last USER. */
  readonly loginName: string | undefined;
  /** The protection of the next data connections. */
  readonly dataProtection: DataProtection;
  /**
   * Writes a log record (failed hooks are logged at level `"error"`).
   *
   * @param level Severity.
   * @param message What happened.
   * @param options The error.
   */
  log(level: LogRecord["level"], message: string, options?: Pick<LogRecord, "error">): void;
}

/** What a {@linkcode SessionEvents} works with besides its session. */
export interface SessionEventsOptions {
  /** The hooks (read at each event, so a hook replaced later is the one called). */
  hooks: ServerHooks;
  /** The command table, which says whose arguments a `command` event hides. */
  commands: CommandTable;
  /**
   * Runs one command line (the dispatcher).
   *
   * @param line The line as received.
   */
  dispatch(line: string): Promise<void>;
  /** The session's transfers: whether one runs, and when its `150` is out. */
  transfers: {
    readonly status: TransferStatus | undefined;
    readonly opened: Promise<FinalReply | undefined>;
  };
}

/**
 * The hooks' view of one session. Each method calls its hook when the server has one and
 * awaits it; a hook that throws is logged, and where it could refuse, refuses.
 *
 * @example How a session uses it
 * ```ts
 * import { type EventSource, SessionEvents, type SessionEventsOptions } from "./session_events.ts";
 * import { CommandTable } from "./command_table.ts";
 * import assert from "node:assert/strict";
 *
 * const session: EventSource = {
 *   id: 1,
 *   remoteAddr: { hostname: "192.0.2.1", port: 50000, family: "IPv4" },
 *   secure: false,
 *   loginName: undefined,
 *   dataProtection: "C",
 *   log: () => {},
 * };
 * const options: SessionEventsOptions = {
 *   hooks: { connect: (e) => e.secure ? undefined : { text: "TLS only" } },
 *   commands: new CommandTable(),
 *   dispatch: () => Promise.resolve(), // the session's dispatcher
 *   transfers: { status: undefined, opened: Promise.resolve(undefined) }, // its transfer worker
 * };
 * const events = SessionEvents.create(session, options);
 * const refusal = await events?.connected(); // the session then replies 421 with it
 * assert.deepEqual(refusal, { code: 421, text: "TLS only" });
 * assert.equal(SessionEvents.create(session, { ...options, hooks: {} }), undefined);
 * ```
 */
export class SessionEvents {
  readonly #session: EventSource;
  readonly #hooks: ServerHooks;
  readonly #options: SessionEventsOptions;
  /** The first reply of the command a `command` hook observes; -1 when none is observed. */
  #commandCode = -1;
  #commandText = "";
  /** When the session started serving (after an implicit TLS handshake); 0 before. */
  #startedAt = 0;

  /**
   * The events of a session, or `undefined` when the server has no hook at all.
   *
   * @param session The session.
   * @param options The hooks, the command table, the dispatcher and the transfers.
   * @returns The events, or `undefined`.
   */
  static create(
    session: EventSource,
    options: SessionEventsOptions,
  ): SessionEvents | undefined {
    const any = Object.values(options.hooks).some((hook) => hook !== undefined);
    return any ? new SessionEvents(session, options) : undefined;
  }

  /**
   * Creates the events of a session; {@linkcode SessionEvents.create} makes one only when
   * there are hooks.
   *
   * @param session The session.
   * @param options The hooks, the command table, the dispatcher and the transfers.
   */
  constructor(session: EventSource, options: SessionEventsOptions) {
    this.#session = session;
    this.#hooks = options.hooks;
    this.#options = options;
  }

  /**
   * The session starts serving: asks the `connect` hook.
   *
   * @returns The refusal (always answered `421`), or `undefined` to go on.
   */
  async connected(): Promise<FinalReply | undefined> {
    this.#startedAt = performance.now();
    const hook = this.#hooks.connect;
    if (!hook) return undefined;
    return await askHook(hook, this.#event(), {
      name: "connect",
      refusalCode: 421,
      failure: CONNECT_HOOK_FAILED,
      log: this.#hookFailed,
    });
  }

  /**
   * A login is about to complete: asks the `login` hook.
   *
   * @param user The user logging in.
   * @returns The refusal (answered `530`), or `undefined` to go on.
   */
  async login(user: User): Promise<FinalReply | undefined> {
    const hook = this.#hooks.login;
    if (!hook) return undefined;
    const event = {
      ...this.#event(),
      user: this.#session.loginName ?? "",
      anonymous: user.login === undefined,
    };
    return await askHook(hook, event, {
      name: "login",
      refusalCode: 530,
      failure: LOGIN_HOOK_FAILED,
      log: this.#hookFailed,
    });
  }

  /**
   * A login failed: tells the `loginFailed` hook.
   *
   * @param reason Why.
   */
  async loginFailed(reason: LoginFailureReason): Promise<void> {
    const hook = this.#hooks.loginFailed;
    if (!hook) return;
    await notifyHook(hook, { ...this.#event(), user: this.#session.loginName ?? "", reason }, {
      name: "loginFailed",
      log: this.#hookFailed,
    });
  }

  /**
   * A logged-in user logged out: tells the `logout` hook.
   *
   * @param user The login name that was logged in.
   */
  async logout(user: string): Promise<void> {
    const hook = this.#hooks.logout;
    if (!hook) return;
    await notifyHook(hook, { ...this.#event(), user }, { name: "logout", log: this.#hookFailed });
  }

  /**
   * The session ended: tells the `disconnect` hook, when the session got as far as `connect`.
   *
   * @param user The last login name.
   */
  async disconnected(user: string | undefined): Promise<void> {
    const hook = this.#hooks.disconnect;
    if (!hook || !this.#startedAt) return;
    const duration = performance.now() - this.#startedAt;
    await notifyHook(hook, { ...this.#event(), user, duration }, {
      name: "disconnect",
      log: this.#hookFailed,
    });
  }

  /**
   * A file transfer is about to start: asks the `beforeTransfer` hook.
   *
   * @param file The direction, path and offset.
   * @returns The refusal to send, or `undefined` to go on.
   */
  async beforeTransfer(file: FileTransfer): Promise<FinalReply | undefined> {
    const hook = this.#hooks.beforeTransfer;
    if (!hook) return undefined;
    const event = { ...this.#event(), ...file, dataProtection: this.#session.dataProtection };
    return await askHook(hook, event, {
      name: "beforeTransfer",
      refusalCode: 550,
      failure: TRANSFER_HOOK_FAILED,
      log: this.#hookFailed,
    });
  }

  /**
   * The transfer worker's `onEnd` for a file transfer: the `transfer` hook, when there is one.
   *
   * @param file The file the transfer moves.
   * @returns The function the worker calls once the transfer has ended.
   */
  transferEnded(file: FileTransfer): ((outcome: TransferOutcome) => Promise<void>) | undefined {
    const hook = this.#hooks.transfer;
    if (!hook) return undefined;
    const dataProtection = this.#session.dataProtection;
    return (outcome) =>
      notifyHook(hook, {
        ...this.#event(),
        ...file,
        dataProtection,
        ...outcome,
        complete: outcome.code >= 200 && outcome.code < 300,
      }, { name: "transfer", log: this.#hookFailed });
  }

  /**
   * A change to the file tree succeeded: tells its hook (`delete`, `mkdir`, `rmdir`,
   * `rename`).
   *
   * @param change What changed.
   */
  async fileChanged(change: FileChange): Promise<void> {
    const hook = this.#hooks[change.action] as
      | ((event: SessionEvent & FileChange) => void | Promise<void>)
      | undefined;
    if (!hook) return;
    await notifyHook(hook, { ...this.#event(), ...change }, {
      name: change.action,
      log: this.#hookFailed,
    });
  }

  /**
   * A reply of the current command (the session calls it for each): the first one is what a
   * `command` event reports.
   *
   * @param code The reply code.
   * @param text Its text.
   */
  observeReply(code: number, text: string | readonly string[]): void {
    if (this.#commandCode !== 0) return;
    this.#commandCode = code;
    this.#commandText = typeof text === "string" ? text : text[0] ?? "";
  }

  /**
   * Runs a command and tells the `command` hook: the hook gets the command's first reply, or,
   * for a command that started a transfer, the `150` (or what replaced it) once it is out;
   * that wait does not hold up the next command (ABOR).
   *
   * @param line The line as received.
   */
  async dispatch(line: string): Promise<void> {
    const hook = this.#hooks.command;
    if (!hook) return await this.#options.dispatch(line);
    this.#commandCode = 0;
    await this.#options.dispatch(line);
    const reply = this.#commandCode
      ? { code: this.#commandCode, text: this.#commandText }
      : undefined;
    this.#commandCode = -1;
    const { verb, argument } = parseCommand(line);
    const shown = this.#options.commands.get(verb)?.secret ? "****" : argument;
    const notify = ({ code, text }: FinalReply) =>
      notifyHook(hook, {
        ...this.#event(),
        verb,
        argument: shown,
        code,
        text: typeof text === "string" ? text : text[0] ?? "",
      }, { name: "command", log: this.#hookFailed });
    const transfers = this.#options.transfers;
    if (reply || !transfers.status) {
      await notify(reply ?? { code: 0, text: "" });
      return;
    }
    void transfers.opened.then((opened) => opened && notify(opened));
  }

  /** The event fields every hook gets. */
  #event(): SessionEvent {
    const session = this.#session;
    return {
      sessionId: session.id,
      remoteAddr: session.remoteAddr,
      secure: session.secure,
      user: session.loginName,
    };
  }

  readonly #hookFailed = (message: string, error: unknown): void =>
    this.#session.log("error", message, { error });
}
