/**
 * `ftp://user:password@host:port/path` URLs (RFC 1738 §3.2): what `Client.connect` needs from
 * one, percent-decoded.
 *
 * @module
 */

/** The parts of an `ftp://` URL. */
export interface FtpUrl {
  /** Host name or IP address (IPv6 without brackets). */
  hostname: string;
  /** Port (21 when absent). */
  port: number;
  /** User name, when the URL has one. */
  user?: string;
  /** Password, when the URL has one. */
  password?: string;
  /** The directory to change to after login, relative to the login directory (`""`: none). */
  path: string;
}

/**
 * Tells whether a connect target is a URL rather than a host name.
 *
 * @param target What was passed to `Client.connect`.
 * @returns `true` for `ftp://...`.
 */
export function isFtpUrl(target: string): boolean {
  return /^ftp:\/\//i.test(target);
}

/**
 * Parses an `ftp://` URL.
 *
 * @param url The URL.
 * @returns Host, port, credentials and path, percent-decoded.
 * @throws {TypeError} When the URL is malformed or not `ftp:`.
 */
export function parseFtpUrl(url: string): FtpUrl {
  const parsed = new URL(url);
  if (parsed.protocol !== "ftp:") throw new TypeError(`Not an ftp:// URL: "${url}"`);
  let hostname = parsed.hostname;
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  if (hostname === "") throw new TypeError(`URL has no host: "${url}"`);
  const path = parsed.pathname.replace(/^\//, "").replace(/;type=[aid]$/i, "");
  return {
    hostname,
    port: parsed.port === "" ? 21 : Number(parsed.port),
    user: parsed.username === "" ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === "" ? undefined : decodeURIComponent(parsed.password),
    path: decodeURIComponent(path),
  };
}
