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
 * @param directory The directory, relative or absolute.
 * @param name One path component.
 * @returns The joined path.
 */
export function joinRemote(directory: string, name: string): string {
  if (directory === "" || directory === ".") return name;
  return directory.endsWith("/") ? `${directory}${name}` : `${directory}/${name}`;
}

/** A remote path split at its last component. */
export interface RemotePathParts {
  /** The directory part: `""` for the working directory, `"/"` for the root. */
  parent: string;
  /** The last component (`""` for the root or the working directory). */
  name: string;
}

/**
 * Splits a remote path into its directory and last component, ignoring trailing slashes.
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
 * @param name The name as listed.
 * @returns `true` when the name is a single safe component.
 */
export function isPlainName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !/[/\\\0]/.test(name);
}
