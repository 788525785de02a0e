/**
 * Virtual paths: the absolute POSIX paths a session sees, resolved lexically so that `..`
 * never climbs above `/`.
 *
 * @module
 */

import { PathError } from "../errors.ts";

/** An absolute path with no empty, `.` or `..` segment, no trailing slash and no NUL. */
const NORMAL_PATH = /^(?:\/(?!\.\.?(?:\/|$))[^/\0]+)+$/;

/**
 * Resolves a client-supplied path against the current directory.
 *
 * @example Resolving
 * ```ts
 * import { resolveVirtualPath } from "./virtual_path.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(resolveVirtualPath("/home", "../../etc"), "/etc"); // never above "/"
 * assert.equal(resolveVirtualPath("/a", ""), "/a");
 * ```
 *
 * @param cwd The session's current directory (absolute).
 * @param path The path as given; empty means `cwd`.
 * @returns The absolute, normalized path.
 * @throws {PathError} `invalid-path` when the path contains a NUL byte.
 */
export function resolveVirtualPath(cwd: string, path: string): string {
  // Most paths are already normal once joined (a name in the current directory, or a path
  // the server resolved before): those are returned as they are.
  const joined = path.startsWith("/")
    ? path
    : path === ""
    ? cwd
    : cwd === "/"
    ? `/${path}`
    : `${cwd}/${path}`;
  if (joined === "/" || NORMAL_PATH.test(joined)) return joined;
  if (path.includes("\0") || cwd.includes("\0")) {
    throw new PathError("invalid-path", path.replace(/\0/g, "\\0"), {
      message: "Path contains a NUL byte",
    });
  }
  const parts: string[] = [];
  for (const part of joined.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/**
 * The parent of an absolute virtual path (`/` for `/`).
 *
 * @example
 * ```ts
 * import { parentPath } from "./virtual_path.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parentPath("/a/b.txt"), "/a");
 * assert.equal(parentPath("/a"), "/");
 * ```
 *
 * @param path An absolute, normalized path.
 * @returns Its parent directory.
 */
export function parentPath(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut <= 0 ? "/" : path.slice(0, cut);
}

/**
 * The last component of an absolute virtual path (`""` for `/`).
 *
 * @example
 * ```ts
 * import { baseName } from "./virtual_path.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(baseName("/a/b.txt"), "b.txt");
 * assert.equal(baseName("/"), "");
 * ```
 *
 * @param path An absolute, normalized path.
 * @returns Its name.
 */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
