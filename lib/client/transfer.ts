/**
 * `Client.upload` and `Client.download`: whether the source is a file or a tree, where the
 * destination is (nested or `writeInto`), and the options and results of both. The work is
 * done by the single-file transfers of `file_transfer.ts` and the tree operations of
 * `tree.ts`.
 *
 * @module
 */

import { basename, join } from "node:path";
import { PathError, ReplyError } from "../errors.ts";
import type { ListEntry } from "../protocol/listing/entry.ts";
import { matchesCode } from "../protocol/reply.ts";
import {
  downloadFile,
  newSummary,
  NOT_FOUND,
  ProgressTracker,
  refusedTransfer,
  uploadFile,
} from "./file_transfer.ts";
import { statLocal } from "./local_file.ts";
import type { CallOptions } from "./options.ts";
import type { RemoteFiles } from "./remote_files.ts";
import { isPlainName, joinRemote, splitRemote } from "./remote_path.ts";
import type { OpenSibling } from "./session_pool.ts";
import { downloadTree, unsafeName, uploadTree } from "./tree.ts";

/** A progress report, sent as bytes move. */
export interface TransferProgress {
  /** The remote file. */
  remotePath: string;
  /** The local file. */
  localPath: string;
  /** Bytes of this file done, a resumed part included. */
  bytes: number;
  /** This file's size, when known. */
  total?: number;
  /** Bytes of all files done. */
  overallBytes: number;
  /** Size of all files, when known. */
  overallTotal?: number;
}

/** Options of `Client.upload` and `Client.download`. */
export interface TransferOptions extends CallOptions {
  /** The destination is the target itself instead of the directory to put the source in. */
  writeInto?: boolean;
  /**
   * Continue interrupted transfers: skip files whose target has the same size, and send only
   * the missing tail of shorter ones (REST, or APPE when the server refuses REST on upload).
   */
  resume?: boolean;
  /**
   * After each file, compare the local digest with the server's `HASH`, using the strongest
   * algorithm its FEAT offers among SHA-512, SHA-256, SHA-1 and MD5 (silently skipped when it
   * offers none of them).
   */
  verify?: boolean;
  /** Receives progress reports. */
  onProgress?: (progress: TransferProgress) => void;
  /**
   * For a tree: how many sessions may transfer its files at once, the client's own included
   * (default 1). The extra sessions are opened like the client (same server, TLS settings,
   * login and working directory) once the directories exist, share its rate limits, and are
   * closed at the end; one the server refuses (a connection limit) leaves fewer to do the
   * work. The first failing file aborts the others. A single file ignores it.
   *
   * @example Four connections for a tree of many small files
   * ```ts ignore
   * await client.upload("./site", "www", { parallel: 4 });
   * ```
   */
  parallel?: number;
}

/** Options of `Client.upload`. */
export type UploadOptions = TransferOptions;
/** Options of `Client.download`. */
export type DownloadOptions = TransferOptions;

/** What a transfer did. */
export interface TransferSummary {
  /** Files transferred (fully or resumed). */
  files: number;
  /** Files skipped because their target was already complete (`resume`). */
  skipped: number;
  /** Bytes transferred. */
  bytes: number;
  /** Files whose checksum the server confirmed (`verify`). */
  verified: number;
  /**
   * Entries of a tree that were left out because they are not files: on download, links the
   * server would not retrieve (to a directory, dangling) and special files, as remote paths; on
   * upload, links to directories, dangling links and special files, as local paths.
   */
  notTransferred: string[];
}

/**
 * Tells what a remote path is when the server can say so cheaply (MLST), `undefined` when it
 * cannot (see `Lister.describe`).
 */
export type DescribePath = (path: string) => Promise<ListEntry | undefined>;

/** What the client lends a transfer besides its remote operations. */
export interface TransferHelpers {
  /** Tells a file from a directory cheaply (downloads); absent: the path is a file. */
  describe?: DescribePath;
  /** Opens the extra sessions of a tree transfer with `parallel` > 1. */
  openSibling?: OpenSibling;
}

