/**
 * FTP commands on the control channel: encoding on the client (with a guard against command
 * injection) and parsing on the server.
 *
 * @module
 */

import { InvalidCommandError } from "../errors.ts";

/**
 * A parsed command line.
 *
 * @example
 * ```ts
 * import { type Command, parseCommand } from "./command.ts";
 * import assert from "node:assert/strict";
 *
 * const { verb, argument }: Command = parseCommand("NOOP");
 * assert.equal(verb, "NOOP");
 * assert.equal(argument, "");
 * ```
 */
export interface Command {
  /** The verb in upper case (`"RETR"`). */
  verb: string;
  /** Everything after the first space, as sent (may be empty). */
  argument: string;
}

/**
 * Encodes one command line with its CRLF, refusing CR, LF and NUL, which would let an argument
 * (a file name from a hostile listing, say) smuggle in a second command.
 *
 * @example Encoding
 * ```ts
 * import { encodeCommand } from "./command.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeCommand("RETR a.txt"), "RETR a.txt\r\n");
 * assert.throws(() => encodeCommand("RETR a\r\nDELE b"));
 * ```
 *
 * @param line The command without line end.
 * @returns The line followed by CRLF.
 * @throws {InvalidCommandError} When the line contains CR, LF or NUL.
 */
export function encodeCommand(line: string): string {
  if (/[\r\n\0]/.test(line)) {
    throw new InvalidCommandError(
      `Cannot send command ${JSON.stringify(line)}: it contains CR, LF or NUL`,
    );
  }
  return `${line}\r\n`;
}

/**
 * Splits a received command line into verb and argument.
 *
 * @example Parsing
 * ```ts
 * import { parseCommand } from "./command.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseCommand("stor my file.txt"), { verb: "STOR", argument: "my file.txt" });
 * ```
 *
 * @param line The line without CRLF.
 * @returns The verb (upper case) and the argument.
 */
export function parseCommand(line: string): Command {
  const space = line.indexOf(" ");
  if (space < 0) return { verb: line.toUpperCase(), argument: "" };
  return { verb: line.slice(0, space).toUpperCase(), argument: line.slice(space + 1) };
}
