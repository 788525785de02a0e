/**
 * Mirroring a directory tree between the server and the local disk, in either direction:
 * both trees are read first (every remote name checked, so a hostile listing changes nothing),
 * a plan is made of what differs, and then only that is done: deletions (with `delete`), new
 * directories (by the client), and file transfers (over a pool of sessions with `parallel`).
 * A file is sent when it is missing on the target, differs in size, or is newer on the source
 * (modification times compared within {@linkcode TIME_TOLERANCE_MS}; by size alone when a
 * time is unknown). The target's time is then set to the source's, so that the next mirror
 * finds the file up to date: locally with `utimes`, remotely with `MFMT` where the server
 * offers it.
 *
 * Remote times come from the listing. A server without MLST (in FEAT) is listed with LIST,
 * whose times are whole minutes: a remote target's time then stands for any time in its
 * minute, and a local file counts as newer only when it is newer than the end of that minute
 * (plus the tolerance). Downloads are not affected: the local copy gets the listed time, and a
 * remote change shows as a later minute.
 *
 * @module
 */

import { PathError, ReplyError } from "../errors.ts";
import type { ListEntry } from "../protocol/listing/entry.ts";
import { formatMlsxTime } from "../protocol/listing/mlsx.ts";
import { matchesCode } from "../protocol/reply.ts";
import {
  downloadFile,
  newSummary,
  NOT_FOUND,
  ProgressTracker,
  uploadFile,
} from "./file_transfer.ts";
import {
  makeLocalDirectory,
  removeLocal,
  setLocalModifiedTime,
  statLocal,
  walkLocal,
} from "./local_file.ts";
import type { CallOptions } from "./options.ts";
import type { RemoteFiles } from "./remote_files.ts";
import { isPlainName, joinRemote } from "./remote_path.ts";
import { type OpenSibling, SessionPool } from "./session_pool.ts";
import { unsafeName } from "./tree.ts";
import type { TransferProgress } from "./transfer.ts";
import { joinLocal } from "./local_path.ts";

/**
 * How far apart two modification times may be and still count as the same (ms).
 *
 * @example
 * ```ts
 * import { TIME_TOLERANCE_MS } from "./mirror.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(TIME_TOLERANCE_MS, 1000); // file systems that keep whole seconds, or two
 * ```
 */
export const TIME_TOLERANCE_MS = 1000;
/** The precision of LIST times (whole minutes). */
const LIST_TIME_PRECISION_MS = 60_000;

/**
 * Options of `Client.mirror`.
 *
 * @example Upload a site, removing what was deleted locally, four files at a time
 * ```ts
 * import { Client, type MirrorOptions } from "@streamftp/streamftp/client";
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
 * await client.mkdir("www");
 * await new Blob(["old"]).stream().pipeTo(await client.uploadStream("www/old.html"));
 * const site = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await mkdir(join(site, "img"));
 *   await writeFile(join(site, "index.html"), "<h1>hi</h1>");
 *   await writeFile(join(site, "img/logo.svg"), "<svg/>");
 *   const options: MirrorOptions = { reverse: true, delete: true, parallel: 4 };
 *   const summary = await client.mirror("www", site, options);
 *   assert.equal(summary.transferred, 2);
 *   assert.equal(summary.deleted, 1); // www/old.html
 *   assert.equal(await client.size("www/img/logo.svg"), 6);
 * } finally {
 *   await rm(site, { recursive: true });
 * }
 * ```
 */
export interface MirrorOptions extends CallOptions {
  /**
   * Upload: make the remote directory a copy of the local one (default `false`: download,
   * the local directory becomes a copy of the remote one).
   */
  reverse?: boolean;
  /**
   * Remove what the target has and the source does not (files, and directories with
   * everything in them), and replace a target directory where the source has a file (and the
   * other way round). Without it, such a path is left alone and listed in `notTransferred`.
   */
  delete?: boolean;
  /** Change nothing: only report, through `onAction` and the result, what would be done. */
  dryRun?: boolean;
  /**
   * How many sessions may transfer files at once, the client's own included (default 1; see
   * `TransferOptions.parallel`).
   */
  parallel?: number;
  /** Receives each action once it is done (in a dry run: once it is planned). */
  onAction?: (action: MirrorAction) => void;
  /** Receives progress reports of the transfers. */
  onProgress?: (progress: TransferProgress) => void;
}

