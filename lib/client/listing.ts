/**
 * Turning what a server sends for MLSD, LIST and MLST into entries: every line goes through the
 * parsers of `lib/protocol/listing`, a line none of them understands is reported and skipped
 * (never fatal, unlike aioftp since 0.20), and `.`/`..` and MLSD `cdir`/`pdir` entries are
 * dropped.
 *
 * @module
 */

import type { ListEntry } from "../protocol/listing/entry.ts";
import { parseMlsxLine } from "../protocol/listing/mlsx.ts";
import { parseListLine, type ParseListLineOptions } from "../protocol/listing/parse_list_line.ts";
import type { Reply } from "../protocol/reply.ts";

/**
 * The listing commands.
 *
 * @example Forcing one
 * ```ts
 * import { Client, type ListCommand } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("pub");
 * for (const rawCommand of ["MLSD", "LIST"] satisfies ListCommand[]) {
 *   const [item] = await client.listAll("", { rawCommand });
 *   assert.equal(item.info.name, "pub"); // the same entry, from facts or from an ls line
 * }
 * ```
 */
export type ListCommand = "MLSD" | "LIST";

/**
 * A listing line that no parser understood; it was skipped.
 *
 * @example A server with a line of its own
 * ```ts
 * import { Client, type ListWarning } from "@streamftp/streamftp/client";
 * import { type CommandTable, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * // A server whose LIST sends a line of its own invention.
 * class OddServer extends Server {
 *   protected override buildCommands(): CommandTable {
 *     const table = super.buildCommands();
 *     table.set("LIST", {
 *       requires: ["login", "data-channel"],
 *       handler: (session) =>
 *         session.startTransfer({
 *           description: "LIST",
 *           opening: "listing",
 *           async run(data) {
 *             const listing = "-rw-r--r-- 1 ftp ftp 5 Jan 01  2026 a.txt\r\n*** odd ***\r\n";
 *             await new Blob([listing]).stream().pipeTo(data.writable);
 *             return { code: 226, text: "done" };
 *           },
 *         }),
 *     });
 *     return table;
 *   }
 * }
 * await using server = new OddServer();
 * await server.start("127.0.0.1", 0);
 * const warnings: ListWarning[] = [];
 * await using client = await Client.connect("127.0.0.1", server.address.port, {
 *   onListWarning: (warning) => warnings.push(warning),
 * });
 * await client.login();
 * const items = await client.listAll("", { rawCommand: "LIST" });
 * assert.deepEqual(items.map((item) => item.path), ["a.txt"]);
 * assert.equal(warnings.length, 1);
 * assert.equal(warnings[0].command, "LIST");
 * assert.equal(warnings[0].line, "*** odd ***");
 * ```
 */
export interface ListWarning {
  /** The directory being listed (as requested). */
  path: string;
  /** The command that produced the line. */
  command: ListCommand | "MLST";
  /** The line as received. */
  line: string;
  /** The parser's complaint, when it gave one. */
  error?: unknown;
}

/**
 * How listing lines are parsed.
 *
 * @example A custom format
 * ```ts
 * import { type ListParseOptions, parseListing } from "./listing.ts";
 * import assert from "node:assert/strict";
 *
 * const options: ListParseOptions = {
 *   // "name|size" lines, a format of some embedded server
 *   parseListLine: (line) => {
 *     const [name, size] = line.split("|");
 *     if (size === undefined) return undefined;
 *     return { name, type: "file", size: Number(size), facts: { type: "file", size } };
 *   },
 *   now: new Date("2026-06-01T00:00:00Z"),
 * };
 * const { entries } = parseListing("a.txt|5\r\n", "LIST", "/", options);
 * assert.deepEqual(entries.map((entry) => [entry.name, entry.size]), [["a.txt", 5]]);
 * ```
 */
