/**
 * Parallel transfers: a pool of up to N sessions to the same server (the client itself and
 * extra sessions opened like it, for the duration of one call) working through one list of
 * jobs. An extra session that cannot be opened (the server's connection limit answers `421`)
 * just leaves the pool smaller. The first failing job aborts the others and is what the call
 * throws; the caller's signal aborts them all. The extra sessions are closed at the end, also
 * on failure.
 *
 * @module
 */

import { abortError } from "../stream/abort.ts";
import { type ClientParts, type Endpoint, openControl, type SessionThrottles } from "./connect.ts";
import type { Credentials } from "./login.ts";
import type { ClientOptions, LoginOptions } from "./options.ts";
import type { RemoteFiles } from "./remote_files.ts";

/**
 * An extra session of a pool: a client like the one that opened it.
 *
 * @example
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import assert from "node:assert/strict";
 * import type { PooledSession } from "./session_pool.ts";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const session: PooledSession = client; // a client is one
 * await session.quit();
 * assert.equal(client.closed, true);
 * ```
 */
export interface PooledSession extends RemoteFiles {
  /** Ends the session (never throws). */
  quit(): Promise<void>;
}

/**
 * Opens a session like the client's own: the same server, port, TLS settings, login and
 * working directory.
 *
 * @example
 * ```ts
 * import type { OpenSibling } from "./session_pool.ts";
 *
 * // A pool's opener that opens nothing: the client works alone.
 * const openSibling: OpenSibling = () => Promise.reject(new Error("no extra sessions"));
 * console.assert(typeof openSibling === "function");
 * ```
 */
export type OpenSibling = (signal?: AbortSignal) => Promise<PooledSession>;

/**
 * A client session as {@linkcode siblingOpener} needs it: remote files, login, cd, close.
 *
 * @example
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import assert from "node:assert/strict";
 * import type { SiblingClient } from "./session_pool.ts";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const sibling: SiblingClient = client;
 * await sibling.cd("/", {});
 * sibling.close();
 * ```
 */
export interface SiblingClient extends PooledSession {
  /** Logs in. */
  login(options: LoginOptions): Promise<void>;
  /** Changes the working directory. */
  cd(path: string, options: { signal?: AbortSignal }): Promise<void>;
  /** Closes the connection at once. */
  close(): void;
}

/**
 * How a client connected and logged in: what its extra sessions repeat.
 *
 * @example
 * ```ts
 * import { Throttle } from "../stream/throttle.ts";
 * import type { SessionOrigin } from "./session_pool.ts";
 *
 * const origin: Omit<SessionOrigin, "construct"> = {
 *   endpoint: { hostname: "ftp.example.com", port: 21, secure: "explicit" },
 *   options: { secure: true, mode: "passive" },
 *   throttles: { download: new Throttle(1 << 20), upload: new Throttle() }, // shared
 *   credentials: { user: "alice", password: "secret", account: "" },
 *   workingDirectory: () => Promise.resolve("/www"),
 * };
 * console.assert(origin.endpoint.port === 21);
 * ```
 */
export interface SessionOrigin {
  /** Builds a client of the original's class from an opened session. */
  construct(parts: ClientParts): SiblingClient;
  /** Where it connected. */
  endpoint: Endpoint;
  /** Its options (with its current data-connection mode). */
  options: ClientOptions;
  /** Its rate limits, which the extra sessions share. */
  throttles: SessionThrottles;
  /** What its login sent. */
  credentials: Credentials;
  /** Its working directory (asked once, on the first extra session). */
  workingDirectory(signal?: AbortSignal): Promise<string>;
}

