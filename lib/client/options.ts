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

/** Certificate checks for FTPS (`ClientOptions.tls`). */
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

/** Options of `Client.connect`. */
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
  /** Data connections: the client connects (`"passive"`, the default) or the server (`"active"`). */
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
   * A parser for LIST lines in an unusual format; returns `undefined` for lines it rejects. A
   * line on which it throws is skipped and reported like any line no parser understands.
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
   * @example A protocol log on the console
   * ```ts ignore
   * const client = await Client.connect("ftp://user:secret@127.0.0.1:2121/", {
   *   onCommand: (line) => console.log(">", line), // "> PASS ****"
   *   onReply: (reply) => console.log("<", reply.code, reply.lines.join(" | ")),
   * });
   * ```
   */
  onCommand?: (line: string) => void;
  /**
   * Receives every reply the client reads: the greeting, preliminary (`1xx`) and final
   * replies, including those discarded to keep the exchange in step. A hook that throws is
   * ignored.
   *
   * @example Warnings for refusals
   * ```ts ignore
   * const client = await Client.connect("127.0.0.1", 2121, {
   *   onReply: (reply) => {
   *     if (reply.code >= 400) console.warn(reply.code, reply.lines.join(" "));
   *   },
   * });
   * ```
   */
  onReply?: (reply: Reply) => void;
}

/** Options every call accepts. */
export interface CallOptions {
  /** Cancels the call. The client stays usable: a pending reply is discarded later, and a
   * transfer in progress is aborted with ABOR. */
  signal?: AbortSignal;
}

/**
 * Options of `Client.login`. Every part has a default, so `login()` logs in anonymously.
 *
 * @example
 * ```ts ignore
 * await client.login({ user: "alice", password: "secret", account: "billing" });
 * await client.login("alice", "secret", { account: "billing", signal: AbortSignal.timeout(5000) });
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

/** Options of `Client.getStream`. */
export interface StreamOptions extends CallOptions {
  /** Sends `REST offset` before the command (a resumed transfer). */
  offset?: number;
  /** Transfer type for `TYPE` (default `"I"`). */
  type?: string;
}

/** Options of `Client.downloadStream`, `uploadStream` and `appendStream`. */
export interface TransferStreamOptions extends CallOptions {
  /** Sends `REST offset` first (resume a download, or overwrite an upload from there). */
  offset?: number;
}

/** Options of `Client.list`. */
export interface ListOptions extends CallOptions {
  /** Descend into subdirectories (breadth first; only entries of type `"dir"`). */
  recursive?: boolean;
  /** Use this command instead of trying MLSD and falling back to LIST. */
  rawCommand?: ListCommand;
}

/** Options of `Client.mkdir`. */
export interface MkdirOptions extends CallOptions {
  /** Create missing parents too, and accept an existing directory (like `mkdir -p`). */
  parents?: boolean;
}
