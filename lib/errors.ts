/**
 * Error classes that callers of streamftp catch. Each sets `name` and passes `cause` through.
 *
 * @module
 */

import type { Reply } from "./protocol/reply.ts";

/** Base class of every error streamftp throws on purpose. */
export class FtpError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FtpError";
  }
}

/** A server replied with a code the caller did not expect. */
export class ReplyError extends FtpError {
  /** The code patterns that were expected (`"2xx"`, `"226"`, ...). */
  readonly expected: string[];
  /** The reply that arrived instead. */
  readonly reply: Reply;
  /** Creates the error. */
  constructor(expected: string[], reply: Reply, options?: ErrorOptions) {
    super(
      `Expected reply ${expected.join(" or ")} but got ${reply.code} ${
        JSON.stringify(reply.lines.join("\n"))
      }`,
      options,
    );
    this.name = "ReplyError";
    this.expected = expected;
    this.reply = reply;
  }
  /** The received reply code. */
  get code(): number {
    return this.reply.code;
  }
}

/** The peer sent something that is not valid FTP (a malformed reply, a bad PASV address...). */
export class ProtocolError extends FtpError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}

/** A command or argument contains CR, LF or NUL and would inject a second command. */
export class InvalidCommandError extends FtpError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidCommandError";
  }
}

/** The connection closed while an answer was still awaited. */
export class ConnectionClosedError extends FtpError {
  /** Creates the error. */
  constructor(message = "Connection closed by peer", options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionClosedError";
  }
}

/** An operation did not finish within its time limit. */
export class TimeoutError extends FtpError {
  /** Creates the error. */
  constructor(message = "Operation timed out", options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

/** Why a file-system operation failed; the server maps each kind to a reply code. */
export type PathErrorKind =
  | "not-found"
  | "exists"
  | "not-a-directory"
  | "is-a-directory"
  | "not-empty"
  | "permission-denied"
  | "no-space"
  | "invalid-path"
  | "io";

/** A file-system operation failed. `kind` says why; `path` is the virtual path. */
export class PathError extends FtpError {
  /** Why the operation failed. */
  readonly kind: PathErrorKind;
  /** The virtual path the operation was about. */
  readonly path: string;
  /** Creates the error. */
  constructor(kind: PathErrorKind, path: string, message?: string, options?: ErrorOptions) {
    super(message ?? `${describeKind(kind)}: "${path}"`, options);
    this.name = "PathError";
    this.kind = kind;
    this.path = path;
  }
}

function describeKind(kind: PathErrorKind): string {
  switch (kind) {
    case "not-found":
      return "No such file or directory";
    case "exists":
      return "Path already exists";
    case "not-a-directory":
      return "Not a directory";
    case "is-a-directory":
      return "Is a directory";
    case "not-empty":
      return "Directory not empty";
    case "permission-denied":
      return "Permission denied";
    case "no-space":
      return "No space left on device";
    case "invalid-path":
      return "Invalid path";
    case "io":
      return "Input/output error";
  }
}