/**
 * The opener of extra sessions like a client: each connects to the same endpoint with the
 * same options, shares the client's rate limits, logs in with the same credentials and
 * changes to the client's working directory.
 *
 * @example
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import assert from "node:assert/strict";
 * import { Throttle } from "../stream/throttle.ts";
 * import type { ClientParts } from "./connect.ts";
 * import { siblingOpener } from "./session_pool.ts";
 *
 * class Sibling extends Client {
 *   static of(parts: ClientParts): Sibling {
 *     return new Sibling(parts); // the constructor is protected
 *   }
 * }
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("pub");
 * const openSibling = siblingOpener({
 *   construct: Sibling.of,
 *   endpoint: { hostname: "127.0.0.1", port: server.address.port, secure: undefined },
 *   options: {},
 *   throttles: { download: new Throttle(), upload: new Throttle() },
 *   credentials: { user: "anonymous", password: "anon@", account: "" },
 *   workingDirectory: () => client.pwd(),
 * });
 * await client.cd("pub");
 * const sibling = await openSibling(); // connected, logged in, in /pub
 * assert.deepEqual((await sibling.command("PWD")).lines, ['"/pub"']);
 * await sibling.quit();
 * ```
 *
 * @param origin How the client connected and logged in.
 * @returns The opener.
 */
export function siblingOpener(origin: SessionOrigin): OpenSibling {
  let directory: Promise<string> | undefined;
  return async (signal) => {
    directory ??= origin.workingDirectory(signal);
    const workingDirectory = await directory;
    const { endpoint, throttles } = origin;
    const options = { ...origin.options, signal };
    const sibling = origin.construct({
      ...await openControl(endpoint, options),
      endpoint,
      options,
      throttles,
    });
    try {
      await sibling.login({ ...origin.credentials, signal });
      await sibling.cd(workingDirectory, { signal });
    } catch (error) {
      sibling.close();
      throw error;
    }
    return sibling;
  };
}

/**
 * How many sessions a call may use, and how to open them.
 *
 * @example
 * ```ts
 * import type { ParallelOptions } from "./session_pool.ts";
 *
 * const options: ParallelOptions = { parallel: 4, signal: AbortSignal.timeout(60_000) };
 * console.assert(options.openSibling === undefined); // without it, the client alone
 * ```
 */
export interface ParallelOptions {
  /** Most sessions to use, the client's own included (default 1: the client alone). */
  parallel?: number;
  /** Opens the extra ones; without it the client works alone. */
  openSibling?: OpenSibling;
  /** Aborts every job. */
  signal?: AbortSignal;
}

/**
 * The work of one job, on the session that took it, under the pool's signal.
 *
 * @example
 * ```ts
 * import type { JobWork } from "./session_pool.ts";
 *
 * const removeOne: JobWork<string> = (session, path, signal) =>
 *   session.removeFile(path, { signal });
 * console.assert(typeof removeOne === "function");
 * ```
 */
export type JobWork<T> = (
  session: RemoteFiles,
  job: T,
  signal: AbortSignal | undefined,
) => Promise<void>;

/**
 * Checks a `parallel` option.
 *
 * @example
 * ```ts
 * import { sessionCount } from "./session_pool.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sessionCount(undefined), 1);
 * assert.equal(sessionCount(4), 4);
 * assert.throws(() => sessionCount(0), RangeError);
 * assert.throws(() => sessionCount(1.5), RangeError);
 * ```
 *
 * @param parallel The value given.
 * @returns The number of sessions (1 when not given).
 * @throws {RangeError} When it is not a whole number of at least 1.
 */
export function sessionCount(parallel: number | undefined): number {
  if (parallel === undefined) return 1;
  if (!Number.isSafeInteger(parallel) || parallel < 1) {
    throw new RangeError(`Invalid parallel "${parallel}": expected a whole number >= 1`);
  }
  return parallel;
}

