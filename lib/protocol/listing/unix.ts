/**
 * LIST lines in the `ls -l` format that most servers send: formatting (server side) and a
 * parser that copes with what real servers and `ls` variants print (block totals, ACL marks,
 * device numbers, missing columns, spaces in names, ISO and numeric-month dates).
 *
 * Dates carry no time zone; they are read and written as UTC.
 *
 * @module
 */

import type { ListEntry } from "./entry.ts";
import { formatMlsxTime } from "./mlsx.ts";
import { utcTime } from "./utc_calendar.ts";

/**
 * What {@linkcode formatUnixListLine} needs to know about an entry.
 *
 * @example A symbolic link
 * ```ts
 * import { formatUnixListLine, type UnixListLineEntry } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * const link: UnixListLineEntry = {
 *   name: "latest",
 *   type: "link",
 *   size: 9,
 *   mtime: new Date("2026-11-20T08:15:00Z"),
 *   mode: 0o777,
 *   nlink: 1,
 *   target: "v1.2.3.gz",
 * };
 * const line = formatUnixListLine(link, new Date("2026-11-22Z"));
 * assert.match(line, /^lrwxrwxrwx .* latest -> v1\.2\.3\.gz$/);
 * ```
 */
export interface UnixListLineEntry {
  /** The name. */
  name: string;
  /** What the entry is. */
  type: "file" | "dir" | "link" | "other";
  /** Size in bytes. */
  size: number;
  /** Last modification time. */
  mtime: Date;
  /** Permission bits; for `"other"` entries the `st_mode` file-type bits choose the letter. */
  mode: number;
  /** Number of hard links. */
  nlink: number;
  /** Owner name (default `"ftp"`). */
  owner?: string;
  /** Group name (default `"ftp"`). */
  group?: string;
  /** A link's target, shown after `" -> "`. */
  target?: string;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAY_MS = 86_400_000;
/** Half a Gregorian year, the "recent" window of `ls`. */
const HALF_YEAR_MS = 15_778_476_000;

/**
 * Formats one LIST line the way `ls -l` and vsftpd do: mode string, link count, owner, group,
 * size, date, name (and `-> target` for links). The date shows the time when it lies within
 * the half year before `now` (or up to a day after), and the year otherwise, in UTC. CR and LF
 * in names become spaces, so that a file name cannot forge a listing line.
 *
 * Cheap enough for listings of many entries: mode strings and dates are built once per mode
 * and per day and then reused, the owner and group columns of the default owner are one
 * constant, and padding is a slice of spaces.
 *
 * @example Formatting
 * ```ts
 * import { formatUnixListLine } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * const now = new Date("2026-11-22T12:00:00Z");
 * const line = formatUnixListLine({
 *   name: "a.txt",
 *   type: "file",
 *   size: 11,
 *   mtime: new Date("2026-11-20T08:15:00Z"),
 *   mode: 0o644,
 *   nlink: 1,
 * }, now);
 * assert.equal(line, "-rw-r--r--    1 ftp      ftp            11 Nov 20 08:15 a.txt");
 * ```
 *
 * @param entry The entry.
 * @param now The time the listing is made, which decides between time and year.
 * @returns The line, without line end.
 */
export function formatUnixListLine(entry: UnixListLineEntry, now: Date): string {
  const { owner, group } = entry;
  const people = owner === undefined && group === undefined
    ? DEFAULT_PEOPLE
    : `${padEnd(oneLine(owner ?? "ftp"), 8)} ${padEnd(oneLine(group ?? "ftp"), 8)}`;
  const line = `${modeString(entry.type, entry.mode)} ${
    padStart(String(entry.nlink), 4)
  } ${people} ${padStart(String(entry.size), 8)} ${lsDate(entry.mtime, now)} ${
    oneLine(entry.name)
  }`;
  return entry.type === "link" && entry.target !== undefined
    ? `${line} -> ${oneLine(entry.target)}`
    : line;
}

/** The owner and group columns of entries that name neither. */
const DEFAULT_PEOPLE = "ftp      ftp     ";
/** Enough spaces to pad any column (widths are 8 at most). */
const SPACES = "        ";

function padStart(text: string, width: number): string {
  return text.length >= width ? text : SPACES.slice(0, width - text.length) + text;
}

function padEnd(text: string, width: number): string {
  return text.length >= width ? text : text + SPACES.slice(0, width - text.length);
}

/** Text that cannot break out of its line. */
function oneLine(text: string): string {
  return text.includes("\r") || text.includes("\n") ? text.replace(/[\r\n]/g, " ") : text;
}

/**
 * Strings built once and reused: a listing repeats a handful of modes and days. Each cache is
 * emptied when it grows past this many strings, so that it stays small in a long-running
 * server.
 */
const CACHE_LIMIT = 4096;
const modeStrings = new Map<number, string>();
const TYPE_KEYS = { file: 0, dir: 1, link: 2, other: 3 } as const;

function modeString(type: UnixListLineEntry["type"], mode: number): string {
  // The file-type bits count for "other" entries only, the permission bits for all.
  const key = (TYPE_KEYS[type] ?? 0) * 0x10000 + (mode & 0xffff);
  let text = modeStrings.get(key);
  if (text === undefined) {
    text = formatModeString(type, mode);
    if (modeStrings.size >= CACHE_LIMIT) modeStrings.clear();
    modeStrings.set(key, text);
  }
  return text;
}

/** `Mon dd` of each day number (days since 1970-01-01) seen; `Mon dd  yyyy` in `yearDays`. */
const recentDays = new Map<number, string>();
const yearDays = new Map<number, string>();
/** ` hh:mm` of each minute of a day, made on first use. */
let clockTimes: string[] | undefined;

/** The date column: `Mon dd hh:mm` for recent dates, `Mon dd  yyyy` for others. */
function lsDate(mtime: Date, now: Date): string {
  const time = mtime.getTime();
  if (!Number.isFinite(time)) return formatLsDate(mtime, now);
  const age = now.getTime() - time;
  const recent = age < HALF_YEAR_MS && age >= -DAY_MS;
  const day = Math.floor(time / DAY_MS);
  const days = recent ? recentDays : yearDays;
  let text = days.get(day);
  if (text === undefined) {
    text = formatDay(mtime, recent);
    if (days.size >= CACHE_LIMIT) days.clear();
    days.set(day, text);
  }
  if (!recent) return text;
  clockTimes ??= Array.from({ length: 1440 }, (_, minute) => {
    const hh = String(Math.floor(minute / 60)).padStart(2, "0");
    return ` ${hh}:${String(minute % 60).padStart(2, "0")}`;
  });
  return text + clockTimes[Math.floor((time - day * DAY_MS) / 60_000)];
}

function formatDay(mtime: Date, recent: boolean): string {
  const date = `${MONTHS[mtime.getUTCMonth()]} ${String(mtime.getUTCDate()).padStart(2)}`;
  return recent ? date : `${date}  ${mtime.getUTCFullYear()}`;
}

/**
 * Parses one `ls -l` style LIST line. Understands: ACL/SELinux/xattr marks after the mode
 * (`+`, `.`, `@`); `S`/`T`/`l` mode letters; device numbers (`1, 3`) in place of the size
 * (size left out); a missing link count, group or owner column; group names with spaces; dates
 * as `Mon dd hh:mm`, `Mon dd  yyyy`, `Mon dd hh:mm:ss yyyy` (BSD `-T`), `yyyy-mm-dd hh:mm`
 * (ISO, with seconds and offset), `mm-dd hh:mm`, and numeric months (`11月 20 08:15`); names
 * with inner, leading and trailing spaces (one space separates date and name); symlinks
 * (`name -> target`, split at the first arrow). A date without a year gets the latest year
 * that puts it no more than a day after `now` (so a current-year date never lands in the next
 * year, unlike aioftp bug #196).
 *
 * @example Parsing
 * ```ts
 * import { parseUnixListLine } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * const now = new Date("2026-11-22Z");
 * const entry = parseUnixListLine("-rw-r--r-- 1 ftp ftp 11 Nov 20 08:15 a b.txt", now);
 * assert.equal(entry?.name, "a b.txt");
 * assert.equal(entry?.type, "file");
 * assert.equal(entry?.size, 11);
 * assert.equal(entry?.mode, 0o644);
 * assert.equal(entry?.modify?.toISOString(), "2026-11-20T08:15:00.000Z");
 * assert.equal(parseUnixListLine("total 12"), undefined);
 * ```
 *
 * @param line The line without line end.
 * @param now The reference for dates without a year (default: the current time).
 * @returns The entry, or `undefined` when the line is not an entry (`total 12`, blank, another
 * format).
 */
export function parseUnixListLine(line: string, now: Date = new Date()): ListEntry | undefined {
  const text = line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
  // Lines of other formats end at their first column, before the whole line is split.
  let modeStart = 0;
  while (modeStart < text.length && isSpace(text.charCodeAt(modeStart))) modeStart++;
  let modeEnd = modeStart;
  while (modeEnd < text.length && !isSpace(text.charCodeAt(modeEnd))) modeEnd++;
  const mode = parseModeString(text, modeStart, modeEnd);
  if (mode < 0) return undefined;
  const count = tokenize(text);
  if (count < 4) return undefined;
  const start = findDate(text, count, now);
  if (start < 0) return undefined;
  // ls pads a lone ISO date to the width of "mm-dd hh:mm", hence up to two spaces there.
  let nameStart = tokenEnds[foundEnd - 1] + 1;
  if (foundWide && text.charCodeAt(nameStart) === SPACE && nameStart + 1 < text.length) {
    nameStart++;
  }
  // The name holds at least the first character of the token after the date.
  let name = text.slice(nameStart);
  const type = MODE_TYPES[mode >> 12];
  let target: string | undefined;
  if (type === "link") {
    const arrow = name.indexOf(" -> ");
    if (arrow > 0) {
      target = name.slice(arrow + 4);
      name = name.slice(0, arrow);
    }
  }
  const first = sizeColumnStart(text, start);
  const size = sizeColumnIsSize
    ? unsignedInteger(text, tokenStarts[start - 1], tokenEnds[start - 1])
    : undefined;
  // Link count, owner and group sit between the mode and the size.
  let meta = 1;
  const links = meta < first && isDigits(text, tokenStarts[meta], tokenEnds[meta])
    ? repeatedText(text, meta++, 0)
    : undefined;
  const owner = meta < first ? repeatedText(text, meta++, 1) : undefined;
  let group: string | undefined;
  if (meta < first) {
    group = repeatedText(text, meta++, 2);
    while (meta < first) group += " " + tokenText(text, meta++);
  }
  const bits = mode & 0o7777;
  const modify = new Date(foundTime);
  if (foundTime !== lastModifyTime) {
    lastModifyFact = formatMlsxTime(modify);
    lastModifyTime = foundTime;
  }
  const modifyFact = lastModifyFact;
  // The usual shapes as whole literals, which are allocated once where an object grown a
  // property at a time is allocated again. The order of properties stays the same in all.
  let facts: Record<string, string>;
  if (size !== undefined && links !== undefined && owner !== undefined && group !== undefined) {
    facts = {
      type,
      size: String(size),
      modify: modifyFact,
      "unix.mode": modeFact(bits),
      "unix.links": links,
      "unix.owner": owner,
      "unix.group": group,
    };
  } else {
    facts = { type };
    if (size !== undefined) facts.size = String(size);
    facts.modify = modifyFact;
    facts["unix.mode"] = modeFact(bits);
    if (links !== undefined) facts["unix.links"] = links;
    if (owner !== undefined) facts["unix.owner"] = owner;
    if (group !== undefined) facts["unix.group"] = group;
  }
  if (target === undefined && size !== undefined) {
    return { name, type, modify, mode: bits, facts, size };
  }
  const entry: ListEntry = { name, type, modify, mode: bits, facts };
  if (target !== undefined) entry.target = target;
  if (size !== undefined) entry.size = size;
  return entry;
}

function formatModeString(type: UnixListLineEntry["type"], mode: number): string {
  let letter = "-";
  if (type === "dir") letter = "d";
  else if (type === "link") letter = "l";
  else if (type === "other") {
    const format = mode & 0o170000;
    letter = format === 0o020000
      ? "c"
      : format === 0o060000
      ? "b"
      : format === 0o010000
      ? "p"
      : format === 0o140000
      ? "s"
      : "-";
  }
  const triad = (shift: number, special: number, set: string) => {
    const bits = (mode >> shift) & 7;
    const x = mode & special ? (bits & 1 ? set : set.toUpperCase()) : bits & 1 ? "x" : "-";
    return (bits & 4 ? "r" : "-") + (bits & 2 ? "w" : "-") + x;
  };
  return letter + triad(6, 0o4000, "s") + triad(3, 0o2000, "s") + triad(0, 0o1000, "t");
}

/** The date column of any date, invalid ones included (as `lsDate`, without its caches). */
function formatLsDate(mtime: Date, now: Date): string {
  const age = now.getTime() - mtime.getTime();
  const month = MONTHS[mtime.getUTCMonth()];
  const day = String(mtime.getUTCDate()).padStart(2);
  if (age < HALF_YEAR_MS && age >= -DAY_MS) {
    const hh = String(mtime.getUTCHours()).padStart(2, "0");
    const mm = String(mtime.getUTCMinutes()).padStart(2, "0");
    return `${month} ${day} ${hh}:${mm}`;
  }
  return `${month} ${day}  ${mtime.getUTCFullYear()}`;
}

// The parser reads the line by character codes and keeps its working state (the columns
// found, the date read) in the variables of this module rather than in objects per line; it
// calls nothing that could parse another line meanwhile.

const CR = 0x0d;
const SPACE = 0x20;
const ZERO = 0x30;
const COLON = 0x3a;

/** Whether a code unit is white space as `\s` in a regular expression counts it. */
function isSpace(code: number): boolean {
  return code <= SPACE
    ? code === SPACE || (code >= 0x09 && code <= 0x0d)
    : code >= 0xa0 && (code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) ||
      code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f ||
      code === 0x3000 || code === 0xfeff);
}

