/**
 * Machine listings of RFC 3659 (MLSD lines and the MLST entry): `fact=value;...; name`, and the
 * `YYYYMMDDHHMMSS[.sss]` UTC time values they carry.
 *
 * @module
 */

import { ProtocolError } from "../../errors.ts";
import type { ListEntry } from "./entry.ts";
import { mlsxTimeText, utcTime } from "./utc_calendar.ts";

/**
 * Formats a time as an MLSx time value (RFC 3659 §2.3), in UTC, whole seconds.
 *
 * @example Formatting
 * ```ts
 * import { formatMlsxTime } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatMlsxTime(new Date("2026-11-22T10:56:01.750Z")), "20261122105601");
 * ```
 *
 * @param date The time.
 * @returns `YYYYMMDDHHMMSS`.
 * @throws {RangeError} When the date is invalid or outside the years 0–9999.
 */
export function formatMlsxTime(date: Date): string {
  const text = mlsxTimeText(date.getTime());
  if (text === undefined) throw new RangeError(`Cannot format date "${date}" for MLSx`);
  return text;
}

/**
 * Parses an MLSx time value, `YYYYMMDDHHMMSS` with optional fractional seconds, as UTC (as MDTM
 * and MFMT use it too).
 *
 * @example Parsing
 * ```ts
 * import { parseMlsxTime } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseMlsxTime("20261122105601.25")?.toISOString(), "2026-11-22T10:56:01.250Z");
 * assert.equal(parseMlsxTime("20261131000000"), undefined); // no November 31
 * ```
 *
 * @param text The value.
 * @returns The time, or `undefined` when the text is not a valid time.
 */
export function parseMlsxTime(text: string): Date | undefined {
  let value = text;
  // Servers send the value bare; only a value with blanks around it needs trimming.
  if (!isDigit(value.charCodeAt(0)) || !isDigit(value.charCodeAt(value.length - 1))) {
    value = value.trim();
  }
  const length = value.length;
  if (length !== 14 && !(length >= 16 && length <= 24 && value.charCodeAt(14) === DOT)) {
    return undefined;
  }
  let ms = 0;
  for (let i = 15; i < length; i++) {
    const digit = value.charCodeAt(i) - ZERO;
    if (!(digit >= 0 && digit <= 9)) return undefined;
    // Milliseconds are the first three digits of the fraction.
    if (i < 18) ms += digit * (i === 15 ? 100 : i === 16 ? 10 : 1);
  }
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 4, 2);
  const day = digitsAt(value, 6, 2);
  const hour = digitsAt(value, 8, 2);
  const minute = digitsAt(value, 10, 2);
  const second = digitsAt(value, 12, 2);
  // A leap second (60) is read as the next second, which Date cannot tell apart.
  const time = utcTime(year, month - 1, day, hour, minute, second);
  return Number.isNaN(time) ? undefined : new Date(time + ms);
}

const ZERO = 0x30;
const DOT = 0x2e;
const SPACE = 0x20;
const CR = 0x0d;

function isDigit(code: number): boolean {
  return code >= ZERO && code <= ZERO + 9;
}

/** The number written by `count` digits at `start`, or `NaN` when one is not a digit. */
function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (!(digit >= 0 && digit <= 9)) return NaN;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Formats one MLSx line: each fact as `name=value;` in the order given (names in lower case),
 * one space, the name. CR and LF in the name become spaces, so that a file name cannot forge a
 * listing line.
 *
 * @example Formatting
 * ```ts
 * import { formatMlsxLine } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * const line = formatMlsxLine("a.txt", { type: "file", size: "3", modify: "20261122000000" });
 * assert.equal(line, "type=file;size=3;modify=20261122000000; a.txt");
 * ```
 *
 * @param name The entry's name.
 * @param facts Fact names and values.
 * @returns The line, without line end.
 * @throws {RangeError} When a fact name is empty or contains `=`, `;` or a space, or a value
 * contains `;`, CR or LF.
 */
export function formatMlsxLine(name: string, facts: Record<string, string>): string {
  let line = "";
  for (const [fact, value] of Object.entries(facts)) {
    if (!/^[!-:<>-~]+$/.test(fact)) throw new RangeError(`Invalid MLSx fact name "${fact}"`);
    if (/[;\r\n]/.test(value)) {
      throw new RangeError(`Invalid value ${JSON.stringify(value)} of MLSx fact "${fact}"`);
    }
    line += `${fact.toLowerCase()}=${value};`;
  }
  return `${line} ${name.replace(/[\r\n]/g, " ")}`;
}

