/**
 * Where the server gets its accounts: the {@linkcode UserManager} interface (a database, a
 * directory service, a file...) and {@linkcode MemoryUserManager}, a fixed list of
 * {@linkcode User}s with per-user session limits.
 *
 * @module
 */

import type { NetAddr } from "../socket.ts";
import { DEFAULT_ANONYMOUS_NAMES, isAnonymousName } from "./anonymous_names.ts";
import type { User } from "./user.ts";

/**
 * Who is logging in, besides the name and password: what a manager may also decide on.
 *
 * @example Accounts that may log in only from the local network
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import {
 *   type GetUserResult,
 *   type LoginContext,
 *   MemoryUserManager,
 *   Server,
 *   User,
 * } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * class LocalOnly extends MemoryUserManager {
 *   override getUser(login: string, context: LoginContext): Promise<GetUserResult> {
 *     if (context.remoteAddr.hostname !== "127.0.0.1") {
 *       return Promise.resolve({ state: "error", info: "not from here" });
 *     }
 *     return super.getUser(login, context);
 *   }
 * }
 * await using server = new Server({ users: new LocalOnly([new User()]) });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * assert.equal(await client.pwd(), "/");
 * ```
 *
 * @example A lookup that stops waiting when the session closes
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server, type UserManager } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * let lookingUp!: () => void;
 * const askedDirectory = new Promise<void>((resolve) => lookingUp = resolve);
 * let gaveUp = false;
 * // A directory service that never answers; the session's signal ends the wait.
 * const manager: UserManager = {
 *   getUser(_login, { signal }) {
 *     lookingUp();
 *     return new Promise((_resolve, reject) =>
 *       signal?.addEventListener("abort", () => {
 *         gaveUp = true;
 *         reject(signal.reason);
 *       })
 *     );
 *   },
 *   authenticate: () => Promise.resolve(false),
 *   notifyLogout: () => Promise.resolve(),
 * };
 * const server = new Server({ users: manager });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * const login = client.login("alice", "secret").catch((error) => error);
 * await askedDirectory;
 * await server.close();
 * assert.equal((await login).code, 421); // server shutting down
 * assert.equal(gaveUp, true);
 * ```
 */
export interface LoginContext {
  /** The client's address (allow lists per IP). */
  readonly remoteAddr: NetAddr;
  /** Whether the control connection runs TLS (refuse clear-text logins). */
  readonly secure: boolean;
  /** The session's number, as in log records and hook events. */
  readonly sessionId: number;
  /**
   * Aborts when the session closes (the client left, a timeout, `server.close()`): a manager
   * that waits on a database or a directory service can stop waiting, as the server does not
   * wait for an answer once the session closes. `notifyLogout` runs as a session ends, when it
   * has often aborted already: a login must still be released then.
   */
  readonly signal?: AbortSignal;
}

/**
 * The answer of {@linkcode UserManager.getUser}. The client learns nothing from a refusal at
 * USER: every name that is not logged in at once gets the same `331 password required`, and
 * the PASS of a refused one fails like a wrong password.
 *
 * @example A manager that looks accounts up by name
 * ```ts
 * import { type GetUserResult, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const accounts = new Map([["alice", new User({ login: "alice", password: "secret" })]]);
 * function lookUp(login: string): GetUserResult {
 *   const user = accounts.get(login);
 *   if (!user) return { state: "error", info: `no user ${login}`, reason: "unknown-user" };
 *   return { state: "password-required", user, info: "password required" };
 * }
 * assert.equal(lookUp("alice").state, "password-required");
 * assert.equal(lookUp("bob").state, "error");
 * ```
 */
export type GetUserResult =
  /** The user is logged in at once (`230 <info>`). */
  | { state: "ok"; user: User; info: string }
  /** The user must send a password (`331 password required`; `info` is not sent). */
  | { state: "password-required"; user: User; info: string }
  /**
   * The login is refused; `info` is logged, and `reason` goes to the `loginFailed` hook
   * (default `"refused"`).
   */
  | { state: "error"; info: string; reason?: "unknown-user" | "user-limit" | "refused" };

/**
 * A source of accounts. The server calls `getUser` on USER, `authenticate` on PASS, and
 * `notifyLogout` when a session whose login completed (`getUser` said `ok`, or `authenticate`
 * said `true`) ends, sends USER again, or was refused by a `login` hook. Each call gets the
 * {@linkcode LoginContext}: the client's address and whether the control connection is secure.
 *
 * @example Accounts from a table, passwords checked by the table's own hashes
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import {
 *   hashPassword,
 *   Server,
 *   User,
 *   type UserManager,
 *   verifyPassword,
 * } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * // In practice a database: login name, password hash, home directory.
 * const table = new Map([["alice", { hash: await hashPassword("secret"), home: "/" }]]);
 * const manager: UserManager = {
 *   getUser(login) {
 *     const row = table.get(login);
 *     if (!row) return Promise.resolve({ state: "error", info: "no such user" });
 *     const user = new User({ login, home: row.home });
 *     return Promise.resolve({ state: "password-required", user, info: "password required" });
 *   },
 *   authenticate: (user, password) => verifyPassword(password, table.get(user.login!)!.hash),
 *   notifyLogout: () => Promise.resolve(),
 * };
 * await using server = new Server({ users: manager, loginFailureDelay: 0 });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await assert.rejects(client.login("alice", "wrong"), { code: 530 });
 * await client.login("alice", "secret");
 * ```
 */