function isDigitCode(code: number): boolean {
  return code >= ZERO && code <= ZERO + 9;
}

/**
 * Where the columns of the line being parsed start and end, as `tokenize` found them: kept
 * across calls, so that a line costs no array and no string per column.
 */
const tokenStarts: number[] = [];
const tokenEnds: number[] = [];

/** Past this many columns, the arrays are let go before the next line. */
const KEPT_TOKENS = 4096;

/** Finds the runs of non-space characters of a line, and returns how many there are. */
function tokenize(text: string): number {
  if (tokenStarts.length > KEPT_TOKENS) tokenStarts.length = tokenEnds.length = 0;
  const length = text.length;
  let count = 0;
  for (let i = 0; i < length; i++) {
    if (isSpace(text.charCodeAt(i))) continue;
    tokenStarts[count] = i;
    do i++; while (i < length && !isSpace(text.charCodeAt(i)));
    tokenEnds[count++] = i;
  }
  return count;
}

function tokenText(text: string, token: number): string {
  return text.slice(tokenStarts[token], tokenEnds[token]);
}

/**
 * The texts of the link count, owner and group columns of the line before, and its time's
 * `modify` fact: the lines of one listing mostly repeat them, and a repeated one is reused
 * rather than sliced (or formatted) again.
 */
