/**
 * The default {@linkcode LocalFileAccess}: `node:fs` unless an entry point registered the
 * running runtime's faster one (`adapters/auto.ts` does, on import). A `LocalFileSystem` takes
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
 * @example
 * ```ts ignore
 * import { setDefaultFileAccess } from "./file_access_registry.ts";
 * import { nodeFileAccess } from "./fs/node_file_access.ts";
 * setDefaultFileAccess(nodeFileAccess);
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
 * @example
 * ```ts ignore
 * import { defaultFileAccess } from "./file_access_registry.ts";
 * const info = await defaultFileAccess().stat("/tmp");
 * ```
 *
 * @returns The registered access, or the `node:fs` one.
 */
export function defaultFileAccess(): LocalFileAccess {
  return current;
}
