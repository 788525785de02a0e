/**
 * The client half of streamftp: an asynchronous FTP client over Web Streams for Deno, Bun and
 * Node. Importing this module registers the running runtime's network adapter.
 *
 * @example Upload a tree, list it, download it back
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await mkdir(join(dir, "site/img"), { recursive: true });
 *   await writeFile(join(dir, "site/index.html"), "<h1>hello</h1>");
 *   await writeFile(join(dir, "site/img/logo.svg"), "<svg/>");
 *
 *   await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 *   await server.start("127.0.0.1", 0);
 *   await using client = await Client.connect(`ftp://127.0.0.1:${server.address.port}/`);
 *   await client.upload(join(dir, "site"), "www"); // creates www/site/...
 *   const files: string[] = [];
 *   for await (const { path, info } of client.list("www", { recursive: true })) {
 *     if (info.type === "file") files.push(`${path} ${info.size}`);
 *   }
 *   assert.deepEqual(files.sort(), ["www/site/img/logo.svg 6", "www/site/index.html 14"]);
 *   await client.download("www/site", join(dir, "copy"), { writeInto: true });
 *   assert.equal(await readFile(join(dir, "copy/img/logo.svg"), "utf8"), "<svg/>");
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @example Mirror a remote tree over four connections, logging the dialogue
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User({ login: "user", password: "secret" })] });
 * await server.start("127.0.0.1", 0);
 * const sent: string[] = [];
 * const url = `ftp://user:secret@127.0.0.1:${server.address.port}/`;
 * await using client = await Client.connect(url, {
 *   onCommand: (line) => sent.push(line), // PASS is logged as "PASS ****"
 * });
 * await client.mkdir("www");
 * for (const name of ["a.txt", "b.txt", "c.txt", "d.txt"]) {
 *   await new Blob([name]).stream().pipeTo(await client.uploadStream(`www/${name}`));
 * }
 * const local = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   const first = await client.mirror("www", local, { delete: true, parallel: 4 });
 *   assert.equal(first.transferred, 4);
 *   const again = await client.mirror("www", local, { delete: true, parallel: 4 });
 *   assert.equal(again.skipped, 4); // nothing changed, nothing sent
 *   assert.ok(sent.includes("PASS ****"));
 * } finally {
 *   await rm(local, { recursive: true });
 * }
 * ```
 *
 * @example FTPS: never in clear text once asked for
 * ```ts
 * import { Client, TlsHandshakeError, TlsRefusedError } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server(); // offers no TLS
 * await server.start("127.0.0.1", 0);
 * const { port } = server.address;
 * // Explicit FTPS (AUTH TLS after the greeting): `secure: true`, or an ftpes:// URL.
 * await assert.rejects(
 *   Client.connect("127.0.0.1", port, { secure: true }),
 *   (error) => error instanceof TlsRefusedError && error.command === "AUTH TLS",
 * );
 * // Implicit FTPS (TLS from the first byte, port 990 by default): an ftps:// URL.
 * await assert.rejects(
 *   Client.connect(`ftps://127.0.0.1:${port}/`),
 *   (error) => error instanceof TlsHandshakeError && error.reason === "not-tls",
 * );
 * ```
 *
 * @module
 */

import "./adapters/auto.ts";

export { Client, type Listing, type ListItem } from "./lib/client/client.ts";
export { DataStream, type FinishOptions } from "./lib/client/data_stream.ts";
export type { ActiveCommand, PassiveCommand } from "./lib/client/data_connection.ts";
export {
  ChecksumMismatchError,
  type ChecksumMismatchErrorOptions,
  DirectoryTooDeepError,
  ListingTooLargeError,
  TlsError,
  type TlsFailureReason,
  TlsHandshakeError,
  type TlsHandshakeErrorOptions,
  TlsRefusedError,
  TlsSessionReuseError,
  type TlsSessionReuseErrorOptions,
} from "./lib/client/errors.ts";
export type { ListCommand, ListWarning } from "./lib/client/listing.ts";
export type { LoginCallOptions } from "./lib/client/login.ts";
export type {
  MirrorAction,
  MirrorDeleteAction,
  MirrorMkdirAction,
  MirrorOptions,
  MirrorReason,
  MirrorSkipAction,
  MirrorSummary,
  MirrorTransferAction,
} from "./lib/client/mirror.ts";
export type {
  CallOptions,
  ClientOptions,
  ClientTlsOptions,
  ListOptions,
  LoginOptions,
  MkdirOptions,
  StreamOptions,
  TransferStreamOptions,
} from "./lib/client/options.ts";
export type {
  DownloadOptions,
  TransferOptions,
  TransferProgress,
  TransferSummary,
  UploadOptions,
} from "./lib/client/transfer.ts";
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
export type { ListEntry } from "./lib/protocol/listing/entry.ts";
export type { ExpectedCodes, Reply } from "./lib/protocol/reply.ts";
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
