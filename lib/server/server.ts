/**
 * The FTP server: owns the listener, the accounts, the limits, the passive-port pool, the
 * speed limits and the command table, and runs one {@linkcode Session} per control connection.
 *
 * @module
 */

import { ConnectionClosedError } from "../errors.ts";
import type { FileSystem } from "../fs/file_system.ts";
import { MemoryFileSystem } from "../fs/memory.ts";
import { defaultNetwork } from "../network_registry.ts";
import { formatReply } from "../protocol/reply.ts";
import type { Conn, Listener, NetAddr, Network } from "../socket.ts";
import { type Deferred, deferred } from "../stream/abort.ts";
import { Throttle } from "../stream/throttle.ts";
import { CommandTable } from "./command_table.ts";
import { authCommands } from "./commands/auth.ts";
import { fileCommands, siteCommands } from "./commands/files.ts";
import { listingCommands } from "./commands/listing.ts";
import { miscCommands } from "./commands/misc.ts";
import { navigationCommands } from "./commands/navigation.ts";
import { transferCommands } from "./commands/transfer.ts";
import {
  ConnectionLimiter,
  type ConnectionRefusal,
  type ConnectionSlot,
} from "./connection_limiter.ts";
import { LoginGuard } from "./login_guard.ts";
import { PassivePortPool } from "./passive_port_pool.ts";
import { tlsCommands } from "./commands/tls.ts";
import type { ServerHooks } from "./hooks.ts";
import type { LogRecord } from "./log_record.ts";
import { Session } from "./session.ts";
import { resolveSpeedLimits } from "./session_throttles.ts";
import {
  type ServerTlsOptions,
  TlsPolicy,
  type TlsRequirement,
  type TlsRequirements,
} from "./tls_policy.ts";
import { Permission } from "./permission.ts";
import { User } from "./user.ts";
import { MemoryUserManager, type UserManager } from "./user_manager.ts";

