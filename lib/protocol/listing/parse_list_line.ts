/**
 * LIST line parsing across formats: a caller's own parser, then `ls -l`, then Windows `dir`.
 *
 * @module
 */

import type { ListEntry } from "./entry.ts";
import { parseUnixListLine } from "./unix.ts";
import { parseWindowsListLine } from "./windows.ts";

/** Options of {@linkcode parseListLine}. */
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
 * import { parseListLine } from "./parse_list_line.ts";
 * parseListLine("-rw-r--r-- 1 ftp ftp 11 Nov 20  2026 a.txt")?.name; // "a.txt"
 * parseListLine("11-20-26  08:15PM       <DIR>          docs")?.type; // "dir"
 * parseListLine("total 12"); // undefined
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
