/**
 * A local directory's entries with their metadata, looked up on the running thread: the
 * directory is read in batches and the entries of a batch are looked up in parallel (`lstat`,
 * and for a link `realpath` and `stat` of where it leads). With synchronous lookups this is
 * the quickest listing there is; with asynchronous ones it is the fallback of
 * `listing_worker.ts`.
 *
 * @module
 */

import { sep } from "node:path";
import type { FileStat } from "./file_system.ts";
import type { LocalListedEntry } from "./local_file_access.ts";

/** The calls {@linkcode listWithLookups} makes. */
export interface ListingLookups {
  /** A directory's entry names in batches of at most `batchSize`. */
  readDir(path: string, batchSize: number): AsyncIterable<string[]>;
  /** Metadata of the path itself. */
  lstat(path: string): Promise<FileStat>;
  /** Metadata, following links. */
  stat(path: string): Promise<FileStat>;
  /** The canonical path. */
  realpath(path: string): Promise<string>;
}

/**
 * Lists a directory with the given lookups. Entries that vanish (or cannot be looked up) while
 * the directory is read are left out; a link whose target cannot be resolved has no `target`.
 *
 * @example Lookups of a made-up directory
 * ```ts
 * import { listWithLookups } from "./local_listing.ts";
 * import assert from "node:assert/strict";
 *
 * const info = (type: "file" | "link", size: number) =>
 *   Promise.resolve({ type, size, mtime: new Date(0), mode: 0o644, nlink: 1 });
 * const lookups = {
 *   async *readDir() {
 *     yield ["a.txt", "to-a", "gone"];
 *   },
 *   lstat: (path: string) =>
 *     path.endsWith("gone") ? Promise.reject(new Error("ENOENT")) : info(
 *       path.endsWith("to-a") ? "link" : "file",
 *       path.endsWith("to-a") ? 7 : 2,
 *     ),
 *   stat: () => info("file", 2),
 *   realpath: () => Promise.resolve("/d/a.txt"),
 * };
 * const [batch] = await Array.fromAsync(
 *   listWithLookups(lookups, "/d", { batchSize: 10 }),
 * );
 * assert.deepEqual(batch.map((e) => [e.name, e.stat.type]), [["a.txt", "file"], ["to-a", "link"]]);
 * assert.deepEqual(batch[1].target?.path, "/d/a.txt");
 * ```
 *
 * @param lookups The calls.
 * @param path The directory's real local path.
 * @param options Entries per batch.
 * @returns The entries in batches.
 */
export async function* listWithLookups(
  lookups: ListingLookups,
  path: string,
  options: { batchSize: number },
): AsyncIterable<LocalListedEntry[]> {
  const prefix = path.endsWith(sep) ? path : path + sep;
  for await (const batch of lookups.readDir(path, options.batchSize)) {
    const found = await Promise.all(batch.map((name) => lookUp(lookups, prefix + name, name)));
    const listed = found.filter((entry): entry is LocalListedEntry => entry !== undefined);
    if (listed.length > 0) yield listed;
  }
}

async function lookUp(
  lookups: ListingLookups,
  full: string,
  name: string,
): Promise<LocalListedEntry | undefined> {
  let stat: FileStat;
  try {
    stat = await lookups.lstat(full);
  } catch {
    return undefined; // removed while listing
  }
  if (stat.type !== "link") return { name, stat };
  try {
    const target = await lookups.realpath(full);
    return { name, stat, target: { path: target, stat: await lookups.stat(target) } };
  } catch {
    return { name, stat }; // dangling
  }
}
