/**
 * The FTP client: aioftp's client API in TypeScript naming, on Web Streams, with cancellation
 * by `AbortSignal`, timeouts, active mode, resume, progress, checksums and FTPS.
 *
 * @example Download a file
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdtemp, readFile, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect(
 *   `ftp://anonymous:anon%40@127.0.0.1:${server.address.port}/`,
 * );
 * await client.mkdir("pub");
 * await new Blob(["data"]).stream().pipeTo(await client.uploadStream("pub/file.bin"));
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await client.download("pub/file.bin", dir); // writes <dir>/file.bin
 *   assert.equal(await readFile(join(dir, "file.bin"), "utf8"), "data");
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @example Explicit FTPS (AUTH TLS), trusting a private authority
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * // The repository's test authority, and a certificate for 127.0.0.1 it signed.
 * import { TEST_CA_CERT, TEST_SERVER_CERT, TEST_SERVER_KEY } from "../../tests/fixtures/tls.ts";
 *
 * await using server = new Server({ tls: { cert: TEST_SERVER_CERT, key: TEST_SERVER_KEY } });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect(`ftp://127.0.0.1:${server.address.port}/`, {
 *   secure: true,
 *   tls: { caCerts: [TEST_CA_CERT] },
 * });
 * assert.equal(client.connection.secure, true);
 * assert.deepEqual(await client.listAll(), []); // over a protected data connection
 * ```
 *
 * @module
 */

import { ProtocolError, ReplyError } from "../errors.ts";
import type { ListEntry } from "../protocol/listing/entry.ts";
import { formatMlsxTime, parseMlsxTime } from "../protocol/listing/mlsx.ts";
import { parseQuotedPath } from "../protocol/path_quote.ts";
import { type ExpectedCodes, matchesCode, type Reply, replyText } from "../protocol/reply.ts";
import type { Conn } from "../socket.ts";
import { Throttle } from "../stream/throttle.ts";
import {
  type ClientParts,
  DEFAULT_CONNECT_TIMEOUT,
  type Endpoint,
  openControl,
  resolveTarget,
  type SessionThrottles,
} from "./connect.ts";
import type { ControlChannel } from "./control_channel.ts";
import { type DataConnectionSettings, DataConnector } from "./data_connection.ts";
import type { DataStream } from "./data_stream.ts";
import type { ClientSecurity } from "./secure.ts";
import { Lister, type Listing, type ListItem } from "./lister.ts";
import { type Credentials, loginArguments, type LoginCallOptions, sendLogin } from "./login.ts";
import { mirror, type MirrorOptions, type MirrorSummary } from "./mirror.ts";
import type {
  CallOptions,
  ClientOptions,
  ListOptions,
  LoginOptions,
  MkdirOptions,
  StreamOptions,
  TransferStreamOptions,
} from "./options.ts";
import { OperationQueue } from "./operation_queue.ts";
import { NOT_FOUND } from "./file_transfer.ts";
import { checkArgument, splitRemote } from "./remote_path.ts";
import { type OpenSibling, siblingOpener } from "./session_pool.ts";
import {
  type DownloadOptions,
  downloadPath,
  type TransferSummary,
  type UploadOptions,
  uploadPath,
} from "./transfer.ts";
import { removeTree } from "./tree.ts";

export type { Listing, ListItem } from "./lister.ts";
/** Reply codes by which a server says it does not know or implement a command. */
const UNSUPPORTED = ["500", "502", "504"];

/**
 * An FTP client session. Calls made concurrently on one client wait their turn: one control
 * connection carries one exchange at a time, and a transfer holds the turn until it ends.
 *
 * @example Calls wait their turn
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * // Calls made at once run one after the other, in order.
 * const [, , items] = await Promise.all([client.mkdir("a"), client.mkdir("b"), client.listAll()]);
 * assert.deepEqual(items.map((item) => item.path).sort(), ["a", "b"]);
 * ```
 *
 * @example A subclass with a command of its own
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * class ChmodClient extends Client {
 *   async chmod(path: string, mode: number): Promise<void> {
 *     await this.command(`SITE CHMOD ${mode.toString(8)} ${path}`, "2xx");
 *   }
 * }
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * await using client = await ChmodClient.connect("127.0.0.1", server.address.port);
 * assert.ok(client instanceof ChmodClient); // connect() builds the subclass
 * ```
 */
export class Client implements AsyncDisposable {
  /**
   * The server's greeting (`220`).
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ welcome: "Private server" });
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * assert.deepEqual(client.greeting, { code: 220, lines: ["Private server"] });
   * ```
   */
  readonly greeting: Reply;
  readonly #control: ControlChannel;
  readonly #queue = new OperationQueue();
  readonly #data: DataConnector;
  readonly #lister: Lister;
  readonly #settings: DataConnectionSettings;
  readonly #throttles: SessionThrottles;
  readonly #security: ClientSecurity | undefined;
  readonly #endpoint: Endpoint;
  readonly #options: ClientOptions;
  /** What the last successful `login()` sent: extra sessions log in the same way. */
  #credentials: Credentials | undefined;
  #type: string | undefined;
  #features: Map<string, string> | undefined;
  #active: DataStream | undefined;

