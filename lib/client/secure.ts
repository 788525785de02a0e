/**
 * FTPS on the client side (RFC 4217 over RFC 2228's `AUTH`): which mode a connect asks for,
 * explicit TLS (`AUTH TLS`, then the control channel upgraded in place) and implicit TLS (a
 * handshake before the greeting), data protection (`PBSZ 0`, `PROT P`, sent after login as
 * curl and ftplib do), TLS on every data connection in the client role (also in active mode,
 * where the client accepted the TCP connection) resuming the control connection's session,
 * and the errors that say what went wrong: a refusal, a handshake failure in plain words, or a
 * data connection refused for lack of session reuse.
 *
 * @module
 */

import { ProtocolError, TimeoutError } from "../errors.ts";
import { matchesCode, type Reply } from "../protocol/reply.ts";
import type { Conn, Network, TlsClientOptions } from "../socket.ts";
import { abortable, abortError, deadlineSignal } from "../stream/abort.ts";
import type { ControlChannel } from "./control_channel.ts";
import {
  type TlsFailureReason,
  TlsHandshakeError,
  TlsRefusedError,
  TlsSessionReuseError,
} from "./errors.ts";
import type { FtpUrlScheme } from "./ftp_url.ts";
import type { ClientOptions, ClientTlsOptions } from "./options.ts";

/**
 * How a connection is secured: `AUTH TLS` after the greeting, or TLS from the first byte.
 *
 * @example
 * ```ts
 * import { type SecureMode, secureMode } from "./secure.ts";
 * import assert from "node:assert/strict";
 *
 * const mode: SecureMode | undefined = secureMode("ftps", {});
 * assert.equal(mode, "implicit");
 * ```
 */
export type SecureMode = "explicit" | "implicit";

/**
 * The protection level of data connections (`PROT`): `"P"` private (TLS), `"C"` clear.
 *
 * @example
 * ```ts
 * import type { DataProtection } from "./secure.ts";
 *
 * const level: DataProtection = "P"; // what the client asks for after login
 * console.assert(level === "P");
 * ```
 */
export type DataProtection = "P" | "C";

/** How long a failed protected transfer waits for the server's explanation before ABOR. */
const VERDICT_GRACE_MS = 2000;

/**
 * Decides the FTPS mode of a connect from the URL's scheme and the `secure` option.
 *
 * @example
 * ```ts
 * import { secureMode } from "./secure.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(secureMode(undefined, {}), undefined); // plain FTP
 * assert.equal(secureMode(undefined, { secure: true }), "explicit");
 * assert.equal(secureMode("ftpes", { secure: true }), "explicit");
 * assert.throws(() => secureMode("ftps", { secure: "explicit" }), TypeError);
 * assert.throws(() => secureMode(undefined, { tls: { caCerts: [] } }), TypeError); // tls, no TLS
 * ```
 *
 * @param scheme The URL's scheme, when the target is a URL.
 * @param options The connect options.
 * @returns The mode, or `undefined` for plain FTP.
 * @throws {TypeError} When `secure` contradicts the scheme, or `tls` comes without `secure`.
 */
export function secureMode(
  scheme: FtpUrlScheme | undefined,
  options: ClientOptions,
): SecureMode | undefined {
  const { secure } = options;
  if (secure !== undefined && ![true, false, "explicit", "implicit"].includes(secure)) {
    throw new TypeError(`Unknown secure mode ${JSON.stringify(secure)}`);
  }
  const implied = scheme === "ftps" ? "implicit" : scheme === "ftpes" ? "explicit" : undefined;
  // `true` asks for TLS, in the URL's mode when it has one, explicit otherwise.
  const asked = secure === true ? implied ?? "explicit" : secure === false ? undefined : secure;
  if (implied && secure !== undefined && asked !== implied) {
    throw new TypeError(
      `An ${scheme}:// URL means ${implied} TLS, but secure is ${JSON.stringify(secure)}`,
    );
  }
  const mode = implied ?? asked;
  if (mode === undefined && options.tls !== undefined) {
    throw new TypeError("TLS options were given without secure (or an ftps:// URL)");
  }
  return mode;
}

