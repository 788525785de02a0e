/**
 * Server accounts: {@linkcode User} (login, password, home, permissions, limits, file system);
 * its rights are {@linkcode Permission}s.
 *
 * @module
 */

import type { FileSystem } from "../fs/file_system.ts";
import { parsePasswordHash, secretsEqual, verifyPassword } from "./password.ts";
import { Permission, uniformRights } from "./permission.ts";
import { resolveSpeedLimits } from "./session_throttles.ts";

/**
 * Options of {@linkcode User}.
 *
 * @example An account with a home of its own
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import {
 *   MemoryFileSystem,
 *   Permission,
 *   Server,
 *   User,
 *   type UserOptions,
 * } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const fileSystem = new MemoryFileSystem(); // her own, apart from the server's
 * await fileSystem.mkdir("/home/alice", { parents: true });
 * const options: UserOptions = {
 *   login: "alice",
 *   password: "secret",
 *   home: "/home/alice",
 *   permissions: [new Permission("/", { writable: false }), new Permission("/home/alice")],
 *   fileSystem,
 *   maxConnections: 2,
 *   downloadLimit: 1 << 20, // bytes per second, all her sessions together
 * };
 * await using server = new Server({ users: [new User(options)] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login("alice", "secret");
 * assert.equal(await client.pwd(), "/home/alice");
 * await client.mkdir("mine"); // she may write at home...
 * await assert.rejects(client.mkdir("/elsewhere"), { code: 550 }); // ...and nowhere else
 * ```
 */
export interface UserOptions {
  /**
   * Login name; leave it out for the anonymous account, which the anonymous names
   * (`anonymous` and `ftp`, or the server's `anonymousNames`) log into, and no other name.
   */
  login?: string;
  /** Password in clear text; leave it and `passwordHash` out for a login without password. */
  password?: string;
  /**
   * The password as a hash from `hashPassword()` (`scrypt$N$r$p$salt$key`), instead of
   * `password`: the account then keeps no clear text.
   */
  passwordHash?: string;
  /** Absolute virtual path the session starts in (default `"/"`; it need not exist). */
  home?: string;
  /** Rights (default: read and write on `"/"`). Paths no permission covers are denied. */
  permissions?: Permission[];
  /** The user's own file system; by default the server's. */
  fileSystem?: FileSystem;
  /** Most sessions this user may have at once (default unlimited). */
  maxConnections?: number;
  /**
   * Upload limit in bytes/s shared by all the user's sessions (STOR, STOU, APPE), on top of the
   * server's limits.
   */
  uploadLimit?: number;
  /** Download limit in bytes/s shared by all the user's sessions (RETR, listings). */
  downloadLimit?: number;
  /** Upload limit in bytes/s of each of the user's sessions. */
  uploadLimitPerConnection?: number;
  /** Download limit in bytes/s of each of the user's sessions. */
  downloadLimitPerConnection?: number;
  /** Alias of `uploadLimit` (aioftp's name), which wins when both are given. */
  readSpeedLimit?: number;
  /** Alias of `downloadLimit` (aioftp's name), which wins when both are given. */
  writeSpeedLimit?: number;
  /** Alias of `uploadLimitPerConnection`, which wins when both are given. */
  readSpeedLimitPerConnection?: number;
  /** Alias of `downloadLimitPerConnection`, which wins when both are given. */
  writeSpeedLimitPerConnection?: number;
}

const DENIED = new Permission("/", { readable: false, writable: false });

/**
 * An account of the server.
 *
 * @example Named and anonymous accounts
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { hashPassword, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const users = [
 *   new User({ login: "alice", passwordHash: await hashPassword("secret", { cost: 1024 }) }),
 *   new User(), // the anonymous account, with every right
 * ];
 * await using server = new Server({ users, loginFailureDelay: 0 });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login("alice", "secret");
 * await assert.rejects(client.login("alice", "guess"), { code: 530 });
 * await client.login(); // anonymous
 * assert.equal(await users[0].checkPassword("secret"), true);
 * ```
 */
