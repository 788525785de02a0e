/**
 * `Client.upload` and `Client.download`: whether the source is a file or a tree, where the
 * destination is (nested or `writeInto`), and the options and results of both. The work is
 * done by the single-file transfers of `file_transfer.ts` and the tree operations of
 * `tree.ts`.
 *
 * @module
 */

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
import { joinLocal, localBaseName } from "./local_path.ts";

/**
 * A progress report, sent as bytes move.
 *
 * @example The last report of an upload
 * ```ts
 * import { Client, type TransferProgress } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
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
 *   await writeFile(join(dir, "a.bin"), new Uint8Array(100_000));
 *   let last: TransferProgress | undefined;
 *   await client.upload(join(dir, "a.bin"), "", { onProgress: (progress) => last = progress });
 *   assert.equal(last?.remotePath, "a.bin");
 *   assert.equal(last?.bytes, 100_000);
 *   assert.equal(last?.total, 100_000);
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 */
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

/**
 * Options of `Client.upload` and `Client.download`.
 *
 * @example Resuming, and checking the result
 * ```ts
 * import { Client, type TransferOptions } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
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
 *   await new Blob(["hello world"]).stream().pipeTo(await client.uploadStream("a.txt"));
 *   await writeFile(join(dir, "a.txt"), "hello"); // an interrupted download
 *   const options: TransferOptions = { resume: true, verify: true, writeInto: true };
 *   const summary = await client.download("a.txt", join(dir, "a.txt"), options);
 *   assert.equal(summary.bytes, 6); // REST 5: only " world"
 *   assert.equal(summary.verified, 1); // and the server's SHA-256 matches the whole file
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 */
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
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
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
   *   for (let i = 0; i < 8; i++) await writeFile(join(dir, `page${i}.html`), `<p>${i}</p>`);
   *   const summary = await client.upload(dir, "www", { writeInto: true, parallel: 4 });
   *   assert.equal(summary.files, 8);
   * } finally {
   *   await rm(dir, { recursive: true });
   * }
   * ```
   */
  parallel?: number;
}

/**
 * Options of `Client.upload`.
 *
 * @example Finishing an interrupted upload
 * ```ts
 * import { Client, type UploadOptions } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
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
 *   await writeFile(join(dir, "a.txt"), "hello world");
 *   await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt")); // cut short
 *   const options: UploadOptions = { resume: true, writeInto: true };
 *   const summary = await client.upload(join(dir, "a.txt"), "a.txt", options);
 *   assert.equal(summary.bytes, 6); // the missing tail only
 *   assert.equal(await client.size("a.txt"), 11);
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 */
export type UploadOptions = TransferOptions;
/**
 * Options of `Client.download`.
 *
 * @example A tree over two sessions
 * ```ts
 * import { Client, type DownloadOptions } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdtemp, readFile, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await client.mkdir("site");
 *   await new Blob(["<p>hi</p>"]).stream().pipeTo(await client.uploadStream("site/index.html"));
 *   const options: DownloadOptions = { parallel: 2 };
 *   await client.download("site", dir, options); // <dir>/site/index.html
 *   assert.equal(await readFile(join(dir, "site/index.html"), "utf8"), "<p>hi</p>");
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 */
export type DownloadOptions = TransferOptions;

/**
 * What a transfer did.
 *
 * @example
 * ```ts
 * import { Client, type TransferSummary } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await mkdir(join(dir, "site"));
 *   await writeFile(join(dir, "site/a.txt"), "hello");
 *   await writeFile(join(dir, "site/b.txt"), "world");
 *   const first: TransferSummary = await client.upload(join(dir, "site"), "");
 *   assert.deepEqual(first, { files: 2, skipped: 0, bytes: 10, verified: 0, notTransferred: [] });
 *   const again = await client.upload(join(dir, "site"), "", { resume: true });
 *   assert.equal(again.skipped, 2); // complete already
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 */
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
 *
 * @example
 * ```ts
 * import type { DescribePath } from "./transfer.ts";
 *
 * // For a server without MLST: nothing is cheap to know.
 * const describe: DescribePath = () => Promise.resolve(undefined);
 * console.assert((await describe("pub")) === undefined);
 * ```
 */
export type DescribePath = (path: string) => Promise<ListEntry | undefined>;

/**
 * What the client lends a transfer besides its remote operations.
 *
 * @example
 * ```ts
 * import type { TransferHelpers } from "./transfer.ts";
 *
 * // Without helpers, a download takes its path for a file and uses one session.
 * const helpers: TransferHelpers = {};
 * console.assert(helpers.describe === undefined && helpers.openSibling === undefined);
 * ```
 */
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
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import { uploadPath } from "./transfer.ts";
 * import assert from "node:assert/strict";
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
 *   await writeFile(join(dir, "report.txt"), "hello");
 *   await client.mkdir("docs");
 *   const summary = await uploadPath(client, join(dir, "report.txt"), "docs", {});
 *   assert.equal(summary.files, 1);
 *   assert.equal(await client.size("docs/report.txt"), 5);
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
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
  const target = options.writeInto ? remotePath : joinRemote(remotePath, localBaseName(localPath));
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
    throw new PathError("invalid-path", localPath, {
      message: `Not a file or directory: "${localPath}"`,
    });
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
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import { downloadPath } from "./transfer.ts";
 * import assert from "node:assert/strict";
 * import { mkdtemp, readFile, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await client.mkdir("pub");
 *   await new Blob(["data"]).stream().pipeTo(await client.uploadStream("pub/file.bin"));
 *   // No helpers: the path is taken for a file.
 *   const summary = await downloadPath(client, "pub/file.bin", dir, {});
 *   assert.equal(summary.bytes, 4);
 *   assert.equal(await readFile(join(dir, "file.bin"), "utf8"), "data");
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
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
    target = joinLocal(localPath, name);
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
