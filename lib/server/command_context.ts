/**
 * What a command handler may see and do: {@linkcode CommandContext}. Handlers get this narrow
 * view of their session (reply, the user and directory, path checks, the data channel, the
 * transfer, and the session's state through explicit setters) instead of the session itself.
 *
 * @module
 */

import type { FileStat, FileSystem } from "../fs/file_system.ts";
import type { NetAddr } from "../socket.ts";
import type { CommandRequest, CommandSpec, PathRule } from "./command_table.ts";
import type { DataChannel } from "./data_channel.ts";
import type { FileChange, FileTransfer, LoginFailureReason } from "./hooks.ts";
import type { LogRecord } from "./log_record.ts";
import type { FinalReply } from "./path_error_reply.ts";
import type { Server } from "./server.ts";
import type { StartTransferOptions, TransferStatus } from "./transfer_worker.ts";
import type { Permission } from "./permission.ts";
import type { User } from "./user.ts";

/**
 * How a transfer's data is represented: `"A"` (ASCII, CRLF line ends) or `"I"` (image).
 *
 * @example A command that names the session's type
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server, type TransferType } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const names: Record<TransferType, string> = { A: "ascii", I: "binary" };
 * await using server = new Server();
 * server.commands.set("XTYP", { handler: (ctx) => ctx.reply(200, names[ctx.transferType]) });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.command("TYPE A", "200");
 * assert.deepEqual((await client.command("XTYP", "200")).lines, ["ascii"]);
 * ```
 */
export type TransferType = "A" | "I";

/**
 * The data-channel protection level of RFC 4217's PROT: `"C"` (clear) or `"P"` (private, TLS).
 *
 * @example How each transfer travelled
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import {
 *   type DataProtection,
 *   MemoryFileSystem,
 *   Server,
 *   User,
 * } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const protections: DataProtection[] = [];
 * await using server = new Server({
 *   users: [new User()],
 *   fileSystem: new MemoryFileSystem(),
 *   hooks: { transfer: (e) => void protections.push(e.dataProtection) },
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
 * assert.deepEqual(protections, ["C"]); // no TLS
 * ```
 */
export type DataProtection = "C" | "P";

/**
 * A session's state, as handlers read it. It changes only through the context's setters.
 *
 * @example A command that describes the session
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server, type SessionState } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const describe = (s: SessionState) => `${s.loginName} in ${s.cwd}, REST ${s.restOffset}`;
 * await using server = new Server();
 * server.commands.set("XWHO", {
 *   requires: ["login"],
 *   handler: (ctx) => ctx.reply(200, describe(ctx)),
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.command("REST 100", "350");
 * assert.deepEqual((await client.command("XWHO", "200")).lines, ["anonymous in /, REST 100"]);
 * ```
 */
export interface SessionState {
  /** The user named by USER (logged in or waiting for PASS). */
  readonly user: User | undefined;
  /** The name sent with the last USER (`undefined` before one). */
  readonly loginName: string | undefined;
  /** Whether the user is logged in. */
  readonly loggedIn: boolean;
  /** Current directory (absolute virtual path). */
  readonly cwd: string;
  /** Representation type (binary by default, where RFC 959 says ASCII: no client relies on it). */
  readonly transferType: TransferType;
  /** REST offset for the next RETR or STOR; the transfer command consumes it. */
  readonly restOffset: number;
  /** Source path stored by RNFR for RNTO. */
  readonly renameFrom: string | undefined;
  /** Whether EPSV ALL was received (PASV, PORT and EPRT are refused from then on). */
  readonly epsvAll: boolean;
  /** The MLSx facts chosen with OPTS MLST. */
  readonly mlstFacts: readonly string[];
  /** The algorithm HASH uses, chosen with OPTS HASH. */
  readonly hashAlgorithm: string;
  /** Failed logins so far in this session. */
  readonly loginFailures: number;
  /** Whether PBSZ was received on the secured control connection (PROT needs it). */
  readonly protectionBufferSet: boolean;
  /** The protection of the next data connections (PROT; `"C"` until PROT P). */
  readonly dataProtection: DataProtection;
}