/**
 * Why a mirror transfers a file.
 *
 * @example
 * ```ts
 * import { Client, type MirrorReason } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await new Blob(["v1"]).stream().pipeTo(await client.uploadStream("a.txt"));
 * const local = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   const reasons: MirrorReason[] = [];
 *   const onAction = (action: { kind: string; reason?: MirrorReason }) => {
 *     if (action.reason) reasons.push(action.reason);
 *   };
 *   await client.mirror("", local, { onAction });
 *   await new Blob(["v2, longer"]).stream().pipeTo(await client.uploadStream("a.txt"));
 *   await client.mirror("", local, { onAction });
 *   assert.deepEqual(reasons, ["missing", "size"]);
 * } finally {
 *   await rm(local, { recursive: true });
 * }
 * ```
 */
export type MirrorReason =
  /** The target has no such file. */
  | "missing"
  /** The sizes differ. */
  | "size"
  /** Same size, but the source is newer by more than the tolerance. */
  | "newer";

/**
 * A directory created on the target.
 *
 * @example
 * ```ts
 * import { Client, type MirrorAction, type MirrorMkdirAction } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("www/img", { parents: true });
 * await new Blob(["<h1>hi</h1>"]).stream().pipeTo(await client.uploadStream("www/index.html"));
 * await new Blob(["<svg/>"]).stream().pipeTo(await client.uploadStream("www/img/logo.svg"));
 * const local = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   const actions: MirrorAction[] = [];
 *   await client.mirror("www", local, { onAction: (action) => actions.push(action) });
 *   const made = actions.filter((action): action is MirrorMkdirAction => action.kind === "mkdir");
 *   assert.deepEqual(made, [{ kind: "mkdir", path: "img" }]);
 * } finally {
 *   await rm(local, { recursive: true });
 * }
 * ```
 */
export interface MirrorMkdirAction {
  /** The action. */
  kind: "mkdir";
  /** The directory, relative to the mirrored directories (`/`-separated). */
  path: string;
}

/**
 * A file copied from the source to the target.
 *
 * @example
 * ```ts
 * import { Client, type MirrorTransferAction } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("www/img", { parents: true });
 * await new Blob(["<h1>hi</h1>"]).stream().pipeTo(await client.uploadStream("www/index.html"));
 * await new Blob(["<svg/>"]).stream().pipeTo(await client.uploadStream("www/img/logo.svg"));
 * const local = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   const { actions } = await client.mirror("www", local);
 *   const copied = actions.filter((action): action is MirrorTransferAction =>
 *     action.kind === "transfer"
 *   );
 *   assert.deepEqual(copied.map(({ path, reason, bytes }) => [path, reason, bytes]).sort(), [
 *     ["img/logo.svg", "missing", 6],
 *     ["index.html", "missing", 11],
 *   ]);
 * } finally {
 *   await rm(local, { recursive: true });
 * }
 * ```
 */
export interface MirrorTransferAction {
  /** The action. */
  kind: "transfer";
  /** The file, relative to the mirrored directories (`/`-separated). */
  path: string;
  /** Why it was copied. */
  reason: MirrorReason;
  /**
   * Bytes transferred; in a dry run, the source's size (absent when the server gives none, as
   * for a link).
   */
  bytes?: number;
}

/**
 * A path removed from the target (`delete`): a file, or a directory with all it held.
 *
 * @example
 * ```ts
 * import { Client, type MirrorDeleteAction } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdir, mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("www/img", { parents: true });
 * await new Blob(["<h1>hi</h1>"]).stream().pipeTo(await client.uploadStream("www/index.html"));
 * await new Blob(["<svg/>"]).stream().pipeTo(await client.uploadStream("www/img/logo.svg"));
 * const local = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await mkdir(join(local, "old/drafts"), { recursive: true }); // not on the server
 *   const { actions } = await client.mirror("www", local, { delete: true });
 *   const removed = actions.filter((action) => action.kind === "delete") as MirrorDeleteAction[];
 *   assert.deepEqual(removed, [{ kind: "delete", path: "old", type: "dir" }]);
 * } finally {
 *   await rm(local, { recursive: true });
 * }
 * ```
 */
export interface MirrorDeleteAction {
  /** The action. */
  kind: "delete";
  /** The path, relative to the mirrored directories (`/`-separated). */
  path: string;
  /** What it was (links and special files count as files). */
  type: "file" | "dir";
}