/**
 * Runs jobs over the client and up to `parallel - 1` extra sessions.
 *
 * @example
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import assert from "node:assert/strict";
 * import { Throttle } from "../stream/throttle.ts";
 * import type { ClientParts } from "./connect.ts";
 * import { SessionPool, siblingOpener } from "./session_pool.ts";
 *
 * class Sibling extends Client {
 *   static of(parts: ClientParts): Sibling {
 *     return new Sibling(parts); // the constructor is protected
 *   }
 * }
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("pub");
 * const openSibling = siblingOpener({
 *   construct: Sibling.of,
 *   endpoint: { hostname: "127.0.0.1", port: server.address.port, secure: undefined },
 *   options: {},
 *   throttles: { download: new Throttle(), upload: new Throttle() },
 *   credentials: { user: "anonymous", password: "anon@", account: "" },
 *   workingDirectory: () => client.pwd(),
 * });
 * const files = ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt", "f.txt"];
 * const pool = new SessionPool(client, { parallel: 3, openSibling });
 * await pool.run(files, async (session, name, signal) => {
 *   const upload = await session.uploadStream(`pub/${name}`, { signal });
 *   await new Blob([name]).stream().pipeTo(upload);
 * });
 * const listed = await client.listAll("pub");
 * assert.deepEqual(listed.map((item) => item.info.name).sort(), files);
 * ```
 */
export class SessionPool {
  readonly #main: RemoteFiles;
  readonly #size: number;
  readonly #openSibling: OpenSibling | undefined;
  readonly #signal: AbortSignal | undefined;

  /**
   * Creates the pool; no session is opened before {@linkcode SessionPool.run}.
   *
   * @param main The client, which always takes part.
   * @param options Size, the opener of extra sessions, signal.
   * @throws {RangeError} When `parallel` is not a whole number of at least 1.
   */
  constructor(main: RemoteFiles, options: ParallelOptions) {
    this.#main = main;
    this.#size = sessionCount(options.parallel);
    this.#openSibling = options.openSibling;
    this.#signal = options.signal;
  }

  /**
   * Runs every job, each on one session. Extra sessions are opened only when there is more
   * than one job (never more sessions than jobs), start taking jobs as soon as they are
   * logged in (those still opening when the client has taken the last job are given up), and
   * are closed when the jobs are done.
   *
   * @param jobs The jobs, taken in order.
   * @param work Does one job.
   * @throws The first job's failure (the other jobs are aborted first), or the signal's
   * reason.
   */
  async run<T>(jobs: readonly T[], work: JobWork<T>): Promise<void> {
    const extra = this.#openSibling ? Math.min(this.#size, jobs.length) - 1 : 0;
    if (extra <= 0) {
      for (const job of jobs) await work(this.#main, job, this.#signal);
      return;
    }
    const stop = new AbortController();
    const signal = this.#signal ? AbortSignal.any([this.#signal, stop.signal]) : stop.signal;
    const queue = [...jobs];
    let failure: { error: unknown } | undefined;
    const worker = async (session: RemoteFiles) => {
      while (queue.length > 0 && !signal.aborted) {
        const job = queue.shift()!;
        try {
          await work(session, job, signal);
        } catch (error) {
          if (!failure) {
            failure = { error };
            stop.abort(error);
          }
          return;
        }
      }
    };
    const opened: PooledSession[] = [];
    const openSibling = this.#openSibling!;
    // Once the client has run out of jobs, sessions still opening would get none.
    const noMoreJobs = new AbortController();
    const openSignal = AbortSignal.any([signal, noMoreJobs.signal]);
    const join = async () => {
      let session: PooledSession;
      try {
        session = await openSibling(openSignal);
      } catch {
        // A server at its connection limit: the others do the work.
        return;
      }
      opened.push(session);
      await worker(session);
    };
    // The extra sessions are asked for first, so that what they need of the client (its
    // working directory) comes before the client's first job.
    const joining = Array.from({ length: extra }, join);
    const own = worker(this.#main).finally(() => noMoreJobs.abort());
    try {
      await Promise.all([...joining, own]);
    } finally {
      await Promise.all(opened.map((session) => session.quit()));
    }
    if (failure) throw failure.error;
    if (this.#signal?.aborted) throw abortError(this.#signal.reason);
  }
}
