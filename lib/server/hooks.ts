/**
 * Server hooks: {@linkcode ServerHooks}, the functions a server calls on what happens in it
 * (connections, logins, commands, transfers, changes to files), with one typed event each.
 * The server awaits every hook; the "before" ones (`connect`, `login`, `beforeTransfer`) may
 * refuse by returning a {@linkcode HookRefusal}. A hook that throws is logged and, where it
 * could refuse, refuses; the session goes on.
 *
 * @module
 */

import type { NetAddr } from "../socket.ts";
import type { DataProtection } from "./command_context.ts";
import type { FinalReply } from "./path_error_reply.ts";

/**
 * A value or a promise of it: what a hook may return.
 *
 * @example
 * ```ts
 * import type { Awaitable } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const now: Awaitable<number> = 1;
 * const later: Awaitable<number> = Promise.resolve(2);
 * assert.equal(await now + await later, 3);
 * ```
 */
export type Awaitable<T> = T | Promise<T>;

/**
 * What every event of a session carries: the `connect` hook's event, and part of every other.
 *
 * @example Who connects
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server, type SessionEvent } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const connects: SessionEvent[] = [];
 * await using server = new Server({ hooks: { connect: (e) => void connects.push(e) } });
 * await server.start("127.0.0.1", 0);
 * await using _client = await Client.connect("127.0.0.1", server.address.port);
 * assert.equal(connects[0].remoteAddr.hostname, "127.0.0.1");
 * assert.equal(connects[0].secure, false);
 * assert.equal(connects[0].user, undefined); // no USER yet
 * ```
 */
export interface SessionEvent {
  /** The session's number, unique within the server (as in log records). */
  readonly sessionId: number;
  /** The client's address. */
  readonly remoteAddr: NetAddr;
  /** Whether the control connection runs TLS (implicit FTPS, or after AUTH TLS). */
  readonly secure: boolean;
  /** The name sent with the session's last USER, `undefined` before one. */
  readonly user: string | undefined;
}

/**
 * A successful login, before its `230` goes out.
 *
 * @example
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type LoginEvent, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const logins: LoginEvent[] = [];
 * await using server = new Server({ hooks: { login: (e) => void logins.push(e) } });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * assert.equal(logins[0].user, "anonymous");
 * assert.equal(logins[0].anonymous, true);
 * ```
 */
export interface LoginEvent extends SessionEvent {
  /** The login name. */
  readonly user: string;
  /** Whether the account is the anonymous one (a `User` without `login`). */
  readonly anonymous: boolean;
}

/**
 * Why a login failed: the name is no account (or an anonymous name without an anonymous
 * account), the user manager refused the password, the account has all the sessions it may
 * have, or the user manager or a `login` hook refused it otherwise.
 *
 * @example Counting password guesses apart from typos in names
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type LoginFailureReason, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const reasons: LoginFailureReason[] = [];
 * await using server = new Server({
 *   users: [new User({ login: "alice", password: "secret" })],
 *   loginFailureDelay: 0,
 *   hooks: { loginFailed: (e) => void reasons.push(e.reason) },
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await assert.rejects(client.login("alice", "guess"));
 * await assert.rejects(client.login("alcie", "secret"));
 * assert.deepEqual(reasons, ["wrong-password", "unknown-user"]);
 * ```
 */
export type LoginFailureReason = "unknown-user" | "wrong-password" | "user-limit" | "refused";

/**
 * A failed login (its `530` or `421` follows after the server's failure delay).
 *
 * @example
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type LoginFailedEvent, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const failures: LoginFailedEvent[] = [];
 * await using server = new Server({
 *   loginFailureDelay: 0,
 *   hooks: { loginFailed: (e) => void failures.push(e) },
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await assert.rejects(client.login("root", "toor"));
 * assert.equal(failures[0].user, "root");
 * assert.equal(failures[0].reason, "unknown-user");
 * ```
 */
export interface LoginFailedEvent extends SessionEvent {
  /** The name that was tried. */
  readonly user: string;
  /** Why it failed (the client is told only that the login is incorrect). */
  readonly reason: LoginFailureReason;
}

/**
 * A logged-in session no longer is: a new USER, AUTH TLS, or the end of the session.
 *
 * @example
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const logouts: string[] = [];
 * const server = new Server({ hooks: { logout: (e) => void logouts.push(e.user) } });
 * await server.start("127.0.0.1", 0);
 * {
 *   await using client = await Client.connect("127.0.0.1", server.address.port);
 *   await client.login();
 * }
 * await server.close(); // waits for the sessions and their hooks
 * assert.deepEqual(logouts, ["anonymous"]);
 * ```
 */
