/**
 * The lexical half of mapping virtual paths onto a local directory, for one platform's path
 * rules (`node:path`'s `posix` or `win32`), so that what Windows reads as a separator or a
 * drive is refused, and can be tested on any platform. Following links is the caller's half.
 *
 * @module
 */

import type { PlatformPath } from "node:path";
import { PathError } from "../errors.ts";

/**
 * A local directory that virtual paths map into.
 *
 * @example
 * ```ts
 * import { win32 } from "node:path";
 * import { LocalRoot } from "./local_path.ts";
 * import assert from "node:assert/strict";
 *
 * const root = new LocalRoot("C:\\srv", win32);
 * assert.equal(root.toLocal("/pub/a.txt"), "C:\\srv\\pub\\a.txt");
 * assert.equal(root.contains("C:\\srv2"), false);
 * // "\" is a separator on Windows: a PathError "invalid-path".
 * assert.throws(() => root.toLocal("/pub/..\\..\\x"), { kind: "invalid-path" });
 * ```
 */
export class LocalRoot {
  /** The directory's canonical local path (`realpath` made it). */
  readonly path: string;
  /** The path rules of the local file system. */
  readonly platform: PlatformPath;

  /**
   * Describes a root.
   *
   * @param path The directory's canonical local path.
   * @param platform The path rules of the local file system.
   */
  constructor(path: string, platform: PlatformPath) {
    this.path = path;
    this.platform = platform;
  }

  /**
   * Maps a normalized virtual path to the local path below the root, refusing names that the
   * platform would read as more than a name: on Windows, `\` is a separator (`..\..\x` climbs
   * out of wherever it is joined) and `:` names a drive (`C:x`) or an alternate data stream.
   * POSIX reads both as plain characters.
   *
   * @param virtual A normalized absolute virtual path (no `.` or `..` names).
   * @returns The local path (not resolved: links in it are not followed yet).
   * @throws {PathError} `invalid-path` for a name with a Windows separator or drive mark.
   */
  toLocal(virtual: string): string {
    const { platform } = this;
    if (platform.sep === "\\" && (virtual.includes("\\") || virtual.includes(":"))) {
      throw new PathError("invalid-path", virtual, {
        message: `Names with "\\" or ":" are not allowed: "${virtual}"`,
      });
    }
    if (virtual === "/" || virtual === "") return this.path;
    // A normal virtual path needs no join on POSIX: it is already "/name/name...".
    if (platform.sep === "/") return this.path === "/" ? virtual : this.path + virtual;
    return platform.join(this.path, virtual);
  }

  /**
   * Maps a local path inside the root back to its virtual path.
   *
   * @param local A path for which {@linkcode LocalRoot.contains} holds.
   * @returns The absolute virtual path.
   */
  toVirtual(local: string): string {
    if (local === this.path) return "/";
    const { platform } = this;
    if (platform.sep === "/") return this.path === "/" ? local : local.slice(this.path.length);
    return "/" + platform.relative(this.path, local).split(platform.sep).join("/");
  }

  /**
   * Whether a local path is the root or below it (canonical, or built from a canonical path
   * by joining plain names).
   *
   * @param local The local path.
   * @returns `true` when it lies inside the root.
   */
  contains(local: string): boolean {
    const { path: root, platform } = this;
    if (local === root) return true;
    if (platform.sep === "/") return local.startsWith(root.endsWith("/") ? root : root + "/");
    // Elsewhere (Windows: drive letters, case) relative() knows the rules.
    const rel = platform.relative(root, local);
    return rel !== "" && rel !== ".." && !rel.startsWith(`..${platform.sep}`) &&
      !platform.isAbsolute(rel);
  }

  /**
   * Joins names below a local path and checks that the result is still inside the root: the
   * last step of mapping a path, after which nothing is joined any more.
   *
   * @param base A path inside the root.
   * @param names The names to append.
   * @returns The joined path, or `undefined` when it leaves the root.
   */
  joinInside(base: string, names: readonly string[]): string | undefined {
    const joined = names.length === 0 ? base : this.platform.join(base, ...names);
    return this.contains(joined) ? joined : undefined;
  }
}
