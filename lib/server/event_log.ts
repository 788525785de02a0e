/**
 * An event log built on the server's hooks: {@linkcode eventLogHooks} turns connections,
 * logins, transfers and changes to files into flat {@linkcode EventLogEntry} records (what
 * `serve --log json` prints, one JSON object per line).
 *
 * @module
 */

import type { ServerHooks, SessionEvent, TransferEvent } from "./hooks.ts";

/**
 * The events an {@linkcode EventLogEntry} reports.
 *
 * @example Only the events that change files
 * ```ts
 * import { type EventLogName, eventLogHooks, Server } from "@streamftp/streamftp/server";
 *
 * const changes = new Set<EventLogName>(["upload", "delete", "rename", "mkdir", "rmdir"]);
 * const hooks = eventLogHooks((entry) => {
 *   if (changes.has(entry.event)) console.log(JSON.stringify(entry));
 * });
 * await using _server = new Server({ hooks });
 * ```
 */
export type EventLogName =
  | "connect"
  | "login"
  | "login-failed"
  | "logout"
  | "disconnect"
  | "upload"
  | "download"
  | "delete"
  | "rename"
  | "mkdir"
  | "rmdir";

/**
 * One event as a flat record, ready for `JSON.stringify`.
 *
 * @example What a session leaves in the log
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type EventLogEntry, eventLogHooks, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const entries: EventLogEntry[] = [];
 * const server = new Server({ hooks: eventLogHooks((entry) => void entries.push(entry)) });
 * await server.start("127.0.0.1", 0);
 * {
 *   await using client = await Client.connect("127.0.0.1", server.address.port);
 *   await client.login();
 * }
 * await server.close(); // waits for the sessions and their hooks
 * assert.deepEqual(entries.map((e) => e.event), ["connect", "login", "logout", "disconnect"]);
 * assert.equal(entries[1].user, "anonymous");
 * assert.equal(entries[1].ip, "127.0.0.1");
 * ```
 */
export interface EventLogEntry {
  /** When it happened (ISO 8601, UTC). */
  time: string;
  /** What happened. */
  event: EventLogName;
  /** The session's number. */
  session: number;
  /** The client's IP address. */
  ip: string;
  /** The login name (tried, for `login-failed`), `null` before USER. */
  user: string | null;
  /** Whether the control connection runs TLS. */
  secure: boolean;
  /** The file or directory (the new name for `rename`). */
  path?: string;
  /** The old name (`rename`). */
  from?: string;
  /** Bytes moved (`upload`, `download`). */
  bytes?: number;
  /** Whether the transfer completed (`upload`, `download`). */
  complete?: boolean;
  /** Milliseconds the transfer (or, for `disconnect`, the session) took. */
  ms?: number;
  /** The transfer's final reply code (`upload`, `download`). */
  code?: number;
  /** Why the login failed (`login-failed`). */
  reason?: string;
}

/**
 * Hooks that report every connection, login, logout, transfer and change to files as an
 * {@linkcode EventLogEntry}. Spread them into your own hooks to add more (`{ ...eventLogHooks(w),
 * beforeTransfer }`), keeping in mind that a key of yours replaces theirs.
 *
 * @example One JSON line per event, plus a hook of your own
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { eventLogHooks, MemoryFileSystem, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * await using server = new Server({
 *   users: [new User()],
 *   fileSystem: new MemoryFileSystem(),
 *   hooks: {
 *     ...eventLogHooks((entry) => void lines.push(JSON.stringify(entry))),
 *     beforeTransfer: (e) => e.path.endsWith(".exe") ? { text: "no programs" } : undefined,
 *   },
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
 * await assert.rejects(client.uploadStream("setup.exe"), { code: 550 });
 * const upload = JSON.parse(lines.find((line) => line.includes('"upload"'))!);
 * assert.equal(upload.path, "/a.txt");
 * assert.equal(upload.bytes, 5);
 * ```
 *
 * @param write Receives each entry, in the order the events happen within a session; it may
 * return a promise, which the server awaits.
 * @returns The hooks to give `ServerOptions.hooks`.
 */
export function eventLogHooks(
  write: (entry: EventLogEntry) => void | Promise<void>,
): ServerHooks {
  const emit = (event: EventLogName, from: SessionEvent, extra?: Partial<EventLogEntry>) =>
    write({
      time: new Date().toISOString(),
      event,
      session: from.sessionId,
      ip: from.remoteAddr.hostname,
      user: from.user ?? null,
      secure: from.secure,
      ...extra,
    });
  const transfer = (e: TransferEvent) =>
    emit(e.direction, e, {
      path: e.path,
      bytes: e.bytes,
      complete: e.complete,
      ms: Math.round(e.duration),
      code: e.code,
    });
  return {
    connect: (e) => emit("connect", e),
    login: (e) => emit("login", e),
    loginFailed: (e) => emit("login-failed", e, { reason: e.reason }),
    logout: (e) => emit("logout", e),
    disconnect: (e) => emit("disconnect", e, { ms: Math.round(e.duration) }),
    transfer,
    delete: (e) => emit("delete", e, { path: e.path }),
    mkdir: (e) => emit("mkdir", e, { path: e.path }),
    rmdir: (e) => emit("rmdir", e, { path: e.path }),
    rename: (e) => emit("rename", e, { path: e.to, from: e.from }),
  };
}
