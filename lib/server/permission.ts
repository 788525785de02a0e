/**
 * Per-path rights: {@linkcode Permission} grants a set of {@linkcode AccessRight}s on a virtual
 * path and everything below it; of a user's permissions, the one with the nearest ancestor path
 * decides. Rights are given as `readable`/`writable` shorthands, as letters in the manner of
 * pyftpdlib's `elradfmwMT`, or by name.
 *
 * @module
 */

/**
 * One thing a user may do with a path. The verbs that need each:
 * - `"cd"`: CWD, CDUP (enter a directory);
 * - `"list"`: LIST, NLST, MLSD, STAT with a path; MLST, SIZE and MDTM need `list` or `read`;
 * - `"read"`: RETR, HASH (file contents);
 * - `"write"`: create a file: STOR or APPE of a new file, STOU;
 * - `"overwrite"`: STOR onto an existing file (with or without REST), instead of `write`;
 * - `"append"`: APPE onto an existing file, instead of `write`;
 * - `"delete"`: DELE;
 * - `"rename"`: RNFR (on the source) and RNTO (on the target);
 * - `"mkdir"`: MKD;
 * - `"rmdir"`: RMD;
 * - `"chmod"`: SITE CHMOD;
 * - `"mtime"`: MFMT.
 *
 * @example A permission by right names
 * ```ts
 * import { type AccessRight, Permission } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const rights: AccessRight[] = ["cd", "list", "read", "write"]; // no overwriting, no deleting
 * const uploads = new Permission("/uploads", { rights });
 * assert.equal(uploads.allows("write"), true);
 * assert.equal(uploads.allows("overwrite"), false);
 * ```
 */
export type AccessRight =
  | "cd"
  | "list"
  | "read"
  | "write"
  | "overwrite"
  | "append"
  | "delete"
  | "rename"
  | "mkdir"
  | "rmdir"
  | "chmod"
  | "mtime";

/**
 * The rights `readable: true` grants: look around and download.
 *
 * @example
 * ```ts
 * import { Permission, READ_RIGHTS } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(READ_RIGHTS, ["cd", "list", "read"]);
 * const readOnly = new Permission("/", { writable: false });
 * assert.deepEqual([...readOnly.rights], READ_RIGHTS);
 * ```
 */
export const READ_RIGHTS: readonly AccessRight[] = ["cd", "list", "read"];

/**
 * The rights `writable: true` grants: every right that changes the tree.
 *
 * @example
 * ```ts
 * import { Permission, WRITE_RIGHTS } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * assert.ok(WRITE_RIGHTS.includes("delete"));
 * // Everything but reading: a drop box whose files can be replaced and removed.
 * const dropBox = new Permission("/incoming", { rights: ["cd", ...WRITE_RIGHTS] });
 * assert.equal(dropBox.allows("read"), false);
 * ```
 */
export const WRITE_RIGHTS: readonly AccessRight[] = [
  "write",
  "overwrite",
  "append",
  "delete",
  "rename",
  "mkdir",
  "rmdir",
  "chmod",
  "mtime",
];

const ALL_RIGHTS: ReadonlySet<string> = new Set([...READ_RIGHTS, ...WRITE_RIGHTS]);

/**
 * The letters of {@linkcode PermissionOptions.letters}: pyftpdlib's, with the same meaning
 * (`d` deletes files and directories, `w` stores new and existing files), plus `c`, which
 * creates new files but replaces none (a drop box).
 */
const LETTERS: Readonly<Record<string, readonly AccessRight[]>> = {
  e: ["cd"],
  l: ["list"],
  r: ["read"],
  a: ["append"],
  d: ["delete", "rmdir"],
  f: ["rename"],
  m: ["mkdir"],
  w: ["write", "overwrite"],
  c: ["write"],
  M: ["chmod"],
  T: ["mtime"],
};

/**
 * Options of {@linkcode Permission}. The rights granted are the union of what the options
 * give; with neither `letters` nor `rights`, `readable` and `writable` default to `true`, and
 * otherwise to `false`.
 *
 * @example
 * ```ts
 * import { Permission, type PermissionOptions } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const dropBox: PermissionOptions = { rights: ["write"] };
 * const noDelete: PermissionOptions = { letters: "elrawfmMT" }; // pyftpdlib's letters, no `d`
 * assert.equal(new Permission("/in", dropBox).allows("list"), false);
 * assert.equal(new Permission("/shared", noDelete).allows("delete"), false);
 * assert.equal(new Permission("/shared", noDelete).allows("rename"), true);
 * ```
 */
export interface PermissionOptions {
  /** Grants {@linkcode READ_RIGHTS}: `cd`, `list`, `read`. */
  readable?: boolean;
  /** Grants {@linkcode WRITE_RIGHTS}: every right that creates, changes or removes. */
  writable?: boolean;
  /**
   * Rights as letters, pyftpdlib's `elradfmwMT` with their meaning there: `e` cd, `l` list,
   * `r` read, `a` append, `d` delete and rmdir, `f` rename, `m` mkdir, `w` write and
   * overwrite, `M` chmod, `T` mtime; and `c`: write only (create new files, replace none).
   */
  letters?: string;
  /** Rights by name, each granted on its own (`["write"]` is a drop box). */
  rights?: Iterable<AccessRight>;
}

