/**
 * One file between the local disk and a server: resume (REST from what is already there, APPE
 * when the server refuses REST on upload), progress reports, checksum verification. A file
 * costs the transfer's own exchanges (`EPSV`, `RETR`/`STOR`) and nothing else unless resume or
 * progress asks for its size.
 *
 * @module
 */

import { ReplyError } from "../errors.ts";
import { matchesCode } from "../protocol/reply.ts";
import { verifyChecksum } from "./checksum.ts";
import { type DataStream, readChunks } from "./data_stream.ts";
import { saveToLocalFile, sendLocalFile, statLocal } from "./local_file.ts";
import type { RemoteFiles } from "./remote_files.ts";
import type { TransferOptions, TransferProgress, TransferSummary } from "./transfer.ts";

/**
 * One file to transfer.
 *
 * @example
 * ```ts
 * import type { FileJob } from "./file_transfer.ts";
 *
 * const job: FileJob = { remotePath: "pub/a.bin", localPath: "/tmp/a.bin", size: 4096 };
 * console.assert(job.size === 4096);
 * ```
 */
export interface FileJob {
  /** The remote file. */
  remotePath: string;
  /** The local file. */
  localPath: string;
  /** The source's size, when known (from a listing, a stat or `SIZE`). */
  size?: number;
}

/**
 * Reply codes by which servers say a path does not exist.
 *
 * @example
 * ```ts
 * import { matchesCode } from "../protocol/reply.ts";
 * import { NOT_FOUND } from "./file_transfer.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(matchesCode(550, NOT_FOUND));
 * assert.ok(!matchesCode(530, NOT_FOUND)); // not logged in is another matter
 * ```
 */
export const NOT_FOUND = ["550", "450", "501"];

/**
 * Downloads one file. With `resume`, a local file of the remote size is skipped and a shorter
 * one continued from its end (`REST`), or fetched whole when the server refuses `REST`.
 *
 * @example
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import assert from "node:assert/strict";
 * import { downloadFile, newSummary, ProgressTracker } from "./file_transfer.ts";
 * import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await new Blob(["hello world"]).stream().pipeTo(await client.uploadStream("a.txt"));
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   const localPath = join(dir, "a.txt");
 *   await writeFile(localPath, "hello"); // a download cut short
 *   const summary = newSummary();
 *   const job = { remotePath: "a.txt", localPath };
 *   await downloadFile(client, job, { resume: true }, new ProgressTracker(undefined, 11), summary);
 *   assert.equal(summary.bytes, 6);
 *   assert.equal(await readFile(localPath, "utf8"), "hello world");
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param remote The client.
 * @param job The files and the remote size when known.
 * @param options Resume, verification, progress, signal.
 * @param progress Reports progress.
 * @param summary Receives the counts.
 * @throws {ReplyError} When the server refuses the transfer (see {@linkcode refusedTransfer}).
 */
export async function downloadFile(
  remote: RemoteFiles,
  job: FileJob,
  options: TransferOptions,
  progress: ProgressTracker,
  summary: TransferSummary,
): Promise<void> {
  const { remotePath, localPath } = job;
  const signal = options.signal;
  let offset = 0;
  let total = job.size;
  if (total === undefined && (options.resume || progress.listening)) {
    total = await remoteSizeOf(remote, remotePath, signal);
  }
  if (options.resume) {
    const existing = await statLocal(localPath);
    if (existing?.type === "file") {
      if (existing.size === total) {
        progress.skip(remotePath, localPath, existing.size);
        summary.skipped++;
        return;
      }
      if (total === undefined || existing.size < total) offset = existing.size;
    }
  }
  const retrieve = `RETR ${remotePath}`;
  let stream: DataStream;
  try {
    stream = await remote.getStream(retrieve, "1xx", { offset, signal });
  } catch (error) {
    if (offset === 0 || !refusedRestart(error)) throw error;
    offset = 0;
    stream = await remote.getStream(retrieve, "1xx", { signal });
  }
  const onBytes = progress.counter(remotePath, localPath, total, offset);
  // Read without a stream of its own; the final reply is read while the file is written, and a
  // failure of the disk aborts the transfer.
  const received = await saveToLocalFile(readChunks(stream, { intoBuffers: true }), localPath, {
    offset,
    onBytes,
    confirm: () => stream.finish("2xx", { signal }),
  });
  progress.done(remotePath, localPath, offset + received);
  summary.files++;
  summary.bytes += received;
  if (options.verify && await verifyChecksum(remote, remotePath, localPath, signal)) {
    summary.verified++;
  }
}

