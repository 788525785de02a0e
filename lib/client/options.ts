/**
 * Options of the client and of its calls.
 *
 * @module
 */

import type { ListEntry } from "../protocol/listing/entry.ts";
import type { Reply } from "../protocol/reply.ts";
import type { Network } from "../socket.ts";
import type { ActiveCommand, PassiveCommand } from "./data_connection.ts";
import type { ListCommand, ListWarning } from "./listing.ts";

/**
 * Certificate checks for FTPS (`ClientOptions.tls`).
 *
 * @example Trusting a private authority
 * ```ts
 * import {
 *   Client,
 *   type ClientTlsOptions,
 *   TlsRefusedError,
 * } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * // A private authority's PEM certificate, read from a file: `await readFile("ca.pem", "utf8")`.
 * const tls: ClientTlsOptions = { caCerts: ["<PEM certificate>"], serverName: "ftp.example.com" };
 * await using server = new Server(); // offers no TLS: refused before any certificate is checked
 * await server.start("127.0.0.1", 0);
 * await assert.rejects(
 *   Client.connect("127.0.0.1", server.address.port, { secure: true, tls }),
 *   TlsRefusedError,
 * );
 * ```
 */
export interface ClientTlsOptions {
  /** PEM certificates of authorities to trust besides the runtime's own. */
  caCerts?: string[];
  /**
   * Whether to refuse a server whose certificate cannot be verified (default `true`). Only an
   * explicit `false` turns verification off; that is for tests and closed networks only.
   */
  rejectUnauthorized?: boolean;
  /**
   * The name the server's certificate must carry (and SNI sends); default: the host connected
   * to. Data connections are checked against it too, not against the address they go to.
   */
  serverName?: string;
}

/**
 * Options of `Client.connect`.
 *
 * @example Timeouts, data connections and limits
 * ```ts
 * import { Client, type ClientOptions } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * const options: ClientOptions = {
 *   connectTimeout: 5_000,
 *   socketTimeout: 10_000, // a server silent for 10 s is given up on
 *   mode: "passive",
 *   passiveCommands: ["EPSV"], // no PASV fallback
 *   downloadLimit: 1024 * 1024, // bytes per second
 *   maxRecursionDepth: 16,
 * };
 * await using client = await Client.connect("127.0.0.1", server.address.port, options);
 * await client.login();
 * await client.mkdir("a/b", { parents: true });
 * assert.equal((await client.listAll("", { recursive: true })).length, 2);
 * ```
 */
