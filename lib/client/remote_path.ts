/**
 * Remote paths as the client builds them: POSIX-style joins and splits that keep relative paths
 * relative (the server resolves them against its working directory), the argument guard against
 * command injection, and the check that a name from a listing is a single safe component.
 *
 * @module
 */

import { InvalidCommandError } from "../errors.ts";

/**
 * Refuses an argument that contains CR, LF or NUL: sent on the control channel it would end the
 * command early and smuggle in another one.
 *
 * @example
 * ```ts
 * import { checkArgument } from "./remote_path.ts";
 * import assert from "node:assert/strict";
 *
 * checkArgument("a file.txt", "path"); // fine
 * assert.throws(() => checkArgument("a.txt\r\nDELE b.txt", "path"), {
 *   name: "InvalidCommandError",
 * });
 * ```
 *
 * @param value The argument (a path, a user name...).
 * @param what What the argument is, for the message.
 * @throws {InvalidCommandError} When the value contains CR, LF or NUL.
 */
export function checkArgument(value: string, what = "argument"): void {
  if (/[\r\n\0]/.test(value)) {
    throw new InvalidCommandError(
      `Cannot send ${what} ${JSON.stringify(value)}: it contains CR, LF or NUL`,
    );
  }
}

/**
 * Appends a name to a directory path (`""` stands for the working directory).
 *
 * @example
 * ```ts
 * import { joinRemote } from "./remote_path.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(joinRemote("", "a.txt"), "a.txt");
 * assert.equal(joinRemote("/", "pub"), "/pub");
 * assert.equal(joinRemote("pub/", "a.txt"), "pub/a.txt");
 * ```
 *
 * @param directory The directory, relative or absolute.
 * @param name One path component.
 * @returns The joined path.
 */
export function joinRemote(directory: string, name: string): string {
  if (directory === "" || directory === ".") return name;
  return directory.endsWith("/") ? `${directory}${name}` : `${directory}/${name}`;
}

/**
 * A remote path split at its last component.
 *
 * @example
 * ```ts
 * import { type RemotePathParts, splitRemote } from "./remote_path.ts";
 * import assert from "node:assert/strict";
 *
 * const parts: RemotePathParts = splitRemote("/pub/docs/");
 * assert.deepEqual(parts, { parent: "/pub", name: "docs" });
 * ```
 */
export interface RemotePathParts {
  /** The directory part: `""` for the working directory, `"/"` for the root. */
  parent: string;
  /** The last component (`""` for the root or the working directory). */
  name: string;
}

/**
 * Splits a remote path into its directory and last component, ignoring trailing slashes.
 *
 * @example
 * ```ts
 * import { splitRemote } from "./remote_path.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(splitRemote("a.txt"), { parent: "", name: "a.txt" });
 * assert.deepEqual(splitRemote("/a.txt"), { parent: "/", name: "a.txt" });
 * assert.deepEqual(splitRemote("/"), { parent: "/", name: "" });
 * ```
 *
 * @param path A relative or absolute path.
 * @returns The parent directory and the last component.
 */
export function splitRemote(path: string): RemotePathParts {
  let trimmed = path;
  while (trimmed.length > 1 && trimmed.endsWith("/")) trimmed = trimmed.slice(0, -1);
  if (trimmed === "/") return { parent: "/", name: "" };
  const slash = trimmed.lastIndexOf("/");
  if (slash < 0) return { parent: "", name: trimmed };
  if (slash === 0) return { parent: "/", name: trimmed.slice(1) };
  return { parent: trimmed.slice(0, slash), name: trimmed.slice(slash + 1) };
}

/**
 * Tells whether a name from a listing is one plain path component, safe to append to a local or
 * remote directory: not empty, not `.` or `..`, and without `/`, `\` or NUL. A hostile server can
 * send any bytes as a name; anything else could walk out of a download's target directory.
 *
 * @example
 * ```ts
 * import { isPlainName } from "./remote_path.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isPlainName("report 2026.pdf"), true);
 * for (const hostile of ["..", "../etc", "a/b", "a\\b", "", "a\0b"]) {
 *   assert.equal(isPlainName(hostile), false);
 * }
 * ```
 *
 * @param name The name as listed.
 * @returns `true` when the name is a single safe component.
 */
export function isPlainName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !/[/\\\0]/.test(name);
}