/**
 * A file found up to date on the target.
 *
 * @example
 * ```ts
 * import { Client, type MirrorSkipAction } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("www/img", { parents: true });
 * await new Blob(["<h1>hi</h1>"]).stream().pipeTo(await client.uploadStream("www/index.html"));
 * await new Blob(["<svg/>"]).stream().pipeTo(await client.uploadStream("www/img/logo.svg"));
 * const local = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await client.mirror("www", local);
 *   const { actions } = await client.mirror("www", local); // again: nothing changed
 *   const skipped = actions.filter((action) => action.kind === "skip") as MirrorSkipAction[];
 *   assert.deepEqual(skipped.map((action) => action.path).sort(), ["img/logo.svg", "index.html"]);
 * } finally {
 *   await rm(local, { recursive: true });
 * }
 * ```
 */
export interface MirrorSkipAction {
  /** The action. */
  kind: "skip";
  /** The file, relative to the mirrored directories (`/`-separated). */
  path: string;
}

/**
 * One thing a mirror did (or, in a dry run, would do).
 *
 * @example Listing what a dry run would do
 * ```ts
 * import { Client, type MirrorAction } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdtemp, readdir, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("www/img", { parents: true });
 * await new Blob(["<h1>hi</h1>"]).stream().pipeTo(await client.uploadStream("www/index.html"));
 * await new Blob(["<svg/>"]).stream().pipeTo(await client.uploadStream("www/img/logo.svg"));
 * const local = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   const plan: string[] = [];
 *   await client.mirror("www", local, {
 *     dryRun: true,
 *     onAction: (action: MirrorAction) => {
 *       if (action.kind === "transfer") plan.push(`get ${action.path} (${action.reason})`);
 *       else if (action.kind !== "skip") plan.push(`${action.kind} ${action.path}`);
 *     },
 *   });
 *   assert.deepEqual(plan.sort(), [
 *     "get img/logo.svg (missing)",
 *     "get index.html (missing)",
 *     "mkdir img",
 *   ]);
 *   assert.deepEqual(await readdir(local), []); // nothing was written
 * } finally {
 *   await rm(local, { recursive: true });
 * }
 * ```
 */
export type MirrorAction =
  | MirrorMkdirAction
  | MirrorTransferAction
  | MirrorDeleteAction
  | MirrorSkipAction;

/**
 * What a mirror did (or, in a dry run, would do).
 *
 * @example
 * ```ts
 * import { Client, type MirrorSummary } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("www/img", { parents: true });
 * await new Blob(["<h1>hi</h1>"]).stream().pipeTo(await client.uploadStream("www/index.html"));
 * await new Blob(["<svg/>"]).stream().pipeTo(await client.uploadStream("www/img/logo.svg"));
 * const local = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   const summary: MirrorSummary = await client.mirror("www", local);
 *   const { transferred, bytes, skipped, deleted, created } = summary;
 *   assert.deepEqual([transferred, bytes, skipped, deleted, created], [2, 17, 0, 0, 1]);
 * } finally {
 *   await rm(local, { recursive: true });
 * }
 * ```
 */
export interface MirrorSummary {
  /** Every action, in the order they were done: deletions, directories, transfers, skips. */
  actions: MirrorAction[];
  /** Files transferred. */
  transferred: number;
  /** Bytes transferred (in a dry run, the known sizes of the files to transfer). */
  bytes: number;
  /** Files found up to date. */
  skipped: number;
  /** Paths removed from the target (a directory counts once, with what it held). */
  deleted: number;
  /** Directories created on the target. */
  created: number;
  /**
   * Source paths left out, relative: special files, links the server would not retrieve or
   * local links to directories, and (without `delete`) paths where the target has a file for
   * a directory or the other way round.
   */
  notTransferred: string[];
}

/**
 * The two directories a mirror works on.
 *
 * @example
 * ```ts
 * import type { MirrorPaths } from "./mirror.ts";
 *
 * const paths: MirrorPaths = { remoteDir: "www", localDir: "./site" };
 * console.assert(paths.remoteDir === "www");
 * ```
 */
export interface MirrorPaths {
  /** The remote directory (`""`: the working directory). */
  remoteDir: string;
  /** The local directory. */
  localDir: string;
}

/** One entry of a tree as the mirror compares it. */
interface TreeEntry {
  /** Links are remote only (the server follows them); local links to files count as files. */
  type: ListEntry["type"];
  /** Size of a file, when known. */
  size?: number;
  /** Modification time, when known. */
  modified?: Date;
  /** How much later than `modified` the real time may be (ms): 0, or a minute for LIST. */
  timePrecision: number;
}

/** A tree by path relative to its root, parents before their children. */
type Tree = Map<string, TreeEntry>;