/**
 * The FTPS state of one client: negotiation, data protection and the data connections' TLS.
 *
 * @example Explicit FTPS by hand (the client does this in `connect` and `login`)
 * ```ts
 * import { Server, User } from "../../server.ts";
 * import { defaultNetwork } from "../network_registry.ts";
 * import { TEST_CA_CERT, TEST_SERVER_CERT, TEST_SERVER_KEY } from "../../tests/fixtures/tls.ts";
 * import { ControlChannel } from "./control_channel.ts";
 * import { ClientSecurity } from "./secure.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({
 *   users: [new User()],
 *   tls: { cert: TEST_SERVER_CERT, key: TEST_SERVER_KEY },
 * });
 * await server.start("127.0.0.1", 0);
 * const network = defaultNetwork();
 * const tls = { caCerts: [TEST_CA_CERT] };
 * const security = new ClientSecurity("explicit", tls, "127.0.0.1", network);
 * const { port } = server.address;
 * const control = new ControlChannel(await network.connect({ hostname: "127.0.0.1", port }));
 * try {
 *   await control.expect("220");
 *   await security.secureControl(control, 5_000); // AUTH TLS, then the handshake
 *   assert.equal(control.conn.secure, true);
 *   await control.exchange("USER anonymous", "2xx");
 *   await security.protect(control); // PBSZ 0, PROT P
 *   assert.equal(security.protection, "P");
 *   assert.equal(security.protectsData, true);
 * } finally {
 *   control.close();
 * }
 * ```
 */
export class ClientSecurity {
  /** Explicit or implicit TLS. */
  readonly mode: SecureMode;
  readonly #tls: ClientTlsOptions;
  readonly #hostname: string;
  readonly #serverName: string;
  readonly #network: Network;
  #protection: DataProtection | undefined;

  /**
   * Creates the state for one connection.
   *
   * @param mode Explicit or implicit TLS.
   * @param tls Certificate checks.
   * @param hostname The host connected to (the default certificate name).
   * @param network The adapter (whether it can resume TLS sessions).
   */
  constructor(mode: SecureMode, tls: ClientTlsOptions, hostname: string, network: Network) {
    this.mode = mode;
    this.#tls = tls;
    this.#hostname = hostname;
    this.#serverName = tls.serverName ?? hostname;
    this.#network = network;
  }

  /** The data protection level in force, once negotiated. */
  get protection(): DataProtection | undefined {
    return this.#protection;
  }

  /** Whether the data connections opened now must run TLS. */
  get protectsData(): boolean {
    return this.#protection === "P";
  }

