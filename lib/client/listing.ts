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

/** The listing commands. */
export type ListCommand = "MLSD" | "LIST";

/** A listing line that no parser understood; it was skipped. */
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

/** How listing lines are parsed. */
export interface ListParseOptions {
  /**
   * A parser for LIST lines in an unusual format; returns `undefined` for lines it rejects. A
   * line on which it throws is skipped and reported like any line no parser understands.
   */
  parseListLine?: (line: string) => ListEntry | undefined;
  /** Whether the custom parser runs before the built-in ones (default `true`). */
  parseListLineFirst?: boolean;
  /** Receives each skipped line. */
  onListWarning?: (warning: ListWarning) => void;
  /** "Now", for the year of `ls` dates without one (tests). */
  now?: Date;
}

/** The entries of one directory listing. */
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
  const entries: ListEntry[] = [];
  let unique: string | undefined;
  // One options object and one "now" for all the lines.
  const lineOptions: ParseListLineOptions = {
    custom: options.parseListLine,
    customFirst: options.parseListLineFirst ?? true,
    now: options.now ?? new Date(),
  };
  for (let start = 0; start <= text.length;) {
    // Lines end at LF or CRLF.
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end > start && text.charCodeAt(end - 1) === CR ? end - 1 : end);
    start = end + 1;
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
        entry = parseListLine(line, lineOptions);
      } catch (e) {
        // A custom parser that throws rejects the line, like one that returns undefined.
        error = e;
      }
      // `ls -l` starts with a block count that is not an entry.
      if (!entry && /^total\s+\d+/i.test(line.trim())) continue;
    }
    if (!entry) {
      options.onListWarning?.({ path, command, line, error });
      continue;
    }
    const type = entry.facts.type;
    if (type !== undefined && type.length === 4) {
      const lowerType = type.toLowerCase();
      if (lowerType === "cdir") {
        unique ??= entry.facts.unique;
        continue;
      }
      if (lowerType === "pdir") continue;
    }
    if (entry.name === "." || entry.name === "..") continue;
    entries.push(entry);
  }
  return { entries, unique };
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