/**
 * Parses one MLSx line. Fact names may come in any case (they are lower-cased), values may
 * contain spaces (`unix.groupname=domain users`), the facts end at the first `"; "` (or, when the
 * last `;` is missing, at the first space), and a line starting with a space has no facts. The
 * entry's type comes from the `type` fact: `file`; `dir`, `cdir` and `pdir`; `OS.unix=slink:target`
 * or `OS.unix=symlink` for links; anything else (or no type) is `"other"`. Size comes from `size`
 * or `sizd`, permissions from `unix.mode` (octal).
 *
 * @example Parsing
 * ```ts
 * import { parseMlsxLine } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * const entry = parseMlsxLine("Type=file;Size=3;Modify=20261122000000;UNIX.mode=0644; a b.txt");
 * assert.equal(entry.name, "a b.txt");
 * assert.equal(entry.type, "file");
 * assert.equal(entry.size, 3);
 * assert.equal(entry.mode, 0o644);
 * assert.equal(entry.modify?.toISOString(), "2026-11-22T00:00:00.000Z");
 * assert.equal(entry.facts["unix.mode"], "0644");
 * ```
 *
 * @param line The line without line end (a trailing CR is ignored).
 * @returns The entry.
 * @throws {ProtocolError} When the line has no name or a fact without `=`.
 */
export function parseMlsxLine(line: string): ListEntry {
  const text = line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
  // The facts are text[0, cut); the name starts after the space at cut.
  let cut: number;
  if (text.charCodeAt(0) === SPACE) cut = 0;
  else {
    const end = text.indexOf("; ");
    cut = end >= 0 ? end + 1 : text.indexOf(" ");
    if (cut < 0) {
      throw new ProtocolError(`Cannot find the name in MLSx line ${JSON.stringify(line)}`);
    }
  }
  const name = text.slice(cut + 1);
  if (name === "") throw new ProtocolError(`Empty name in MLSx line ${JSON.stringify(line)}`);
  const facts: Record<string, string> = {};
  for (let start = 0, index = 0; start < cut;) {
    let semicolon = text.indexOf(";", start);
    if (semicolon < 0 || semicolon > cut) semicolon = cut;
    if (semicolon > start) {
      const eq = text.indexOf("=", start);
      if (eq <= start || eq >= semicolon) {
        const item = text.slice(start, semicolon);
        throw new ProtocolError(`Malformed fact ${JSON.stringify(item)} in MLSx line`);
      }
      facts[factName(text, start, eq, index++)] = text.slice(eq + 1, semicolon);
    }
    start = semicolon + 1;
  }
  const entry: ListEntry = { name, type: "other", facts };
  const type = facts.type ?? "";
  const lowerType = type.toLowerCase();
  if (lowerType === "file") entry.type = "file";
  else if (lowerType === "dir" || lowerType === "cdir" || lowerType === "pdir") entry.type = "dir";
  else if (isLinkType(lowerType)) {
    entry.type = "link";
    const colon = type.indexOf(":");
    if (colon >= 0 && colon < type.length - 1) entry.target = type.slice(colon + 1);
  }
  const size = facts.size ?? facts.sizd;
  if (size !== undefined) {
    const bytes = unsignedInteger(size);
    if (bytes >= 0) entry.size = bytes;
  }
  const modify = facts.modify === undefined ? undefined : parseMlsxTime(facts.modify);
  if (modify) entry.modify = modify;
  const mode = facts["unix.mode"];
  if (mode !== undefined) {
    const bits = octalMode(mode);
    if (bits >= 0) entry.mode = bits & 0o7777;
  }
  return entry;
}

/** `os.unix=slink` or `os.unix=symlink`, alone or followed by `:` (in lower case). */
function isLinkType(lowerType: string): boolean {
  const rest = lowerType.startsWith("os.unix=slink")
    ? 13
    : lowerType.startsWith("os.unix=symlink")
    ? 15
    : -1;
  return rest >= 0 && (rest === lowerType.length || lowerType.charCodeAt(rest) === 0x3a);
}

/** The value of a decimal number of one digit or more, or -1. */
function unsignedInteger(text: string): number {
  const length = text.length;
  if (length === 0) return -1;
  let value = 0;
  for (let i = 0; i < length; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  // Past 15 digits the sum may round differently from Number's parse.
  return length > 15 ? Number(text) : value;
}

/** The value of one to six octal digits, or -1. */
function octalMode(text: string): number {
  const length = text.length;
  if (length === 0 || length > 6) return -1;
  let value = 0;
  for (let i = 0; i < length; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (!(digit >= 0 && digit <= 7)) return -1;
    value = value * 8 + digit;
  }
  return value;
}

/**
 * The fact names of the last line parsed, as sent and in lower case, by their place in the
 * line: a listing repeats the same facts in the same order on every line, whose names then
 * cost no slice, no `toLowerCase()` and no hashing, and the objects of facts are filled by the
 * same key strings. The names are copies, which keep no listing alive (a slice of one may).
 */
const sentNames: string[] = [];
const lowerCaseNames: string[] = [];
const KEPT_NAMES = 64;

/** The lower-case name of the `index`th fact of a line, text[start, end). */
function factName(text: string, start: number, end: number, index: number): string {
  const sent = sentNames[index];
  if (sent !== undefined && sent.length === end - start && text.startsWith(sent, start)) {
    return lowerCaseNames[index];
  }
  if (index >= KEPT_NAMES) return text.slice(start, end).toLowerCase();
  let copy = "";
  for (let i = start; i < end; i++) copy += String.fromCharCode(text.charCodeAt(i));
  sentNames[index] = copy;
  return lowerCaseNames[index] = copy.toLowerCase();
}