/** What a mirror is going to do. */
interface MirrorPlan {
  /** Target paths to remove, each the topmost of what goes. */
  deletions: { path: string; type: TreeEntry["type"] }[];
  /** Directories to create, parents first. */
  directories: string[];
  /** Files to copy. */
  transfers: { path: string; reason: MirrorReason; source: TreeEntry }[];
  /** Files up to date. */
  skips: string[];
  /** Source paths left out. */
  notTransferred: string[];
}

/**
 * Mirrors a tree (see `Client.mirror`).
 *
 * @example
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import { mirror } from "./mirror.ts";
 * import assert from "node:assert/strict";
 * import { mkdtemp, readFile, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("www");
 * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("www/a.txt"));
 * const localDir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   // Without an opener of extra sessions the client works alone.
 *   const summary = await mirror(client, { remoteDir: "www", localDir }, { delete: true });
 *   assert.equal(summary.transferred, 1);
 *   assert.equal(await readFile(join(localDir, "a.txt"), "utf8"), "hello");
 * } finally {
 *   await rm(localDir, { recursive: true });
 * }
 * ```
 *
 * @param remote The client.
 * @param paths The remote and the local directory.
 * @param options Direction, deletion, dry run, parallel sessions, reports, signal.
 * @param openSibling Opens the extra sessions of `parallel`.
 * @returns What was done.
 * @throws {PathError} With kind `"invalid-path"` for a remote name that is not one plain
 * component, or a local directory that is a file; `"not-found"` for a missing source.
 */
export async function mirror(
  remote: RemoteFiles,
  paths: MirrorPaths,
  options: MirrorOptions,
  openSibling?: OpenSibling,
): Promise<MirrorSummary> {
  const reverse = options.reverse ?? false;
  const signal = options.signal;
  // Checked before anything is read.
  const pool = new SessionPool(remote, { parallel: options.parallel, openSibling, signal });
  const features = await remote.features({ signal });
  // Servers that have MLST list with MLSD (see Lister), whose times are exact.
  const remotePrecision = features.has("MLST") ? 0 : LIST_TIME_PRECISION_MS;
  const localTree = await readLocalTree(paths.localDir, reverse);
  if (reverse && !localTree) throw new PathError("not-found", paths.localDir);
  const remoteTree = await readRemoteTree(remote, paths.remoteDir, remotePrecision, signal);
  const [source, target] = reverse ? [localTree, remoteTree] : [remoteTree, localTree];
  if (!source) throw new PathError("not-found", paths.remoteDir);
  const plan = planMirror(source, target ?? new Map(), options.delete ?? false);
  const summary: MirrorSummary = {
    actions: [],
    transferred: 0,
    bytes: 0,
    skipped: 0,
    deleted: 0,
    created: 0,
    notTransferred: plan.notTransferred,
  };
  const report = (action: MirrorAction) => {
    summary.actions.push(action);
    if (action.kind === "transfer") {
      summary.transferred++;
      summary.bytes += action.bytes ?? 0;
    } else if (action.kind === "skip") summary.skipped++;
    else if (action.kind === "delete") summary.deleted++;
    else summary.created++;
    options.onAction?.(action);
  };
  if (options.dryRun) {
    for (const { path, type } of plan.deletions) report(deleteAction(path, type));
    for (const path of plan.directories) report({ kind: "mkdir", path });
    for (const { path, reason, source } of plan.transfers) {
      report({ kind: "transfer", path, reason, bytes: source.size });
    }
    for (const path of plan.skips) report({ kind: "skip", path });
    return summary;
  }
  const side = reverse
    ? new RemoteSide(remote, paths.remoteDir, target ?? new Map(), signal)
    : new LocalSide(paths.localDir);
  for (const { path, type } of plan.deletions) {
    await side.remove(path, type);
    report(deleteAction(path, type));
  }
  // An empty or missing target directory may need creating (a non-empty one exists).
  if (!target || target.size === 0) await side.createRoot();
  for (const path of plan.directories) {
    await side.createDirectory(path);
    report({ kind: "mkdir", path });
  }
  const sizes = plan.transfers.map((t) => t.source.size);
  const total = sizes.every((s) => s !== undefined)
    ? sizes.reduce((sum: number, s) => sum + (s ?? 0), 0)
    : undefined;
  const progress = new ProgressTracker(options.onProgress, total);
  const setsRemoteTime = reverse && features.has("MFMT");
  await pool.run(plan.transfers, async (session, transfer, signal) => {
    const { path, reason, source } = transfer;
    const job = {
      remotePath: joinRemote(paths.remoteDir, path),
      localPath: joinLocal(paths.localDir, ...path.split("/")),
      size: source.size,
    };
    const counts = newSummary();
    const fileOptions = { signal };
    if (reverse) {
      await uploadFile(session, { ...job, size: source.size ?? 0 }, fileOptions, progress, counts);
      if (setsRemoteTime && source.modified) {
        await setRemoteTime(session, job.remotePath, source.modified, signal);
      }
    } else {
      try {
        await downloadFile(session, job, fileOptions, progress, counts);
      } catch (error) {
        // A link to a directory, or a dangling one: not a file the server can send.
        if (source.type !== "link" || !(error instanceof ReplyError && error.code >= 500)) {
          throw error;
        }
        summary.notTransferred.push(path);
        return;
      }
      if (source.modified) await setLocalModifiedTime(job.localPath, source.modified);
    }
    report({ kind: "transfer", path, reason, bytes: counts.bytes });
  });
  for (const path of plan.skips) report({ kind: "skip", path });
  return summary;
}