/**
 * Rights on a virtual path and everything below it. Of several permissions, the one whose path
 * is the nearest ancestor of the path in question decides.
 *
 * @example
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { MemoryFileSystem, Permission, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const fileSystem = new MemoryFileSystem();
 * await fileSystem.mkdir("/incoming");
 * const guest = new User({
 *   permissions: [
 *     new Permission("/", { writable: false }), // read-only everywhere...
 *     new Permission("/incoming", { rights: ["write"] }), // ...but a drop box here
 *   ],
 * });
 * await using server = new Server({ users: [guest], fileSystem });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await new Blob(["hi"]).stream().pipeTo(await client.uploadStream("incoming/a.txt"));
 * await assert.rejects(client.uploadStream("incoming/a.txt"), { code: 550 }); // no overwrite
 * await assert.rejects(client.uploadStream("b.txt"), { code: 550 }); // read-only
 * await assert.rejects(client.downloadStream("incoming/a.txt"), { code: 550 }); // no read
 * ```
 */
export class Permission {
  /** The absolute virtual path this permission covers (normalized, no trailing slash). */
  readonly path: string;
  /** The rights granted. */
  readonly rights: ReadonlySet<AccessRight>;

  /**
   * Creates a permission.
   *
   * @param path Absolute virtual path (default `"/"`).
   * @param options The rights (default: all of them).
   * @throws {TypeError} When `path` is not absolute, or a letter or right is unknown.
   */
  constructor(path = "/", options: PermissionOptions = {}) {
    if (!path.startsWith("/")) throw new TypeError(`Permission path "${path}" is not absolute`);
    this.path = path.length > 1 ? path.replace(/\/+$/, "") || "/" : path;
    const explicit = options.letters !== undefined || options.rights !== undefined;
    const rights = new Set<AccessRight>();
    if (options.readable ?? !explicit) { for (const right of READ_RIGHTS) rights.add(right); }
    if (options.writable ?? !explicit) { for (const right of WRITE_RIGHTS) rights.add(right); }
    for (const letter of options.letters ?? "") {
      const granted = LETTERS[letter];
      if (!granted) {
        throw new TypeError(`Unknown permission letter "${letter}" in "${options.letters}"`);
      }
      for (const right of granted) rights.add(right);
    }
    for (const right of options.rights ?? []) {
      if (!ALL_RIGHTS.has(right)) throw new TypeError(`Unknown permission right "${right}"`);
      rights.add(right);
    }
    this.rights = rights;
  }

  /** Whether every right of {@linkcode READ_RIGHTS} is granted. */
  get readable(): boolean {
    return READ_RIGHTS.every((right) => this.rights.has(right));
  }

  /** Whether every right of {@linkcode WRITE_RIGHTS} is granted. */
  get writable(): boolean {
    return WRITE_RIGHTS.every((right) => this.rights.has(right));
  }

  /**
   * Tells whether a right is granted.
   *
   * @param right The right.
   * @returns `true` when granted.
   */
  allows(right: AccessRight): boolean {
    return this.rights.has(right);
  }

  /**
   * Tells whether `path` is this permission's path or below it.
   *
   * @param path An absolute, normalized virtual path.
   * @returns `true` when the permission covers the path.
   */
  covers(path: string): boolean {
    if (this.path === "/") return path.startsWith("/");
    return path === this.path || path.startsWith(this.path + "/");
  }

  /**
   * Tells whether this permission's path lies strictly below `path`: moving `path` would carry
   * part of the tree out from under this rule, or under it.
   *
   * @param path An absolute, normalized virtual path.
   * @returns `true` when the permission's path is below `path` (not `path` itself).
   */
  liesBelow(path: string): boolean {
    if (path === "/") return this.path !== "/";
    return this.path.startsWith(path + "/");
  }
}

/**
 * Tells whether a set of permissions gives every path the same rights (one rule on `/`, or
 * several with equal rights, or none at all): where a symbolic link leads then cannot change
 * what is allowed, and the server skips resolving it.
 *
 * @example
 * ```ts
 * import { Permission, uniformRights } from "./permission.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(uniformRights([new Permission("/")]), true);
 * const readOnlyBelow = new Permission("/ro", { writable: false });
 * assert.equal(uniformRights([new Permission("/"), readOnlyBelow]), false);
 * ```
 *
 * @param permissions A user's permissions.
 * @returns `true` when the nearest-ancestor rule gives the same answer for every path.
 */
export function uniformRights(permissions: readonly Permission[]): boolean {
  if (permissions.length === 0) return true;
  if (permissions.length === 1) return permissions[0].path === "/";
  if (!permissions.some((permission) => permission.path === "/")) return false;
  const first = permissions[0].rights;
  return permissions.every(({ rights }) =>
    rights.size === first.size && [...rights].every((right) => first.has(right))
  );
}
