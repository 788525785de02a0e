/**
 * The server half of streamftp: {@linkcode Server}, its sessions, users and command table, the
 * file-system back-ends and the errors. Importing this module registers the running runtime's
 * network adapter.
 *
 * @example A server with one user on a local directory
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { LocalFileSystem, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdtemp, readFile, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const root = await mkdtemp(join(tmpdir(), "ftp-")); // "/srv/ftp" in real life
 * try {
 *   await using server = new Server({
 *     users: [new User({ login: "alice", password: "secret" })],
 *     fileSystem: new LocalFileSystem(root),
 *   });
 *   await server.start("127.0.0.1", 0); // 2121, or 21; a program then awaits serveForever()
 *   await using client = await Client.connect("127.0.0.1", server.address.port);
 *   await client.login("alice", "secret");
 *   await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
 *   assert.equal(await readFile(join(root, "a.txt"), "utf8"), "hello");
 * } finally {
 *   await rm(root, { recursive: true });
 * }
 * ```
 *
 * @module
 */

import "./adapters/auto_file_access.ts";

export {
  type ResolvedServerOptions,
  Server,
  type ServerOptions,
  type UserThrottles,
} from "./lib/server/server.ts";
export {
  type DataProtection,
  type FinalReply,
  type LogRecord,
  Session,
  type SessionState,
  type StartTransferOptions,
  type TransferStatus,
  type TransferType,
} from "./lib/server/session.ts";
export type { CommandContext } from "./lib/server/command_context.ts";
export { DEFAULT_ANONYMOUS_NAMES, isAnonymousName } from "./lib/server/anonymous_names.ts";
export {
  type ServerTlsOptions,
  type TlsPolicy,
  type TlsRequirement,
  type TlsRequirements,
} from "./lib/server/tls_policy.ts";
export {
  type CommandHandler,
  type CommandRequest,
  type CommandRequirement,
  type CommandSpec,
  CommandTable,
  type PathCondition,
  type PathRule,
  type WhileTransferring,
} from "./lib/server/command_table.ts";
// What a custom data command meets: the prepared channel, and the connection its run gets.
export type { DataChannel } from "./lib/server/data_channel.ts";
export type { DataConnection } from "./lib/server/data_connection.ts";
export {
  type AccessRight,
  Permission,
  type PermissionOptions,
  READ_RIGHTS,
  WRITE_RIGHTS,
} from "./lib/server/permission.ts";
export { User, type UserOptions } from "./lib/server/user.ts";
export {
  type GetUserResult,
  type LoginContext,
  MemoryUserManager,
  type MemoryUserManagerOptions,
  type UserManager,
} from "./lib/server/user_manager.ts";
export { hashPassword, type HashPasswordOptions, verifyPassword } from "./lib/server/password.ts";
export type {
  Awaitable,
  BeforeTransferEvent,
  CommandEvent,
  DisconnectEvent,
  FileChange,
  FileTransfer,
  HookRefusal,
  LoginEvent,
  LoginFailedEvent,
  LoginFailureReason,
  LogoutEvent,
  PathEvent,
  RenameEvent,
  ServerHooks,
  SessionEvent,
  TransferEvent,
} from "./lib/server/hooks.ts";
export { type EventLogEntry, eventLogHooks, type EventLogName } from "./lib/server/event_log.ts";
export type {
  DirEntry,
  FileStat,
  FileSystem,
  FileType,
  // Renamed: the client half has its own MkdirOptions, and mod.ts exports both halves.
  MkdirOptions as FileSystemMkdirOptions,
  OpenReadOptions,
  OpenWriteOptions,
} from "./lib/fs/file_system.ts";
export { MemoryFileSystem, type MemoryFileSystemOptions } from "./lib/fs/memory.ts";
export { LocalFileSystem, type LocalFileSystemOptions } from "./lib/fs/local.ts";
export {
  ConnectionClosedError,
  FtpError,
  InvalidCommandError,
  PathError,
  type PathErrorKind,
  type PathErrorOptions,
  ProtocolError,
  ReplyError,
  TimeoutError,
} from "./lib/errors.ts";
export type { Reply } from "./lib/protocol/reply.ts";
export { Throttle } from "./lib/stream/throttle.ts";
export type {
  Conn,
  ConnectOptions,
  Listener,
  ListenOptions,
  NetAddr,
  Network,
  TlsClientOptions,
  TlsOptions,
  TlsServerOptions,
} from "./lib/socket.ts";