const lastColumns = ["", "", ""];
let lastModifyTime = NaN;
let lastModifyFact = "";
/**
 * Longest column text kept for the next line. Engines copy a slice this short, where a longer
 * one may share the memory of the whole listing it was cut from, which keeping it would hold.
 */
const MAX_KEPT_COLUMN = 12;

/** A column's text, the previous line's same column's string when it is the same text. */
function repeatedText(text: string, token: number, column: number): string {
  const start = tokenStarts[token];
  const length = tokenEnds[token] - start;
  const last = lastColumns[column];
  if (length === last.length && text.startsWith(last, start)) return last;
  const sliced = text.slice(start, start + length);
  if (length <= MAX_KEPT_COLUMN) lastColumns[column] = sliced;
  return sliced;
}

/** Whether text[start, end) is one digit or more. */
function isDigits(text: string, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) if (!isDigitCode(text.charCodeAt(i))) return false;
  return true;
}

/** The value of the digits text[start, end) (which `isDigits` accepted). */
function unsignedInteger(text: string, start: number, end: number): number {
  // Past 15 digits a sum may round differently from Number's parse.
  if (end - start > 15) return Number(text.slice(start, end));
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + text.charCodeAt(i) - ZERO;
  return value;
}

/** The types by the number `parseModeString` puts above the permission bits. */
const MODE_TYPES: readonly ListEntry["type"][] = ["file", "dir", "link", "other"];

