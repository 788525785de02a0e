/**
 * The login names that mean the anonymous account: {@linkcode isAnonymousName}, one definition
 * for the user manager (which logs these names, and only these, into an account without a
 * login) and the TLS policy (whose `"non-anonymous"` requirement spares them).
 *
 * @module
 */

/** The anonymous login names by default (RFC 1635): `anonymous` and `ftp`. */
export const DEFAULT_ANONYMOUS_NAMES: readonly string[] = ["anonymous", "ftp"];

/**
 * Tells whether a login name is an anonymous one. The comparison ignores case and surrounding
 * blanks, and depends on the name alone, so that the answer to USER tells nothing about which
 * accounts exist.
 *
 * @example
 * ```ts
 * import { isAnonymousName } from "./anonymous_names.ts";
 * console.assert(isAnonymousName("Anonymous"));
 * console.assert(!isAnonymousName("root"));
 * console.assert(isAnonymousName("guest", ["guest"]));
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
