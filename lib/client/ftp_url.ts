/**
 * `ftp://user:password@host:port/path` URLs (RFC 1738 §3.2): what `Client.connect` needs from
 * one, percent-decoded. `ftps://` (implicit FTPS, port 990) and `ftpes://` (explicit FTPS, port
 * 21) URLs have the same parts.
 *
 * @module
 */

/**
 * The scheme of an FTP URL: plain, implicit FTPS or explicit FTPS.
 *
 * @example
 * ```ts
 * import { type FtpUrlScheme, parseFtpUrl } from "./ftp_url.ts";
 * import assert from "node:assert/strict";
 *
 * const scheme: FtpUrlScheme = parseFtpUrl("FTPES://example.com/").scheme;
 * assert.equal(scheme, "ftpes");
 * ```
 */
export type FtpUrlScheme = "ftp" | "ftps" | "ftpes";

/**
 * The parts of an `ftp://` URL.
 *
 * @example
 * ```ts
 * import { type FtpUrl, parseFtpUrl } from "./ftp_url.ts";
 * import assert from "node:assert/strict";
 *
 * const url: FtpUrl = parseFtpUrl("ftp://alice:p%40ss@[::1]:2121/pub/my%20docs");
 * assert.deepEqual(url, {
 *   scheme: "ftp",
 *   hostname: "::1",
 *   port: 2121,
 *   user: "alice",
 *   password: "p@ss",
 *   path: "pub/my docs",
 * });
 * ```
 */
export interface FtpUrl {
  /** The scheme, lower case. */
  scheme: FtpUrlScheme;
  /** Host name or IP address (IPv6 without brackets). */
  hostname: string;
  /** Port (when absent: 990 for `ftps://`, 21 otherwise). */
  port: number;
  /** User name, when the URL has one. */
  user?: string;
  /** Password, when the URL has one. */
  password?: string;
  /** The directory to change to after login, relative to the login directory (`""`: none). */
  path: string;
}

const SCHEME = /^(ftp|ftps|ftpes):\/\//i;

/**
 * Tells whether a connect target is a URL rather than a host name.
 *
 * @example
 * ```ts
 * import { isFtpUrl } from "./ftp_url.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isFtpUrl("ftps://example.com/"), true);
 * assert.equal(isFtpUrl("example.com"), false);
 * ```
 *
 * @param target What was passed to `Client.connect`.
 * @returns `true` for `ftp://...`, `ftps://...` and `ftpes://...`.
 */
export function isFtpUrl(target: string): boolean {
  return SCHEME.test(target);
}

/**
 * Parses an `ftp://`, `ftps://` or `ftpes://` URL.
 *
 * @example
 * ```ts
 * import { parseFtpUrl } from "./ftp_url.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseFtpUrl("ftps://example.com").port, 990); // implicit FTPS
 * assert.equal(parseFtpUrl("ftp://example.com//srv/pub").path, "/srv/pub"); // absolute
 * assert.throws(() => parseFtpUrl("http://example.com/"), TypeError);
 * ```
 *
 * @param url The URL.
 * @returns Scheme, host, port, credentials and path, percent-decoded.
 * @throws {TypeError} When the URL is malformed or of another scheme.
 */
export function parseFtpUrl(url: string): FtpUrl {
  const match = SCHEME.exec(url);
  if (!match) throw new TypeError(`Not an ftp:// URL: "${url}"`);
  const scheme = match[1].toLowerCase() as FtpUrlScheme;
  // Parsed as ftp: (a special scheme) whatever the scheme was, so that host, port and
  // credentials follow the same rules; only ftp's default port 21 then vanishes from `port`.
  const rest = url.slice(match[0].length);
  const parsed = new URL(`ftp://${rest}`);
  let hostname = parsed.hostname;
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  if (hostname === "") throw new TypeError(`URL has no host: "${url}"`);
  const path = parsed.pathname.replace(/^\//, "").replace(/;type=[aid]$/i, "");
  const authority = rest.split(/[/?#]/, 1)[0];
  const hostPort = authority.slice(authority.lastIndexOf("@") + 1);
  let port = scheme === "ftps" ? 990 : 21;
  if (parsed.port !== "") port = Number(parsed.port);
  else if (/:0*21$/.test(hostPort)) port = 21;
  return {
    scheme,
    hostname,
    port,
    user: parsed.username === "" ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === "" ? undefined : decodeURIComponent(parsed.password),
    path: decodeURIComponent(path),
  };
}