/** Options of {@linkcode Server}. Times are in milliseconds, speeds in bytes per second. */
export interface ServerOptions {
  /**
   * Accounts, or a user manager (default: one anonymous user who may only read and list `/`;
   * writing needs accounts given here, e.g. `[new User()]` for an anonymous user with every
   * right).
   */
  users?: readonly User[] | UserManager;
  /** The file system of users without their own (default: a new `MemoryFileSystem`). */
  fileSystem?: FileSystem;
  /** The network to listen and connect with (default: the running runtime's). */
  network?: Network;
  /** Text of the `220` greeting; several lines are allowed (default `"welcome"`). */
  welcome?: string;
  /** Most control connections at once; more are answered `421` and closed (default 512; `Infinity` for none). */
  maxConnections?: number;
  /**
   * Most control connections at once from one address, an IPv4 address or an IPv6 /64 (default
   * 64; `Infinity` for none).
   */
  maxConnectionsPerIp?: number;
  /**
   * Most control connections at once that have not logged in yet (anyone can open them), also
   * counted in `maxConnections`; more are answered `421` and closed (default 128; `Infinity`
   * for none).
   */
  maxPreLoginConnections?: number;
  /** Most control connections at once from one address that have not logged in yet (default 32). */
  maxPreLoginConnectionsPerIp?: number;
  /**
   * How long a session may take to log in, however busy it keeps (NOOP, FEAT, HELP...): then
   * it gets `421` and is closed (default 60000; 0 = no limit). A session that logged in once
   * is not timed again.
   */
  loginTimeout?: number;
  /** Failed USER/PASS attempts after which the session gets `421` and is closed (default 3). */
  maxLoginAttempts?: number;
  /** Delay before each failed-login reply (default 1000). */
  loginFailureDelay?: number;
  /**
   * Failed logins from one IP address, across its sessions, after which it gets `421` and
   * new connections from it are refused until `loginFailureWindow` has passed (default 20).
   */
  maxLoginFailuresPerIp?: number;
  /** The window of `maxLoginFailuresPerIp` (default 600000). */
  loginFailureWindow?: number;
  /** Silence after which the session gets `421` and is closed; never while a transfer runs (default 300000; 0 = none). */
  idleTimeout?: number;
  /**
   * How long a transfer waits for its data connection before `425`, and how long a passive
   * listener waits for a connection while no transfer waits for one before it is closed
   * (default 15000).
   */
  dataConnectTimeout?: number;
  /**
   * How long a running transfer may move no byte before it is ended with `426`, so that a
   * client that stops reading or sending cannot hold a session forever (default 300000; 0 =
   * none). The check runs once per period: a stall is noticed within one to two periods.
   */
  dataTimeout?: number;
  /** Passive ports: a list or `{min, max}` (default: any free port). */
  dataPorts?: Iterable<number> | { min: number; max: number };
  /**
   * Most passive listeners (PASV, EPSV) one address, an IPv4 address or an IPv6 /64, may hold
   * at once; more get `425` (default 32, but at most half of `dataPorts`).
   */
  maxPassiveListenersPerIp?: number;
  /**
   * IPv4 address put into PASV replies (NAT), or a function choosing it from the client's
   * address (default: the address the client reached the server on).
   */
  passiveAddress?: string | ((client: NetAddr) => string);
  /** Accept data connections from, and PORT/EPRT to, other hosts than the control peer (FXP; default `false`). */
  allowForeignDataPeer?: boolean;
  /** Allow PORT/EPRT to ports below 1024 (default `false`, RFC 2577). */
  allowPrivilegedDataPort?: boolean;
  /**
   * Upload limit shared by all sessions: the bytes per second the server receives on data
   * connections (STOR, STOU, APPE). Default: none. A user's own limits apply on top.
   */
  uploadLimit?: number;
  /**
   * Download limit shared by all sessions: the bytes per second the server sends on data
   * connections (RETR, listings). Default: none.
   */
  downloadLimit?: number;
  /** Upload limit of each session, in bytes per second (default: none). */
  uploadLimitPerConnection?: number;
  /** Download limit of each session, in bytes per second (default: none). */
  downloadLimitPerConnection?: number;
  /**
   * Alias of `uploadLimit`, aioftp's name (the server reads what clients upload);
   * `uploadLimit` wins when both are given.
   */
  readSpeedLimit?: number;
  /**
   * Alias of `downloadLimit`, aioftp's name (the server writes what clients download);
   * `downloadLimit` wins when both are given.
   */
  writeSpeedLimit?: number;
  /** Alias of `uploadLimitPerConnection`, which wins when both are given. */
  readSpeedLimitPerConnection?: number;
  /** Alias of `downloadLimitPerConnection`, which wins when both are given. */
  writeSpeedLimitPerConnection?: number;
  /** Longest command line in bytes; longer ones get `500` (default 8192). */
  maxLineLength?: number;
  /** Receives log records (default: none, the server prints nothing). */
  log?: (record: LogRecord) => void;
  /**
   * Functions the server calls, and awaits, on what happens in it: connections, logins,
   * commands, transfers, changes to files. The "before" ones may refuse (see
   * {@linkcode ServerHooks}); with none set, nothing is spent on them.
   */
  hooks?: ServerHooks;
  /**
   * The login names that mean the anonymous account (a `User` without `login`), compared
   * without case; every other unknown name is refused (default `["anonymous", "ftp"]`). The
   * TLS policy's `"non-anonymous"` spares the same names.
   */
  anonymousNames?: readonly string[];
  /**
   * The certificate and key (PEM) for FTPS. With them, FEAT lists `AUTH TLS`, `PBSZ` and
   * `PROT`, and clients may secure the control connection with AUTH TLS and data connections
   * with PROT P (the server is always the TLS server, in active mode too).
   */
  tls?: ServerTlsOptions;
  /** Speak TLS from the first byte (implicit FTPS, conventionally port 990; needs `tls`). */
  implicitTls?: boolean;
  /**
   * Who must use TLS: `"all"`, `"non-anonymous"` (every name but the `anonymousNames`) or
   * `"none"` (the default), for logins and data alike or separately. A USER in clear text that
   * needs TLS gets `530`; a transfer or listing under PROT C that needs PROT P gets `521`.
   */
  requireTls?: TlsRequirement | Partial<TlsRequirements>;
  /**
   * Refuse (`522`) a protected data connection that does not resume the TLS session of its
   * control connection (vsftpd's `require_ssl_reuse`): proof that the data connection comes
   * from the client that logged in. Clients that cannot resume sessions (Deno's) are then
   * refused. Default `false`.
   */
  requireTlsSessionReuse?: boolean;
  /** How long a control connection's TLS handshake may take before it is closed (default 10000). */
  tlsHandshakeTimeout?: number;
  /**
   * The permission bits SITE CHMOD may set: the mode asked for is masked with it (default
   * `0o777`: no setuid, setgid or sticky bit; `0o7777` allows them).
   */
  chmodMask?: number;
  /**
   * Closes the server when it aborts, as {@linkcode Server.close} does (for Ctrl-C, SIGTERM or
   * a test's end). A server whose signal has aborted does not start again.
   *
   * @example Serving until SIGTERM
   * ```ts ignore
   * import process from "node:process";
   * import { Server } from "@streamftp/streamftp/server";
   * const stop = new AbortController();
   * process.once("SIGTERM", () => stop.abort());
   * const server = new Server({ signal: stop.signal });
   * await server.run("0.0.0.0", 2121); // returns once every session got 421 and ended
   * ```
   */
  signal?: AbortSignal;
}