/**
 * Reads a mode string (`drwxr-sr-x`, with one optional ACL/SELinux/xattr mark `+`, `.`, `@`):
 * the permission bits, plus the type (an index of `MODE_TYPES`) times 0o10000; -1 when the text
 * is not a mode string. The type letter is one of `-bcdDlnps?`.
 */
function parseModeString(text: string, start: number, end: number): number {
  const length = end - start;
  if (length !== 10 && length !== 11) return -1;
  if (length === 11) {
    const mark = text.charCodeAt(start + 10);
    if (mark !== 0x2b && mark !== 0x2e && mark !== 0x40) return -1;
  }
  let type: number;
  switch (text[start]) {
    case "-":
      type = 0;
      break;
    case "d":
      type = 1;
      break;
    case "l":
      type = 2;
      break;
    case "b":
    case "c":
    case "D":
    case "n":
    case "p":
    case "s":
    case "?":
      type = 3;
      break;
    default:
      return -1;
  }
  let bits = 0;
  for (let triad = 0; triad < 3; triad++) {
    const at = start + 1 + triad * 3;
    const shift = 6 - triad * 3;
    const read = text[at];
    const write = text[at + 1];
    if (read === "r") bits |= 4 << shift;
    else if (read !== "-") return -1;
    if (write === "w") bits |= 2 << shift;
    else if (write !== "-") return -1;
    const execute = text[at + 2];
    if (execute === "x") bits |= 1 << shift;
    else if (execute === "-") continue;
    else if (triad === 0 && (execute === "s" || execute === "S")) {
      bits |= 0o4000 | (execute === "s" ? 0o100 : 0);
    } else if (triad === 1 && (execute === "s" || execute === "S")) {
      bits |= 0o2000 | (execute === "s" ? 0o010 : 0);
    } else if (triad === 1 && (execute === "l" || execute === "L")) bits |= 0o2000;
    else if (triad === 2 && (execute === "t" || execute === "T")) {
      bits |= 0o1000 | (execute === "t" ? 0o001 : 0);
    } else return -1;
  }
  return type * 0o10000 + bits;
}

