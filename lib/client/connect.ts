/**
 * Opening a client's control session: where a `Client.connect` target points (a URL or a host
 * and port, and the FTPS mode they mean), and the connection itself up to the greeting, TLS
 * included. The endpoint is kept by the client, so that the extra sessions of a parallel
 * transfer connect the same way.
 *
 * @module
 */

import type { Reply } from "../protocol/reply.ts";
import { defaultNetwork } from "../network_registry.ts";
import type { Network } from "../socket.ts";
import { deadlineSignal } from "../stream/abort.ts";
import type { Throttle } from "../stream/throttle.ts";
import { ControlChannel } from "./control_channel.ts";
import { connectWithin } from "./data_connection.ts";
import { type FtpUrl, isFtpUrl, parseFtpUrl } from "./ftp_url.ts";
import type { ClientOptions } from "./options.ts";
import { ClientSecurity, type SecureMode, secureMode } from "./secure.ts";

/**
 * The default of `ClientOptions.connectTimeout` and `dataConnectTimeout`.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONNECT_TIMEOUT } from "./connect.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_CONNECT_TIMEOUT, 30_000); // 30 s
 * ```
 */
export const DEFAULT_CONNECT_TIMEOUT = 30_000;

/**
 * Where a client connects, and how.
 *
 * @example
 * ```ts
 * import type { Endpoint } from "./connect.ts";
 *
 * const endpoint: Endpoint = { hostname: "::1", port: 990, secure: "implicit" };
 * console.assert(endpoint.port === 990);
 * ```
 */
export interface Endpoint {
  /** Host name or IP address (IPv6 without brackets). */
  hostname: string;
  /** The control port. */
  port: number;
  /** FTPS, or `undefined` for plain FTP. */
  secure: SecureMode | undefined;
}

/**
 * A `Client.connect` target, resolved.
 *
 * @example
 * ```ts
 * import { type ConnectTarget, resolveTarget } from "./connect.ts";
 * import assert from "node:assert/strict";
 *
 * const url = "ftp://alice@example.com/pub";
 * const target: ConnectTarget = resolveTarget(url, undefined, undefined);
 * assert.equal(target.url?.user, "alice"); // logged in and changed to "pub" after connecting
 * assert.equal(target.url?.path, "pub");
 * ```
 */
export interface ConnectTarget {
  /** Where to connect. */
  endpoint: Endpoint;
  /** The URL, when the target was one (its login and path are still to be done). */
  url?: FtpUrl;
  /** The connect options. */
  options: ClientOptions;
}

/**
 * Resolves the arguments of `Client.connect`: a URL or a host, an optional port, options.
 *
 * @example
 * ```ts
 * import { resolveTarget } from "./connect.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   resolveTarget("ftps://u:p@example.com/", undefined, undefined).endpoint,
 *   { hostname: "example.com", port: 990, secure: "implicit" },
 * );
 * assert.deepEqual(
 *   resolveTarget("[::1]", 2121, { secure: true }).endpoint,
 *   { hostname: "::1", port: 2121, secure: "explicit" },
 * );
 * const contradiction = { secure: false }; // an ftps:// URL is implicit FTPS
 * assert.throws(() => resolveTarget("ftps://example.com/", contradiction, undefined), TypeError);
 * ```
 *
 * @param target A URL or a host name (IPv6 with or without brackets).
 * @param portOrOptions The port, or (with a URL) the options.
 * @param maybeOptions The options after a port.
 * @returns Endpoint, URL and options.
 * @throws {TypeError} When `secure` contradicts the URL, or `tls` comes without `secure`.
 */
export function resolveTarget(
  target: string,
  portOrOptions: number | ClientOptions | undefined,
  maybeOptions: ClientOptions | undefined,
): ConnectTarget {
  const options = (typeof portOrOptions === "object" ? portOrOptions : maybeOptions) ?? {};
  const url = isFtpUrl(target) ? parseFtpUrl(target) : undefined;
  let hostname = url?.hostname ?? target;
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  const secure = secureMode(url?.scheme, options);
  const defaultPort = secure === "implicit" ? 990 : 21;
  const port = url?.port ?? (typeof portOrOptions === "number" ? portOrOptions : defaultPort);
  return { endpoint: { hostname, port, secure }, url, options };
}

/**
 * A control session as opened, before login.
 *
 * @example
 * ```ts
 * import { Server } from "../../server.ts";
 * import { openControl, type OpenedControl } from "./connect.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * const endpoint = { hostname: "127.0.0.1", port: server.address.port, secure: undefined };
 * const opened: OpenedControl = await openControl(endpoint, {});
 * assert.equal(opened.security, undefined); // plain FTP
 * opened.control.close();
 * ```
 */
