/**
 * The default {@linkcode LocalFileAccess}: `node:fs` unless an entry point registered the
 * running runtime's faster one (`adapters/auto_file_access.ts` does, on import). A `LocalFileSystem` takes
 * the default when it is created.
 *
 * @module
 */

import type { LocalFileAccess } from "./fs/local_file_access.ts";
import { nodeFileAccess } from "./fs/node_file_access.ts";

let current: LocalFileAccess = nodeFileAccess;

/**
 * Sets the local file access of file systems created from now on.
 *
 * @example node:fs for every local file system
 * ```ts
 * import { defaultFileAccess, setDefaultFileAccess } from "./file_access_registry.ts";
 * import { nodeFileAccess } from "./fs/node_file_access.ts";
 * import assert from "node:assert/strict";
 *
 * const previous = defaultFileAccess();
 * setDefaultFileAccess(nodeFileAccess);
 * try {
 *   assert.equal(defaultFileAccess(), nodeFileAccess);
 * } finally {
 *   setDefaultFileAccess(previous);
 * }
 * ```
 *
 * @param access The access to use by default.
 */
export function setDefaultFileAccess(access: LocalFileAccess): void {
  current = access;
}

/**
 * Returns the default local file access.
 *
 * @example Looking up a local directory
 * ```ts
 * import { defaultFileAccess } from "./file_access_registry.ts";
 * import assert from "node:assert/strict";
 * import process from "node:process";
 *
 * const info = await defaultFileAccess().stat(process.cwd());
 * assert.equal(info.type, "dir");
 * ```
 *
 * @returns The registered access, or the `node:fs` one.
 */
export function defaultFileAccess(): LocalFileAccess {
  return current;
}