/**
 * Decides what a mirror does: compares the source tree with the target tree, parents first.
 *
 * @param source The source tree.
 * @param target The target tree (empty when missing).
 * @param deleteExtra Whether to remove what the source lacks and replace type conflicts.
 * @returns The plan.
 */
function planMirror(source: Tree, target: Tree, deleteExtra: boolean): MirrorPlan {
  const plan: MirrorPlan = {
    deletions: [],
    directories: [],
    transfers: [],
    skips: [],
    notTransferred: [],
  };
  /** Source directories that cannot be created: what they hold is left out with them. */
  const blocked = new Set<string>();
  /** Target paths in the way of a source path of another type, to be replaced. */
  const replaced = new Set<string>();
  for (const [path, entry] of source) {
    if (blocked.has(parentOf(path))) {
      if (entry.type === "dir") blocked.add(path);
      continue;
    }
    const existing = target.get(path);
    if (entry.type === "dir") {
      if (existing?.type === "dir") continue;
      if (existing && !deleteExtra) {
        plan.notTransferred.push(path);
        blocked.add(path);
        continue;
      }
      if (existing) replaced.add(path);
      plan.directories.push(path);
    } else if (entry.type === "file" || entry.type === "link") {
      if (!existing) {
        plan.transfers.push({ path, reason: "missing", source: entry });
      } else if (existing.type === "dir" || existing.type === "other") {
        if (deleteExtra) {
          replaced.add(path);
          plan.transfers.push({ path, reason: "missing", source: entry });
        } else plan.notTransferred.push(path);
      } else {
        const reason = difference(entry, existing);
        if (reason) plan.transfers.push({ path, reason, source: entry });
        else plan.skips.push(path);
      }
    } else plan.notTransferred.push(path);
  }
  if (deleteExtra) {
    const removed = new Set<string>();
    for (const [path, entry] of target) {
      if (isInside(path, removed)) continue;
      if (source.has(path) && !replaced.has(path)) continue;
      removed.add(path);
      plan.deletions.push({ path, type: entry.type });
    }
  }
  return plan;
}

/**
 * Why a source file differs from the target file of the same path, if it does.
 *
 * @param source The source file.
 * @param target The target file.
 * @returns The reason, or `undefined` when the target is up to date.
 */
function difference(source: TreeEntry, target: TreeEntry): MirrorReason | undefined {
  if (source.size !== undefined && target.size !== undefined && source.size !== target.size) {
    return "size";
  }
  if (
    source.modified && target.modified &&
    source.modified.getTime() - target.modified.getTime() >
      TIME_TOLERANCE_MS + target.timePrecision
  ) {
    return "newer";
  }
  return undefined;
}

/** The side of a mirror that changes: the local directory, or (reversed) the remote one. */
interface TargetSide {
  /** Removes a path and everything in it. */
  remove(path: string, type: TreeEntry["type"]): Promise<void>;
  /** Creates the target directory itself when it is missing. */
  createRoot(): Promise<void>;
  /** Creates a directory (its parent exists). */
  createDirectory(path: string): Promise<void>;
}

class LocalSide implements TargetSide {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  async remove(path: string): Promise<void> {
    await removeLocal(this.#local(path));
  }

