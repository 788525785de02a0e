/**
 * FTP replies: parsing single and multi-line replies (RFC 959 §4.2), matching codes against
 * patterns such as `"2xx"`, and formatting replies on the server side.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";

/**
 * One complete reply: its three-digit code and its text lines (code prefixes removed).
 *
 * @example A command's reply
 * ```ts
 * import { Client, type Reply } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const reply: Reply = await client.command("NOOP");
 * assert.equal(reply.code, 200);
 * assert.equal(reply.lines.length, 1);
 * ```
 */
export interface Reply {
  /** The reply code, e.g. `226`. */
  code: number;
  /**
   * The text of each line. The first and last lines lose their `123-`/`123 ` prefix; lines in
   * between keep their text as sent, minus a `123-` prefix where they have one.
   */
  lines: string[];
}

/**
 * Reply code patterns: `"226"`, `"2xx"` (any non-digit is a wildcard), `"2"` (a prefix), a
 * number, or a list of these.
 *
 * @example A command that may be unknown
 * ```ts
 * import { Client, type ExpectedCodes } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const answered: ExpectedCodes = ["2xx", 500, 502]; // anything else throws a ReplyError
 * const reply = await client.command("XYZZY", answered);
 * assert.equal(reply.code, 500); // unknown command
 * ```
 */
export type ExpectedCodes = string | number | readonly (string | number)[];

/**
 * Tells whether a code matches any of the expected patterns.
 *
 * @example Matching
 * ```ts
 * import { matchesCode } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * assert.equal(matchesCode(226, "2xx"), true);
 * assert.equal(matchesCode(250, ["226", 250]), true);
 * assert.equal(matchesCode(550, "2"), false);
 * ```
 *
 * @param code The received code.
 * @param expected One pattern or a list of patterns.
 * @returns `true` when one pattern matches.
 */
export function matchesCode(code: number, expected: ExpectedCodes): boolean {
  const text = String(code);
  return toPatterns(expected).some((pattern) => {
    if (pattern.length === 0 || pattern.length > 3) return false;
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i];
      if (c >= "0" && c <= "9" && c !== text[i]) return false;
    }
    return true;
  });
}

/**
 * Normalizes expected code patterns to a list of strings.
 *
 * @example
 * ```ts
 * import { toPatterns } from "./reply.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(toPatterns(226), ["226"]);
 * assert.deepEqual(toPatterns(["2xx", 550]), ["2xx", "550"]);
 * ```
 *
 * @param expected One pattern or a list of patterns.
 * @returns The patterns as strings.
 */
export function toPatterns(expected: ExpectedCodes): string[] {
  const list = typeof expected === "string" || typeof expected === "number" ? [expected] : expected;
  return list.map((p) => String(p));
}

/**
 * Joins a reply's lines into one text.
 *
 * @example The features a server announces
 * ```ts
 * import { Client, replyText } from "@streamftp/streamftp";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * const text = replyText(await client.command("FEAT", "211"));
 * assert.match(text, /^ MLST /m);
 * ```
 *
 * @param reply The reply.
 * @returns The lines joined with `"\n"`.
 */
export function replyText(reply: Reply): string {
  return reply.lines.join("\n");
}

const CODE_LINE = /^(\d{3})(?:([ -])(.*))?$/s;

/**
 * Assembles replies from control-channel lines. Feed it one line at a time (without CRLF);
 * it returns a reply when the line completed one.
 *
 * @example A multi-line reply
 * ```ts
 * import { ReplyParser } from "./reply.ts";
 * import assert from "node:assert/strict";
 *
 * const parser = new ReplyParser();
 * assert.equal(parser.push("211-Features:"), undefined);
 * assert.equal(parser.push(" SIZE"), undefined);
 * assert.deepEqual(parser.push("211 End"), { code: 211, lines: ["Features:", " SIZE", "End"] });
 * ```
 */
export class ReplyParser {
  #code = 0;
  #lines: string[] = [];

  /** Whether a multi-line reply has started and not yet ended. */
  get pending(): boolean {
    return this.#code !== 0;
  }

  /**
   * Adds one line. A multi-line reply ends on a line with its code and a space, or its bare
   * code; lines in between are text, whatever they start with.
   *
   * @param line A control-channel line without its CRLF.
   * @returns The complete reply, or `undefined` while a multi-line reply goes on.
   * @throws {ProtocolError} When the first line has no code or a block ends with another code.
   */
  push(line: string): Reply | undefined {
    const match = CODE_LINE.exec(line);
    if (this.#code === 0) {
      if (!match) throw new ProtocolError(`Cannot parse reply line ${JSON.stringify(line)}`);
      const code = Number(match[1]);
      if (match[2] !== "-") return { code, lines: [match[3] ?? ""] };
      this.#code = code;
      this.#lines = [match[3]];
      return undefined;
    }
    const code = match ? Number(match[1]) : 0;
    const ends = match !== null &&
      (match[2] === " " || (match[2] === undefined && code === this.#code));
    if (ends) {
      if (code !== this.#code) {
        const started = this.#code;
        this.#code = 0;
        this.#lines = [];
        throw new ProtocolError(
          `Multi-line reply ${started} ended with code ${code}: ${JSON.stringify(line)}`,
        );
      }
      const reply = { code, lines: [...this.#lines, match[3] ?? ""] };
      this.#code = 0;
      this.#lines = [];
      return reply;
    }
    this.#lines.push(match && match[2] === "-" && code === this.#code ? match[3] : line);
    return undefined;
  }
}

/**
 * Formats a reply for the wire. Lines after the first that begin with a space are sent as they
 * are (the RFC 2389/3659 body style of FEAT and MLST); others get the `123-` prefix. CR and LF
 * inside the text are replaced by spaces so that a file name cannot forge a reply line.
 *
 * @example One and several lines
 * ```ts
 * import { formatReply } from "./reply.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatReply(200, "ok"), "200 ok\r\n");
 * const features = formatReply(211, ["Features:", " SIZE", "End"]);
 * assert.equal(features, "211-Features:\r\n SIZE\r\n211 End\r\n");
 * ```
 *
 * @param code The reply code (100–599).
 * @param text One line or several.
 * @returns The reply with CRLF line ends.
 */
export function formatReply(code: number, text: string | readonly string[]): string {
  const lines = (typeof text === "string" ? [text] : text.length ? text : [""]).map((l) =>
    l.replace(/[\r\n]/g, " ")
  );
  let out = "";
  for (let i = 0; i < lines.length - 1; i++) {
    out += i > 0 && lines[i].startsWith(" ") ? `${lines[i]}\r\n` : `${code}-${lines[i]}\r\n`;
  }
  return `${out}${code} ${lines[lines.length - 1]}\r\n`;
}