export class User {
  /** Login name, or `undefined` for the anonymous catch-all. */
  readonly login: string | undefined;
  /** Password in clear text, or `undefined` when none is asked or it is kept as a hash. */
  readonly password: string | undefined;
  /** Password hash (`scrypt$...`), or `undefined` when none is asked or it is in clear text. */
  readonly passwordHash: string | undefined;
  /** Start directory (absolute virtual path). */
  readonly home: string;
  /** Rights, nearest ancestor first when looked up. */
  readonly permissions: readonly Permission[];
  /**
   * Whether every path has the same rights (see {@linkcode uniformRights}): then where a
   * symbolic link leads cannot change what is allowed. Worked out once, not per command.
   */
  readonly uniformRights: boolean;
  /** The user's own file system, if any. */
  readonly fileSystem: FileSystem | undefined;
  /** Most concurrent sessions, or `undefined` for no limit. */
  readonly maxConnections: number | undefined;
  /** Upload limit (bytes/s) across all sessions of this user. */
  readonly uploadLimit: number | undefined;
  /** Download limit (bytes/s) across all sessions of this user. */
  readonly downloadLimit: number | undefined;
  /** Upload limit (bytes/s) of each session. */
  readonly uploadLimitPerConnection: number | undefined;
  /** Download limit (bytes/s) of each session. */
  readonly downloadLimitPerConnection: number | undefined;

  /**
   * Creates an account.
   *
   * @example
   * ```ts
   * import { hashPassword, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * const alice = new User({ login: "alice", passwordHash: await hashPassword("secret") });
   * assert.equal(await alice.checkPassword("secret"), true);
   * assert.equal(alice.password, undefined); // no clear text kept
   * assert.throws(() => new User({ home: "relative" }), TypeError);
   * ```
   *
   * @example Speed limits, in bytes per second
   * ```ts
   * import { User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * const guest = new User({ login: "guest", downloadLimit: 1 << 20, uploadLimit: 256 << 10 });
   * assert.equal(guest.readSpeedLimit, 256 << 10); // aioftp's name for the upload limit
   * ```
   *
   * @param options Login, password, home, permissions, file system and limits.
   * @throws {TypeError} When `home` is not absolute, when both `password` and `passwordHash`
   * are given, or when `passwordHash` is no hash `hashPassword()` makes.
   */
  constructor(options: UserOptions = {}) {
    const home = options.home ?? "/";
    if (!home.startsWith("/")) throw new TypeError(`User home "${home}" is not absolute`);
    if (options.password !== undefined && options.passwordHash !== undefined) {
      throw new TypeError("A user has a password or a passwordHash, not both");
    }
    if (options.passwordHash !== undefined) parsePasswordHash(options.passwordHash);
    this.login = options.login;
    this.password = options.password;
    this.passwordHash = options.passwordHash;
    this.home = home;
    this.permissions = options.permissions ?? [new Permission()];
    this.uniformRights = uniformRights(this.permissions);
    this.fileSystem = options.fileSystem;
    this.maxConnections = options.maxConnections;
    const limits = resolveSpeedLimits(options);
    this.uploadLimit = limits.uploadLimit;
    this.downloadLimit = limits.downloadLimit;
    this.uploadLimitPerConnection = limits.uploadLimitPerConnection;
    this.downloadLimitPerConnection = limits.downloadLimitPerConnection;
  }

  /** Alias of {@linkcode User.uploadLimit} (aioftp's name). */
  get readSpeedLimit(): number | undefined {
    return this.uploadLimit;
  }

  /** Alias of {@linkcode User.downloadLimit} (aioftp's name). */
  get writeSpeedLimit(): number | undefined {
    return this.downloadLimit;
  }

  /** Alias of {@linkcode User.uploadLimitPerConnection}. */
  get readSpeedLimitPerConnection(): number | undefined {
    return this.uploadLimitPerConnection;
  }

  /** Alias of {@linkcode User.downloadLimitPerConnection}. */
  get writeSpeedLimitPerConnection(): number | undefined {
    return this.downloadLimitPerConnection;
  }

  /** Whether a password is asked (in clear text or as a hash). */
  get hasPassword(): boolean {
    return this.password !== undefined || this.passwordHash !== undefined;
  }

  /**
   * Checks a password in constant time: against the hash with scrypt, or against the clear
   * text through their digests. An account without password accepts any.
   *
   * @param password The password the client sent.
   * @returns `true` when it is right.
   */
  checkPassword(password: string): Promise<boolean> {
    if (this.passwordHash !== undefined) return verifyPassword(password, this.passwordHash);
    return Promise.resolve(this.password === undefined || secretsEqual(this.password, password));
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