export interface ClientOptions {
  /**
   * FTPS. `true` or `"explicit"`: after the greeting the client sends `AUTH TLS` and upgrades
   * the control connection (RFC 4217); a server that refuses fails the connect with
   * `TlsRefusedError`, the client never goes on in clear text. `"implicit"`: TLS from the first
   * byte (the default port is then 990). Either way, data connections are protected after
   * login (`PBSZ 0`, `PROT P`), resuming the control connection's TLS session where the
   * runtime can, and certificates are verified (see `tls`). An `ftps://` URL means
   * `"implicit"`, an `ftpes://` URL `"explicit"` (`true` then follows the URL); `false`, or the
   * other mode, with such a URL is a `TypeError`. Default: plain FTP. Data connections in
   * clear, should a caller want them, take an explicit `client.command("PROT C", "2xx")`.
   */
  secure?: boolean | "explicit" | "implicit";
  /** Certificate checks for `secure` connections (given without `secure`, a `TypeError`). */
  tls?: ClientTlsOptions;
  /** The socket adapter (default: the one registered for the running runtime). */
  network?: Network;
  /** Cancels connecting (and the login and directory change of an `ftp://` URL). */
  signal?: AbortSignal;
  /**
   * Longest wait for the control connection in milliseconds, the greeting and (FTPS) the TLS
   * handshake included (default 30000).
   */
  connectTimeout?: number;
  /**
   * Longest wait for any one read or write on the control or a data connection, in
   * milliseconds: an idle timeout, not a deadline (default: none). When a control-channel wait
   * exceeds it the client closes, as its server stopped answering.
   */
  socketTimeout?: number;
  /**
   * Longest wait for a data connection to open in milliseconds (default 30000); under FTPS
   * the data connection's TLS handshake gets as long again.
   */
  dataConnectTimeout?: number;
  /**
   * Data connections: the client connects (`"passive"`, the default) or the server
   * (`"active"`).
   */
  mode?: "passive" | "active";
  /** Passive commands in the order to try (default `["EPSV", "PASV"]`). */
  passiveCommands?: readonly PassiveCommand[];
  /** Active commands in the order to try (default `["EPRT", "PORT"]`; PORT only on IPv4). */
  activeCommands?: readonly ActiveCommand[];
  /**
   * Connect to the host a PASV reply names even when it differs from the control connection's
   * peer (default `false`: the port is used with the control peer's address, which defeats
   * FTP bounce and data redirection).
   */
  allowForeignPassiveHost?: boolean;
  /**
   * Download rate limit in bytes per second (changeable later through `client.downloadLimit`).
   * The extra sessions of a parallel transfer share it.
   */
  downloadLimit?: number;
  /**
   * Upload rate limit in bytes per second (changeable later through `client.uploadLimit`). The
   * extra sessions of a parallel transfer share it.
   */
  uploadLimit?: number;
  /**
   * A parser for LIST lines in an unusual format; returns `undefined` for lines it rejects.
   * Throwing rejects a line too: one that no built-in parser understands either is then
   * skipped and reported with what it threw.
   */
  parseListLine?: (line: string) => ListEntry | undefined;
  /** Whether `parseListLine` runs before the built-in parsers (default `true`). */
  parseListLineFirst?: boolean;
  /** Receives listing lines that no parser understood (they are skipped). */
  onListWarning?: (warning: ListWarning) => void;
  /** Largest accepted listing of one directory in bytes (default 64 MiB). */
  maxListingBytes?: number;
  /**
   * How many directory levels below the starting directory a recursive `list`, `download` or
   * `remove` descends (default 64). It is a guard against a server whose tree never ends (a
   * `loop -> .` link listed as a directory), not a filter: reaching a deeper directory fails
   * with `DirectoryTooDeepError`, so a result is never silently incomplete.
   */
  maxRecursionDepth?: number;
  /**
   * Largest control-channel reply in bytes (default 1 MiB). A bigger one fails with a
   * `ProtocolError` and closes the connection, which cannot be brought back in step.
   */
  maxReplyBytes?: number;
  /**
   * Receives every command line the client sends, without CRLF, as it is sent; the argument of
   * `PASS` and `ACCT` is replaced by `****`. The extra sessions of a parallel transfer report
   * here too. A hook that throws is ignored.
   *
   * @example A protocol log
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User({ login: "user", password: "secret" })] });
   * await server.start("127.0.0.1", 0);
   * const log: string[] = [];
   * const url = `ftp://user:secret@127.0.0.1:${server.address.port}/`;
   * await using client = await Client.connect(url, {
   *   onCommand: (line) => log.push(`> ${line}`),
   *   onReply: (reply) => log.push(`< ${reply.code}`),
   * });
   * assert.deepEqual(log, ["< 220", "> USER user", "< 331", "> PASS ****", "< 230"]);
   * ```
   */
  onCommand?: (line: string) => void;
  /**
   * Receives every reply the client reads: the greeting, preliminary (`1xx`) and final
   * replies, including those discarded to keep the exchange in step. A hook that throws is
   * ignored.
   *
   * @example Noting refusals
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server();
   * await server.start("127.0.0.1", 0);
   * const refusals: number[] = [];
   * await using client = await Client.connect("127.0.0.1", server.address.port, {
   *   onReply: (reply) => {
   *     if (reply.code >= 400) refusals.push(reply.code);
   *   },
   * });
   * await client.login();
   * assert.equal(await client.exists("missing.txt"), false);
   * assert.deepEqual(refusals, [550]);
   * ```
   */
  onReply?: (reply: Reply) => void;
}