/**
 * The view of a session that command handlers receive.
 *
 * @example Per-session state in `attributes`
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type CommandContext, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * async function count(ctx: CommandContext): Promise<void> {
 *   const calls = (ctx.attributes.get("calls") as number | undefined ?? 0) + 1;
 *   ctx.attributes.set("calls", calls);
 *   await ctx.reply(200, `call ${calls} from ${ctx.remoteAddr.hostname}`);
 * }
 * await using server = new Server();
 * server.commands.set("XCNT", { handler: count });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.command("XCNT", "200");
 * assert.deepEqual((await client.command("XCNT", "200")).lines, ["call 2 from 127.0.0.1"]);
 * ```
 */
export interface CommandContext extends SessionState {
  /** The server (options, accounts, command tables, passive ports, network). */
  readonly server: Server;
  /** The session's number (for logs). */
  readonly id: number;
  /** The client's address. */
  readonly remoteAddr: NetAddr;
  /** The server's address of this connection. */
  readonly localAddr: NetAddr;
  /** Whether the control connection runs TLS. */
  readonly secure: boolean;
  /** Free room for extensions' per-session state (the aioftp tutorial's "connection" values). */
  readonly attributes: Map<string, unknown>;
  /** The file system of the session's user (or the server's). */
  readonly fileSystem: FileSystem;
  /** The prepared data channel, if PASV/EPSV/PORT/EPRT made one that no transfer took yet. */
  readonly dataChannel: DataChannel | undefined;
  /** The running transfer, if any. */
  readonly transfer: TransferStatus | undefined;
  /** Aborts when the session starts closing (for handlers' long waits). */
  readonly signal: AbortSignal;

  /**
   * Sends a reply. Replies leave in the order of the calls.
   *
   * @param code The reply code.
   * @param text One line or several (multi-line replies are formatted per RFC 959).
   */
  reply(code: number, text?: string | readonly string[]): Promise<void>;
  /**
   * Sends a multi-line reply whose body is produced lazily (a long STAT listing), in batches of
   * about 64 KiB; body lines are indented by one space.
   *
   * @example A listing of the session's attributes
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server();
   * server.commands.set("XATR", {
   *   handler(ctx) {
   *     ctx.attributes.set("theme", "dark");
   *     async function* body() {
   *       for (const [key, value] of ctx.attributes) yield `${key}=${value}`;
   *     }
   *     return ctx.replyLines(211, { first: "Attributes:", body: body(), last: "End" });
   *   },
   * });
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * const reply = await client.command("XATR", "211");
   * assert.deepEqual(reply.lines, ["Attributes:", " theme=dark", "End"]);
   * ```
   *
   * @param code The reply code.
   * @param lines The first line's text, the body lines (produced as they are sent), and the
   * last line's text.
   */
  replyLines(
    code: number,
    lines: { first: string; body: AsyncIterable<string>; last: string },
  ): Promise<void>;
  /**
   * Writes a log record through the server's `log` option, with the session's number.
   *
   * @example Logging a handler's failure
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { type LogRecord, Server } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * const records: LogRecord[] = [];
   * await using server = new Server({ log: (record) => void records.push(record) });
   * server.commands.set("XPING", {
   *   async handler(ctx) {
   *     const error = new Error("backend unreachable");
   *     ctx.log("warn", "XPING: the backend did not answer", { error });
   *     await ctx.reply(451, "backend unreachable");
   *   },
   * });
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.command("XPING", "451");
   * const warning = records.find((r) => r.level === "warn");
   * assert.equal((warning?.error as Error).message, "backend unreachable");
   * ```
   *
   * @param level Severity.
   * @param message What happened.
   * @param options The error, for failures.
   */
  log(level: LogRecord["level"], message: string, options?: Pick<LogRecord, "error">): void;
  /**
   * Waits, but no longer than the session lives.
   *
   * @param ms Milliseconds.
   */
  sleep(ms: number): Promise<void>;
  /**
   * Resolves a path argument against the current directory.
   *
   * @param argument The argument (empty means the current directory).
   * @returns The absolute, normalized virtual path.
   * @throws {PathError} `invalid-path` for a NUL byte.
   */
  resolvePath(argument: string): string;
  /**
   * The permission that decides for a path (nothing is allowed before login).
   *
   * @param path An absolute virtual path.
   */
  permissionFor(path: string): Permission | undefined;
  /**
   * Checks a path against a rule, permission first; on failure it sends the `550` itself.
   *
   * @param path An absolute virtual path.
   * @param rule The right and the condition.
   * @returns `true` when the command may go on.
   */
  checkPath(path: string, rule: PathRule): Promise<boolean>;
  /**
   * Checks a path as {@linkcode CommandContext.checkPath} does (permission first, so that a
   * path the user may not see does not reveal whether it exists), and returns what it found.
   * The dispatcher runs it for a spec's path rule.
   *
   * @param path An absolute virtual path.
   * @param rule The right and the condition.
   * @returns `undefined` when the command may not go on (the `550` was sent); otherwise the
   * path's metadata when the condition needed it (`exists`, `file`, `dir`).
   */
  inspectPath(path: string, rule: PathRule): Promise<{ stat?: FileStat } | undefined>;