/**
 * Options of {@linkcode uploadFile}.
 *
 * @example
 * ```ts
 * import type { UploadFileOptions } from "./file_transfer.ts";
 *
 * // Uploading docs/2026/report.pdf: create docs/2026 should the server refuse the STOR.
 * const options: UploadFileOptions = { createParent: "docs/2026" };
 * console.assert(options.createParent === "docs/2026");
 * ```
 */
export interface UploadFileOptions {
  /**
   * The remote parent directory to create (with its parents) when the server refuses the
   * upload, which is then tried once more; absent when the parent is known to exist.
   */
  createParent?: string;
}

/**
 * Uploads one file. With `resume`, a remote file of the local size is skipped and a shorter
 * one continued from its end (`REST` and `STOR`, or `APPE` when the server refuses `REST`).
 *
 * @example
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import assert from "node:assert/strict";
 * import { newSummary, ProgressTracker, uploadFile } from "./file_transfer.ts";
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   const localPath = join(dir, "report.txt");
 *   await writeFile(localPath, "hello");
 *   const summary = newSummary();
 *   const job = { remotePath: "docs/2026/report.txt", localPath, size: 5 };
 *   const progress = new ProgressTracker(undefined, 5, true);
 *   await uploadFile(client, job, {}, progress, summary, { createParent: "docs/2026" });
 *   assert.equal(await client.size("docs/2026/report.txt"), 5); // the parents were made
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param remote The client.
 * @param job The files and the local size.
 * @param options Resume, verification, progress, signal.
 * @param progress Reports progress.
 * @param summary Receives the counts.
 * @param fileOptions The parent to create on a refusal.
 */
export async function uploadFile(
  remote: RemoteFiles,
  job: FileJob & { size: number },
  options: TransferOptions,
  progress: ProgressTracker,
  summary: TransferSummary,
  fileOptions: UploadFileOptions = {},
): Promise<void> {
  const { remotePath, localPath, size } = job;
  const signal = options.signal;
  let offset = 0;
  if (options.resume) {
    const remoteSize = await remoteSizeOf(remote, remotePath, signal);
    if (remoteSize === size) {
      progress.skip(remotePath, localPath, size);
      summary.skipped++;
      return;
    }
    if (remoteSize !== undefined && remoteSize < size) offset = remoteSize;
  }
  const open = async () => {
    try {
      return await remote.uploadStream(remotePath, { offset, signal });
    } catch (error) {
      if (offset === 0 || !refusedRestart(error)) throw error;
      // The remote file holds exactly `offset` bytes, so appending continues it.
      return await remote.appendStream(remotePath, { signal });
    }
  };
  let sink: WritableStream<Uint8Array>;
  try {
    sink = await open();
  } catch (error) {
    const parent = fileOptions.createParent;
    if (parent === undefined || !refusedTransfer(error)) throw error;
    // Most uploads go into a directory that exists: its creation is tried only when needed.
    await remote.mkdir(parent, { parents: true, signal });
    sink = await open();
  }
  const onBytes = progress.counter(remotePath, localPath, size, offset);
  await sendLocalFile(localPath, sink, { offset, size, onBytes });
  progress.done(remotePath, localPath, size);
  summary.files++;
  summary.bytes += size - offset;
  if (options.verify && await verifyChecksum(remote, remotePath, localPath, signal)) {
    summary.verified++;
  }
}

/**
 * Whether an error is the server refusing a transfer command itself (a `5xx` instead of its
 * `1xx`), as it does for a directory, a missing path or a missing parent; not a failure of the
 * data-connection negotiation, of `REST`, or of a transfer that had started.
 *
 * @example
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import assert from "node:assert/strict";
 * import { refusedTransfer } from "./file_transfer.ts";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("pub");
 * const refusal = await client.downloadStream("pub").catch((error) => error); // a directory
 * assert.equal(refusedTransfer(refusal), true);
 * assert.equal(refusedTransfer(new Error("connection reset")), false);
 * ```
 *
 * @param error The error.
 * @returns `true` for such a refusal.
 */
