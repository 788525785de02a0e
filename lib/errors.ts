/**
 * Error classes that callers of streamftp catch. Each sets `name` and passes `cause` through.
 *
 * @module
 */

import type { Reply } from "./protocol/reply.ts";

/**
 * Base class of every error streamftp throws on purpose: catch it to tell FTP failures from
 * bugs.
 *
 * @example Any FTP failure
 * ```ts
 * import { Client, FtpError } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await assert.rejects(client.size("missing.txt"), FtpError);
 * ```
 */
export class FtpError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FtpError";
  }
}

/**
 * A server replied with a code the caller did not expect.
 *
 * @example A directory that does not exist
 * ```ts
 * import { Client, ReplyError } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const error = await client.cd("nowhere").catch((e) => e);
 * assert.ok(error instanceof ReplyError);
 * assert.equal(error.code, 550);
 * assert.deepEqual(error.expected, ["2xx"]);
 * assert.deepEqual(error.reply.lines, ["path does not exist"]);
 * ```
 */
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

/**
 * The peer sent something that is not valid FTP (a malformed reply, a bad PASV address...).
 *
 * @example A "server" that does not speak FTP
 * ```ts
 * import { Client, ProtocolError } from "@streamftp/streamftp/client";
 * import { nodeNetwork } from "@streamftp/streamftp/adapters/node";
 * import assert from "node:assert/strict";
 *
 * const listener = await nodeNetwork.listen({ hostname: "127.0.0.1", port: 0 });
 * const served = listener.accept().then(async (conn) => {
 *   await conn.writable.getWriter().write(new TextEncoder().encode("hello there\r\n"));
 *   return conn;
 * });
 * await assert.rejects(Client.connect("127.0.0.1", listener.addr.port), ProtocolError);
 * (await served).close();
 * await listener.close();
 * ```
 */
export class ProtocolError extends FtpError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}

/**
 * A command or argument contains CR, LF or NUL and would inject a second command. Nothing is
 * sent, and the client stays usable.
 *
 * @example A file name from a hostile listing
 * ```ts
 * import { Client, InvalidCommandError } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await assert.rejects(client.size("a.txt\r\nDELE b.txt"), InvalidCommandError);
 * assert.equal(await client.pwd(), "/");
 * ```
 */
export class InvalidCommandError extends FtpError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidCommandError";
  }
}

/**
 * The connection closed while an answer was still awaited.
 *
 * @example A server that hangs up before its greeting
 * ```ts
 * import { Client, ConnectionClosedError } from "@streamftp/streamftp/client";
 * import { nodeNetwork } from "@streamftp/streamftp/adapters/node";
 * import assert from "node:assert/strict";
 *
 * const listener = await nodeNetwork.listen({ hostname: "127.0.0.1", port: 0 });
 * listener.accept().then((conn) => conn.close());
 * await assert.rejects(Client.connect("127.0.0.1", listener.addr.port), ConnectionClosedError);
 * await listener.close();
 * ```
 */
export class ConnectionClosedError extends FtpError {
  /** Creates the error. */
  constructor(message = "Connection closed by peer", options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionClosedError";
  }
}

/**
 * An operation did not finish within its time limit.
 *
 * @example A server that accepts but never greets
 * ```ts
 * import { Client, TimeoutError } from "@streamftp/streamftp/client";
 * import { nodeNetwork } from "@streamftp/streamftp/adapters/node";
 * import assert from "node:assert/strict";
 *
 * const listener = await nodeNetwork.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepted = listener.accept();
 * await assert.rejects(
 *   Client.connect("127.0.0.1", listener.addr.port, { connectTimeout: 50 }),
 *   TimeoutError,
 * );
 * (await accepted).close();
 * await listener.close();
 * ```
 */
export class TimeoutError extends FtpError {
  /** Creates the error. */
  constructor(message = "Operation timed out", options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

/**
 * Why a file-system operation failed; the server maps each kind to a reply code (`not-found`
 * to `550`, `no-space` to `452`...).
 *
 * @example Telling a missing file from other failures
 * ```ts
 * import { MemoryFileSystem, PathError, type PathErrorKind } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const fs = new MemoryFileSystem();
 * const kind: PathErrorKind | undefined = await fs.stat("/missing.txt").then(
 *   () => undefined,
 *   (error) => error instanceof PathError ? error.kind : undefined,
 * );
 * assert.equal(kind, "not-found");
 * ```
 */
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

/**
 * Options of {@linkcode PathError}: a message of its own, and the `cause`.
 *
 * @example A storage backend's failure, told in its own words
 * ```ts
 * import { PathError, type PathErrorOptions } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const backendError = new Error("bucket quota exceeded");
 * const options: PathErrorOptions = { message: "Bucket is full", cause: backendError };
 * const error = new PathError("no-space", "/uploads/big.iso", options);
 * assert.equal(error.message, "Bucket is full");
 * assert.equal(error.cause, backendError);
 * ```
 */
export interface PathErrorOptions extends ErrorOptions {
  /** The message (default: the kind and the path, `No such file or directory: "/a.txt"`). */
  message?: string;
}

/**
 * A file-system operation failed. `kind` says why; `path` is the virtual path. A
 * `FileSystem` throws it, and the server turns it into its reply.
 *
 * @example What a file system throws
 * ```ts
 * import { MemoryFileSystem, PathError } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const fs = new MemoryFileSystem();
 * await fs.mkdir("/docs");
 * const error = await fs.mkdir("/docs").catch((e) => e);
 * assert.ok(error instanceof PathError);
 * assert.equal(error.kind, "exists");
 * assert.equal(error.path, "/docs");
 * ```
 *
 * @example Throwing it from a file system of one's own
 * ```ts
 * import { PathError } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * function checkName(path: string): void {
 *   if (path.endsWith("~")) {
 *     const message = `Backup names are refused: "${path}"`;
 *     throw new PathError("invalid-path", path, { message });
 *   }
 * }
 * assert.throws(() => checkName("/notes.txt~"), {
 *   name: "PathError",
 *   kind: "invalid-path",
 *   message: 'Backup names are refused: "/notes.txt~"',
 * });
 * ```
 */
export class PathError extends FtpError {
  /** Why the operation failed. */
  readonly kind: PathErrorKind;
  /** The virtual path the operation was about. */
  readonly path: string;
  /**
   * Creates the error.
   *
   * @param kind Why the operation failed.
   * @param path The virtual path.
   * @param options A message of its own, and the cause.
   */
  constructor(kind: PathErrorKind, path: string, options: PathErrorOptions = {}) {
    // `options` goes on whole: `Error` reads only its `cause`, and only when one was given.
    super(options.message ?? `${describeKind(kind)}: "${path}"`, options);
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