  /**
   * Used by {@linkcode Client.connect}, which subclasses inherit: `MyClient.connect(...)`
   * returns a `MyClient` (and so do the extra sessions of its parallel transfers).
   */
  protected constructor(parts: ClientParts) {
    const { control, network, options, security } = parts;
    this.greeting = parts.greeting;
    this.#control = control;
    this.#security = security;
    this.#endpoint = parts.endpoint;
    this.#options = options;
    this.#settings = {
      mode: options.mode ?? "passive",
      passiveCommands: options.passiveCommands ?? ["EPSV", "PASV"],
      activeCommands: options.activeCommands ?? ["EPRT", "PORT"],
      allowForeignPassiveHost: options.allowForeignPassiveHost ?? false,
      dataConnectTimeout: options.dataConnectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
    };
    this.#throttles = parts.throttles ?? {
      download: new Throttle(options.downloadLimit),
      upload: new Throttle(options.uploadLimit),
    };
    this.#data = new DataConnector(this.#control, network, {
      settings: this.#settings,
      protector: security,
      socketTimeout: options.socketTimeout,
      readThrottle: this.#throttles.download,
      writeThrottle: this.#throttles.upload,
    });
    this.#lister = new Lister({
      exchange: (line, signal) =>
        this.#run(signal, () => this.#control.exchange(line, undefined, signal)),
      openStream: (line, signal) => this.#stream(line, "1xx", { signal }),
    }, options);
  }

  /**
   * Connects to a server and reads its greeting (waiting through `120`). With an `ftp://` URL
   * the client also logs in (as `anonymous` when the URL names no user) and changes to the
   * URL's path. `ftps://` URLs (implicit TLS, port 990) and `ftpes://` URLs (explicit TLS) or
   * the `secure` option make it an FTPS session (see {@linkcode ClientOptions.secure}).
   *
   * @example Connect by URL: login and directory included
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { MemoryFileSystem, Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * const fileSystem = new MemoryFileSystem();
   * await fileSystem.mkdir("/incoming");
   * await using server = new Server({
   *   users: [new User({ login: "user", password: "p@ss" })],
   *   fileSystem,
   * });
   * await server.start("127.0.0.1", 0);
   * // Logs in and changes to /incoming; "@" in the password is percent-encoded.
   * await using client = await Client.connect(
   *   `ftp://user:p%40ss@127.0.0.1:${server.address.port}/incoming`,
   * );
   * assert.equal(await client.pwd(), "/incoming");
   * ```
   *
   * @param url An `ftp://user:password@host:port/path` URL (percent-encoded).
   * @param options Timeouts, data-connection mode, limits, FTPS.
   * @returns The connected client.
   * @throws {ReplyError} When the greeting is not `220` (or the URL login fails).
   * @throws {TimeoutError} When the connection does not open within `connectTimeout`.
   * @throws {TlsRefusedError} When FTPS was asked for and the server refuses `AUTH TLS`.
   * @throws {TlsHandshakeError} When the TLS handshake fails (an untrusted certificate...).
   */
  static connect<T extends Client>(
    this: { prototype: T },
    url: string,
    options?: ClientOptions,
  ): Promise<T>;
  /**
   * Connects to a server and reads its greeting (waiting through `120`).
   *
   * @example Connect by host, then log in
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   *
   * await using server = new Server({ users: [new User({ login: "user", password: "secret" })] });
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port, {
   *   socketTimeout: 10_000,
   * });
   * await client.login("user", "secret");
   * ```
   *
   * @param host Host name or IP address (IPv6 with or without brackets).
   * @param port Port (default 21; 990 with `secure: "implicit"`).
   * @param options Timeouts, data-connection mode, limits, FTPS.
   * @returns The connected client; call `login()` next.
   */
  static connect<T extends Client>(
    this: { prototype: T },
    host: string,
    port?: number,
    options?: ClientOptions,
  ): Promise<T>;
  static async connect<T extends Client>(
    this: { prototype: T },
    target: string,
    portOrOptions?: number | ClientOptions,
    maybeOptions?: ClientOptions,
  ): Promise<T> {
    const { endpoint, url, options } = resolveTarget(target, portOrOptions, maybeOptions);
    const opened = await openControl(endpoint, options);
    const Subclass = this as unknown as new (parts: ClientParts) => T;
    const client = new Subclass({ ...opened, endpoint, options });
    if (url) {
      try {
        // A URL without a user logs in anonymously; one with a user but no password sends "".
        const named = url.user === undefined
          ? {}
          : { user: url.user, password: url.password ?? "" };
        await client.login({ ...named, signal: options.signal });
        if (url.path !== "") await client.cd(url.path, options);
      } catch (error) {
        client.close();
        throw error;
      }
    }
    return client;
  }

  /**
   * The control connection's addresses and state: the current connection, so after an
   * explicit TLS upgrade the secured one (`client.connection.secure === true`).
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * assert.equal(client.connection.remoteAddr.port, server.address.port);
   * assert.equal(client.connection.secure, false);
   * ```
   */
  get connection(): Conn {
    return this.#control.conn;
  }

  /**
   * Whether the control connection is closed.
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * assert.equal(client.closed, false);
   * await client.quit();
   * assert.equal(client.closed, true);
   * ```
   */
  get closed(): boolean {
    return this.#control.closed;
  }

  /**
   * Data-connection mode for the next transfers: `"passive"` (the client connects, EPSV or
   * PASV) or `"active"` (the server connects, EPRT or PORT).
   *
   * @example Active mode
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * client.mode = "active";
   * assert.deepEqual(await client.listAll(), []); // the server connected to the client
   * ```
   */
  get mode(): "passive" | "active" {
    return this.#settings.mode;
  }
  set mode(value: "passive" | "active") {
    this.#settings.mode = value;
  }

  /**
   * Download rate limit in bytes per second (`undefined`: none), for this session and the
   * extra sessions of its parallel transfers together; a change applies at once.
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server();
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port, {
   *   downloadLimit: 64 * 1024,
   * });
   * client.downloadLimit = 1024 * 1024; // 1 MiB/s from the next chunk on
   * assert.equal(client.downloadLimit, 1024 * 1024);
   * ```
   */
  get downloadLimit(): number | undefined {
    return this.#throttles.download.limit;
  }
  set downloadLimit(value: number | undefined) {
    this.#throttles.download.limit = value;
  }

  /**
   * Upload rate limit in bytes per second (`undefined`: none), for this session and the extra
   * sessions of its parallel transfers together; a change applies at once.
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server();
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port, {
   *   uploadLimit: 256 * 1024,
   * });
   * client.uploadLimit = undefined; // unlimited
   * assert.equal(client.uploadLimit, undefined);
   * ```
   */
  get uploadLimit(): number | undefined {
    return this.#throttles.upload.limit;
  }
  set uploadLimit(value: number | undefined) {
    this.#throttles.upload.limit = value;
  }

  /**
   * Logs in: `USER`, then `PASS` on `331` and `ACCT` on `332`, until `230` (or `202`). An FTPS
   * session then asks for protected data connections (`PBSZ 0`, `PROT P`). The credentials are
   * kept for the extra sessions of parallel transfers.
   *
   * @example Anonymously, or with an account
   * ```ts
   * import { Client, ReplyError } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({
   *   users: [new User(), new User({ login: "alice", password: "secret" })],
   *   loginFailureDelay: 0,
   * });
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login(); // anonymous, anon@
   * // The account is sent only when the server asks for one (332).
   * await client.login({ user: "alice", password: "secret", account: "billing" });
   * await assert.rejects(
   *   client.login({ user: "alice", password: "guess" }),
   *   (error) => error instanceof ReplyError && error.code === 530,
   * );
   * ```
   *
   * @param options User (default `"anonymous"`), password (default `"anon@"`), account for
   * servers that ask for one (default `""`), signal.
   * @throws {ReplyError} When the server refuses (`530`) or asks for something else.
   * @throws {TlsRefusedError} When an FTPS server refuses to protect data connections.
   */
  login(options?: LoginOptions): Promise<void>;
  /**
   * Logs in as `user` (see the other form).
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User({ login: "alice", password: "secret" })] });
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login("alice", "secret", { signal: AbortSignal.timeout(5000) });
   * assert.equal(await client.pwd(), "/");
   * ```
   *
   * @param user User name.
   * @param password Password (default `"anon@"`).
   * @param options Account and signal.
   */
  login(user: string, password?: string, options?: LoginCallOptions): Promise<void>;
  async login(...args: [LoginOptions?] | [string, string?, LoginCallOptions?]): Promise<void> {
    const { credentials, signal } = loginArguments(args);
    return await this.#run(signal, async () => {
      const reply = await sendLogin(this.#control, credentials, signal);
      this.#credentials = credentials;
      this.#type = undefined;
      this.#features = undefined;
      this.#lister.reset();
      if (this.#security) {
        this.#security.observe("USER", reply);
        await this.#security.protect(this.#control, signal);
      }
    });
  }

  /**
   * Sends any command and reads its reply. Without `expected`, returns the first final reply,
   * whatever its code. With `expected`, returns the first reply that matches (a `1xx` one
   * included; its final reply is then discarded before the next command) and throws on a
   * final reply that does not.
   *
   * @example A command the client has no method for
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("file.txt"));
   * const reply = await client.command("SITE CHMOD 600 file.txt", "2xx");
   * assert.equal(reply.code, 200);
   * assert.equal((await client.stat("file.txt")).mode, 0o600);
   * // Without expected codes, a refusal is a reply like any other.
   * assert.equal((await client.command("XYZZY")).code, 500);
   * ```
   *
   * @param line The command line (without CRLF).
   * @param expected Codes to accept (`"2xx"`, `["226", "250"]`, ...).
   * @param options A signal.
   * @returns The reply.
   * @throws {InvalidCommandError} When the line contains CR, LF or NUL.
   * @throws {ReplyError} When a final reply does not match `expected`.
   */
  async command(line: string, expected?: ExpectedCodes, options: CallOptions = {}): Promise<Reply> {
    checkArgument(line, "command");
    return await this.#run(options.signal, async () => {
      const reply = await this.#control.exchange(line, expected, options.signal);
      if (reply.code < 200) this.#control.owe();
      // The user may change what the client tracks.
      const verb = line.split(" ", 1)[0].toUpperCase();
      if (verb === "TYPE" || verb === "REIN" || verb === "USER") this.#type = undefined;
      this.#security?.observe(line, reply);
      return reply;
    });
  }

  /**
   * Opens a data connection and sends a command that uses it, for commands the client has no
   * method for. The order on the wire is `TYPE` (only when it changes), `EPSV`/`PASV` (or
   * `EPRT`/`PORT`), `REST offset` (when given), then the command. Other calls wait until the
   * stream is finished or aborted.
   *
   * @example A listing command the client has no method for: NLST
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("docs");
   * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
   * const stream = await client.getStream("NLST", "1xx");
   * const names = await new Response(stream.readable).text();
   * assert.equal((await stream.finish()).code, 226);
   * assert.deepEqual(names.split("\r\n").filter(Boolean).sort(), ["a.txt", "docs"]);
   * ```
   *
   * @param command The command line.
   * @param expected Codes that mean "transfer starting" (default `"1xx"`).
   * @param options Offset, transfer type, signal (which also aborts the transfer later on).
   * @returns The transfer.
   * @throws {ReplyError} When the server refuses the command.
   */
  async getStream(
    command: string,
    expected: ExpectedCodes = "1xx",
    options: StreamOptions = {},
  ): Promise<DataStream> {
    checkArgument(command, "command");
    return await this.#stream(command, expected, options);
  }

  /**
   * Downloads a file as a stream. It ends when the server has sent everything and confirmed
   * the transfer (`226`/`250`); it errors when the final reply is an error. Cancelling it aborts
   * the transfer.
   *
   * @example Whole, from an offset, or refused
   * ```ts
   * import { Client, ReplyError } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await new Blob(["hello world"]).stream().pipeTo(await client.uploadStream("a.txt"));
   * assert.equal(await new Response(await client.downloadStream("a.txt")).text(), "hello world");
   * const tail = await client.downloadStream("a.txt", { offset: 6 }); // REST 6
   * assert.equal(await new Response(tail).text(), "world");
   * await assert.rejects(
   *   client.downloadStream("missing.txt"),
   *   (error) => error instanceof ReplyError && error.code === 550,
   * );
   * ```
   *
   * @param path The remote file.
   * @param options Offset (resume) and signal.
   * @returns The file's bytes.
   */
  async downloadStream(
    path: string,
    options: TransferStreamOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    checkArgument(path, "path");
    const stream = await this.#stream(`RETR ${path}`, "1xx", { ...options, autoFinish: "2xx" });
    return stream.readable;
  }

  /**
   * Uploads to a file as a stream (`STOR`). Closing the stream waits for the server's
   * confirmation and rejects when the final reply is an error; aborting it aborts the transfer.
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * const writer = (await client.uploadStream("a.txt")).getWriter();
   * await writer.write(new TextEncoder().encode("hello"));
   * await writer.close(); // resolves once the server confirmed the transfer (226)
   * assert.equal(await client.size("a.txt"), 5);
   * // Any stream pipes in: a Blob, a fetch() body, a file's readable...
   * await new Blob(["hello world"]).stream().pipeTo(await client.uploadStream("b.txt"));
   * ```
   *
   * @param path The remote file.
   * @param options Offset (`REST` first) and signal.
   * @returns The stream to write the file's bytes to.
   */
  async uploadStream(
    path: string,
    options: TransferStreamOptions = {},
  ): Promise<WritableStream<Uint8Array>> {
    checkArgument(path, "path");
    const stream = await this.#stream(`STOR ${path}`, "1xx", { ...options, autoFinish: "2xx" });
    return stream.writable;
  }

  /**
   * Appends to a file as a stream (`APPE`), with the semantics of
   * {@linkcode Client.uploadStream}.
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("log.txt"));
   * await new Blob([" world"]).stream().pipeTo(await client.appendStream("log.txt"));
   * assert.equal(await new Response(await client.downloadStream("log.txt")).text(), "hello world");
   * ```
   *
   * @param path The remote file.
   * @param options A signal.
   * @returns The stream to write the appended bytes to.
   */
  async appendStream(
    path: string,
    options: CallOptions = {},
  ): Promise<WritableStream<Uint8Array>> {
    checkArgument(path, "path");
    const stream = await this.#stream(`APPE ${path}`, "1xx", { ...options, autoFinish: "2xx" });
    return stream.writable;
  }

  /**
   * Aborts the transfer in progress (see {@linkcode DataStream.abort}); with none, sends `ABOR`
   * and reads its reply. The client stays usable either way.
   *
   * @example Giving up on a download
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * const big = new Blob([new Uint8Array(4 << 20)]); // 4 MiB
   * await big.stream().pipeTo(await client.uploadStream("big.bin"));
   * const reader = (await client.downloadStream("big.bin")).getReader();
   * assert.ok(!(await reader.read()).done); // the first bytes
   * await client.abort(); // ABOR: the rest is not sent
   * await client.noop(); // the session goes on
   * ```
   *
   * @param options A signal for waiting on the turn when no transfer runs.
   */
  async abort(options: CallOptions = {}): Promise<void> {
    if (this.#active) {
      await this.#active.abort();
      return;
    }
    await this.#run(options.signal, async () => {
      await this.#control.exchange("ABOR", undefined, options.signal);
    });
  }

  /**
   * Lists a directory: MLSD, falling back to LIST when the server does not implement MLSD
   * (decided once per connection). Lines no parser understands are skipped and reported to
   * `onListWarning`.
   *
   * @example Recursive listing
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("pub/docs", { parents: true });
   * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("pub/docs/a.txt"));
   * const seen: string[] = [];
   * for await (const { path, info } of client.list("pub", { recursive: true })) {
   *   seen.push(`${info.type} ${path} ${info.size}`);
   * }
   * assert.deepEqual(seen, ["dir pub/docs 0", "file pub/docs/a.txt 5"]);
   * ```
   *
   * @param path The directory (default: the working directory).
   * @param options Recursion, forced command, signal.
   * @returns The entries, iterable or collectable.
   * @throws {ListingTooLargeError} When one directory's listing exceeds `maxListingBytes`.
   * @throws {DirectoryTooDeepError} When a recursive listing reaches a directory more than
   * `maxRecursionDepth` levels down (after every entry above it).
   */
  list(path = "", options: ListOptions = {}): Listing {
    checkArgument(path, "path");
    return this.#lister.list(path, options);
  }

  /**
   * Lists a directory into an array (see {@linkcode Client.list}).
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("pub");
   * const items = await client.listAll();
   * assert.deepEqual(items.map(({ path, info }) => [path, info.type]), [["pub", "dir"]]);
   * ```
   *
   * @param path The directory.
   * @param options Recursion, forced command, signal.
   * @returns Every entry.
   */
  async listAll(path = "", options: ListOptions = {}): Promise<ListItem[]> {
    return await this.list(path, options).toArray();
  }

  /**
   * Describes one path: MLST, falling back to listing the parent directory when the server
   * does not implement MLST (decided once per connection). Both the multi-line and the
   * single-line MLST reply forms are accepted.
   *
   * @example
   * ```ts
   * import { Client, ReplyError } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("pub");
   * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("pub/a.txt"));
   * const entry = await client.stat("pub/a.txt");
   * assert.equal(entry.name, "a.txt");
   * assert.equal(entry.type, "file");
   * assert.equal(entry.size, 5);
   * await assert.rejects(
   *   client.stat("pub/missing.txt"),
   *   (error) => error instanceof ReplyError && error.code === 550,
   * );
   * ```
   *
   * @param path The path.
   * @param options A signal.
   * @returns The entry; its name is the path's last component.
   * @throws {ReplyError} When the path does not exist (`550`, also from the fallback).
   */
  async stat(path: string, options: CallOptions = {}): Promise<ListEntry> {
    checkArgument(path, "path");
    return await this.#lister.stat(path, options);
  }

  /**
   * Tells whether a path exists. A `550` (and the "not found" style `450` and `501`) means no.
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("pub");
   * assert.equal(await client.exists("pub"), true);
   * assert.equal(await client.exists("missing"), false);
   * ```
   *
   * @param path The path.
   * @param options A signal.
   * @returns Whether it exists.
   */
  async exists(path: string, options: CallOptions = {}): Promise<boolean> {
    try {
      await this.stat(path, options);
      return true;
    } catch (error) {
      if (error instanceof ReplyError && matchesCode(error.code, NOT_FOUND)) return false;
      throw error;
    }
  }

  /**
   * Tells whether a path is a regular file (`false` when it does not exist).
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("pub");
   * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
   * assert.equal(await client.isFile("a.txt"), true);
   * assert.equal(await client.isFile("pub"), false);
   * assert.equal(await client.isFile("missing"), false);
   * ```
   *
   * @param path The path.
   * @param options A signal.
   * @returns Whether it is a file.
   */
  async isFile(path: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.#statOrUndefined(path, options))?.type === "file";
  }

  /**
   * Tells whether a path is a directory (`false` when it does not exist).
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("pub");
   * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
   * assert.equal(await client.isDir("pub"), true);
   * assert.equal(await client.isDir("a.txt"), false);
   * assert.equal(await client.isDir("missing"), false);
   * ```
   *
   * @param path The path.
   * @param options A signal.
   * @returns Whether it is a directory.
   */
  async isDir(path: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.#statOrUndefined(path, options))?.type === "dir";
  }

  /**
   * Changes the working directory (`CDUP` for `".."`, `CWD` otherwise).
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("pub");
   * await client.cd("pub");
   * assert.equal(await client.pwd(), "/pub");
   * await client.cd("..");
   * assert.equal(await client.pwd(), "/");
   * ```
   *
   * @param path The directory.
   * @param options A signal.
   */
  async cd(path: string, options: CallOptions = {}): Promise<void> {
    checkArgument(path, "path");
    await this.#exchange(path === ".." ? "CDUP" : `CWD ${path}`, "2xx", options);
  }

  /**
   * Returns the working directory (`PWD`; doubled quotes in the reply are understood).
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir('say "hi"');
   * await client.cd('say "hi"');
   * assert.equal(await client.pwd(), '/say "hi"'); // sent as 257 "/say ""hi"""
   * ```
   *
   * @param options A signal.
   * @returns The directory.
   */
  async pwd(options: CallOptions = {}): Promise<string> {
    const reply = await this.#exchange("PWD", "257", options);
    return parseQuotedPath(replyText(reply));
  }

  /**
   * Creates a directory (`MKD`). With `parents`, missing parents are created too and an
   * existing directory is accepted.
   *
   * @example
   * ```ts
   * import { Client, ReplyError } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("www/img/icons", { parents: true });
   * await client.mkdir("www/img", { parents: true }); // exists: fine
   * assert.equal(await client.isDir("www/img/icons"), true);
   * await assert.rejects(
   *   client.mkdir("www"), // exists: refused
   *   (error) => error instanceof ReplyError && error.code === 550,
   * );
   * ```
   *
   * @param path The directory.
   * @param options `parents` and a signal.
   * @throws {ReplyError} When the server refuses.
   */
  async mkdir(path: string, options: MkdirOptions = {}): Promise<void> {
    checkArgument(path, "path");
    if (!options.parents) {
      await this.#exchange(`MKD ${path}`, "2xx", options);
      return;
    }
    const reply = await this.#exchange(`MKD ${path}`, undefined, options);
    if (reply.code >= 200 && reply.code < 300) return;
    if (await this.isDir(path, options)) return;
    const { parent } = splitRemote(path);
    if (parent === "" || parent === "/" || parent === "." || parent === path) {
      throw new ReplyError(["2xx"], reply);
    }
    await this.mkdir(parent, options);
    await this.#exchange(`MKD ${path}`, "2xx", options);
  }

  /**
   * Removes an empty directory (`RMD`).
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("old");
   * await client.rmdir("old");
   * assert.equal(await client.exists("old"), false);
   * ```
   *
   * @param path The directory.
   * @param options A signal.
   */
  async rmdir(path: string, options: CallOptions = {}): Promise<void> {
    checkArgument(path, "path");
    await this.#exchange(`RMD ${path}`, "2xx", options);
  }

  /**
   * Removes a file (`DELE`).
   *
   * @example
   * ```ts
   * import { Client, ReplyError } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
   * await client.removeFile("a.txt");
   * assert.equal(await client.exists("a.txt"), false);
   * await assert.rejects(
   *   client.removeFile("a.txt"),
   *   (error) => error instanceof ReplyError && error.code === 550,
   * );
   * ```
   *
   * @param path The file.
   * @param options A signal.
   */
  async removeFile(path: string, options: CallOptions = {}): Promise<void> {
    checkArgument(path, "path");
    await this.#exchange(`DELE ${path}`, "2xx", options);
  }

  /**
   * Removes a file, or a directory with everything in it.
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("www/img", { parents: true });
   * await new Blob(["<svg/>"]).stream().pipeTo(await client.uploadStream("www/img/logo.svg"));
   * await client.remove("www");
   * assert.equal(await client.exists("www"), false);
   * ```
   *
   * @param path The file or directory.
   * @param options A signal.
   * @throws {DirectoryTooDeepError} When the tree is more than `maxRecursionDepth` levels deep.
   */
  async remove(path: string, options: CallOptions = {}): Promise<void> {
    const info = await this.stat(path, options);
    const maxDepth = this.#lister.maxRecursionDepth;
    await removeTree(this, path, info.type, { signal: options.signal, maxDepth });
  }

  /**
   * Renames or moves a path (`RNFR`, then `RNTO`).
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("archive");
   * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
   * await client.rename("a.txt", "archive/b.txt");
   * assert.equal(await client.isFile("archive/b.txt"), true);
   * assert.equal(await client.exists("a.txt"), false);
   * ```
   *
   * @param from The current path.
   * @param to The new path.
   * @param options A signal.
   */
  async rename(from: string, to: string, options: CallOptions = {}): Promise<void> {
    checkArgument(from, "path");
    checkArgument(to, "path");
    await this.#run(options.signal, async () => {
      await this.#control.exchange(`RNFR ${from}`, "3xx", options.signal);
      await this.#control.exchange(`RNTO ${to}`, "2xx", options.signal);
    });
  }

  /**
   * Returns a file's size (`SIZE`, in binary type).
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
   * assert.equal(await client.size("a.txt"), 5);
   * ```
   *
   * @param path The file.
   * @param options A signal.
   * @returns The size in bytes.
   */
  async size(path: string, options: CallOptions = {}): Promise<number> {
    checkArgument(path, "path");
    return await this.#run(options.signal, async () => {
      await this.#setType("I", options.signal);
      const reply = await this.#control.exchange(`SIZE ${path}`, "213", options.signal);
      const size = Number(replyText(reply).trim());
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new ProtocolError(`Cannot parse SIZE reply ${JSON.stringify(replyText(reply))}`);
      }
      return size;
    });
  }

  /**
   * Returns a file's modification time (`MDTM`).
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * const before = Date.now();
   * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
   * const time = await client.modifiedTime("a.txt");
   * assert.ok(time.getTime() >= Math.floor(before / 1000) * 1000); // MDTM has whole seconds
   * ```
   *
   * @param path The file.
   * @param options A signal.
   * @returns The time (UTC, as the server reports it).
   */
  async modifiedTime(path: string, options: CallOptions = {}): Promise<Date> {
    checkArgument(path, "path");
    const reply = await this.#exchange(`MDTM ${path}`, "213", options);
    const time = parseMlsxTime(replyText(reply).trim());
    if (!time) {
      throw new ProtocolError(`Cannot parse MDTM reply ${JSON.stringify(replyText(reply))}`);
    }
    return time;
  }

  /**
   * Sets a file's modification time (`MFMT`; `MDTM time path` for servers without MFMT).
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
   * const time = new Date("2026-01-01T00:00:00Z");
   * await client.setModifiedTime("a.txt", time);
   * assert.equal((await client.modifiedTime("a.txt")).getTime(), time.getTime());
   * ```
   *
   * @param path The file.
   * @param time The new time.
   * @param options A signal.
   */
  async setModifiedTime(path: string, time: Date, options: CallOptions = {}): Promise<void> {
    checkArgument(path, "path");
    const stamp = formatMlsxTime(time);
    const reply = await this.#exchange(`MFMT ${stamp} ${path}`, undefined, options);
    if (reply.code >= 200 && reply.code < 300) return;
    if (!matchesCode(reply.code, UNSUPPORTED)) throw new ReplyError(["213"], reply);
    await this.#exchange(`MDTM ${stamp} ${path}`, "2xx", options);
  }

  /**
   * Returns the server's extensions (`FEAT`), upper-case name to parameters (`"MLST"` →
   * `"type*;size*;modify*;"`). Empty when the server has no FEAT. Cached until the next login.
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * const features = await client.features();
   * assert.ok(features.has("MLST"));
   * assert.ok(features.get("HASH")?.includes("SHA-256"));
   * ```
   *
   * @param options A signal.
   * @returns The features.
   */
  async features(options: CallOptions = {}): Promise<Map<string, string>> {
    if (this.#features) return this.#features;
    const reply = await this.#exchange("FEAT", undefined, options);
    const features = new Map<string, string>();
    if (reply.code === 211) {
      for (const line of reply.lines.slice(1, -1)) {
        const text = line.trim();
        if (text === "") continue;
        const space = text.indexOf(" ");
        const name = (space < 0 ? text : text.slice(0, space)).toUpperCase();
        features.set(name, space < 0 ? "" : text.slice(space + 1).trim());
      }
    }
    this.#features = features;
    return features;
  }

  /**
   * Does nothing, on the server (`NOOP`): keeps the session alive, checks it still is.
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.noop();
   * client.close();
   * await assert.rejects(client.noop()); // the connection is gone
   * ```
   *
   * @param options A signal.
   */
  async noop(options: CallOptions = {}): Promise<void> {
    await this.#exchange("NOOP", "2xx", options);
  }

  /**
   * Uploads a local file or directory tree. Without `writeInto`, the source's name is appended
   * to `remotePath` (`upload("dir", "a/b")` creates `a/b/dir/...`); with it, `remotePath` is
   * the target itself. Missing remote parents are created (for a single file: once the
   * server refused the upload, so that the usual upload into an existing directory is one
   * `STOR`).
   *
   * @example A file into a directory, a tree to an exact place, over two sessions
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   * import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * await using server = new Server({ users: [new User()] });
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
   * try {
   *   await writeFile(join(dir, "report.txt"), "hello");
   *   await client.upload(join(dir, "report.txt"), "docs"); // creates docs/report.txt
   *   assert.equal(await client.size("docs/report.txt"), 5);
   *
   *   await mkdir(join(dir, "site"));
   *   for (const name of ["a.html", "b.html", "c.html"]) {
   *     await writeFile(join(dir, "site", name), name);
   *   }
   *   const options = { writeInto: true, parallel: 2 };
   *   const summary = await client.upload(join(dir, "site"), "www", options);
   *   assert.equal(summary.files, 3); // www/a.html... over two sessions
   *   assert.equal(await client.size("www/c.html"), 6);
   * } finally {
   *   await rm(dir, { recursive: true });
   * }
   * ```
   *
   * @param localPath The local file or directory.
   * @param remotePath The remote directory (or target with `writeInto`); default: the working
   * directory.
   * @param options Resume, progress, checksum verification, parallel sessions (trees), signal.
   * @returns Counts of files and bytes.
   */
  async upload(
    localPath: string,
    remotePath = "",
    options: UploadOptions = {},
  ): Promise<TransferSummary> {
    checkArgument(remotePath, "path");
    return await uploadPath(this, localPath, remotePath, options, {
      openSibling: this.#siblingOpener(),
    });
  }

  /**
   * Downloads a remote file or directory tree. Without `writeInto`, the source's name is
   * appended to `localPath`; with it, `localPath` is the target itself. Names from the server
   * that are not a single plain component (`..`, `a/b`, NUL...) are refused, so nothing is
   * written outside the target.
   *
   * To tell a file from a tree the client asks the server (`MLST`) before the transfer. A
   * server without MLST (asked once per login) is sent `RETR` at once instead, and the path is
   * looked at (in a listing of its parent) only when the server refuses it: a directory then
   * costs one refused `RETR`, a file nothing. {@linkcode Client.downloadFile} never asks.
   *
   * @example A file into a directory, a tree to an exact place
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   * import { mkdtemp, readFile, rm } from "node:fs/promises";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * await using server = new Server({ users: [new User()] });
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("pub/site/img", { parents: true });
   * await new Blob(["data"]).stream().pipeTo(await client.uploadStream("pub/file.bin"));
   * await new Blob(["<svg/>"]).stream().pipeTo(await client.uploadStream("pub/site/img/logo.svg"));
   * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
   * try {
   *   await client.download("pub/file.bin", dir); // writes <dir>/file.bin
   *   assert.equal(await readFile(join(dir, "file.bin"), "utf8"), "data");
   *   const progress: number[] = [];
   *   await client.download("pub/site", join(dir, "www"), {
   *     writeInto: true, // <dir>/www/img/logo.svg, not <dir>/www/site/...
   *     onProgress: (report) => progress.push(report.overallBytes),
   *   });
   *   assert.equal(await readFile(join(dir, "www/img/logo.svg"), "utf8"), "<svg/>");
   *   assert.equal(progress.at(-1), 6);
   * } finally {
   *   await rm(dir, { recursive: true });
   * }
   * ```
   *
   * @param remotePath The remote file or directory.
   * @param localPath The local directory (or target with `writeInto`); default `"."`.
   * @param options Resume, progress, checksum verification, parallel sessions (trees), signal.
   * @returns Counts of files and bytes.
   * @throws {PathError} With kind `"invalid-path"` for an unsafe name in a listing.
   * @throws {DirectoryTooDeepError} When the tree is more than `maxRecursionDepth` levels deep
   * (found before any file is written).
   */
  async download(
    remotePath: string,
    localPath = ".",
    options: DownloadOptions = {},
  ): Promise<TransferSummary> {
    checkArgument(remotePath, "path");
    const describe = (path: string) => this.#lister.describe(path, { signal: options.signal });
    return await downloadPath(this, remotePath, localPath, options, {
      describe,
      openSibling: this.#siblingOpener(),
    });
  }

  /**
   * Downloads a remote path known to be a file: like {@linkcode Client.download}, with the
   * same destination rules and options, but without asking the server what the path is, so
   * a file costs the transfer's own exchanges only (`EPSV`, `RETR`; `TYPE I` once per
   * session). `resume` and `onProgress` add a `SIZE`.
   *
   * @example Many files, one after the other
   * ```ts
   * import { Client, ReplyError } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   * import { mkdtemp, readFile, rm } from "node:fs/promises";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * await using server = new Server({ users: [new User()] });
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("pub");
   * for (const name of ["a.bin", "b.bin"]) {
   *   await new Blob([name]).stream().pipeTo(await client.uploadStream(`pub/${name}`));
   * }
   * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
   * try {
   *   for (const name of ["a.bin", "b.bin"]) {
   *     await client.downloadFile(`pub/${name}`, join(dir, `copy-${name}`), { writeInto: true });
   *   }
   *   assert.equal(await readFile(join(dir, "copy-b.bin"), "utf8"), "b.bin");
   *   await assert.rejects(
   *     client.downloadFile("pub", dir), // a directory: RETR is refused
   *     (error) => error instanceof ReplyError && error.code === 550,
   *   );
   * } finally {
   *   await rm(dir, { recursive: true });
   * }
   * ```
   *
   * @param remotePath The remote file.
   * @param localPath The local directory (or target with `writeInto`); default `"."`.
   * @param options Resume, progress, checksum verification, signal.
   * @returns Counts of files and bytes.
   * @throws {ReplyError} When the server refuses the transfer (a directory: `550`).
   */
  async downloadFile(
    remotePath: string,
    localPath = ".",
    options: DownloadOptions = {},
  ): Promise<TransferSummary> {
    checkArgument(remotePath, "path");
    return await downloadPath(this, remotePath, localPath, options);
  }

  /**
   * Makes a local directory a copy of a remote one (or, with `reverse`, the remote one a copy
   * of the local one), transferring only what differs: a file missing on the target, of
   * another size, or older than the source (modification times compared within 1 s, a minute
   * more for the LIST times of a server without MLST; by size alone when the server gives no
   * time). A downloaded file gets the remote time; an uploaded one gets the local time through
   * `MFMT` when the server offers it. See {@linkcode MirrorOptions} for deleting, dry runs and
   * parallel sessions.
   *
   * @example Keep a local copy of a site up to date
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   * import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * await using server = new Server({ users: [new User()] });
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("www/site", { parents: true });
   * const page = new Blob(["<h1>v1</h1>"]);
   * await page.stream().pipeTo(await client.uploadStream("www/site/index.html"));
   * const local = await mkdtemp(join(tmpdir(), "streamftp-"));
   * try {
   *   await writeFile(join(local, "stale.html"), "gone on the server");
   *   const summary = await client.mirror("www/site", local, { delete: true, parallel: 4 });
   *   assert.equal(summary.transferred, 1);
   *   assert.equal(summary.bytes, 11);
   *   assert.equal(summary.deleted, 1); // stale.html
   *   assert.equal(await readFile(join(local, "index.html"), "utf8"), "<h1>v1</h1>");
   * } finally {
   *   await rm(local, { recursive: true });
   * }
   * ```
   *
   * @param remoteDir The remote directory (`""`: the working directory).
   * @param localDir The local directory (created when missing).
   * @param options Direction, deletion, dry run, parallel sessions, reports, signal.
   * @returns What was done (or, in a dry run, would be done).
   * @throws {PathError} With kind `"invalid-path"` for an unsafe name in a remote listing
   * (before anything is changed); kind `"not-found"` when the source directory is missing.
   * @throws {DirectoryTooDeepError} When the remote tree is deeper than `maxRecursionDepth`.
   */
  async mirror(
    remoteDir: string,
    localDir: string,
    options: MirrorOptions = {},
  ): Promise<MirrorSummary> {
    checkArgument(remoteDir, "path");
    return await mirror(this, { remoteDir, localDir }, options, this.#siblingOpener());
  }

  /**
   * Ends the session politely: aborts a transfer in progress, sends `QUIT`, and closes. Never
   * throws: a dead connection is just closed.
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.quit(); // QUIT, then close
   * assert.equal(client.closed, true);
   * await client.quit(); // does nothing now
   * ```
   *
   * @param options A signal (closing happens anyway).
   */
  async quit(options: CallOptions = {}): Promise<void> {
    if (this.#control.closed) return;
    try {
      if (this.#active) await this.#active.abort();
      const release = await this.#queue.acquire(options.signal);
      try {
        if (!this.#control.closed) {
          await this.#control.drain();
          await this.#control.exchange("QUIT", undefined, options.signal);
        }
      } finally {
        release();
      }
    } catch {
      // Closing below is all that is left to do.
    } finally {
      this.close();
    }
  }

  /**
   * Closes the connection at once, without QUIT. Calls in progress fail.
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * const pending = client.noop();
   * client.close();
   * await assert.rejects(pending);
   * assert.equal(client.closed, true);
   * ```
   */
  close(): void {
    this.#control.close();
    void this.#active?.abort().catch(() => {});
  }

  /**
   * Ends the session when an `await using` scope exits: `quit()`, which falls back to `close()`.
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server();
   * await server.start("127.0.0.1", 0);
   * let used: Client;
   * {
   *   await using client = await Client.connect("127.0.0.1", server.address.port);
   *   used = client;
   * }
   * assert.equal(used.closed, true); // QUIT was sent when the block ended
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.quit();
  }

  /** How the extra sessions of a parallel transfer are opened; `undefined` before a login. */
  #siblingOpener(): OpenSibling | undefined {
    const credentials = this.#credentials;
    if (!credentials) return undefined;
    return siblingOpener({
      construct: (parts) => new (this.constructor as new (parts: ClientParts) => Client)(parts),
      endpoint: this.#endpoint,
      options: { ...this.#options, mode: this.mode },
      throttles: this.#throttles,
      credentials,
      workingDirectory: (signal) => this.pwd({ signal }),
    });
  }

  async #run<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    const release = await this.#queue.acquire(signal);
    try {
      await this.#control.drain();
      return await work();
    } finally {
      release();
    }
  }

  #exchange(
    line: string,
    expected: ExpectedCodes | undefined,
    options: CallOptions,
  ): Promise<Reply> {
    return this.#run(options.signal, () => this.#control.exchange(line, expected, options.signal));
  }

  async #setType(type: string, signal: AbortSignal | undefined): Promise<void> {
    if (this.#type === type) return;
    await this.#control.exchange(`TYPE ${type}`, "2xx", signal);
    this.#type = type;
  }

  async #stream(
    command: string,
    expected: ExpectedCodes,
    options: StreamOptions & { autoFinish?: ExpectedCodes },
  ): Promise<DataStream> {
    const signal = options.signal;
    const release = await this.#queue.acquire(signal);
    try {
      await this.#control.drain();
      await this.#security?.protect(this.#control, signal);
      await this.#setType(options.type ?? "I", signal);
      const stream: DataStream = await this.#data.open(command, {
        expected,
        offset: options.offset,
        autoFinish: options.autoFinish,
        signal,
        release,
        onSettled: () => {
          if (this.#active === stream) this.#active = undefined;
        },
      });
      if (!stream.settled) this.#active = stream;
      return stream;
    } catch (error) {
      release();
      throw error;
    }
  }

  async #statOrUndefined(path: string, options: CallOptions): Promise<ListEntry | undefined> {
    try {
      return await this.stat(path, options);
    } catch (error) {
      if (error instanceof ReplyError && matchesCode(error.code, NOT_FOUND)) return undefined;
      throw error;
    }
  }
}
