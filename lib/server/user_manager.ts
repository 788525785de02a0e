/**
 * Where the server gets its accounts: the {@linkcode UserManager} interface (a database, a
 * directory service, a file...) and {@linkcode MemoryUserManager}, a fixed list of
 * {@linkcode User}s with per-user session limits.
 *
 * @module
 */

import type { User } from "./user.ts";

/** The answer of {@linkcode UserManager.getUser}. */
export type GetUserResult =
  /** The user is logged in at once (`230 <info>`). */
  | { state: "ok"; user: User; info: string }
  /** The user must send a password (`331 <info>`). */
  | { state: "password-required"; user: User; info: string }
  /** The login is refused (`530 <info>`). */
  | { state: "error"; info: string };

/**
 * A source of accounts. The server calls `getUser` on USER, `authenticate` on PASS, and
 * `notifyLogout` when a session whose login completed (`getUser` said `ok`, or `authenticate`
 * said `true`) ends or sends USER again.
 */
export interface UserManager {
  /**
   * Looks up a login name.
   *
   * @param login The USER argument.
   * @returns Whether the user may log in, needs a password, or is refused, with the reply text.
   */
  getUser(login: string): Promise<GetUserResult>;
  /**
   * Checks a password.
   *
   * @param user The user `getUser` returned.
   * @param password The PASS argument.
   * @returns `true` when the password is right.
   */
  authenticate(user: User, password: string): Promise<boolean>;
  /**
   * Tells the manager that a logged-in session no longer uses `user` (to release a slot).
   *
   * @param user The user `getUser` returned.
   */
  notifyLogout(user: User): Promise<void>;
}

/**
 * Accounts from a list: an exact login match wins, otherwise the first anonymous user (no
 * login) accepts any name. A user's `maxConnections` is enforced here: a slot is taken when the
 * login completes (so that someone who only knows the name cannot use up the slots) and given
 * back by `notifyLogout`; a full user is refused at USER, and at PASS when the slots filled up
 * in between.
 */
export class MemoryUserManager implements UserManager {
  /** The accounts. */
  readonly users: readonly User[];
  readonly #sessions = new Map<User, number>();

  /**
   * Creates the manager.
   *
   * @param users The accounts.
   */
  constructor(users: readonly User[]) {
    this.users = users;
  }

  /** {@inheritDoc UserManager.getUser} */
  getUser(login: string): Promise<GetUserResult> {
    const user = this.users.find((u) => u.login === login) ??
      this.users.find((u) => u.login === undefined);
    if (!user) return Promise.resolve({ state: "error", info: "no such username" });
    if (this.#full(user)) {
      return Promise.resolve({
        state: "error",
        info: `too much connections for '${user.login ?? "anonymous"}'`,
      });
    }
    if (user.login === undefined || user.password === undefined) {
      this.#take(user);
      const info = user.login === undefined ? "anonymous login" : "login without password";
      return Promise.resolve({ state: "ok", user, info });
    }
    return Promise.resolve({ state: "password-required", user, info: "password required" });
  }

  /** {@inheritDoc UserManager.authenticate} */
  authenticate(user: User, password: string): Promise<boolean> {
    const right = user.password === undefined || timingSafeEqual(user.password, password);
    if (!right || this.#full(user)) return Promise.resolve(false);
    this.#take(user);
    return Promise.resolve(true);
  }

  /** {@inheritDoc UserManager.notifyLogout} */
  notifyLogout(user: User): Promise<void> {
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

/** Compares two strings in time that depends only on their lengths (no early exit). */
function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ (y[i % (y.length || 1)] ?? 0);
  return diff === 0;
}