  /**
   * Runs a subcommand's spec with the dispatcher's checks (requirements, path rule, replies
   * to errors): how SITE runs its own table.
   *
   * @example A command with subcommands of its own
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { type CommandSpec, Server } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * const subcommands: Record<string, CommandSpec> = {
   *   ECHO: { handler: (ctx, { verb, argument }) => ctx.reply(200, `${verb}: ${argument}`) },
   *   WHOAMI: { requires: ["login"], handler: (ctx) => ctx.reply(200, ctx.loginName) },
   * };
   * await using server = new Server();
   * server.commands.set("XDO", {
   *   async handler(ctx, { argument }) {
   *     const [verb, ...rest] = argument.split(" ");
   *     const spec = subcommands[verb.toUpperCase()];
   *     if (!spec) return ctx.reply(501, "XDO ECHO or XDO WHOAMI");
   *     await ctx.execute(spec, { verb: verb.toUpperCase(), argument: rest.join(" ") });
   *   },
   * });
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * assert.deepEqual((await client.command("XDO echo hi there", "200")).lines, ["ECHO: hi there"]);
   * await client.command("XDO whoami", "530"); // the subcommand's requirement holds
   * ```
   *
   * @param spec The subcommand's spec.
   * @param command The subcommand (upper case) as `verb`, and its `argument`.
   */
  execute(spec: CommandSpec, command: Pick<CommandRequest, "verb" | "argument">): Promise<void>;