/** `unix.mode` fact texts by permission bits, made on first use. */
const modeFacts: string[] = [];

function modeFact(bits: number): string {
  return modeFacts[bits] ??= bits.toString(8).padStart(4, "0");
}

/**
 * Where the size column starts for a date at token `date` (it may be `maj, min`, or `maj,min`),
 * or -1 when the token before the date is no size. `sizeColumnIsSize` tells whether it is a
 * plain size (rather than device numbers).
 */
function sizeColumnStart(text: string, date: number): number {
  const start = tokenStarts[date - 1];
  const end = tokenEnds[date - 1];
  sizeColumnIsSize = false;
  let i = start;
  while (i < end && isDigitCode(text.charCodeAt(i))) i++;
  if (i === start) return -1;
  if (i === end) {
    if (date >= 3) {
      const before = tokenEnds[date - 2] - 1;
      if (
        before > tokenStarts[date - 2] && text.charCodeAt(before) === 0x2c &&
        isDigits(text, tokenStarts[date - 2], before)
      ) return date - 2;
    }
    sizeColumnIsSize = true;
    return date - 1;
  }
  return text.charCodeAt(i) === 0x2c && isDigits(text, i + 1, end) ? date - 1 : -1;
}

let sizeColumnIsSize = false;

/** The date `dateAt` found: its time, the token after it, whether it is a lone ISO date. */
let foundTime = 0;
let foundEnd = 0;
let foundWide = false;

/** "Now" of the line being parsed, for the year of dates without one. */
let nowTime = 0;
let nowYear = 0;

/**
 * Finds the date columns: the leftmost position that is preceded by a size column and followed
 * by a name. Positions with at least two columns (link count, owner, group) between mode and
 * size win, which keeps an owner named like a month from being taken for the date; plain
 * numeric months count only where no other date form is found. Returns the date's first token
 * (its time and end in `found*`), or -1.
 */
