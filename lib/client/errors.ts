/**
 * Errors only the client raises: a listing that outgrew its cap, a tree deeper than the
 * recursion limit and a checksum that did not match. Everything else uses the shared classes of `lib/errors.ts`.
 *
 * @module
 */

import { FtpError } from "../errors.ts";

/** A directory listing sent more bytes than `maxListingBytes` allows; it was aborted. */
export class ListingTooLargeError extends FtpError {
  /** The directory whose listing was aborted. */
  readonly path: string;
  /** The cap in bytes. */
  readonly maxBytes: number;
  /** Creates the error. */
  constructor(path: string, maxBytes: number, options?: ErrorOptions) {
    super(`Listing of "${path}" exceeds ${maxBytes} bytes`, options);
    this.name = "ListingTooLargeError";
    this.path = path;
    this.maxBytes = maxBytes;
  }
}

/**
 * A recursive `list`, `download` or `remove` reached a directory deeper than
 * `maxRecursionDepth` levels below where it started: the server's tree is looping or hostile.
 */
export class DirectoryTooDeepError extends FtpError {
  /** The directory that was not entered. */
  readonly path: string;
  /** The limit in levels. */
  readonly maxDepth: number;
  /** Creates the error. */
  constructor(path: string, maxDepth: number, options?: ErrorOptions) {
    super(`Cannot descend into "${path}": more than ${maxDepth} levels deep`, options);
    this.name = "DirectoryTooDeepError";
    this.path = path;
    this.maxDepth = maxDepth;
  }
}

/** The server's HASH of a transferred file differs from the local file's. */
export class ChecksumMismatchError extends FtpError {
  /** The remote path. */
  readonly path: string;
  /** The hash algorithm (`"SHA-256"`). */
  readonly algorithm: string;
  /** The local file's digest (lower-case hex). */
  readonly local: string;
  /** The server's digest (lower-case hex). */
  readonly remote: string;
  /** Creates the error. */
  constructor(
    path: string,
    algorithm: string,
    local: string,
    remote: string,
    options?: ErrorOptions,
  ) {
    super(
      `${algorithm} of "${path}" differs: local "${local}", server "${remote}"`,
      options,
    );
    this.name = "ChecksumMismatchError";
    this.path = path;
    this.algorithm = algorithm;
    this.local = local;
    this.remote = remote;
  }
}