export interface OpenedControl {
  /** The control channel, secured under FTPS. */
  control: ControlChannel;
  /** The socket adapter. */
  network: Network;
  /** The server's `220`. */
  greeting: Reply;
  /** The FTPS state, for FTPS sessions. */
  security?: ClientSecurity;
}

/**
 * What a `Client` is made of (its protected constructor's argument).
 *
 * @example
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server } from "../../server.ts";
 * import { type ClientParts, openControl } from "./connect.ts";
 * import assert from "node:assert/strict";
 *
 * // What Client.connect does, in a subclass that may call the protected constructor.
 * class PartsClient extends Client {
 *   static fromParts(parts: ClientParts): PartsClient {
 *     return new PartsClient(parts);
 *   }
 * }
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * const endpoint = { hostname: "127.0.0.1", port: server.address.port, secure: undefined };
 * const opened = await openControl(endpoint, {});
 * await using client = PartsClient.fromParts({ ...opened, endpoint, options: {} });
 * await client.login();
 * assert.equal(await client.pwd(), "/");
 * ```
 */
export interface ClientParts extends OpenedControl {
  /** Where it connected. */
  endpoint: Endpoint;
  /** The options it connected with. */
  options: ClientOptions;
  /**
   * The rate limits to honour: a parallel transfer's extra sessions share their client's, so
   * that the limit holds for all of them together. Absent: new ones from the options.
   */
  throttles?: SessionThrottles;
}

/**
 * A client's rate limits.
 *
 * @example
 * ```ts
 * import { Throttle } from "../stream/throttle.ts";
 * import type { SessionThrottles } from "./connect.ts";
 * import assert from "node:assert/strict";
 *
 * const throttles: SessionThrottles = {
 *   download: new Throttle(1 << 20), // 1 MiB/s
 *   upload: new Throttle(),
 * };
 * assert.equal(throttles.upload.limit, undefined); // no upload limit
 * ```
 */
export interface SessionThrottles {
  /** Limits downloads. */
  download: Throttle;
  /** Limits uploads. */
  upload: Throttle;
}

/**
 * Connects and reads the greeting (waiting through `120`), with the TLS handshake before it
 * (implicit FTPS) or `AUTH TLS` after it (explicit FTPS), all within `connectTimeout`.
 *
 * @example
 * ```ts
 * import { Server } from "../../server.ts";
 * import { openControl } from "./connect.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ welcome: "hello" });
 * await server.start("127.0.0.1", 0);
 * const endpoint = { hostname: "127.0.0.1", port: server.address.port, secure: undefined };
 * const { control, greeting } = await openControl(endpoint, { connectTimeout: 5_000 });
 * try {
 *   assert.deepEqual(greeting.lines, ["hello"]);
 *   // The caller logs in next (the default server's anonymous login needs no password).
 *   assert.equal((await control.exchange("USER anonymous", "2xx")).code, 230);
 * } finally {
 *   control.close();
 * }
 * ```
 *
 * @param endpoint Where to connect.
 * @param options Timeouts, TLS, hooks, signal.
 * @returns The opened session.
 * @throws {ReplyError} When the greeting is not `220`.
 * @throws {TimeoutError} When it all takes longer than `connectTimeout`.
 * @throws {TlsRefusedError} When FTPS was asked for and the server refuses `AUTH TLS`.
 * @throws {TlsHandshakeError} When the TLS handshake fails.
 */
export async function openControl(
  endpoint: Endpoint,
  options: ClientOptions,
): Promise<OpenedControl> {
  const { hostname, port } = endpoint;
  const network = options.network ?? defaultNetwork();
  const security = endpoint.secure
    ? new ClientSecurity(endpoint.secure, options.tls ?? {}, hostname, network)
    : undefined;
  const connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
  const started = Date.now();
  const conn = await connectWithin(network, hostname, port, connectTimeout, options.signal);
  conn.setNoDelay(true);
  const control = new ControlChannel(conn, {
    socketTimeout: options.socketTimeout,
    maxReplyBytes: options.maxReplyBytes,
    onCommand: options.onCommand,
    onReply: options.onReply,
  });
  // connectTimeout covers the greeting and the TLS handshake too: a server that accepts but
  // never greets is as unreachable as one that does not accept.
  const left = () => Math.max(1, connectTimeout - (Date.now() - started));
  try {
    if (security?.mode === "implicit") {
      await security.secureControl(control, left(), options.signal);
    }
    // A 120 ("ready in a few minutes") is skipped: expect() reads on to the final reply.
    const greeting = await control.expect("220", deadlineSignal(options.signal, left()));
    if (security?.mode === "explicit") {
      await security.secureControl(control, left(), options.signal);
    }
    return { control, network, greeting, security };
  } catch (error) {
    control.close();
    throw error;
  }
}