/**
 * Uploads a local file or tree (see `Client.upload`). A file's remote parent directories are
 * created only when the server refuses the upload (most uploads go where a directory exists).
 *
 * @example
 * ```ts ignore
 * await uploadPath(client, "./report.pdf", "docs", {});
 * ```
 *
 * @param remote The client.
 * @param localPath The local file or directory.
 * @param remotePath The remote directory, or the target with `writeInto`.
 * @param options Resume, verification, progress, parallel, signal.
 * @param helpers Opens extra sessions.
 * @returns What was done.
 * @throws {PathError} When the local path does not exist or is neither file nor directory.
 */
export async function uploadPath(
  remote: RemoteFiles,
  localPath: string,
  remotePath: string,
  options: UploadOptions,
  helpers: TransferHelpers = {},
): Promise<TransferSummary> {
  const source = await statLocal(localPath);
  if (!source) throw new PathError("not-found", localPath);
  const target = options.writeInto ? remotePath : joinRemote(remotePath, basename(localPath));
  const summary = newSummary();
  if (source.type === "file") {
    if (target === "") throw new TypeError("Uploading a file with writeInto needs a remote path");
    const { parent } = splitRemote(target);
    const createParent = parent !== "" && parent !== "/" ? parent : undefined;
    const progress = new ProgressTracker(options.onProgress, source.size, true);
    const job = { remotePath: target, localPath, size: source.size };
    await uploadFile(remote, job, options, progress, summary, { createParent });
    return summary;
  }
  if (source.type !== "dir") {
    throw new PathError("invalid-path", localPath, `Not a file or directory: "${localPath}"`);
  }
  await uploadTree(remote, localPath, target, options, {
    summary,
    openSibling: helpers.openSibling,
  });
  return summary;
}

/**
 * Downloads a remote file or tree (see `Client.download` and `Client.downloadFile`). With
 * `describe`, the path is described first when that is cheap; otherwise, or without
 * `describe`, it is fetched as a file at once, and only a refused `RETR` makes a download with
 * `describe` look at the path (a directory is then downloaded as a tree).
 *
 * @example
 * ```ts ignore
 * await downloadPath(client, "pub/file.bin", "/tmp", {});
 * ```
 *
 * @param remote The client.
 * @param remotePath The remote file or directory.
 * @param localPath The local directory, or the target with `writeInto`.
 * @param options Resume, verification, progress, parallel, signal.
 * @param helpers Tells a file from a directory cheaply (absent: the path is a file); opens
 * extra sessions.
 * @returns What was done.
 * @throws {PathError} With kind `"invalid-path"` for a name that is not one plain component.
 * @throws {DirectoryTooDeepError} When the tree is deeper than the client's `maxRecursionDepth`.
 */
export async function downloadPath(
  remote: RemoteFiles,
  remotePath: string,
  localPath: string,
  options: DownloadOptions,
  helpers: TransferHelpers = {},
): Promise<TransferSummary> {
  const { describe } = helpers;
  const summary = newSummary();
  const context = { summary, openSibling: helpers.openSibling };
  const signal = options.signal;
  const { name } = splitRemote(remotePath);
  const named = name !== "" && name !== "." && name !== "..";
  let target = localPath;
  if (!options.writeInto && named) {
    if (!isPlainName(name)) throw unsafeName(remotePath);
    target = join(localPath, name);
  }
  // `""`, `.` and `..` name directories.
  const info = !named
    ? await remote.stat(remotePath, { signal })
    : describe
    ? await describe(remotePath)
    : undefined;
  if (info?.type === "dir") {
    await downloadTree(remote, remotePath, target, options, context);
    return summary;
  }
  const progress = new ProgressTracker(options.onProgress, info?.size, true);
  const job = { remotePath, localPath: target, size: info?.size };
  try {
    await downloadFile(remote, job, options, progress, summary);
  } catch (error) {
    if (info || !describe || !refusedTransfer(error)) throw error;
    // A refused RETR: a directory, or a file the server would not send (whose refusal is the
    // answer).
    const found = await statOrUndefined(remote, remotePath, signal);
    if (found?.type !== "dir") throw error;
    await downloadTree(remote, remotePath, target, options, context);
  }
  return summary;
}

async function statOrUndefined(
  remote: RemoteFiles,
  path: string,
  signal: AbortSignal | undefined,
): Promise<ListEntry | undefined> {
  try {
    return await remote.stat(path, { signal });
  } catch (error) {
    if (error instanceof ReplyError && matchesCode(error.code, NOT_FOUND)) return undefined;
    throw error;
  }
}