/**
 * {@linkcode ServerOptions} with the defaults filled in, and the speed limits under their
 * upload and download names (an alias given alone is copied there).
 */
export type ResolvedServerOptions =
  & Readonly<ServerOptions>
  & Readonly<
    Required<
      Pick<
        ServerOptions,
        | "welcome"
        | "maxConnections"
        | "maxConnectionsPerIp"
        | "maxPreLoginConnections"
        | "maxPreLoginConnectionsPerIp"
        | "loginTimeout"
        | "maxLoginAttempts"
        | "loginFailureDelay"
        | "maxLoginFailuresPerIp"
        | "loginFailureWindow"
        | "idleTimeout"
        | "dataConnectTimeout"
        | "dataTimeout"
        | "maxLineLength"
        | "tlsHandshakeTimeout"
      >
    >
  >;

/**
 * The throttles shared by all sessions of one user (see {@linkcode Server.userThrottles});
 * their `limit` may be changed at any time.
 */
export interface UserThrottles {
  /** The user's upload limit (bytes the server receives). */
  upload: Throttle;
  /** The user's download limit (bytes the server sends). */
  download: Throttle;
}

/**
 * An FTP server.
 *
 * Extend it by changing {@linkcode Server.commands} (verb → handler and requirements), or by
 * subclassing and overriding {@linkcode Server.buildCommands}.
 *
 * @example Serving a memory file system
 * ```ts ignore
 * import { Server, User } from "../../server.ts";
 * const server = new Server({ users: [new User({ login: "u", password: "p" })] });
 * await server.start("127.0.0.1", 2121);
 * // ...
 * await server.close();
 * ```
 *
 * @example Closed when the scope ends
 * ```ts
 * import { Server } from "@streamftp/streamftp/server";
 * await using server = new Server();
 * await server.start();
 * console.log(server.address.port);
 * ```
 */
export class Server implements AsyncDisposable {
  /** The options, with defaults filled in. */
  readonly options: ResolvedServerOptions;
  /** The command table; changes take effect for the next command of every session. */
  readonly commands: CommandTable;
  /** The SITE subcommands (`SITE CHMOD`, `SITE HELP`, ...), as a table of their own. */
  readonly siteCommands: CommandTable;
  /** Where accounts come from. */
  readonly userManager: UserManager;
  /** The file system of users without their own. */
  readonly fileSystem: FileSystem;
  /**
   * The passive ports, which PASV and EPSV draw from.
   *
   * @internal Not part of the public API: its type is not exported.
   */
  readonly portPool: PassivePortPool;
  /**
   * Failed logins per client address, across sessions, which USER and PASS count.
   *
   * @internal Not part of the public API: its type is not exported.
   */
  readonly loginGuard: LoginGuard;
  /** Where TLS is offered and required. */
  readonly tlsPolicy: TlsPolicy;
  /** The hooks (`ServerOptions.hooks`; an empty object when none were given). */
  readonly hooks: ServerHooks;
  /** Upload limit across all sessions (its `limit` may be changed at any time). */
  readonly uploadThrottle: Throttle;
  /** Download limit across all sessions (its `limit` may be changed at any time). */
  readonly downloadThrottle: Throttle;

  readonly #limiter: ConnectionLimiter;
  readonly #sessions = new Set<Session>();
  readonly #userThrottles = new WeakMap<User, UserThrottles>();
  #network: Network | undefined;
  #listener: Listener | undefined;
  #address: NetAddr | undefined;
  #acceptLoop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  readonly #closeOnAbort = () => void this.close();
  #stopped = stoppedSignal();
  #nextId = 1;