export interface UserManager {
  /**
   * Looks up a login name.
   *
   * @param login The USER argument.
   * @param context The client's address and whether it uses TLS.
   * @returns Whether the user may log in, needs a password, or is refused, with the reply text.
   */
  getUser(login: string, context: LoginContext): Promise<GetUserResult>;
  /**
   * Checks a password.
   *
   * @param user The user `getUser` returned.
   * @param password The PASS argument.
   * @param context The client's address and whether it uses TLS.
   * @returns `true` when the password is right.
   */
  authenticate(user: User, password: string, context: LoginContext): Promise<boolean>;
  /**
   * Tells the manager that a logged-in session no longer uses `user` (to release a slot).
   *
   * @param user The user `getUser` returned.
   * @param context The client's address and whether it uses TLS.
   */
  notifyLogout(user: User, context: LoginContext): Promise<void>;
}

/**
 * Options of {@linkcode MemoryUserManager}.
 *
 * @example `guest` as the only anonymous name
 * ```ts
 * import { MemoryUserManager, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const manager = new MemoryUserManager([new User()], { anonymousNames: ["guest"] });
 * assert.equal((await manager.getUser("guest")).state, "ok");
 * assert.equal((await manager.getUser("anonymous")).state, "error");
 * ```
 */
export interface MemoryUserManagerOptions {
  /** The names that log into the anonymous account (default `anonymous` and `ftp`). */
  anonymousNames?: readonly string[];
}

/**
 * Accounts from a list: an exact login match wins; an anonymous name (`anonymous`, `ftp`)
 * logs into the first anonymous user (no login), and any other name is refused. Passwords are
 * checked in constant time, against clear text or scrypt hashes (`User.checkPassword`). A
 * user's `maxConnections` is enforced here: a slot is taken when the login completes (so that
 * someone who only knows the name cannot use up the slots) and given back by `notifyLogout`; a
 * full user is refused at USER, and at PASS when the slots filled up in between.
 *
 * @example One session per account at a time
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { MemoryUserManager, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const alice = new User({ login: "alice", password: "secret", maxConnections: 1 });
 * await using server = new Server({ users: new MemoryUserManager([alice]), loginFailureDelay: 0 });
 * await server.start("127.0.0.1", 0);
 * await using first = await Client.connect("127.0.0.1", server.address.port);
 * await first.login("alice", "secret");
 * await using second = await Client.connect("127.0.0.1", server.address.port);
 * await assert.rejects(second.login("alice", "secret"), { code: 530 });
 * ```
 *
 * @example Override it to refuse clear-text logins
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import {
 *   type GetUserResult,
 *   type LoginContext,
 *   MemoryUserManager,
 *   Server,
 *   User,
 * } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * class TlsOnly extends MemoryUserManager {
 *   override getUser(login: string, context: LoginContext): Promise<GetUserResult> {
 *     if (!context.secure) return Promise.resolve({ state: "error", info: "TLS required" });
 *     return super.getUser(login, context);
 *   }
 * }
 * await using server = new Server({ users: new TlsOnly([new User()]), loginFailureDelay: 0 });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await assert.rejects(client.login(), { code: 530 });
 * ```
 */
export class MemoryUserManager implements UserManager {
  /** The accounts. */
  readonly users: readonly User[];
  readonly #anonymousNames: readonly string[];
  readonly #sessions = new Map<User, number>();

  /**
   * Creates the manager.
   *
   * @param users The accounts.
   * @param options The anonymous names.
   */
  constructor(users: readonly User[], options: MemoryUserManagerOptions = {}) {
    this.users = users;
    this.#anonymousNames = options.anonymousNames ?? DEFAULT_ANONYMOUS_NAMES;
  }

  /** {@inheritDoc UserManager.getUser} */
  getUser(login: string, _context?: LoginContext): Promise<GetUserResult> {
    const user = this.users.find((u) => u.login === login) ??
      (isAnonymousName(login, this.#anonymousNames)
        ? this.users.find((u) => u.login === undefined)
        : undefined);
    if (!user) {
      return Promise.resolve({ state: "error", info: "no such username", reason: "unknown-user" });
    }
    if (this.#full(user)) {
      return Promise.resolve({
        state: "error",
        info: `too many sessions for '${user.login ?? "anonymous"}'`,
        reason: "user-limit",
      });
    }
    if (user.login === undefined || !user.hasPassword) {
      this.#take(user);
      const info = user.login === undefined ? "anonymous login" : "login without password";
      return Promise.resolve({ state: "ok", user, info });
    }
    return Promise.resolve({ state: "password-required", user, info: "password required" });
  }

  /** {@inheritDoc UserManager.authenticate} */
  async authenticate(user: User, password: string, _context?: LoginContext): Promise<boolean> {
    if (!await user.checkPassword(password) || this.#full(user)) return false;
    this.#take(user);
    return true;
  }

  /** {@inheritDoc UserManager.notifyLogout} */
  notifyLogout(user: User, _context?: LoginContext): Promise<void> {
    const used = this.#sessions.get(user) ?? 0;
    if (used <= 1) this.#sessions.delete(user);
    else this.#sessions.set(user, used - 1);
    return Promise.resolve();
  }

  #full(user: User): boolean {
    return user.maxConnections !== undefined &&
      (this.#sessions.get(user) ?? 0) >= user.maxConnections;
  }

  #take(user: User): void {
    this.#sessions.set(user, (this.#sessions.get(user) ?? 0) + 1);
  }
}