export interface ListParseOptions {
  /**
   * A parser for LIST lines in an unusual format; returns `undefined` for lines it rejects.
   * Throwing rejects a line too: one that no built-in parser understands either is then
   * skipped and reported with what it threw.
   */
  parseListLine?: (line: string) => ListEntry | undefined;
  /** Whether the custom parser runs before the built-in ones (default `true`). */
  parseListLineFirst?: boolean;
  /** Receives each skipped line. */
  onListWarning?: (warning: ListWarning) => void;
  /** "Now", for the year of `ls` dates without one (tests). */
  now?: Date;
}

/**
 * The entries of one directory listing.
 *
 * @example
 * ```ts
 * import { type ParsedListing, parseListing } from "./listing.ts";
 * import assert from "node:assert/strict";
 *
 * const text = "type=cdir;unique=7;modify=20260101000000; .\r\ntype=file;size=5; a.txt\r\n";
 * const listing: ParsedListing = parseListing(text, "MLSD", "/pub");
 * assert.equal(listing.unique, "7"); // the directory's own identity, for loop detection
 * assert.deepEqual(listing.entries.map((entry) => entry.name), ["a.txt"]);
 * ```
 */
export interface ParsedListing {
  /** The entries, without `.`, `..`, `cdir` and `pdir`. */
  entries: ListEntry[];
  /** The `unique` fact of the directory itself (MLSD `type=cdir`), when sent. */
  unique?: string;
}

/**
 * Parses the text of a directory listing: lines end at LF or CRLF, and every `ls` date without
 * a year is read against the same "now".
 *
 * @example
 * ```ts
 * import { type ListWarning, parseListing } from "./listing.ts";
 * import assert from "node:assert/strict";
 *
 * const warnings: ListWarning[] = [];
 * const text = [
 *   "total 8",
 *   "drwxr-xr-x 2 ftp ftp 4096 Mar 01 12:00 docs",
 *   "-rw-r--r-- 1 ftp ftp 5 Mar 01 12:00 a.txt",
 *   "garbage",
 * ].join("\r\n");
 * const { entries } = parseListing(text, "LIST", "/pub", {
 *   now: new Date("2026-06-01T00:00:00Z"),
 *   onListWarning: (warning) => warnings.push(warning),
 * });
 * assert.deepEqual(entries.map((entry) => entry.name), ["docs", "a.txt"]); // no "total"
 * assert.equal(entries[1].modify?.getUTCFullYear(), 2026); // no year: the last March 1
 * assert.deepEqual(warnings.map((warning) => warning.line), ["garbage"]);
 * ```
 *
 * @param text The listing, decoded.
 * @param command The command that produced it.
 * @param path The directory, for warnings.
 * @param options Custom parser and warning callback.
 * @returns The entries.
 */
export function parseListing(
  text: string,
  command: ListCommand,
  path: string,
  options: ListParseOptions = {},
): ParsedListing {
  return new ListingParser(text, command, path, options).rest();
}

/**
 * The entries of a listing's text parsed one at a time, as they are asked for, with the rules
 * of {@linkcode parseListing} (skipped lines are reported as they are reached): iterating a big
 * listing then holds only the entries the caller keeps, not all of them at once.
 *
 * @example
 * ```ts
 * import { ListingParser } from "./listing.ts";
 * import assert from "node:assert/strict";
 *
 * const text = "type=cdir;unique=7; .\r\ntype=file;size=5; a.txt\r\ntype=dir; b\r\n";
 * const parser = new ListingParser(text, "MLSD", "/pub");
 * assert.equal(parser.next()?.name, "a.txt");
 * assert.equal(parser.unique, "7"); // the directory's own identity, once its line was read
 * assert.deepEqual(parser.rest().entries.map((entry) => entry.name), ["b"]);
 * assert.equal(parser.next(), undefined);
 * ```
 */
export class ListingParser {
  /** The `unique` fact of the directory itself (MLSD `type=cdir`), once its line was read. */
  unique: string | undefined;
  readonly #text: string;
  readonly #command: ListCommand;
  readonly #path: string;
  readonly #onListWarning: ListParseOptions["onListWarning"];
  readonly #lineOptions: ParseListLineOptions;
  #start = 0;