export interface LogoutEvent extends SessionEvent {
  /** The login name that was logged in. */
  readonly user: string;
}

/**
 * The end of a session whose `connect` hook ran.
 *
 * @example How long sessions last
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type DisconnectEvent, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const ended: DisconnectEvent[] = [];
 * const server = new Server({ hooks: { disconnect: (e) => void ended.push(e) } });
 * await server.start("127.0.0.1", 0);
 * {
 *   await using client = await Client.connect("127.0.0.1", server.address.port);
 *   await client.login();
 * }
 * await server.close(); // waits for the sessions and their hooks
 * assert.equal(ended.length, 1);
 * assert.ok(ended[0].duration >= 0);
 * ```
 */
export interface DisconnectEvent extends SessionEvent {
  /** How long the session lasted, in milliseconds. */
  readonly duration: number;
}

/**
 * A command and its reply.
 *
 * @example A command log
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type CommandEvent, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const commands: CommandEvent[] = [];
 * const server = new Server({
 *   users: [new User({ login: "alice", password: "secret" })],
 *   hooks: { command: (e) => void commands.push(e) },
 * });
 * await server.start("127.0.0.1", 0);
 * {
 *   await using client = await Client.connect("127.0.0.1", server.address.port);
 *   await client.login("alice", "secret");
 * }
 * await server.close(); // waits for the sessions and their hooks
 * const log = commands.map((e) => `${e.verb} ${e.argument} -> ${e.code}`);
 * assert.deepEqual(log.slice(0, 2), ["USER alice -> 331", "PASS **** -> 230"]);
 * ```
 */
export interface CommandEvent extends SessionEvent {
  /** The verb as received (upper case for known verbs). */
  readonly verb: string;
  /** The argument; `"****"` for commands that hide it (PASS). */
  readonly argument: string;
  /**
   * The code of the command's first reply. For a command that starts a transfer it is the
   * `150` (or the reply that replaced it, such as `425`), and the event comes once it is out.
   */
  readonly code: number;
  /** The first line of that reply. */
  readonly text: string;
}

/**
 * What a file transfer moves, and where: part of the `beforeTransfer` and `transfer` events,
 * and what a custom command hands to `CommandContext.allowTransfer`.
 *
 * @example
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type FileTransfer, MemoryFileSystem, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const describe = (t: FileTransfer) => `${t.direction} ${t.path} from ${t.offset}`;
 * const seen: string[] = [];
 * await using server = new Server({
 *   users: [new User()],
 *   fileSystem: new MemoryFileSystem(),
 *   hooks: { beforeTransfer: (e) => void seen.push(describe(e)) },
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
 * assert.deepEqual(seen, ["upload /a.txt from 0"]);
 * ```
 */
export interface FileTransfer {
  /** `"upload"` (STOR, APPE, STOU) or `"download"` (RETR). */
  readonly direction: "upload" | "download";
  /** The file's absolute virtual path. */
  readonly path: string;
  /** Where in the file the transfer starts (REST), 0 for the whole file. */
  readonly offset: number;
  /** Whether the upload appends to the file (APPE). */
  readonly append: boolean;
}

/**
 * A file transfer about to start: nothing is opened yet.
 *
 * @example Uploads only in clear text... or not at all
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { MemoryFileSystem, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({
 *   users: [new User()],
 *   fileSystem: new MemoryFileSystem(),
 *   hooks: {
 *     beforeTransfer(e) {
 *       if (e.direction === "upload" && e.dataProtection !== "P") {
 *         return { code: 521, text: "uploads need PROT P" };
 *       }
 *     },
 *   },
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await assert.rejects(client.uploadStream("a.txt"), { name: "ReplyError", code: 521 });
 * ```
 */
export interface BeforeTransferEvent extends SessionEvent, FileTransfer {
  /** The data connection's protection (PROT): `"P"` for TLS. */
  readonly dataProtection: DataProtection;
}

/**
 * A file transfer that ended, well or not.
 *
 * @example Bytes per user
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { MemoryFileSystem, Server, type TransferEvent, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const transfers: TransferEvent[] = [];
 * await using server = new Server({
 *   users: [new User()],
 *   fileSystem: new MemoryFileSystem(),
 *   hooks: { transfer: (e) => void transfers.push(e) },
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
 * const [upload] = transfers; // reported before the 226, so before the upload resolves
 * assert.equal(upload.bytes, 5);
 * assert.equal(upload.complete, true);
 * assert.equal(upload.code, 226);
 * ```
 */