function findDate(text: string, count: number, now: Date): number {
  nowTime = now.getTime();
  nowYear = now.getUTCFullYear();
  for (let pass = 0; pass < 2; pass++) {
    const numericMonths = pass === 1;
    // The leftmost date with fewer than two columns before the size, in case no other is found.
    let fallback = -1;
    let fallbackTime = 0;
    let fallbackEnd = 0;
    let fallbackWide = false;
    for (let d = 2; d < count - 1; d++) {
      const first = sizeColumnStart(text, d);
      if (first < 0 || !dateAt(text, d, count, numericMonths) || foundEnd >= count) continue;
      if (first - 1 >= 2) return d;
      if (fallback < 0) {
        fallback = d;
        fallbackTime = foundTime;
        fallbackEnd = foundEnd;
        fallbackWide = foundWide;
      }
    }
    if (fallback >= 0) {
      foundTime = fallbackTime;
      foundEnd = fallbackEnd;
      foundWide = fallbackWide;
      return fallback;
    }
  }
  return -1;
}

/** The clock `parseClock` read. */
let clockHour = 0;
let clockMinute = 0;
let clockSecond = 0;
let clockHasSeconds = false;

/** Reads `h:mm`, `hh:mm`, `hh:mm:ss` or `hh:mm:ss.fraction` (the fraction is dropped). */
function parseClock(text: string, token: number): boolean {
  const start = tokenStarts[token];
  const end = tokenEnds[token];
  let i = start;
  let hour = text.charCodeAt(i++) - ZERO;
  if (!(hour >= 0 && hour <= 9)) return false;
  if (isDigitCode(text.charCodeAt(i))) hour = hour * 10 + text.charCodeAt(i++) - ZERO;
  if (text.charCodeAt(i) !== COLON || i + 3 > end || !isDigits(text, i + 1, i + 3)) return false;
  clockHour = hour;
  clockMinute = twoDigits(text, i + 1);
  clockSecond = 0;
  clockHasSeconds = false;
  i += 3;
  if (i === end) return true;
  if (text.charCodeAt(i) !== COLON || i + 3 > end || !isDigits(text, i + 1, i + 3)) return false;
  clockSecond = twoDigits(text, i + 1);
  clockHasSeconds = true;
  i += 3;
  if (i === end) return true;
  return text.charCodeAt(i) === 0x2e && isDigits(text, i + 1, end);
}

function twoDigits(text: string, at: number): number {
  return (text.charCodeAt(at) - ZERO) * 10 + text.charCodeAt(at + 1) - ZERO;
}

/** Whether the token is exactly four digits. */
function isYear(text: string, token: number): boolean {
  const start = tokenStarts[token];
  return tokenEnds[token] - start === 4 && isDigits(text, start, start + 4);
}

/** Whether text[at] is `-` between digits as in `dd-dd`, from `at - 2` to `at + 3`. */
function isDashedPair(text: string, at: number): boolean {
  return text.charCodeAt(at) === 0x2d && isDigits(text, at - 2, at) &&
    isDigits(text, at + 1, at + 3);
}

/** The months' first three letters in lower case, as numbers (`jan`: 0x6a616e). */
const LOWER_MONTHS = MONTHS.map((month) => {
  const lower = month.toLowerCase();
  return (lower.charCodeAt(0) << 16) | (lower.charCodeAt(1) << 8) | lower.charCodeAt(2);
});

/**
 * The month (0–11) of an English name or its abbreviation (3–9 letters, optional dot), or -1.
 */
function namedMonth(text: string, token: number): number {
  const start = tokenStarts[token];
  let end = tokenEnds[token];
  if (text.charCodeAt(end - 1) === 0x2e) end--;
  if (end - start < 3 || end - start > 9) return -1;
  let key = 0;
  for (let i = start; i < end; i++) {
    const lower = text.charCodeAt(i) | 0x20;
    if (lower < 0x61 || lower > 0x7a) return -1;
    if (i < start + 3) key = (key << 8) | lower;
  }
  return LOWER_MONTHS.indexOf(key);
}

/** The month (0–11) of `11`, `11月` or `11월`, or -1. */
function numericMonth(text: string, token: number): number {
  const value = numberWithMark(text, token, 0x6708, 0xc6d4);
  return value >= 1 && value <= 12 ? value - 1 : -1;
}