  /**
   * Starts parsing a listing.
   *
   * @param text The listing, decoded.
   * @param command The command that produced it.
   * @param path The directory, for warnings.
   * @param options Custom parser and warning callback.
   */
  constructor(text: string, command: ListCommand, path: string, options: ListParseOptions = {}) {
    this.#text = text;
    this.#command = command;
    this.#path = path;
    this.#onListWarning = options.onListWarning;
    // One options object and one "now" for all the lines.
    this.#lineOptions = {
      custom: options.parseListLine,
      customFirst: options.parseListLineFirst ?? true,
      now: options.now ?? new Date(),
    };
  }

  /**
   * Parses on to the next entry.
   *
   * @returns The entry, or `undefined` at the end of the listing.
   */
  next(): ListEntry | undefined {
    const text = this.#text;
    const command = this.#command;
    while (this.#start <= text.length) {
      // Lines end at LF or CRLF.
      const start = this.#start;
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      const line = text.slice(
        start,
        end > start && text.charCodeAt(end - 1) === CR ? end - 1 : end,
      );
      this.#start = end + 1;
      if (isBlank(line)) continue;
      let entry: ListEntry | undefined;
      let error: unknown;
      if (command === "MLSD") {
        try {
          entry = parseMlsxLine(line);
        } catch (e) {
          error = e;
        }
      } else {
        try {
          entry = parseListLine(line, this.#lineOptions);
        } catch (e) {
          // A custom parser that throws rejects the line, like one that returns undefined.
          error = e;
        }
        // `ls -l` starts with a block count that is not an entry.
        if (!entry && /^total\s+\d+/i.test(line.trim())) continue;
      }
      if (!entry) {
        this.#onListWarning?.({ path: this.#path, command, line, error });
        continue;
      }
      const type = entry.facts.type;
      if (type !== undefined && type.length === 4) {
        const lowerType = type.toLowerCase();
        if (lowerType === "cdir") {
          this.unique ??= entry.facts.unique;
          continue;
        }
        if (lowerType === "pdir") continue;
      }
      if (entry.name === "." || entry.name === "..") continue;
      return entry;
    }
    return undefined;
  }

  /**
   * Parses everything left.
   *
   * @returns The remaining entries, and the directory's `unique` fact when it was sent.
   */
  rest(): ParsedListing {
    const entries: ListEntry[] = [];
    for (let entry = this.next(); entry !== undefined; entry = this.next()) entries.push(entry);
    return { entries, unique: this.unique };
  }
}

const CR = 0x0d;

/** Whether a line is empty or white space only. */
function isBlank(line: string): boolean {
  const first = line.charCodeAt(0);
  // Most lines start with a printable ASCII character.
  if (first > 0x20 && first < 0x7f) return false;
  return line.trim() === "";
}

/**
 * Extracts the entry from an MLST reply, in the multi-line form of RFC 3659 (facts on an
 * indented middle line) or the single-line form some servers use.
 *
 * @example
 * ```ts
 * import { parseMlstReply } from "./listing.ts";
 * import assert from "node:assert/strict";
 *
 * const entry = parseMlstReply({
 *   code: 250,
 *   lines: ["Listing a.txt", " type=file;size=5;modify=20260101000000; a.txt", "End"],
 * });
 * assert.equal(entry?.size, 5);
 * assert.equal(parseMlstReply({ code: 250, lines: ["type=dir; pub"] })?.type, "dir");
 * ```
 *
 * @param reply The `250` reply.
 * @returns The entry, or `undefined` when no line parses.
 */
export function parseMlstReply(reply: Reply): ListEntry | undefined {
  const { lines } = reply;
  const candidates = lines.length > 2
    ? [...lines.slice(1, -1), lines[0], lines[lines.length - 1]]
    : lines.length === 2
    ? [lines[1], lines[0]]
    : lines;
  for (const candidate of candidates) {
    const line = candidate.startsWith(" ") ? candidate.slice(1) : candidate;
    if (!line.includes("=")) continue;
    try {
      return parseMlsxLine(line);
    } catch {
      // Try the next line.
    }
  }
  return undefined;
}