export interface TransferEvent extends BeforeTransferEvent {
  /** Bytes actually moved on the data connection. */
  readonly bytes: number;
  /** Milliseconds from the start of the transfer to its end. */
  readonly duration: number;
  /** Whether it completed (its final reply is `226`; an aborted or failed one is not). */
  readonly complete: boolean;
  /** The final reply's code (`226`, `426`, `425`, `451`, `552`...). */
  readonly code: number;
}

/**
 * A change to the file tree that succeeded, as a handler reports it
 * (`CommandContext.fileChanged`): a file deleted, a directory made or removed, or a rename.
 *
 * @example One line per change
 * ```ts
 * import type { FileChange } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * function describe(change: FileChange): string {
 *   return change.action === "rename"
 *     ? `rename ${change.from} to ${change.to}`
 *     : `${change.action} ${change.path}`;
 * }
 * assert.equal(describe({ action: "rename", from: "/a", to: "/b" }), "rename /a to /b");
 * assert.equal(describe({ action: "delete", path: "/a" }), "delete /a");
 * ```
 */
export type FileChange =
  | {
    /** What was done: DELE, MKD or RMD. */
    readonly action: "delete" | "mkdir" | "rmdir";
    /** The absolute virtual path. */
    readonly path: string;
  }
  | {
    /** RNFR + RNTO. */
    readonly action: "rename";
    /** The old absolute virtual path. */
    readonly from: string;
    /** The new absolute virtual path. */
    readonly to: string;
  };

/**
 * A file deleted, or a directory made or removed.
 *
 * @example
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { MemoryFileSystem, type PathEvent, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const changes: PathEvent[] = [];
 * const record = (e: PathEvent) => void changes.push(e);
 * await using server = new Server({
 *   users: [new User()],
 *   fileSystem: new MemoryFileSystem(),
 *   hooks: { mkdir: record, rmdir: record, delete: record },
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("docs");
 * await client.rmdir("docs");
 * assert.deepEqual(changes.map((e) => `${e.action} ${e.path}`), ["mkdir /docs", "rmdir /docs"]);
 * ```
 */
export type PathEvent =
  & SessionEvent
  & Extract<FileChange, { action: "delete" | "mkdir" | "rmdir" }>;

/**
 * A file or directory renamed.
 *
 * @example
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { MemoryFileSystem, type RenameEvent, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const renames: RenameEvent[] = [];
 * await using server = new Server({
 *   users: [new User()],
 *   fileSystem: new MemoryFileSystem(),
 *   hooks: { rename: (e) => void renames.push(e) },
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("draft");
 * await client.rename("draft", "final");
 * assert.deepEqual([renames[0].from, renames[0].to], ["/draft", "/final"]);
 * ```
 */
export type RenameEvent = SessionEvent & Extract<FileChange, { action: "rename" }>;

/**
 * What a "before" hook returns to refuse: the reply the client gets. The code defaults to
 * `421` for `connect`, `530` for `login` and `550` for `beforeTransfer`; `connect` always
 * answers `421` and `login` always `530`, with the refusal's text. A code outside 400-599 is
 * replaced by the default.
 *
 * @example No anonymous logins today
 * ```ts
 * import { Client, ReplyError } from "@streamftp/streamftp/client";
 * import { type HookRefusal, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const closed: HookRefusal = { text: "closed for maintenance" };
 * await using server = new Server({
 *   loginFailureDelay: 0,
 *   hooks: { login: (e) => e.anonymous ? closed : undefined },
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * const error = await client.login().catch((e) => e);
 * assert.ok(error instanceof ReplyError);
 * assert.equal(error.code, 530);
 * assert.deepEqual(error.reply.lines, ["closed for maintenance"]);
 * ```
 */
export interface HookRefusal {
  /** The reply code (`552` for "quota exceeded"...). */
  code?: number;
  /** The reply text. */
  text: string;
}