export function refusedTransfer(error: unknown): boolean {
  return error instanceof ReplyError && error.code >= 500 && error.expected.includes("1xx");
}

/** Whether an error is the server refusing `REST`. */
function refusedRestart(error: unknown): boolean {
  return error instanceof ReplyError && error.expected.includes("350") && error.code >= 500;
}

/**
 * The size of a remote file: `SIZE`, or the path's description when the server has no SIZE.
 *
 * @returns The size, or `undefined` when the file does not exist or its size is unknown.
 */
async function remoteSizeOf(
  remote: RemoteFiles,
  remotePath: string,
  signal: AbortSignal | undefined,
): Promise<number | undefined> {
  try {
    return await remote.size(remotePath, { signal });
  } catch (error) {
    if (!(error instanceof ReplyError)) throw error;
    if (matchesCode(error.code, NOT_FOUND)) return undefined;
  }
  try {
    return (await remote.stat(remotePath, { signal })).size;
  } catch (error) {
    if (error instanceof ReplyError && matchesCode(error.code, NOT_FOUND)) return undefined;
    throw error;
  }
}

/**
 * A new, empty summary.
 *
 * @example
 * ```ts
 * import { newSummary } from "./file_transfer.ts";
 * import assert from "node:assert/strict";
 *
 * const summary = newSummary();
 * assert.deepEqual(summary, { files: 0, skipped: 0, bytes: 0, verified: 0, notTransferred: [] });
 * ```
 *
 * @returns The summary.
 */
export function newSummary(): TransferSummary {
  return { files: 0, skipped: 0, bytes: 0, verified: 0, notTransferred: [] };
}

/**
 * Turns byte counts into progress reports for one transfer of one or many files.
 *
 * @example
 * ```ts
 * import type { TransferProgress } from "./transfer.ts";
 * import { ProgressTracker } from "./file_transfer.ts";
 * import assert from "node:assert/strict";
 *
 * const reports: TransferProgress[] = [];
 * const tracker = new ProgressTracker((report) => reports.push(report), 15);
 * const count = tracker.counter("a.bin", "/tmp/a.bin", 10, 0);
 * count?.(4);
 * count?.(6);
 * tracker.done("a.bin", "/tmp/a.bin", 10);
 * tracker.skip("b.bin", "/tmp/b.bin", 5); // complete already (resume)
 * assert.deepEqual(reports.map((r) => [r.remotePath, r.bytes, r.overallBytes]), [
 *   ["a.bin", 4, 4],
 *   ["a.bin", 10, 10],
 *   ["a.bin", 10, 10],
 *   ["b.bin", 5, 15],
 * ]);
 * assert.equal(new ProgressTracker(undefined, 15).listening, false);
 * ```
 */
export class ProgressTracker {
  readonly #onProgress: ((progress: TransferProgress) => void) | undefined;
  readonly #single: boolean;
  #overallTotal: number | undefined;
  #overallBytes = 0;

  /**
   * Creates a tracker.
   *
   * @param onProgress Receives the reports (none: the tracker does nothing).
   * @param overallTotal The size of all files, when known; for one file (`undefined` and
   *   `single`), the file's size once it is known.
   * @param single The transfer is of one file.
   */
  constructor(
    onProgress: ((p: TransferProgress) => void) | undefined,
    overallTotal: number | undefined,
    single = false,
  ) {
    this.#onProgress = onProgress;
    this.#overallTotal = overallTotal;
    this.#single = single;
  }

  /** Whether anybody receives reports. */
  get listening(): boolean {
    return this.#onProgress !== undefined;
  }

  /**
   * A byte counter for one file, or `undefined` when nobody listens.
   *
   * @param remotePath The remote file.
   * @param localPath The local file.
   * @param total The file's size, when known.
   * @param start Bytes already there (resume).
   * @returns The function to call with each chunk's size.
   */
  counter(
    remotePath: string,
    localPath: string,
    total: number | undefined,
    start: number,
  ): ((bytes: number) => void) | undefined {
    const report = this.#onProgress;
    if (!report) return undefined;
    if (this.#single) this.#overallTotal ??= total;
    let bytes = start;
    this.#overallBytes += start;
    return (n) => {
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
    };
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
    if (this.#single) this.#overallTotal ??= size;
    this.#overallBytes += size;
    this.done(remotePath, localPath, size);
  }
}
