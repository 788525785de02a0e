/**
 * Tree operations over the narrow {@linkcode RemoteFiles} interface: downloading and uploading
 * a directory with everything in it, and removing one. Downloads walk the whole remote tree
 * before writing anything, refusing any listed name that is not one plain component, so that
 * a hostile server cannot make the client write outside the target.
 *
 * @module
 */

import { PathError, ReplyError } from "../errors.ts";
import type { ListEntry } from "../protocol/listing/entry.ts";
import { DirectoryTooDeepError } from "./errors.ts";
import { downloadFile, ProgressTracker, uploadFile } from "./file_transfer.ts";
import { makeLocalDirectory, walkLocal } from "./local_file.ts";
import type { CallOptions } from "./options.ts";
import type { RemoteFiles } from "./remote_files.ts";
import { isPlainName, joinRemote } from "./remote_path.ts";
import { type OpenSibling, SessionPool } from "./session_pool.ts";
import type { TransferOptions, TransferSummary } from "./transfer.ts";
import { joinLocal } from "./local_path.ts";

/**
 * What a tree transfer reports to and may use besides its options.
 *
 * @example
 * ```ts
 * import { newSummary } from "./file_transfer.ts";
 * import type { TreeContext } from "./tree.ts";
 *
 * const context: TreeContext = { summary: newSummary() }; // no openSibling: one session
 * console.assert(context.summary.files === 0);
 * ```
 */
export interface TreeContext {
  /** Receives the counts. */
  summary: TransferSummary;
  /** Opens the extra sessions of a transfer with `parallel` > 1. */
  openSibling?: OpenSibling;
}

/**
 * Downloads a remote directory into a local one (created with its parents). The walk enters no
 * directory twice (by its `unique` fact) and stops at the client's `maxRecursionDepth`. Links
 * are fetched like files (the server follows them); one the server will not retrieve, and
 * every special file, is reported in `notTransferred`. The directories are created first; with
 * `parallel`, the files then go over a pool of sessions.
 *
 * @example
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import assert from "node:assert/strict";
 * import { newSummary } from "./file_transfer.ts";
 * import { downloadTree } from "./tree.ts";
 * import { mkdtemp, readFile, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("pub/site/img", { parents: true });
 * await new Blob(["<svg/>"]).stream().pipeTo(await client.uploadStream("pub/site/img/logo.svg"));
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   const summary = newSummary();
 *   await downloadTree(client, "pub/site", join(dir, "site"), {}, { summary });
 *   assert.equal(summary.files, 1);
 *   assert.equal(await readFile(join(dir, "site/img/logo.svg"), "utf8"), "<svg/>");
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param remote The client.
 * @param remotePath The remote directory.
 * @param target The local directory that receives its contents.
 * @param options Resume, verification, progress, parallel, signal.
 * @param context Receives the counts; opens extra sessions.
 * @throws {PathError} With kind `"invalid-path"` for a listed name that is not one plain
 * component (before any file is written).
 * @throws {DirectoryTooDeepError} When the tree is deeper than the client's limit.
 */
export async function downloadTree(
  remote: RemoteFiles,
  remotePath: string,
  target: string,
  options: TransferOptions,
  context: TreeContext,
): Promise<void> {
  const { summary } = context;
  const signal = options.signal;
  const files: { remote: string; parts: string[]; size?: number; link?: boolean }[] = [];
  const directories: string[][] = [];
  const prefix = joinRemote(remotePath, "");
  for await (const item of remote.list(remotePath, { recursive: true, signal })) {
    if (!isPlainName(item.info.name)) throw unsafeName(item.path);
    // The walk descends through plain names only, so the path below the root splits cleanly.
    const parts = item.path.slice(prefix.length).split("/");
    const { type, size } = item.info;
    if (type === "dir") directories.push(parts);
    else if (type === "file") files.push({ remote: item.path, parts, size });
    else if (type === "link") files.push({ remote: item.path, parts, link: true });
    else summary.notTransferred.push(item.path);
  }
  await makeLocalDirectory(target);
  for (const parts of directories) await makeLocalDirectory(joinLocal(target, ...parts));
  const sizes = files.map((f) => f.size);
  const total = sizes.every((s) => s !== undefined)
    ? sizes.reduce((sum: number, s) => sum + (s ?? 0), 0)
    : undefined;
  const progress = new ProgressTracker(options.onProgress, total);
  const pool = new SessionPool(remote, { ...options, openSibling: context.openSibling });
  await pool.run(files, async (session, file, signal) => {
    const job = {
      remotePath: file.remote,
      localPath: joinLocal(target, ...file.parts),
      size: file.size,
    };
    try {
      await downloadFile(session, job, { ...options, signal }, progress, summary);
    } catch (error) {
      if (!file.link || !(error instanceof ReplyError && error.code >= 500)) throw error;
      summary.notTransferred.push(file.remote);
    }
  });
}