  /**
   * Creates a server (nothing listens until {@linkcode Server.start}).
   *
   * @param options Accounts, file system, limits, timeouts, banner...
   */
  constructor(options: ServerOptions = {}) {
    this.options = {
      ...options,
      welcome: options.welcome ?? "welcome",
      maxConnections: options.maxConnections ?? 512,
      maxConnectionsPerIp: options.maxConnectionsPerIp ?? 64,
      maxPreLoginConnections: options.maxPreLoginConnections ?? 128,
      maxPreLoginConnectionsPerIp: options.maxPreLoginConnectionsPerIp ?? 32,
      loginTimeout: options.loginTimeout ?? 60_000,
      maxLoginAttempts: options.maxLoginAttempts ?? 3,
      loginFailureDelay: options.loginFailureDelay ?? 1000,
      maxLoginFailuresPerIp: options.maxLoginFailuresPerIp ?? 20,
      loginFailureWindow: options.loginFailureWindow ?? 600_000,
      idleTimeout: options.idleTimeout ?? 300_000,
      dataConnectTimeout: options.dataConnectTimeout ?? 15_000,
      dataTimeout: options.dataTimeout ?? 300_000,
      maxLineLength: options.maxLineLength ?? 8192,
      tlsHandshakeTimeout: options.tlsHandshakeTimeout ?? 10_000,
      ...resolveSpeedLimits(options),
    };
    this.tlsPolicy = new TlsPolicy(options);
    const users = options.users ??
      [new User({ permissions: [new Permission("/", { writable: false })] })];
    this.userManager = isUserList(users)
      ? new MemoryUserManager(users, { anonymousNames: options.anonymousNames })
      : users;
    this.hooks = options.hooks ?? {};
    this.fileSystem = options.fileSystem ?? new MemoryFileSystem();
    this.portPool = new PassivePortPool(options.dataPorts, {
      maxPerIp: options.maxPassiveListenersPerIp,
    });
    this.loginGuard = new LoginGuard({
      maxFailures: this.options.maxLoginFailuresPerIp,
      window: this.options.loginFailureWindow,
    });
    this.uploadThrottle = new Throttle(this.options.uploadLimit);
    this.downloadThrottle = new Throttle(this.options.downloadLimit);
    this.#limiter = new ConnectionLimiter(this.options);
    this.#network = options.network;
    this.commands = this.buildCommands();
    this.siteCommands = this.buildSiteCommands();
  }

  /**
   * Builds the command table. Override it to add or replace verbs:
   *
   * ```ts ignore
   * class MyServer extends Server {
   *   protected override buildCommands(): CommandTable {
   *     const table = super.buildCommands();
   *     table.set("NOOP", { handler: (session) => session.reply(200, "boring") });
   *     return table;
   *   }
   * }
   * ```
   *
   * @returns The table of every built-in verb.
   */
  protected buildCommands(): CommandTable {
    return new CommandTable([
      ...Object.entries(authCommands),
      ...Object.entries(tlsCommands),
      ...Object.entries(navigationCommands),
      ...Object.entries(transferCommands),
      ...Object.entries(listingCommands),
      ...Object.entries(fileCommands),
      ...Object.entries(miscCommands),
    ]);
  }

  /**
   * Builds the table of SITE subcommands (CHMOD, HELP). Override it like
   * {@linkcode Server.buildCommands}.
   *
   * @returns The table.
   */
  protected buildSiteCommands(): CommandTable {
    return new CommandTable(Object.entries(siteCommands));
  }

  /**
   * Creates the session of an accepted control connection. Override it to use a
   * {@linkcode Session} subclass.
   *
   * @param conn The control connection.
   * @param id The session number.
   * @returns The session.
   */
  protected createSession(conn: Conn, id: number): Session {
    return new Session(conn, { server: this, id });
  }

  /** Alias of {@linkcode Server.uploadThrottle} (aioftp's name: the server reads uploads). */
  get readThrottle(): Throttle {
    return this.uploadThrottle;
  }

  /** Alias of {@linkcode Server.downloadThrottle} (aioftp's name: the server writes downloads). */
  get writeThrottle(): Throttle {
    return this.downloadThrottle;
  }

  /** The network in use (the option, else the runtime's default). */
  get network(): Network {
    return this.#network ??= defaultNetwork();
  }

