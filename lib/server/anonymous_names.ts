/**
 * The login names that mean the anonymous account: {@linkcode isAnonymousName}, one definition
 * for the user manager (which logs these names, and only these, into an account without a
 * login) and the TLS policy (whose `"non-anonymous"` requirement spares them).
 *
 * @module
 */

/**
 * The anonymous login names by default (RFC 1635): `anonymous` and `ftp`.
 *
 * @example One more name for the anonymous account
 * ```ts
 * import { DEFAULT_ANONYMOUS_NAMES, Server } from "@streamftp/streamftp/server";
 *
 * await using _server = new Server({ anonymousNames: [...DEFAULT_ANONYMOUS_NAMES, "guest"] });
 * ```
 */
export const DEFAULT_ANONYMOUS_NAMES: readonly string[] = ["anonymous", "ftp"];

/**
 * Tells whether a login name is an anonymous one. The comparison ignores case and surrounding
 * blanks, and depends on the name alone, so that the answer to USER tells nothing about which
 * accounts exist.
 *
 * @example
 * ```ts
 * import { isAnonymousName } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isAnonymousName(" Anonymous"), true);
 * assert.equal(isAnonymousName("root"), false);
 * assert.equal(isAnonymousName("guest", ["guest"]), true);
 * ```
 *
 * @param login The name sent with USER.
 * @param names The anonymous names (default {@linkcode DEFAULT_ANONYMOUS_NAMES}).
 * @returns `true` for an anonymous name.
 */
export function isAnonymousName(
  login: string,
  names: readonly string[] = DEFAULT_ANONYMOUS_NAMES,
): boolean {
  const name = login.trim().toLowerCase();
  return names.some((n) => n.toLowerCase() === name);
}
