/**
 * The ways a `LocalFileSystem` reaches the disk in the running runtime, for tests that must
 * hold for each: the runtime's registered access (Deno's own lookups in Deno) and `node:fs`,
 * each with asynchronous and with synchronous lookups. Not a test file.
 *
 * @module
 */

import { denoFileAccess } from "../adapters/_deno_files.ts";
import { defaultFileAccess, setDefaultFileAccess } from "../lib/file_access_registry.ts";
import { LocalFileSystem, type LocalFileSystemOptions } from "../lib/fs/local.ts";
import type { LocalFileAccess } from "../lib/fs/local_file_access.ts";
import { nodeFileAccess } from "../lib/fs/node_file_access.ts";
import { runtime } from "./_util.ts";

/** One way of reaching the disk. */
export interface FileAccessVariant {
  /** A name for test titles. */
  name: string;
  /** The access. */
  access: LocalFileAccess;
}

/** The accesses of the running runtime: `node:fs` everywhere, Deno's own in Deno. */
export const fileAccessVariants: readonly FileAccessVariant[] = [
  ...(runtime === "deno" ? [{ name: "Deno lookups", access: denoFileAccess }] : []),
  { name: "node:fs", access: nodeFileAccess },
];

/** Each access, asynchronous and with synchronous lookups. */
export const localVariants: readonly (FileAccessVariant & { syncLookups: boolean })[] =
  fileAccessVariants.flatMap((variant) => [
    { ...variant, syncLookups: false },
    { ...variant, name: `${variant.name}, syncLookups`, syncLookups: true },
  ]);

/**
 * Creates a `LocalFileSystem` that uses `access` (the registered default is restored at once:
 * a file system keeps the access it was created with).
 *
 * @param access How it reaches the disk.
 * @param root Its root directory.
 * @param options Its options.
 * @returns The file system.
 */
export function localFileSystemWith(
  access: LocalFileAccess,
  root: string,
  options: LocalFileSystemOptions = {},
): LocalFileSystem {
  const previous = defaultFileAccess();
  setDefaultFileAccess(access);
  try {
    return new LocalFileSystem(root, options);
  } finally {
    setDefaultFileAccess(previous);
  }
}