  /**
   * Secures the control connection: for implicit TLS, right after connecting; for explicit
   * TLS, after the greeting, with `AUTH TLS`. A refusal closes the connection without sending
   * anything more.
   *
   * @param control The control channel.
   * @param timeoutMs Time left for the whole step.
   * @param signal Cancels it.
   * @throws {TlsRefusedError} When the server refuses `AUTH TLS`.
   * @throws {TlsHandshakeError} When the handshake fails.
   * @throws {TimeoutError} When it takes longer than `timeoutMs`.
   */
  async secureControl(
    control: ControlChannel,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const started = Date.now();
    if (this.mode === "explicit") {
      const reply = await control.exchange(
        "AUTH TLS",
        undefined,
        deadlineSignal(signal, Math.max(1, timeoutMs)),
      );
      // RFC 2228: 234 (no security data follows) or 334 (security data follows); TLS sends none.
      if (reply.code !== 234 && reply.code !== 334) {
        const error = new TlsRefusedError("AUTH TLS", reply);
        control.close(error);
        throw error;
      }
    }
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    const peer = control.conn.remoteAddr;
    await secureWithin(
      (tlsSignal) => control.upgrade(this.#options(), tlsSignal).then(() => control.conn),
      { host: this.#hostname, port: peer.port, channel: "control" },
      left,
      signal,
    ).catch((error) => {
      control.close(error);
      throw error;
    });
    control.conn.setNoDelay(true);
  }

  /**
   * Asks for protected data connections (`PBSZ 0`, then `PROT P`) unless a level is already in
   * force. Called after login and before a transfer, so that servers that want these commands
   * after login (most) and those that take them before alike are satisfied.
   *
   * @param control The control channel (the caller holds the turn).
   * @param signal Cancels the exchange.
   * @throws {TlsRefusedError} When the server refuses either command: data never goes in clear.
   */
  async protect(control: ControlChannel, signal?: AbortSignal): Promise<void> {
    if (this.#protection !== undefined) return;
    for (const command of ["PBSZ 0", "PROT P"]) {
      const reply = await control.exchange(command, undefined, signal);
      if (!matchesCode(reply.code, "2xx")) throw new TlsRefusedError(command, reply);
    }
    this.#protection = "P";
  }

  /**
   * Keeps track of commands sent through `Client.command` that change the protection: a
   * successful `PROT C` turns TLS on data connections off (the caller's choice), `PROT P` on,
   * and `USER` or `REIN` make the client negotiate again before the next transfer.
   *
   * @param line The command line.
   * @param reply Its reply.
   */
  observe(line: string, reply: Reply): void {
    const [verb, argument] = line.trim().split(/\s+/, 2).map((part) => part.toUpperCase());
    if (verb === "USER" || verb === "REIN") this.#protection = undefined;
    if (verb === "PROT" && reply.code >= 200 && reply.code < 300) {
      this.#protection = argument === "C" ? "C" : argument === "P" ? "P" : undefined;
    }
  }

  /**
   * Runs the TLS client handshake on a data connection, resuming the control connection's
   * session where the runtime can.
   *
   * @param conn The plain data connection (connected or accepted); consumed.
   * @param control The control connection, whose session is resumed.
   * @param timeoutMs Longest wait for the handshake.
   * @param signal Cancels it.
   * @returns The secured data connection.
   * @throws {TlsHandshakeError} When the handshake fails.
   * @throws {TimeoutError} When it takes longer than `timeoutMs`.
   */
  secureData(
    conn: Conn,
    control: Conn,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Conn> {
    const options: TlsClientOptions = { ...this.#options(), resumeSessionOf: control };
    return secureWithin(
      (tlsSignal) => conn.startTls(options, tlsSignal),
      { host: conn.remoteAddr.hostname, port: conn.remoteAddr.port, channel: "data" },
      timeoutMs,
      signal,
    );
  }

  /**
   * Returns how to explain a failed transfer on `conn`, for a TLS data connection;
   * `undefined` for a plain one.
   *
   * @param conn The data connection.
   * @returns The explainer.
   */
  explainerFor(conn: Conn): TransferExplainer | undefined {
    if (!conn.secure) return undefined;
    return {
      graceMs: VERDICT_GRACE_MS,
      explain: (error, replies) => this.explainRefusal(error, replies, conn),
    };
  }

  /**
   * Turns a server's refusal of a data connection for lack of TLS session reuse into a
   * {@linkcode TlsSessionReuseError}; any other failure is returned as it is.
   *
   * @param error What the transfer failed with.
   * @param replies The server's replies for the transfer.
   * @param conn The data connection, when it was secured.
   * @returns The error to throw.
   */
  explainRefusal(error: unknown, replies: readonly Reply[], conn?: Conn): unknown {
    if (!this.protectsData) return error;
    const refusal = replies.find((reply) => reply.code >= 400 && isReuseRefusal(reply));
    if (!refusal) return error;
    const text = `${refusal.code} ${JSON.stringify(refusal.lines.join("\n"))}`;
    const canResume = this.#network.canResumeTlsSessions === true;
    const requires = "The server requires TLS session reuse on data connections";
    const message = !canResume
      ? `${requires}, which ${cannotResume(this.#network)} (server: ${text})`
      : conn?.tlsSessionReused === true
      ? `${requires}; the data connection resumed a TLS session, but not one the server ` +
        `accepts (server: ${text})`
      : `${requires}, and the data connection's TLS session was not resumed (server: ${text})`;
    return new TlsSessionReuseError(message, {
      reply: refusal,
      runtimeCanResume: canResume,
      cause: error,
    });
  }

  #options(): TlsClientOptions {
    return {
      role: "client",
      serverName: this.#serverName,
      caCerts: this.#tls.caCerts,
      // Verified unless turned off explicitly: `undefined` and anything but `false` verify.
      rejectUnauthorized: this.#tls.rejectUnauthorized !== false,
    };
  }
}

/**
 * How a data stream explains its failure (see {@linkcode ClientSecurity.explainerFor}).
 *
 * @example
 * ```ts
 * import type { TransferExplainer } from "./secure.ts";
 * import assert from "node:assert/strict";
 *
 * // One that waits 200 ms for the server's verdict and explains nothing.
 * const explainer: TransferExplainer = { graceMs: 200, explain: (error) => error };
 * const failure = new Error("connection reset");
 * assert.equal(explainer.explain(failure, []), failure);
 * ```
 */
export interface TransferExplainer {
  /**
   * How long to wait for the server's final reply after the data connection failed, before
   * aborting: a server refusing the connection says why at once.
   */
  readonly graceMs: number;
  /**
   * Returns the error to report.
   *
   * @param error What the transfer failed with.
   * @param replies The server's replies for the transfer.
   */
  explain(error: unknown, replies: readonly Reply[]): unknown;
}

/** Where a handshake goes, for messages. */
interface Endpoint {
  host: string;
  port: number;
  channel: "control" | "data";
}

/**
 * Runs a handshake with a time limit and a signal, and turns its failure into an error that
 * says what happened.
 */
async function secureWithin(
  handshake: (signal: AbortSignal) => Promise<Conn>,
  endpoint: Endpoint,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Conn> {
  if (signal?.aborted) throw abortError(signal.reason);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new TimeoutError(`TLS handshake took longer than ${timeoutMs} ms`));
  }, timeoutMs);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const attempt = handshake(controller.signal);
  try {
    const secured = await abortable(attempt, controller.signal);
    if (!secured.secure) {
      secured.close();
      throw new TypeError("the network adapter returned a connection without TLS");
    }
    return secured;
  } catch (error) {
    attempt.then((late) => late.close(), () => {});
    if (timedOut) {
      throw new TimeoutError(
        `TLS handshake ${where(endpoint)} did not finish within ${timeoutMs} ms`,
        { cause: error },
      );
    }
    if (signal?.aborted) throw abortError(signal.reason);
    // Bytes smuggled in behind the go-ahead: the channel's own verdict, no handshake happened.
    if (error instanceof ProtocolError) throw error;
    throw handshakeError(error, endpoint);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

function where(endpoint: Endpoint): string {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  const on = endpoint.channel === "data" ? "on the data connection " : "";
  return `${on}with ${host}:${endpoint.port}`;
}

/**
 * Builds the error for a failed handshake from the runtime's error (Node and Bun report OpenSSL
 * and BoringSSL codes, Deno rustls messages).
 *
 * @param error The runtime's error.
 * @param endpoint Where the handshake went.
 * @returns The error to throw.
 */
function handshakeError(error: unknown, endpoint: Endpoint): TlsHandshakeError {
  const detail = errorText(error);
  const reason = classify(error, detail);
  const message = `TLS handshake ${where(endpoint)} failed: ${REASONS[reason]}` +
    (detail === "" ? "" : ` (${detail})`);
  return new TlsHandshakeError(message, { ...endpoint, reason, cause: error });
}

const REASONS: Record<TlsFailureReason, string> = {
  "untrusted": "certificate not trusted",
  "name-mismatch": "certificate does not match the server name",
  "expired": "certificate expired or not yet valid",
  "not-tls": "the server does not speak TLS here",
  "closed": "connection closed during the handshake",
  "alert": "the server refused the handshake",
  "other": "error",
};

const CODES: Record<string, TlsFailureReason> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "untrusted",
  UNABLE_TO_GET_ISSUER_CERT: "untrusted",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "untrusted",
  SELF_SIGNED_CERT_IN_CHAIN: "untrusted",
  DEPTH_ZERO_SELF_SIGNED_CERT: "untrusted",
  CERT_UNTRUSTED: "untrusted",
  CERT_REJECTED: "untrusted",
  CERT_SIGNATURE_FAILURE: "untrusted",
  ERR_TLS_CERT_ALTNAME_INVALID: "name-mismatch",
  CERT_HAS_EXPIRED: "expired",
  CERT_NOT_YET_VALID: "expired",
  ERR_SSL_WRONG_VERSION_NUMBER: "not-tls",
  ERR_SSL_PACKET_LENGTH_TOO_LONG: "not-tls",
  ECONNRESET: "closed",
  EPIPE: "closed",
};

const PATTERNS: [RegExp, TlsFailureReason][] = [
  [
    /unknown ?issuer|self[- ]signed|unable to verify|unable to get (local )?issuer|not trusted|untrusted|CaUsedAsEndEntity|certificate verify failed/i,
    "untrusted",
  ],
  [
    /not ?valid ?for ?name|altname|does not match|hostname mismatch|NotValidForName/i,
    "name-mismatch",
  ],
  [/expired|not ?valid ?yet|NotValidYet/i, "expired"],
  [
    /wrong version number|corrupt message|InvalidContentType|invalid content type|packet length too long|unknown protocol|record layer|http request|InvalidMessage/i,
    "not-tls",
  ],
  [/alert|handshake failure|HandshakeFailure/i, "alert"],
  [
    /close.notify|UnexpectedEof|unexpected eof|peer closed|closed|disconnected|reset|socket hang up|broken pipe|EOF/i,
    "closed",
  ],
];

function classify(error: unknown, detail: string): TlsFailureReason {
  for (let cause: unknown = error, depth = 0; cause && depth < 4; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && code in CODES) return CODES[code];
    cause = (cause as { cause?: unknown }).cause;
  }
  // OpenSSL and BoringSSL spell reasons with underscores (WRONG_VERSION_NUMBER) or spaces.
  const text = detail.replace(/_/g, " ");
  for (const [pattern, reason] of PATTERNS) if (pattern.test(text)) return reason;
  if ((error as { name?: unknown })?.name === "ConnectionClosedError") return "closed";
  return "other";
}

function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let cause: unknown = error, depth = 0; cause && depth < 4; depth++) {
    const message = cause instanceof Error ? cause.message : String(cause);
    const code = (cause as { code?: unknown }).code;
    const text = typeof code === "string" && !message.includes(code)
      ? `${code}: ${message}`
      : message;
    if (text !== "" && !parts.some((part) => part.includes(text))) parts.push(text);
    cause = (cause as { cause?: unknown }).cause;
  }
  return parts.join("; ");
}

/** Whether a reply refuses a data connection for want of TLS session reuse. */
function isReuseRefusal(reply: Reply): boolean {
  return /reuse|resum/i.test(reply.lines.join("\n"));
}

function cannotResume(network: Network): string {
  if (network.name === "deno") return "Deno cannot do; use Node or Bun";
  return `the "${network.name}" network adapter cannot do`;
}