/**
 * The hooks of a server (`ServerOptions.hooks`), each optional, each called with one event and
 * awaited. The "before" hooks may refuse by returning a {@linkcode HookRefusal}; returning
 * nothing allows. A hook that throws is logged at level `"error"`: a `connect` hook's throw
 * refuses the connection (`421`), a `login` hook's the login (`530`), a `beforeTransfer`
 * hook's the transfer (`451`); the others' are ignored.
 *
 * @example A quota and an audit trail
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { MemoryFileSystem, Server, type ServerHooks, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const quota = 8; // bytes per user
 * const used = new Map<string, number>();
 * const audit: string[] = [];
 * const hooks: ServerHooks = {
 *   beforeTransfer(e) {
 *     if (e.direction === "upload" && (used.get(e.user!) ?? 0) >= quota) {
 *       return { code: 552, text: "quota exceeded" };
 *     }
 *   },
 *   transfer(e) {
 *     if (e.direction === "upload") used.set(e.user!, (used.get(e.user!) ?? 0) + e.bytes);
 *   },
 *   delete(e) {
 *     audit.push(`${e.user} deleted ${e.path}`);
 *   },
 * };
 * await using server = new Server({
 *   users: [new User({ login: "alice", password: "secret" })],
 *   fileSystem: new MemoryFileSystem(),
 *   hooks,
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login("alice", "secret");
 * await new Blob(["12345678"]).stream().pipeTo(await client.uploadStream("a.bin"));
 * await assert.rejects(client.uploadStream("b.bin"), { code: 552 });
 * await client.removeFile("a.bin");
 * assert.deepEqual(audit, ["alice deleted /a.bin"]);
 * ```
 */
export interface ServerHooks {
  /** A control connection was accepted; refuse it with `421`. Runs before the greeting. */
  connect?(event: SessionEvent): Awaitable<HookRefusal | void>;
  /** A login succeeded; refuse it with `530` (it then counts as a failed login). */
  login?(event: LoginEvent): Awaitable<HookRefusal | void>;
  /** A login failed. */
  loginFailed?(event: LoginFailedEvent): Awaitable<void>;
  /** A logged-in session logged out. */
  logout?(event: LogoutEvent): Awaitable<void>;
  /** A session ended. */
  disconnect?(event: DisconnectEvent): Awaitable<void>;
  /** A command was answered. */
  command?(event: CommandEvent): Awaitable<void>;
  /**
   * A file transfer is about to start (its path passed the permission checks); refuse it with
   * `552 quota exceeded`, `550`... Nothing is opened until it allows.
   */
  beforeTransfer?(event: BeforeTransferEvent): Awaitable<HookRefusal | void>;
  /**
   * A file transfer that `beforeTransfer` allowed has ended; called before its final reply
   * goes out, so the client's next command sees what the hook did. A transfer whose file could
   * not be opened gets its error reply and no `transfer` event.
   */
  transfer?(event: TransferEvent): Awaitable<void>;
  /** A file was deleted (DELE). */
  delete?(event: PathEvent): Awaitable<void>;
  /** A directory was made (MKD). */
  mkdir?(event: PathEvent): Awaitable<void>;
  /** A directory was removed (RMD). */
  rmdir?(event: PathEvent): Awaitable<void>;
  /** A file or directory was renamed (RNFR + RNTO). */
  rename?(event: RenameEvent): Awaitable<void>;
}

/** How {@linkcode notifyHook} and {@linkcode askHook} report a hook that throws. */
export interface HookCallOptions {
  /** The hook's name, for the log. */
  name: keyof ServerHooks;
  /** Where the failure goes. */
  log(message: string, error: unknown): void;
}

/** How {@linkcode askHook} answers for a hook that refuses or throws. */
export interface AskHookOptions extends HookCallOptions {
  /** The code of a refusal that names none (or an invalid one). */
  refusalCode: number;
  /** The refusal when the hook throws. */
  failure: FinalReply;
}

/**
 * Calls a hook that only listens; its throw is logged, not passed on.
 *
 * @param hook The hook.
 * @param event Its event.
 * @param options Its name and where a failure goes.
 */
export async function notifyHook<E>(
  hook: (event: E) => Awaitable<void>,
  event: E,
  options: HookCallOptions,
): Promise<void> {
  try {
    await hook(event);
  } catch (error) {
    options.log(`The ${options.name} hook failed`, error);
  }
}

/**
 * Calls a hook that may refuse.
 *
 * @param hook The hook.
 * @param event Its event.
 * @param options Its name, the default refusal code, the refusal when it throws, the log.
 * @returns `undefined` when the hook allows, otherwise the reply that refuses.
 */
export async function askHook<E>(
  hook: (event: E) => Awaitable<HookRefusal | void>,
  event: E,
  options: AskHookOptions,
): Promise<FinalReply | undefined> {
  let refusal: HookRefusal | void;
  try {
    refusal = await hook(event);
  } catch (error) {
    options.log(`The ${options.name} hook failed`, error);
    return options.failure;
  }
  if (!refusal) return undefined;
  const code = refusal.code;
  return {
    code: typeof code === "number" && code >= 400 && code <= 599 ? code : options.refusalCode,
    text: typeof refusal.text === "string" && refusal.text ? refusal.text : "refused",
  };
}