/** One or two digits, optionally followed by one of two marks (月/월, 日/일); or -1. */
function numberWithMark(text: string, token: number, mark: number, otherMark: number): number {
  const start = tokenStarts[token];
  let end = tokenEnds[token];
  const last = text.charCodeAt(end - 1);
  if (last === mark || last === otherMark) end--;
  if (end - start < 1 || end - start > 2 || !isDigits(text, start, end)) return -1;
  return end - start === 1 ? text.charCodeAt(start) - ZERO : twoDigits(text, start);
}

/**
 * Reads a date at token `d` into `found*`: `yyyy-mm-dd` (alone, or with a time and an
 * optional `+hhmm` offset), `mm-dd hh:mm`, or a month (named, or numeric in the second pass)
 * and day followed by a year, a time, or a time with seconds and a year.
 */
function dateAt(text: string, d: number, count: number, numericMonths: boolean): boolean {
  const start = tokenStarts[d];
  const length = tokenEnds[d] - start;
  if (
    length === 10 && text.charCodeAt(start + 4) === 0x2d && isDigits(text, start, start + 4) &&
    isDashedPair(text, start + 7)
  ) {
    const year = unsignedInteger(text, start, start + 4);
    const month = twoDigits(text, start + 5) - 1;
    const day = twoDigits(text, start + 8);
    if (!(d + 1 < count && parseClock(text, d + 1))) {
      return found(utcTime(year, month, day, 0, 0, 0), d + 1, true);
    }
    let time = utcTime(year, month, day, clockHour, clockMinute, clockSecond);
    if (Number.isNaN(time)) return false;
    if (d + 2 < count && tokenEnds[d + 2] - tokenStarts[d + 2] === 5) {
      const zone = tokenStarts[d + 2];
      const sign = text.charCodeAt(zone);
      if ((sign === 0x2b || sign === 0x2d) && isDigits(text, zone + 1, zone + 5)) {
        const offset = (twoDigits(text, zone + 1) * 60 + twoDigits(text, zone + 3)) * 60_000;
        time -= sign === 0x2b ? offset : -offset;
        return found(time, d + 3, false);
      }
    }
    return found(time, d + 2, false);
  }
  if (length === 5 && isDashedPair(text, start + 2)) {
    if (!(d + 1 < count && parseClock(text, d + 1))) return false;
    const month = twoDigits(text, start) - 1;
    const day = twoDigits(text, start + 3);
    return found(inferYear(month, day), d + 2, false);
  }
  const month = numericMonths ? numericMonth(text, d) : namedMonth(text, d);
  if (month < 0 || d + 2 >= count) return false;
  const day = numberWithMark(text, d + 1, 0x65e5, 0xc77c);
  if (day < 0) return false;
  if (isYear(text, d + 2)) {
    const year = unsignedInteger(text, tokenStarts[d + 2], tokenEnds[d + 2]);
    return found(utcTime(year, month, day, 0, 0, 0), d + 3, false);
  }
  if (!parseClock(text, d + 2)) return false;
  if (clockHasSeconds && d + 3 < count && isYear(text, d + 3)) {
    const year = unsignedInteger(text, tokenStarts[d + 3], tokenEnds[d + 3]);
    return found(utcTime(year, month, day, clockHour, clockMinute, clockSecond), d + 4, false);
  }
  return found(inferYear(month, day), d + 3, false);
}

/** Records a date for `dateAt`; false when the time is `NaN` (the fields made no date). */
function found(time: number, end: number, wide: boolean): boolean {
  if (Number.isNaN(time)) return false;
  foundTime = time;
  foundEnd = end;
  foundWide = wide;
  return true;
}

/**
 * The time of a date without a year, at the clock `parseClock` read, in the latest year in which
 * the date exists and lies no more than a day after now; `NaN` when there is none.
 */
function inferYear(month: number, day: number): number {
  const limit = nowTime + DAY_MS;
  const year = nowYear + 1;
  // Eight years back always reach a February 29.
  for (let y = year; y > year - 9; y--) {
    const time = utcTime(y, month, day, clockHour, clockMinute, clockSecond);
    if (time <= limit) return time;
  }
  return NaN;
}
