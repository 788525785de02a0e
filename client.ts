/**
 * The client half of streamftp: an asynchronous FTP client over Web Streams for Deno, Bun and
 * Node. Importing this module registers the running runtime's network adapter.
 *
 * @example Upload a tree, list it, download it back
 * ```ts ignore
 * import { Client } from "./client.ts";
 * await using client = await Client.connect("ftp://user:secret@127.0.0.1:2121/");
 * await client.upload("./site", "www");
 * for await (const { path, info } of client.list("www", { recursive: true })) {
 *   console.log(path, info.type, info.size);
 * }
 * await client.download("www/site", "./copy");
 * ```
 *
 * @example Mirror a remote tree over four connections, logging the dialogue
 * ```ts ignore
 * import { Client } from "./client.ts";
 * await using client = await Client.connect("ftp://user:secret@127.0.0.1:2121/", {
 *   onCommand: (line) => console.log(">", line), // PASS is logged as "PASS ****"
 * });
 * const summary = await client.mirror("www", "./www", { delete: true, parallel: 4 });
 * console.log(summary.transferred, summary.skipped, summary.deleted);
 * ```
 *
 * @example Implicit FTPS
 * ```ts ignore
 * import { Client } from "./client.ts";
 * await using client = await Client.connect("ftps://user:secret@ftp.example.com/");
 * await client.download("report.pdf", ".");
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
  DirectoryTooDeepError,
  ListingTooLargeError,
  TlsError,
  type TlsFailureReason,
  TlsHandshakeError,
  TlsRefusedError,
  TlsSessionReuseError,
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
