/**
 * LIST line parsing across formats: a caller's own parser, then `ls -l`, then Windows `dir`.
 *
 * @module
 */

import type { ListEntry } from "./entry.ts";
import { parseUnixListLine } from "./unix.ts";
import { parseWindowsListLine } from "./windows.ts";

/**
 * Options of {@linkcode parseListLine}.
 *
 * @example A parser for an unusual format
 * ```ts
 * import { type ListEntry, parseListLine, type ParseListLineOptions } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * // A server that lists "name|size" lines.
 * const options: ParseListLineOptions = {
 *   custom(line): ListEntry | undefined {
 *     const match = /^([^|]+)\|(\d+)$/.exec(line);
 *     if (!match) return undefined;
 *     return { name: match[1], type: "file", size: Number(match[2]), facts: {} };
 *   },
 * };
 * assert.equal(parseListLine("report.pdf|5120", options)?.size, 5120);
 * assert.equal(parseListLine("drwxr-xr-x 2 ftp ftp 4096 Nov 20 08:15 docs", options)?.type, "dir");
 * ```
 */
export interface ParseListLineOptions {
  /** A parser for an unusual format; returns `undefined` for lines it does not understand. */
  custom?: (line: string) => ListEntry | undefined;
  /** Whether `custom` runs before the built-in parsers (default `true`) or after them. */
  customFirst?: boolean;
  /** The reference for `ls` dates without a year (default: the current time). */
  now?: Date;
}

/**
 * Parses one LIST line with the first parser that understands it: `custom` (when `customFirst`),
 * the `ls -l` parser, the Windows parser, then `custom` (when not `customFirst`).
 *
 * @example Parsing both formats
 * ```ts
 * import { parseListLine } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseListLine("-rw-r--r-- 1 ftp ftp 11 Nov 20  2026 a.txt")?.name, "a.txt");
 * assert.equal(parseListLine("11-20-26  08:15PM       <DIR>          docs")?.type, "dir");
 * assert.equal(parseListLine("total 12"), undefined);
 * ```
 *
 * @param line The line without line end.
 * @param options A custom parser, its place in the chain, and "now".
 * @returns The entry, or `undefined` when no parser understands the line.
 * @throws What `custom` threw, when no other parser understands the line either (a custom
 * parser that throws on a line the built-in parsers know does not hide it).
 */
export function parseListLine(
  line: string,
  options: ParseListLineOptions = {},
): ListEntry | undefined {
  const { custom, customFirst = true, now } = options;
  let failure: { error: unknown } | undefined;
  if (custom && customFirst) {
    try {
      const entry = custom(line);
      if (entry) return entry;
    } catch (error) {
      failure = { error };
    }
  }
  const entry = parseUnixListLine(line, now) ?? parseWindowsListLine(line);
  if (entry) return entry;
  if (failure) throw failure.error;
  return custom && !customFirst ? custom(line) : undefined;
}
