/**
 * An event log built on the server's hooks: {@linkcode eventLogHooks} turns connections,
 * logins, transfers and changes to files into flat {@linkcode EventLogEntry} records (what
 * `serve --log json` prints, one JSON object per line).
 *
 * @module
 */

import type { ServerHooks, SessionEvent, TransferEvent } from "./hooks.ts";

/** The events an {@linkcode EventLogEntry} reports. */
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

/** One event as a flat record, ready for `JSON.stringify`. */
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
 * @example One JSON line per event on stdout
 * ```ts ignore
 * import { eventLogHooks, Server } from "../../server.ts";
 * const server = new Server({
 *   hooks: eventLogHooks((entry) => console.log(JSON.stringify(entry))),
 * });
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