  async createRoot(): Promise<void> {
    await makeLocalDirectory(this.#root);
  }

  async createDirectory(path: string): Promise<void> {
    await makeLocalDirectory(this.#local(path));
  }

  #local(path: string): string {
    return joinLocal(this.#root, ...path.split("/"));
  }
}

class RemoteSide implements TargetSide {
  readonly #remote: RemoteFiles;
  readonly #root: string;
  readonly #tree: Tree;
  readonly #signal: AbortSignal | undefined;

  constructor(remote: RemoteFiles, root: string, tree: Tree, signal: AbortSignal | undefined) {
    this.#remote = remote;
    this.#root = root;
    this.#tree = tree;
    this.#signal = signal;
  }

  /** Removes a file, or a directory after what the listing showed in it, deepest first. */
  async remove(path: string, type: TreeEntry["type"]): Promise<void> {
    const signal = this.#signal;
    if (type === "dir") {
      const inside = [...this.#tree].filter(([p]) => p.startsWith(`${path}/`)).reverse();
      for (const [p, entry] of inside) await this.#removeOne(p, entry.type, signal);
    }
    await this.#removeOne(path, type, signal);
  }

  async createRoot(): Promise<void> {
    if (this.#root === "") return;
    await this.#remote.mkdir(this.#root, { parents: true, signal: this.#signal });
  }

  async createDirectory(path: string): Promise<void> {
    await this.#remote.mkdir(joinRemote(this.#root, path), { signal: this.#signal });
  }

  async #removeOne(path: string, type: TreeEntry["type"], signal?: AbortSignal): Promise<void> {
    const remotePath = joinRemote(this.#root, path);
    if (type === "dir") await this.#remote.rmdir(remotePath, { signal });
    else await this.#remote.removeFile(remotePath, { signal });
  }
}

/**
 * Reads the remote tree, refusing names that are not one plain component.
 *
 * @returns The tree, or `undefined` when the directory does not exist.
 */
async function readRemoteTree(
  remote: RemoteFiles,
  directory: string,
  timePrecision: number,
  signal: AbortSignal | undefined,
): Promise<Tree | undefined> {
  const tree: Tree = new Map();
  const prefix = joinRemote(directory, "");
  try {
    for await (const item of remote.list(directory, { recursive: true, signal })) {
      if (!isPlainName(item.info.name)) throw unsafeName(item.path, "mirror");
      // The walk descends through plain names only, so the path below the root is clean.
      const path = item.path.slice(prefix.length);
      const { type, size, modify } = item.info;
      const known = type === "file" ? size : undefined;
      tree.set(path, { type, size: known, modified: modify, timePrecision });
    }
  } catch (error) {
    const missing = tree.size === 0 && error instanceof ReplyError &&
      matchesCode(error.code, NOT_FOUND);
    if (missing) return undefined;
    throw error;
  }
  return tree;
}

/**
 * Reads the local tree.
 *
 * @param directory The local directory.
 * @param isSource Whether it is the mirror's source (for the error's wording only).
 * @returns The tree, or `undefined` when the directory does not exist.
 * @throws {PathError} When the path is not a directory.
 */
async function readLocalTree(directory: string, isSource: boolean): Promise<Tree | undefined> {
  const root = await statLocal(directory);
  if (!root) return undefined;
  if (root.type !== "dir") {
    const role = isSource ? "source" : "target";
    throw new PathError("invalid-path", directory, {
      message: `Cannot mirror with "${directory}" as ${role}: it is not a directory`,
    });
  }
  const tree: Tree = new Map();
  for (const entry of await walkLocal(directory)) {
    tree.set(entry.parts.join("/"), {
      type: entry.type,
      size: entry.type === "file" ? entry.size : undefined,
      modified: entry.modified,
      timePrecision: 0,
    });
  }
  return tree;
}

/** Sets a remote file's time with `MFMT`; a refusal leaves the time as the upload made it. */
async function setRemoteTime(
  remote: RemoteFiles,
  path: string,
  time: Date,
  signal: AbortSignal | undefined,
): Promise<void> {
  await remote.command(`MFMT ${formatMlsxTime(time)} ${path}`, undefined, { signal });
}

function deleteAction(path: string, type: TreeEntry["type"]): MirrorDeleteAction {
  return { kind: "delete", path, type: type === "dir" ? "dir" : "file" };
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

/** Whether a path lies inside one of the given directories. */
function isInside(path: string, directories: Set<string>): boolean {
  for (let at = path.lastIndexOf("/"); at > 0; at = path.lastIndexOf("/", at - 1)) {
    if (directories.has(path.slice(0, at))) return true;
  }
  return false;
}