/**
 * Options every call accepts.
 *
 * @example Cancelling, and a time limit
 * ```ts
 * import { Client, type CallOptions } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const cancelled: CallOptions = { signal: AbortSignal.abort() };
 * await assert.rejects(client.pwd(cancelled), { name: "AbortError" });
 * const bounded: CallOptions = { signal: AbortSignal.timeout(5_000) };
 * assert.equal(await client.pwd(bounded), "/"); // the client stays usable
 * ```
 */
export interface CallOptions {
  /** Cancels the call. The client stays usable: a pending reply is discarded later, and a
   * transfer in progress is aborted with ABOR. */
  signal?: AbortSignal;
}

/**
 * Options of `Client.login`. Every part has a default, so `login()` logs in anonymously.
 *
 * @example
 * ```ts
 * import { Client, type LoginOptions } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 *
 * await using server = new Server({ users: [new User({ login: "alice", password: "secret" })] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * const options: LoginOptions = {
 *   user: "alice",
 *   password: "secret",
 *   account: "billing", // sent only when the server asks for one (332)
 *   signal: AbortSignal.timeout(5000),
 * };
 * await client.login(options);
 * ```
 */
export interface LoginOptions extends CallOptions {
  /** User name (default `"anonymous"`). */
  user?: string;
  /** Password, sent when the server asks for one (`331`; default `"anon@"`). */
  password?: string;
  /** Account, sent when the server asks for one (`332`; default `""`). */
  account?: string;
}

/**
 * Options of `Client.getStream`.
 *
 * @example Resuming a download by hand
 * ```ts
 * import { Client, type StreamOptions } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await new Blob(["hello world"]).stream().pipeTo(await client.uploadStream("a.txt"));
 * const options: StreamOptions = { offset: 6, type: "I" }; // TYPE I, REST 6, RETR
 * const stream = await client.getStream("RETR a.txt", "1xx", options);
 * assert.equal(await new Response(stream.readable).text(), "world");
 * await stream.finish();
 * ```
 */
export interface StreamOptions extends CallOptions {
  /** Sends `REST offset` before the command (a resumed transfer). */
  offset?: number;
  /** Transfer type for `TYPE` (default `"I"`). */
  type?: string;
}

/**
 * Options of `Client.downloadStream`, `uploadStream` and `appendStream`.
 *
 * @example Resuming an upload
 * ```ts
 * import { Client, type TransferStreamOptions } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
 * const resume: TransferStreamOptions = { offset: 5 }; // the server has 5 bytes already
 * await new Blob([" world"]).stream().pipeTo(await client.uploadStream("a.txt", resume));
 * assert.equal(await new Response(await client.downloadStream("a.txt")).text(), "hello world");
 * ```
 */
export interface TransferStreamOptions extends CallOptions {
  /** Sends `REST offset` first (resume a download, or overwrite an upload from there). */
  offset?: number;
}

/**
 * Options of `Client.list`.
 *
 * @example
 * ```ts
 * import { Client, type ListOptions } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("a/b", { parents: true });
 * const options: ListOptions = { recursive: true, rawCommand: "LIST" }; // LIST, not MLSD
 * const paths = (await client.listAll("", options)).map((item) => item.path);
 * assert.deepEqual(paths, ["a", "a/b"]);
 * ```
 */
export interface ListOptions extends CallOptions {
  /** Descend into subdirectories (breadth first; only entries of type `"dir"`). */
  recursive?: boolean;
  /** Use this command instead of trying MLSD and falling back to LIST. */
  rawCommand?: ListCommand;
}

/**
 * Options of `Client.mkdir`.
 *
 * @example Like `mkdir -p`
 * ```ts
 * import { Client, type MkdirOptions } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const options: MkdirOptions = { parents: true };
 * await client.mkdir("www/img/icons", options);
 * await client.mkdir("www/img", options); // exists: fine
 * assert.equal(await client.isDir("www/img/icons"), true);
 * ```
 */
export interface MkdirOptions extends CallOptions {
  /** Create missing parents too, and accept an existing directory (like `mkdir -p`). */
  parents?: boolean;
}
