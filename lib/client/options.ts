/**
 * Options of the client and of its calls.
 *
 * @module
 */

import type { ListEntry } from "../protocol/listing/entry.ts";
import type { Network } from "../socket.ts";
import type { ActiveCommand, PassiveCommand } from "./data_connection.ts";
import type { ListCommand, ListWarning } from "./listing.ts";

/** Options of `Client.connect`. */
export interface ClientOptions {
  /** The socket adapter (default: the one registered for the running runtime). */
  network?: Network;
  /** Cancels connecting (and the login and directory change of an `ftp://` URL). */
  signal?: AbortSignal;
  /** Longest wait for the control connection in milliseconds (default 30000). */
  connectTimeout?: number;
  /**
   * Longest wait for any one read or write on the control or a data connection, in
   * milliseconds: an idle timeout, not a deadline (default: none). When a control-channel wait
   * exceeds it the client closes, as its server stopped answering.
   */
  socketTimeout?: number;
  /** Longest wait for a data connection to open in milliseconds (default 30000). */
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
  /** Download rate limit in bytes per second (changeable later through the client). */
  readSpeedLimit?: number;
  /** Upload rate limit in bytes per second (changeable later through the client). */
  writeSpeedLimit?: number;
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
}

/** Options every call accepts. */
export interface CallOptions {
  /** Cancels the call. The client stays usable: a pending reply is discarded later, and a
   * transfer in progress is aborted with ABOR. */
  signal?: AbortSignal;
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
