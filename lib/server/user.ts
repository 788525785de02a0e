/**
 * Server accounts: {@linkcode User} (login, password, home, permissions, limits, file system)
 * and {@linkcode Permission} (read/write rights on a virtual path and everything below it).
 *
 * @module
 */

import type { FileSystem } from "../fs/file_system.ts";

/** Options of {@linkcode Permission}. */
export interface PermissionOptions {
  /** Whether files below the path may be read and directories listed (default `true`). */
  readable?: boolean;
  /** Whether files and directories below the path may be created, changed or removed (default `true`). */
  writable?: boolean;
}

/**
 * Rights on a virtual path and everything below it. Of several permissions, the one whose path
 * is the nearest ancestor of the path in question decides.
 */
export class Permission {
  /** The absolute virtual path this permission covers (normalized, no trailing slash). */
  readonly path: string;
  /** Whether reading is allowed. */
  readonly readable: boolean;
  /** Whether writing is allowed. */
  readonly writable: boolean;

  /**
   * Creates a permission.
   *
   * @param path Absolute virtual path (default `"/"`).
   * @param options The rights (both default to `true`).
   * @throws {TypeError} When `path` is not absolute.
   */
  constructor(path = "/", options: PermissionOptions = {}) {
    if (!path.startsWith("/")) throw new TypeError(`Permission path "${path}" is not absolute`);
    this.path = path.length > 1 ? path.replace(/\/+$/, "") || "/" : path;
    this.readable = options.readable ?? true;
    this.writable = options.writable ?? true;
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
}

/** Options of {@linkcode User}. */
export interface UserOptions {
  /** Login name; leave it out for an anonymous account that accepts any name. */
  login?: string;
  /** Password; leave it out for a login without password. */
  password?: string;
  /** Absolute virtual path the session starts in (default `"/"`; it need not exist). */
  home?: string;
  /** Rights (default: read and write on `"/"`). Paths no permission covers are denied. */
  permissions?: Permission[];
  /** The user's own file system; by default the server's. */
  fileSystem?: FileSystem;
  /** Most sessions this user may have at once (default unlimited). */
  maxConnections?: number;
  /** Upload limit in bytes/s shared by all the user's sessions. */
  readSpeedLimit?: number;
  /** Download limit in bytes/s shared by all the user's sessions. */
  writeSpeedLimit?: number;
  /** Upload limit in bytes/s of each of the user's sessions. */
  readSpeedLimitPerConnection?: number;
  /** Download limit in bytes/s of each of the user's sessions. */
  writeSpeedLimitPerConnection?: number;
}

const DENIED = new Permission("/", { readable: false, writable: false });

/** An account of the server. */
export class User {
  /** Login name, or `undefined` for the anonymous catch-all. */
  readonly login: string | undefined;
  /** Password, or `undefined` when none is asked. */
  readonly password: string | undefined;
  /** Start directory (absolute virtual path). */
  readonly home: string;
  /** Rights, nearest ancestor first when looked up. */
  readonly permissions: readonly Permission[];
  /** The user's own file system, if any. */
  readonly fileSystem: FileSystem | undefined;
  /** Most concurrent sessions, or `undefined` for no limit. */
  readonly maxConnections: number | undefined;
  /** Upload limit (bytes/s) across all sessions of this user. */
  readonly readSpeedLimit: number | undefined;
  /** Download limit (bytes/s) across all sessions of this user. */
  readonly writeSpeedLimit: number | undefined;
  /** Upload limit (bytes/s) of each session. */
  readonly readSpeedLimitPerConnection: number | undefined;
  /** Download limit (bytes/s) of each session. */
  readonly writeSpeedLimitPerConnection: number | undefined;

  /**
   * Creates an account.
   *
   * @param options Login, password, home, permissions, file system and limits.
   * @throws {TypeError} When `home` is not absolute.
   */
  constructor(options: UserOptions = {}) {
    const home = options.home ?? "/";
    if (!home.startsWith("/")) throw new TypeError(`User home "${home}" is not absolute`);
    this.login = options.login;
    this.password = options.password;
    this.home = home;
    this.permissions = options.permissions ?? [new Permission()];
    this.fileSystem = options.fileSystem;
    this.maxConnections = options.maxConnections;
    this.readSpeedLimit = options.readSpeedLimit;
    this.writeSpeedLimit = options.writeSpeedLimit;
    this.readSpeedLimitPerConnection = options.readSpeedLimitPerConnection;
    this.writeSpeedLimitPerConnection = options.writeSpeedLimitPerConnection;
  }

  /**
   * Finds the permission that decides for `path`: the one with the longest path covering it.
   * When none covers it, everything is denied (unlike aioftp, which allowed everything).
   *
   * @param path An absolute, normalized virtual path.
   * @returns The deciding permission.
   */
  permissionFor(path: string): Permission {
    let best: Permission | undefined;
    for (const permission of this.permissions) {
      if (!permission.covers(path)) continue;
      if (!best || permission.path.length > best.path.length) best = permission;
    }
    return best ?? DENIED;
  }
}
