/**
 * {@linkcode SessionLogin}: who a session's client is. The user named by USER, whether the
 * login completed, the failed attempts, the login deadline (a session that never logs in is
 * ended), and telling the user manager and the hooks when a login completes or ends.
 *
 * @module
 */

import { deferred } from "../stream/abort.ts";
import type { LoginFailureReason } from "./hooks.ts";
import type { LogRecord } from "./log_record.ts";
import type { SessionEvents } from "./session_events.ts";
import type { User } from "./user.ts";
import type { LoginContext, UserManager } from "./user_manager.ts";

/** Why a login that completes after the session ended is refused. */
const SESSION_ENDED = "the session has ended";

/** What a {@linkcode SessionLogin} works with. */
export interface SessionLoginOptions {
  /** The accounts; told when a completed login ends. */
  userManager: UserManager;
  /** The session as the user manager sees it now (`secure` changes with AUTH TLS). */
  loginContext(): LoginContext;
  /** The session's hooks, when the server has any. */
  events: SessionEvents | undefined;
  /**
   * Writes a log record.
   *
   * @param level Severity.
   * @param message What happened.
   * @param options The error.
   */
  log(level: LogRecord["level"], message: string, options?: Pick<LogRecord, "error">): void;
}

/**
 * The login state of one session. The session reads it through its `SessionState` getters and
 * changes it through `setUser`, `completeLogin` and `countLoginFailure`.
 *
 * @example How a session's USER and PASS go through it
 * ```ts
 * import { SessionLogin } from "./session_login.ts";
 * import { User } from "./user.ts";
 * import { MemoryUserManager } from "./user_manager.ts";
 * import assert from "node:assert/strict";
 *
 * const alice = new User({ login: "alice", password: "secret" });
 * const remoteAddr = { hostname: "127.0.0.1", port: 50000, family: "IPv4" as const };
 * const login = new SessionLogin({
 *   userManager: new MemoryUserManager([alice]),
 *   loginContext: () => ({ remoteAddr, secure: false, sessionId: 1 }),
 *   events: undefined,
 *   log: () => {},
 * });
 * await login.setUser(alice, { loginName: "alice" }); // USER alice: named, not logged in
 * assert.equal(login.loggedIn, false);
 * const refusal = await login.complete(); // PASS accepted: the login hook may still refuse
 * assert.equal(refusal, undefined);
 * assert.equal(login.loggedIn, true);
 * ```
 */
export class SessionLogin {
  readonly #options: SessionLoginOptions;
  #user: User | undefined;
  #loginName: string | undefined;
  #loggedIn = false;
  #failures = 0;
  /** Whether the session ended: a handler it stopped waiting for may still log in. */
  #ended = false;
  readonly #completed = deferred<void>();
  #deadline: ReturnType<typeof setTimeout> | undefined;

  /**
   * Creates the state of a session that has not logged in.
   *
   * @param options The user manager, the session's login context, its hooks and its log.
   */
  constructor(options: SessionLoginOptions) {
    this.#options = options;
  }

  /** The user named by USER (logged in or waiting for PASS). */
  get user(): User | undefined {
    return this.#user;
  }

  /** The name sent with the last USER. */
  get loginName(): string | undefined {
    return this.#loginName;
  }

  /** Whether the user is logged in. */
  get loggedIn(): boolean {
    return this.#loggedIn;
  }

  /** Failed logins so far in this session. */
  get failures(): number {
    return this.#failures;
  }

  /** Settles at the session's first completed login (never, when none completes). */
  get completed(): Promise<void> {
    return this.#completed.promise;
  }

  /**
   * Ends the session (through `onTimeout`) when no login completes within `timeout`, however
   * busy the session keeps.
   *
   * @param timeout Milliseconds; 0 or `Infinity` for no limit.
   * @param onTimeout Ends the session.
   */
  startDeadline(timeout: number, onTimeout: () => void): void {
    if (!timeout || !Number.isFinite(timeout)) return;
    this.#deadline = setTimeout(onTimeout, timeout);
  }

  /** Clears the login deadline (the session ends). */
  stopDeadline(): void {
    clearTimeout(this.#deadline);
  }

  /**
   * Names the user (USER) or logs in or out; a completed login that ends tells the user manager
   * and the `logout` hook. Once the session has ended ({@linkcode SessionLogin.end}), a login
   * is given back to the user manager at once.
   *
   * @param user The user, or `undefined` (with a `loginName`: a name that will not log in).
   * @param options Whether the login is complete (`loggedIn`, default `false`), and the name
   * sent with USER (`loginName`, default the user's login).
   */
  async setUser(
    user: User | undefined,
    options: { loggedIn?: boolean; loginName?: string } = {},
  ): Promise<void> {
    const { loggedIn = false, loginName } = options;
    const previous = this.#user;
    if (previous && this.#loggedIn && previous !== user) {
      const name = this.#loginName ?? "anonymous";
      // Claimed before the waits: the session's end, running alongside, does not release it too.
      this.#loggedIn = false;
      await this.#release(previous);
      await this.#options.events?.logout(name);
    }
    this.#user = user;
    this.#loginName = loginName ?? user?.login;
    this.#loggedIn = user !== undefined && loggedIn && !this.#ended;
    if (this.#loggedIn) this.#loggedInOnce();
    else if (user && loggedIn) await this.#release(user);
  }

  /**
   * Completes the login of the named user; the `login` hook may still refuse it, and then the
   * user manager is told the login is over. Failures are reset once logged in. Once the
   * session has ended, the login is refused and given back to the user manager, and the hook
   * is not asked.
   *
   * @returns `undefined` once logged in; the refusal's text when refused.
   * @throws {Error} When no user was named.
   */
  async complete(): Promise<string | undefined> {
    const user = this.#user;
    if (!user) throw new Error("No user to log in: USER comes first");
    const refusal = this.#ended ? undefined : await this.#options.events?.login(user);
    if (refusal || this.#ended) {
      // The user manager counted the login as complete: its slot goes back.
      await this.#release(user);
      if (!refusal) return SESSION_ENDED;
      return typeof refusal.text === "string" ? refusal.text : refusal.text.join(" ");
    }
    this.#loggedIn = true;
    this.#failures = 0;
    this.#loggedInOnce();
    return undefined;
  }

  /**
   * Ends the login for good (the session ended): logs out, stops the login deadline, and from
   * now on gives back at once any login that a command still running completes.
   */
  async end(): Promise<void> {
    this.#ended = true;
    this.stopDeadline();
    if (this.#user) await this.setUser(undefined);
  }

  /**
   * Counts one failed login and tells the `loginFailed` hook.
   *
   * @param reason Why it failed.
   * @returns The failed logins so far.
   */
  async countFailure(reason: LoginFailureReason): Promise<number> {
    const failures = ++this.#failures;
    await this.#options.events?.loginFailed(reason);
    return failures;
  }

  #loggedInOnce(): void {
    clearTimeout(this.#deadline);
    this.#completed.resolve();
  }

  /** Tells the user manager that a completed login is over. */
  async #release(user: User): Promise<void> {
    const { userManager, log } = this.#options;
    await userManager.notifyLogout(user, this.#options.loginContext()).catch((e) =>
      log("error", "User manager failed on logout", { error: e })
    );
  }
}