  /**
   * The listening address (the real port when started with port 0).
   *
   * @throws {Error} Before {@linkcode Server.start}.
   */
  get address(): NetAddr {
    if (!this.#address) throw new Error("Server is not listening: call start() first");
    return this.#address;
  }

  /** The sessions being served. */
  get sessions(): ReadonlySet<Session> {
    return this.#sessions;
  }

  /**
   * The throttles shared by every session of `user`.
   *
   * @param user The user.
   * @returns Its upload and download throttles.
   */
  userThrottles(user: User): UserThrottles {
    let throttles = this.#userThrottles.get(user);
    if (!throttles) {
      throttles = {
        upload: new Throttle(user.uploadLimit),
        download: new Throttle(user.downloadLimit),
      };
      this.#userThrottles.set(user, throttles);
    }
    return throttles;
  }

  /**
   * Starts listening and serving.
   *
   * @param host Address to bind (default `"127.0.0.1"`; `"::"` or `"0.0.0.0"` for all).
   * @param port Port (default 0: any free port, see {@linkcode Server.address}).
   * @throws {Error} When already started.
   * @throws The reason of `ServerOptions.signal` when it has aborted (nothing listens then).
   */
  async start(host = "127.0.0.1", port = 0): Promise<void> {
    if (this.#listener) throw new Error("Server already started");
    const signal = this.options.signal;
    signal?.throwIfAborted();
    const listener = await this.network.listen({ hostname: host, port });
    if (signal?.aborted) {
      await listener.close().catch(() => {});
      signal.throwIfAborted();
    }
    signal?.addEventListener("abort", this.#closeOnAbort, { once: true });
    this.#listener = listener;
    this.#address = listener.addr;
    this.#closing = undefined;
    this.#stopped = stoppedSignal();
    this.#acceptLoop = this.#accept(listener);
    this.#log("info", `Serving on ${formatAddress(listener.addr)}`);
  }

  /**
   * Waits until the server is closed, or its listener failed for good.
   *
   * @returns Resolves after {@linkcode Server.close}.
   * @throws {Error} The listener's error when it stopped accepting by itself (the sessions go
   * on until {@linkcode Server.close}).
   */
  serveForever(): Promise<void> {
    return this.#listener ? this.#stopped.promise : Promise.resolve();
  }

  /**
   * Starts, serves until {@linkcode Server.close} is called, and closes in any case.
   *
   * @param host Address to bind.
   * @param port Port.
   */
  async run(host?: string, port?: number): Promise<void> {
    await this.start(host, port);
    try {
      await this.serveForever();
    } finally {
      await this.close();
    }
  }

  /**
   * Closes gracefully: stops listening, ends every running transfer (its client gets `426` on
   * the control connection), then tells every session `421 server shutting down`, closes it
   * with its data listeners, and waits until all are gone. Idempotent; what
   * `ServerOptions.signal` and `await using` call.
   *
   * @example Closing on Ctrl-C
   * ```ts ignore
   * import process from "node:process";
   * import { Server } from "@streamftp/streamftp/server";
   * const server = new Server();
   * await server.start("127.0.0.1", 2121);
   * process.once("SIGINT", () => server.close());
   * await server.serveForever();
   * ```
   *
   * @returns Settles once every session has ended.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  /**
   * Closes the server when an `await using` scope ends: {@linkcode Server.close}.
   *
   * @example
   * ```ts
   * import { Server } from "@streamftp/streamftp/server";
   * {
   *   await using server = new Server();
   *   await server.start();
   * } // closed here, as by `await server.close()`
   * ```
   *
   * @returns Settles once every session has ended.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    const listener = this.#listener;
    if (!listener) return;
    this.#listener = undefined;
    this.options.signal?.removeEventListener("abort", this.#closeOnAbort);
    await listener.close().catch(() => {});
    await this.#acceptLoop;
    const sessions = [...this.#sessions];
    // Transfers end first, so that a client reads its 426 before the 421; a client that reads
    // no replies delays that by the grace period at most (its session is then cut off).
    await withinGrace(Promise.all(sessions.map((session) => session.abortTransfer())));
    for (const session of sessions) session.close({ code: 421, text: "server shutting down" });
    await Promise.all(sessions.map((s) => s.closed));
    this.#acceptLoop = undefined;
    this.#stopped.resolve();
  }

  async #accept(listener: Listener): Promise<void> {
    let retryIn = ACCEPT_RETRY_FIRST_MS;
    while (true) {
      let conn: Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#listener !== listener) return;
        if (error instanceof ConnectionClosedError) {
          this.#log("error", "The listener is gone: no more connections are accepted", { error });
          this.#stopped.reject(error);
          return;
        }
        // Anything else (EMFILE...) may pass: wait, longer each time, and go on.
        this.#log("error", `Accepting a connection failed; retrying in ${retryIn} ms`, { error });
        await new Promise((resolve) => setTimeout(resolve, retryIn));
        retryIn = Math.min(retryIn * 2, ACCEPT_RETRY_MAX_MS);
        continue;
      }
      retryIn = ACCEPT_RETRY_FIRST_MS;
      if (this.#listener !== listener) {
        conn.close();
        return;
      }
      void this.#admit(conn, listener);
    }
  }

  async #admit(conn: Conn, listener: Listener): Promise<void> {
    const ip = conn.remoteAddr.hostname;
    // On an implicit-TLS listener a clear-text 421 would only garble the client's handshake.
    const refuse = this.tlsPolicy.implicit ? (c: Conn) => c.close() : refuseInClear;
    if (this.loginGuard.blocked(ip)) {
      this.#log("info", `Refused ${ip}: too many failed logins`);
      refuse(conn, "Too many failed logins from your address");
      return;
    }
    const slot = await this.#acquireSlot(ip);
    if (this.#listener !== listener) {
      if (typeof slot !== "string") slot.release();
      conn.close();
      return;
    }
    if (typeof slot === "string") {
      this.#log("info", `Refused ${ip}: too many connections (${slot})`);
      refuse(conn, REFUSAL_TEXT[slot]);
      return;
    }
    conn.setNoDelay(true);
    const session = this.createSession(conn, this.#nextId++);
    this.#sessions.add(session);
    session.log("info", `Session from ${formatAddress(conn.remoteAddr)}`);
    // The slot is free as soon as the session ends (the peer closed, QUIT, a timeout), not
    // once its cleanup is done; it stops counting as not logged in at its first login.
    session.signal.addEventListener("abort", () => slot.release(), { once: true });
    session.loginCompleted.then(() => slot.loggedIn());
    session.run().finally(() => {
      this.#sessions.delete(session);
      slot.release();
    });
  }

  /**
   * Takes a connection slot. When the limits refuse, it looks once more after the I/O already
   * waiting has been handled: the close of a client's last connection may be read only after
   * its next one was accepted.
   */
  async #acquireSlot(ip: string): Promise<ConnectionSlot | ConnectionRefusal> {
    const slot = this.#limiter.acquire(ip);
    if (typeof slot !== "string") return slot;
    await new Promise((resolve) => setTimeout(resolve, 0));
    return this.#limiter.acquire(ip);
  }

  #log(level: LogRecord["level"], message: string, options: Pick<LogRecord, "error"> = {}): void {
    this.options.log?.({ level, message, error: options.error });
  }
}

/** How long closing waits for the transfers' `426` before it tells every session `421`. */
const CLOSE_GRACE_MS = 2000;

/** Waits for `work`, but no longer than {@linkcode CLOSE_GRACE_MS}. */
async function withinGrace(work: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, CLOSE_GRACE_MS));
  try {
    await Promise.race([work, grace]);
  } finally {
    clearTimeout(timer);
  }
}