/**
 * Uploads a local directory's contents into a remote directory (created with its parents
 * unless it is `""`). Links to files are sent as files; links to directories, dangling links
 * and special files are reported in `notTransferred`. The directories are created first (by
 * the client); with `parallel`, the files then go over a pool of sessions.
 *
 * @example
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import assert from "node:assert/strict";
 * import { newSummary } from "./file_transfer.ts";
 * import { uploadTree } from "./tree.ts";
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
 *   await mkdir(join(dir, "img"));
 *   await writeFile(join(dir, "img/logo.svg"), "<svg/>");
 *   const summary = newSummary();
 *   await uploadTree(client, dir, "www/site", {}, { summary }); // www/site is created
 *   assert.equal(summary.bytes, 6);
 *   assert.equal(await client.size("www/site/img/logo.svg"), 6);
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param remote The client.
 * @param localPath The local directory.
 * @param target The remote directory that receives its contents.
 * @param options Resume, verification, progress, parallel, signal.
 * @param context Receives the counts; opens extra sessions.
 */
export async function uploadTree(
  remote: RemoteFiles,
  localPath: string,
  target: string,
  options: TransferOptions,
  context: TreeContext,
): Promise<void> {
  const { summary } = context;
  const signal = options.signal;
  const tree = await walkLocal(localPath);
  if (target !== "") await remote.mkdir(target, { parents: true, signal });
  const files: { remotePath: string; localPath: string; size: number }[] = [];
  for (const entry of tree) {
    const remotePath = joinRemote(target, entry.parts.join("/"));
    const local = joinLocal(localPath, ...entry.parts);
    if (entry.type === "dir") await remote.mkdir(remotePath, { parents: true, signal });
    else if (entry.type === "file") files.push({ remotePath, localPath: local, size: entry.size });
    else summary.notTransferred.push(local);
  }
  const total = files.reduce((sum, file) => sum + file.size, 0);
  const progress = new ProgressTracker(options.onProgress, total);
  const pool = new SessionPool(remote, { ...options, openSibling: context.openSibling });
  await pool.run(files, async (session, job, signal) => {
    await uploadFile(session, job, { ...options, signal }, progress, summary);
  });
}

/**
 * Options of {@linkcode removeTree}.
 *
 * @example
 * ```ts
 * import type { RemoveTreeOptions } from "./tree.ts";
 *
 * const options: RemoveTreeOptions = { maxDepth: 64, signal: AbortSignal.timeout(60_000) };
 * console.assert(options.maxDepth === 64);
 * ```
 */
export interface RemoveTreeOptions extends CallOptions {
  /** How many levels below `path` the removal descends. */
  maxDepth: number;
}

/**
 * Removes a remote path: a file with `DELE`, a directory after everything in it, depth first.
 * Listed names that are not one component are left alone (they cannot be addressed inside the
 * directory), so the final `RMD` then fails.
 *
 * @example
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import assert from "node:assert/strict";
 * import { removeTree } from "./tree.ts";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("www/old/img", { parents: true });
 * await new Blob(["<svg/>"]).stream().pipeTo(await client.uploadStream("www/old/img/logo.svg"));
 * await removeTree(client, "www/old", "dir", { maxDepth: 64 });
 * assert.equal(await client.exists("www/old"), false);
 * await client.mkdir("www/deep/er", { parents: true });
 * await assert.rejects(removeTree(client, "www/deep", "dir", { maxDepth: 0 }), {
 *   name: "DirectoryTooDeepError",
 * });
 * ```
 *
 * @param remote The client.
 * @param path The path.
 * @param type What it is.
 * @param options The depth limit and a signal.
 * @throws {DirectoryTooDeepError} When the tree is more than `maxDepth` levels deep.
 */
export async function removeTree(
  remote: RemoteFiles,
  path: string,
  type: ListEntry["type"],
  options: RemoveTreeOptions,
): Promise<void> {
  await removeEntry(remote, path, type, options, 0);
}

async function removeEntry(
  remote: RemoteFiles,
  path: string,
  type: ListEntry["type"],
  options: RemoveTreeOptions,
  depth: number,
): Promise<void> {
  const signal = options.signal;
  if (type !== "dir") {
    await remote.removeFile(path, { signal });
    return;
  }
  if (depth > options.maxDepth) throw new DirectoryTooDeepError(path, options.maxDepth);
  const entries: ListEntry[] = [];
  for await (const item of remote.list(path, { signal })) entries.push(item.info);
  for (const entry of entries) {
    if (!isPlainName(entry.name)) continue;
    await removeEntry(remote, joinRemote(path, entry.name), entry.type, options, depth + 1);
  }
  await remote.rmdir(path, { signal });
}

/**
 * The error for a remote name that would lead a download outside its target.
 *
 * @example
 * ```ts
 * import { unsafeName } from "./tree.ts";
 * import assert from "node:assert/strict";
 *
 * const error = unsafeName("pub/../../etc");
 * assert.equal(error.kind, "invalid-path");
 * assert.equal(error.path, "pub/../../etc");
 * ```
 *
 * @param path The remote path.
 * @param operation What was refused (default `"download"`).
 * @returns The error.
 */
export function unsafeName(path: string, operation = "download"): PathError {
  return new PathError("invalid-path", path, {
    message: `Refusing to ${operation} "${path}": its name is not a single plain file name`,
  });
}