  /**
   * Names the user (USER) or logs in or out, installing the user's speed limits; resets the
   * directory to the user's home. Logging a user out tells the user manager and the `logout`
   * hook.
   *
   * @example A login by token, in one command
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * const robot = new User({ login: "robot", password: crypto.randomUUID() });
   * await using server = new Server({ users: [robot] });
   * server.commands.set("XTOKEN", {
   *   async handler(ctx, { argument }) {
   *     if (argument !== "s3cret-token") return ctx.reply(530, "bad token");
   *     await ctx.setUser(robot, { loggedIn: true }); // no PASS, so no login hook either
   *     await ctx.reply(230, "logged in by token");
   *   },
   * });
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.command("XTOKEN s3cret-token", "230");
   * assert.equal(await client.pwd(), "/");
   * assert.equal([...server.sessions][0].loginName, "robot"); // the user's login by default
   * ```
   *
   * @param user The user, or `undefined` (with a `loginName`: a name that will not log in).
   * @param options `loggedIn`: whether the login is complete (default `false`; `true` skips the
   * `login` hook: USER and PASS name the user first and then call
   * {@linkcode CommandContext.completeLogin}). `loginName`: the name sent with USER (default
   * the user's login).
   */
  setUser(
    user: User | undefined,
    options?: { loggedIn?: boolean; loginName?: string },
  ): Promise<void>;
  /**
   * Completes the login of the named user (its password was accepted, or it needs none): the
   * server's `login` hook may still refuse it. Failures are reset once logged in.
   *
   * @returns `undefined` once logged in; the refusal's text when the hook refused (the user
   * manager was told the login is over).
   */
  completeLogin(): Promise<string | undefined>;
  /**
   * Counts one failed login in this session and reports it to the `loginFailed` hook.
   *
   * @param reason Why it failed.
   * @returns The failed logins so far in this session.
   */
  countLoginFailure(reason: LoginFailureReason): Promise<number>;
  /**
   * Asks the server's `beforeTransfer` hook whether a file transfer may start; call it before
   * the file is opened, and give the same `file` to `startTransfer` for the `transfer` hook.
   * When refused, it sends the refusal (`552`, `550`, or `451` when the hook failed) itself.
   *
   * @param file The direction, path and offset.
   * @returns `true` when the transfer may start.
   */
  allowTransfer(file: FileTransfer): Promise<boolean>;
  /**
   * Reports a change to the file tree that succeeded to the server's hooks (`delete`,
   * `mkdir`, `rmdir`, `rename`).
   *
   * @param change What changed.
   */
  fileChanged(change: FileChange): Promise<void>;
  /**
   * Sets the current directory.
   *
   * @param path An absolute virtual path that was checked.
   */
  setCwd(path: string): void;
  /**
   * Sets the representation type.
   *
   * @param type `"A"` or `"I"`.
   */
  setTransferType(type: TransferType): void;
  /**
   * Sets the REST offset for the next transfer.
   *
   * @param offset Bytes to skip.
   */
  setRestOffset(offset: number): void;
  /** Takes the REST offset: the transfer command that passed its checks consumes it. */
  takeRestOffset(): number;
  /**
   * Stores (or clears) the rename source.
   *
   * @param path The RNFR path, or `undefined`.
   */
  setRenameFrom(path: string | undefined): void;
  /** Records EPSV ALL. */
  setEpsvAll(): void;
  /**
   * Chooses the MLSx facts.
   *
   * @param facts Known fact names.
   */
  setMlstFacts(facts: readonly string[]): void;
  /**
   * Chooses the HASH algorithm.
   *
   * @param algorithm A known algorithm name.
   */
  setHashAlgorithm(algorithm: string): void;
  /** Records PBSZ. */
  setProtectionBuffer(): void;
  /**
   * Sets the protection of the next data connections.
   *
   * @param level `"C"` or `"P"`.
   */
  setDataProtection(level: DataProtection): void;
  /**
   * Turns the control connection to TLS: sends `accept` (the `234` to AUTH), then runs the
   * handshake (see `ControlConnection.upgrade`).
   *
   * @param accept The reply that accepts the upgrade; none for implicit TLS.
   * @throws {PipelinedBeforeTlsError} When command bytes wait behind AUTH: nothing was sent
   * and nothing changed.
   */
  upgradeToTls(accept?: { code: number; text: string }): Promise<void>;

  /**
   * Replaces the data channel (closing the previous one).
   *
   * @param channel The new channel, or `undefined` to drop it.
   */
  setDataChannel(channel: DataChannel | undefined): Promise<void>;
  /**
   * Prepares a passive data channel, as PASV and EPSV do, replacing the prepared one: on the
   * session's passive listener when its last transfer ended cleanly (the same port again),
   * else on a new port of the server's range, listening on the control connection's local
   * address; only the client's host may connect. Its `addr.port` goes into the reply.
   *
   * @returns The prepared channel.
   * @throws {FtpError} `NoFreePortError` when no port of the range is free, and
   * `PassiveListenerLimitError` when the client's address holds its share of listeners.
   */
  preparePassiveChannel(): Promise<DataChannel & { readonly addr: NetAddr }>;
  /**
   * Whether a transfer may start now: a data channel is prepared and no transfer runs. When
   * not, it sends the reply itself (`503`, `450`). The `"data-channel"` requirement checks the
   * same before a handler runs; this is for handlers without it.
   */
  readyForTransfer(): Promise<boolean>;
  /**
   * Starts a data transfer as a background worker and returns once it is started or refused
   * (`503`, `450`, as {@linkcode CommandContext.readyForTransfer} would).
   *
   * @param options What to do with the data connection and what to reply.
   */
  startTransfer(options: StartTransferOptions): Promise<void>;
  /**
   * Aborts the running transfer, which replies `426`, and waits for it to end.
   *
   * @returns `true` when a transfer was running.
   */
  abortTransfer(): Promise<boolean>;
  /**
   * Ends the session once the replies written so far are flushed; a command still running is
   * not waited for (its {@linkcode CommandContext.signal} aborts). With a `farewell`, that
   * reply is sent now and is the session's last: replies sent after it are dropped (and
   * resolve). Only the first call counts.
   *
   * @param farewell The session's last reply, e.g. `{ code: 421, text: "closing" }`.
   */
  close(farewell?: FinalReply): void;
}