/** The first wait after a failed accept; it doubles with each failure in a row, up to the most. */
const ACCEPT_RETRY_FIRST_MS = 10;
const ACCEPT_RETRY_MAX_MS = 1000;

const REFUSAL_TEXT: Readonly<Record<ConnectionRefusal, string>> = {
  "server": "Too many connections",
  "ip": "Too many connections from your address",
  "pre-login": "Too many connections waiting to log in",
  "pre-login-ip": "Too many connections waiting to log in from your address",
};

/** What `serveForever()` waits on; its failure is handled here and surfaces there only. */
function stoppedSignal(): Deferred<void> {
  const stopped = deferred<void>();
  stopped.promise.catch(() => {});
  return stopped;
}

function isUserList(users: readonly User[] | UserManager): users is readonly User[] {
  return Array.isArray(users);
}

/** Answers `421 <text>` on a connection that gets no session, then closes it. */
function refuseInClear(conn: Conn, text: string): void {
  const writer = conn.writable.getWriter();
  writer.write(new TextEncoder().encode(formatReply(421, text)))
    .then(() => writer.close())
    .catch(() => {})
    .finally(() => conn.close());
}

/** `host:port`, with IPv6 hosts in brackets. */
function formatAddress(addr: NetAddr): string {
  return addr.family === "IPv6"
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}
