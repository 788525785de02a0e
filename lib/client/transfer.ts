/**
 * Whole-file and whole-tree transfers between the local file system and a server: nesting of
 * destinations, resume (REST from what is already there), progress, checksum verification with
 * HASH, and refusal of listing names that would lead a download outside its target.
 *
 * @module
 */

import { mkdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { PathError, ProtocolError, ReplyError } from "../errors.ts";
import { matchesCode, replyText } from "../protocol/reply.ts";
import { progressStream } from "../stream/progress.ts";
import type { Client } from "./client.ts";
import { ChecksumMismatchError } from "./errors.ts";
import {
  hashLocal,
  openLocalReadable,
  openLocalWritable,
  statLocal,
  walkLocal,
} from "./local_file.ts";
import type { CallOptions } from "./options.ts";
import { isPlainName, joinRemote, splitRemote } from "./remote_path.ts";

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

const NOT_FOUND = ["550", "450", "501"];

/**
 * Uploads a local file or tree (see `Client.upload`).
 *
 * @param client The client.
 * @param localPath The local file or directory.
 * @param remotePath The remote directory, or the target with `writeInto`.
 * @param options Resume, verification, progress, signal.
 * @returns What was done.
 */
export async function uploadPath(
  client: Client,
  localPath: string,
  remotePath: string,
  options: UploadOptions,
): Promise<TransferSummary> {
  const source = await statLocal(localPath);
  if (!source) throw new PathError("not-found", localPath);
  const target = options.writeInto ? remotePath : joinRemote(remotePath, basename(localPath));
  const summary = newSummary();
  const signal = options.signal;
  if (source.type === "file") {
    if (target === "") throw new TypeError("Uploading a file with writeInto needs a remote path");
    const { parent } = splitRemote(target);
    if (parent !== "" && parent !== "/") await client.mkdir(parent, { parents: true, signal });
    const progress = new ProgressTracker(options.onProgress, source.size);
    await uploadFile(client, localPath, target, source.size, options, progress, summary);
    return summary;
  }
  if (source.type !== "dir") {
    throw new PathError("invalid-path", localPath, `Not a file or directory: "${localPath}"`);
  }
  const tree = await walkLocal(localPath);
  if (target !== "") await client.mkdir(target, { parents: true, signal });
  const total = tree.reduce((sum, entry) => sum + entry.size, 0);
  const progress = new ProgressTracker(options.onProgress, total);
  for (const entry of tree) {
    const remote = joinRemote(target, entry.parts.join("/"));
    const local = join(localPath, ...entry.parts);
    if (entry.type === "dir") await client.mkdir(remote, { parents: true, signal });
    else if (entry.type === "file") {
      await uploadFile(client, local, remote, entry.size, options, progress, summary);
    } else summary.notTransferred.push(local);
  }
  return summary;
}

/**
 * Downloads a remote file or tree (see `Client.download`).
 *
 * @param client The client.
 * @param remotePath The remote file or directory.
 * @param localPath The local directory, or the target with `writeInto`.
 * @param options Resume, verification, progress, signal.
 * @returns What was done.
 * @throws {PathError} With kind `"invalid-path"` for a name that is not one plain component.
 * @throws {DirectoryTooDeepError} When the tree is deeper than the client's `maxRecursionDepth`.
 */
export async function downloadPath(
  client: Client,
  remotePath: string,
  localPath: string,
  options: DownloadOptions,
): Promise<TransferSummary> {
  const signal = options.signal;
  const info = await client.stat(remotePath, { signal });
  const { name } = splitRemote(remotePath);
  let target = localPath;
  if (!options.writeInto && name !== "" && name !== "." && name !== "..") {
    if (!isPlainName(name)) throw unsafeName(remotePath);
    target = join(localPath, name);
  }
  const summary = newSummary();
  if (info.type !== "dir") {
    await mkdir(dirname(target), { recursive: true });
    const progress = new ProgressTracker(options.onProgress, info.size);
    await downloadFile(client, remotePath, target, info.size, options, progress, summary);
    return summary;
  }
  // Walk the whole tree first: it gives the overall size, and no file is written before every
  // name has been checked. The walk enters no directory twice (by its unique fact) and stops
  // at the client's maxRecursionDepth.
  // Links are fetched like files (the server follows them); one it cannot retrieve is reported.
  const files: { remote: string; parts: string[]; size?: number; link?: boolean }[] = [];
  const directories: string[][] = [];
  const prefix = joinRemote(remotePath, "");
  for await (const item of client.list(remotePath, { recursive: true, signal })) {
    if (!isPlainName(item.info.name)) throw unsafeName(item.path);
    // The walk descends through plain names only, so the path below the root splits cleanly.
    const parts = item.path.slice(prefix.length).split("/");
    const { type, size } = item.info;
    if (type === "dir") directories.push(parts);
    else if (type === "file") files.push({ remote: item.path, parts, size });
    else if (type === "link") files.push({ remote: item.path, parts, link: true });
    else summary.notTransferred.push(item.path);
  }
  await mkdir(target, { recursive: true });
  for (const parts of directories) await mkdir(join(target, ...parts), { recursive: true });
  const sizes = files.map((f) => f.size);
  const total = sizes.every((s) => s !== undefined)
    ? sizes.reduce((sum: number, s) => sum + (s ?? 0), 0)
    : undefined;
  const progress = new ProgressTracker(options.onProgress, total);
  for (const file of files) {
    const local = join(target, ...file.parts);
    try {
      await downloadFile(client, file.remote, local, file.size, options, progress, summary);
    } catch (error) {
      if (!file.link || !(error instanceof ReplyError && error.code >= 500)) throw error;
      summary.notTransferred.push(file.remote);
    }
  }
  return summary;
}

function newSummary(): TransferSummary {
  return { files: 0, skipped: 0, bytes: 0, verified: 0, notTransferred: [] };
}

async function uploadFile(
  client: Client,
  local: string,
  remote: string,
  size: number,
  options: TransferOptions,
  progress: ProgressTracker,
  summary: TransferSummary,
): Promise<void> {
  const signal = options.signal;
  let offset = 0;
  if (options.resume) {
    const remoteSize = await remoteSizeOf(client, remote, signal);
    if (remoteSize === size) {
      progress.skip(remote, local, size);
      summary.skipped++;
      return;
    }
    if (remoteSize !== undefined && remoteSize < size) offset = remoteSize;
  }
  let sink: WritableStream<Uint8Array>;
  try {
    sink = await client.uploadStream(remote, { offset, signal });
  } catch (error) {
    if (offset === 0 || !refusedRestart(error)) throw error;
    // The remote file holds exactly `offset` bytes, so appending continues it.
    sink = await client.appendStream(remote, { signal });
  }
  let source: ReadableStream<Uint8Array>;
  try {
    source = await openLocalReadable(local, { offset });
  } catch (error) {
    await sink.abort(error).catch(() => {});
    throw error;
  }
  const counter = progress.track(remote, local, size, offset);
  await (counter ? source.pipeThrough(counter) : source).pipeTo(sink, { signal });
  progress.done(remote, local, size);
  summary.files++;
  summary.bytes += size - offset;
  if (options.verify && await verifyChecksum(client, remote, local, signal)) summary.verified++;
}

async function downloadFile(
  client: Client,
  remote: string,
  local: string,
  size: number | undefined,
  options: TransferOptions,
  progress: ProgressTracker,
  summary: TransferSummary,
): Promise<void> {
  const signal = options.signal;
  let offset = 0;
  let total = size;
  if (options.resume) {
    const existing = await statLocal(local);
    total ??= await remoteSizeOf(client, remote, signal);
    if (existing?.type === "file") {
      if (existing.size === total) {
        progress.skip(remote, local, existing.size);
        summary.skipped++;
        return;
      }
      if (total === undefined || existing.size < total) offset = existing.size;
    }
  }
  let source: ReadableStream<Uint8Array>;
  try {
    source = await client.downloadStream(remote, { offset, signal });
  } catch (error) {
    if (offset === 0 || !refusedRestart(error)) throw error;
    offset = 0;
    source = await client.downloadStream(remote, { signal });
  }
  let sink: WritableStream<Uint8Array>;
  try {
    sink = await openLocalWritable(local, { offset });
  } catch (error) {
    await source.cancel(error).catch(() => {});
    throw error;
  }
  const counter = progress.track(remote, local, total, offset);
  await (counter ? source.pipeThrough(counter) : source).pipeTo(sink, { signal });
  const received = ((await statLocal(local))?.size ?? offset) - offset;
  progress.done(remote, local, offset + received);
  summary.files++;
  summary.bytes += received;
  if (options.verify && await verifyChecksum(client, remote, local, signal)) summary.verified++;
}

/**
 * The size of a remote file: `SIZE`, or the listing when the server has no SIZE.
 *
 * @returns The size, or `undefined` when the file does not exist or its size is unknown.
 */
async function remoteSizeOf(
  client: Client,
  remote: string,
  signal: AbortSignal | undefined,
): Promise<number | undefined> {
  try {
    return await client.size(remote, { signal });
  } catch (error) {
    if (!(error instanceof ReplyError)) throw error;
    if (matchesCode(error.code, NOT_FOUND)) return undefined;
  }
  try {
    return (await client.stat(remote, { signal })).size;
  } catch (error) {
    if (error instanceof ReplyError && matchesCode(error.code, NOT_FOUND)) return undefined;
    throw error;
  }
}

/** Whether an error is the server refusing `REST`. */
function refusedRestart(error: unknown): boolean {
  return error instanceof ReplyError && error.expected.includes("350") && error.code >= 500;
}

/** HASH algorithms (draft-bryan-ftpext-hash), strongest first, with their `node:crypto` names. */
const HASH_ALGORITHMS = [
  { name: "SHA-512", crypto: "sha512", hexLength: 128 },
  { name: "SHA-256", crypto: "sha256", hexLength: 64 },
  { name: "SHA-1", crypto: "sha1", hexLength: 40 },
  { name: "MD5", crypto: "md5", hexLength: 32 },
];

/**
 * Compares a local file's digest with the server's `HASH` (draft-bryan-ftpext-hash), in the
 * strongest algorithm the server offers. `OPTS HASH` selects it only when it is not the
 * server's current one (marked `*` in FEAT).
 *
 * @returns `true` when compared, `false` when the server offers no usable HASH algorithm.
 * @throws {ChecksumMismatchError} When the digests differ.
 */
async function verifyChecksum(
  client: Client,
  remote: string,
  local: string,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const features = await client.features({ signal });
  const offered = features.get("HASH");
  if (offered === undefined) return false;
  const names = offered.split(";").map((a) => a.trim()).filter((a) => a !== "");
  const plain = (name: string) => name.replace(/\*$/, "").toUpperCase();
  const algorithm = HASH_ALGORITHMS.find((a) => names.some((n) => plain(n) === a.name));
  if (!algorithm) return false;
  const current = names.find((n) => n.endsWith("*"));
  if (current === undefined || plain(current) !== algorithm.name) {
    await client.command(`OPTS HASH ${algorithm.name}`, "2xx", { signal });
    // The cached FEAT now says what the server's would: the next file needs no OPTS HASH.
    features.set(
      "HASH",
      names.map((n) => plain(n) === algorithm.name ? `${algorithm.name}*` : n.replace(/\*$/, ""))
        .join(";"),
    );
  }
  const reply = await client.command(`HASH ${remote}`, "213", { signal });
  const text = replyText(reply);
  const words = text.trim().split(/\s+/);
  // The reply names the algorithm used (`SHA-256 0-49 <digest> name`); trust it over the
  // cache, which a user's own OPTS HASH may have outdated.
  const used = HASH_ALGORITHMS.find((a) => a.name === words[0].toUpperCase()) ?? algorithm;
  const remoteDigest = words.find((w) => w.length === used.hexLength && /^[0-9a-f]+$/i.test(w))
    ?.toLowerCase();
  if (!remoteDigest) throw new ProtocolError(`Cannot parse HASH reply ${JSON.stringify(text)}`);
  const localDigest = await hashLocal(local, used.crypto);
  if (localDigest !== remoteDigest) {
    throw new ChecksumMismatchError(remote, used.name, localDigest, remoteDigest);
  }
  return true;
}

function unsafeName(path: string): PathError {
  return new PathError(
    "invalid-path",
    path,
    `Refusing to download "${path}": its name is not a single plain file name`,
  );
}

/** Turns byte counts into progress reports for one transfer of one or many files. */
class ProgressTracker {
  readonly #onProgress: ((progress: TransferProgress) => void) | undefined;
  readonly #overallTotal: number | undefined;
  #overallBytes = 0;

  constructor(onProgress: ((p: TransferProgress) => void) | undefined, overallTotal?: number) {
    this.#onProgress = onProgress;
    this.#overallTotal = overallTotal;
  }

  /** A counting stream for one file, or `undefined` when nobody listens. */
  track(
    remotePath: string,
    localPath: string,
    total: number | undefined,
    start: number,
  ): TransformStream<Uint8Array, Uint8Array> | undefined {
    const report = this.#onProgress;
    if (!report) return undefined;
    let bytes = start;
    this.#overallBytes += start;
    return progressStream((n) => {
      bytes += n;
      this.#overallBytes += n;
      report({
        remotePath,
        localPath,
        bytes,
        total,
        overallBytes: this.#overallBytes,
        overallTotal: this.#overallTotal,
      });
    });
  }

  /** The last report of a file, sent even for an empty one. */
  done(remotePath: string, localPath: string, bytes: number): void {
    this.#onProgress?.({
      remotePath,
      localPath,
      bytes,
      total: bytes,
      overallBytes: this.#overallBytes,
      overallTotal: this.#overallTotal,
    });
  }

  /** A file found complete and skipped. */
  skip(remotePath: string, localPath: string, size: number): void {
    this.#overallBytes += size;
    this.done(remotePath, localPath, size);
  }
}
