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

/** What {@linkcode formatUnixListLine} needs to know about an entry. */
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
 * import { formatUnixListLine } from "./unix.ts";
 * const now = new Date("2026-11-22T12:00:00Z");
 * formatUnixListLine({
 *   name: "a.txt", type: "file", size: 11, mtime: new Date("2026-11-20T08:15:00Z"),
 *   mode: 0o644, nlink: 1,
 * }, now);
 * // "-rw-r--r--    1 ftp      ftp            11 Nov 20 08:15 a.txt"
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
 * import { parseUnixListLine } from "./unix.ts";
 * parseUnixListLine("-rw-r--r-- 1 ftp ftp 11 Nov 20 08:15 a b.txt", new Date("2026-11-22Z"));
 * // { name: "a b.txt", type: "file", size: 11, modify: 2026-11-20T08:15:00.000Z, mode: 0o644, ... }
 * ```
 *
 * @param line The line without line end.
 * @param now The reference for dates without a year (default: the current time).
 * @returns The entry, or `undefined` when the line is not an entry (`total 12`, blank, another
 * format).
 */
export function parseUnixListLine(line: string, now: Date = new Date()): ListEntry | undefined {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  const tokens = tokenize(text);
  if (tokens.length < 4) return undefined;
  const mode = parseModeString(tokens[0].text);
  if (!mode) return undefined;
  const found = findDate(tokens, now);
  if (!found) return undefined;
  const { date, start, end, wideField } = found;
  // ls pads a lone ISO date to the width of "mm-dd hh:mm", hence up to two spaces there.
  let nameStart = tokens[end - 1].end + 1;
  if (wideField && text[nameStart] === " " && text[nameStart + 1] !== undefined) nameStart++;
  let name = text.slice(nameStart);
  if (name.trim() === "") return undefined;
  const columns = sizeColumns(tokens, start);
  if (!columns) return undefined;
  const meta = tokens.slice(1, columns.first).map((t) => t.text);
  const entry: ListEntry = { name, type: mode.type, modify: date, mode: mode.bits, facts: {} };
  if (mode.type === "link") {
    const arrow = name.indexOf(" -> ");
    if (arrow > 0) {
      entry.target = name.slice(arrow + 4);
      name = entry.name = name.slice(0, arrow);
    }
  }
  const facts = entry.facts;
  facts.type = entry.type;
  if (columns.size !== undefined) {
    entry.size = columns.size;
    facts.size = String(columns.size);
  }
  facts.modify = formatMlsxTime(date);
  facts["unix.mode"] = mode.bits.toString(8).padStart(4, "0");
  if (meta.length > 0 && /^\d+$/.test(meta[0])) facts["unix.links"] = meta.shift()!;
  if (meta.length > 0) facts["unix.owner"] = meta.shift()!;
  if (meta.length > 0) facts["unix.group"] = meta.join(" ");
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

interface Token {
  text: string;
  start: number;
  end: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\S+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    tokens.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  }
  return tokens;
}

const MODE_STRING =
  /^([-bcdDlnps?])([-r])([-w])([-xsS])([-r])([-w])([-xsSlL])([-r])([-w])([-xtT])[+.@]?$/;

function parseModeString(
  text: string,
): { type: ListEntry["type"]; bits: number } | undefined {
  const m = MODE_STRING.exec(text);
  if (!m) return undefined;
  const type = m[1] === "-" ? "file" : m[1] === "d" ? "dir" : m[1] === "l" ? "link" : "other";
  let bits = 0;
  const rw = (r: string, w: string, shift: number) => {
    if (r === "r") bits |= 4 << shift;
    if (w === "w") bits |= 2 << shift;
  };
  rw(m[2], m[3], 6);
  rw(m[5], m[6], 3);
  rw(m[8], m[9], 0);
  if ("xst".includes(m[4])) bits |= 0o100;
  if ("xst".includes(m[7])) bits |= 0o010;
  if ("xst".includes(m[10])) bits |= 0o001;
  if ("sS".includes(m[4])) bits |= 0o4000;
  if ("sSlL".includes(m[7])) bits |= 0o2000;
  if ("tT".includes(m[10])) bits |= 0o1000;
  return { type, bits };
}

/** Where the size column starts (it may be `maj, min`) and its value for plain sizes. */
function sizeColumns(
  tokens: Token[],
  dateStart: number,
): { first: number; size?: number } | undefined {
  const last = tokens[dateStart - 1]?.text;
  if (last === undefined || dateStart < 2) return undefined;
  if (/^\d+,\d+$/.test(last)) return { first: dateStart - 1 };
  if (/^\d+$/.test(last)) {
    const before = tokens[dateStart - 2].text;
    if (dateStart >= 3 && /^\d+,$/.test(before)) return { first: dateStart - 2 };
    return { first: dateStart - 1, size: Number(last) };
  }
  return undefined;
}

interface FoundDate {
  date: Date;
  /** Index of the date's first token. */
  start: number;
  /** Index after the date's last token. */
  end: number;
  /** Whether the field is a lone ISO date, which ls pads by one space. */
  wideField: boolean;
}

/**
 * Finds the date columns: the leftmost position that is preceded by a size column and followed
 * by a name. Positions with at least two columns (link count, owner, group) between mode and
 * size win, which keeps an owner named like a month from being taken for the date; plain
 * numeric months count only where no other date form is found.
 */
function findDate(tokens: Token[], now: Date): FoundDate | undefined {
  for (const numericMonths of [false, true]) {
    for (const minMeta of [2, 0]) {
      for (let d = 2; d < tokens.length - 1; d++) {
        const found = dateAt(tokens, d, now, numericMonths);
        if (!found || found.end >= tokens.length) continue;
        const columns = sizeColumns(tokens, d);
        if (!columns || columns.first - 1 < minMeta) continue;
        return found;
      }
    }
  }
  return undefined;
}

const TIME = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;

function dateAt(
  tokens: Token[],
  d: number,
  now: Date,
  numericMonths: boolean,
): FoundDate | undefined {
  const t0 = tokens[d].text;
  const t1 = tokens[d + 1]?.text;
  const t2 = tokens[d + 2]?.text;
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t0);
  if (iso) {
    const [year, month, day] = iso.slice(1).map(Number);
    const time = t1 === undefined ? null : TIME.exec(t1);
    if (!time) {
      const date = makeDate(year, month - 1, day, 0, 0, 0);
      return date && { date, start: d, end: d + 1, wideField: true };
    }
    let date = makeDate(year, month - 1, day, ...clock(time));
    if (!date) return undefined;
    const zone = t2 === undefined ? null : /^([+-])(\d{2})(\d{2})$/.exec(t2);
    if (zone) {
      const offset = (Number(zone[2]) * 60 + Number(zone[3])) * 60_000;
      date = new Date(date.getTime() - (zone[1] === "+" ? offset : -offset));
      return { date, start: d, end: d + 3, wideField: false };
    }
    return { date, start: d, end: d + 2, wideField: false };
  }
  const short = /^(\d{2})-(\d{2})$/.exec(t0);
  if (short) {
    const time = t1 === undefined ? null : TIME.exec(t1);
    if (!time) return undefined;
    const date = inferYear(Number(short[1]) - 1, Number(short[2]), clock(time), now);
    return date && { date, start: d, end: d + 2, wideField: false };
  }
  const month = numericMonths ? numericMonth(t0) : namedMonth(t0);
  const day = t1 === undefined ? null : /^(\d{1,2})[日일]?$/.exec(t1);
  if (month === undefined || !day || t2 === undefined) return undefined;
  const dayNumber = Number(day[1]);
  if (/^\d{4}$/.test(t2)) {
    const date = makeDate(Number(t2), month, dayNumber, 0, 0, 0);
    return date && { date, start: d, end: d + 3, wideField: false };
  }
  const time = TIME.exec(t2);
  if (!time) return undefined;
  const t3 = tokens[d + 3]?.text;
  if (time[3] !== undefined && t3 !== undefined && /^\d{4}$/.test(t3)) {
    const date = makeDate(Number(t3), month, dayNumber, ...clock(time));
    return date && { date, start: d, end: d + 4, wideField: false };
  }
  const date = inferYear(month, dayNumber, clock(time), now);
  return date && { date, start: d, end: d + 3, wideField: false };
}

function clock(time: RegExpExecArray): [number, number, number] {
  return [Number(time[1]), Number(time[2]), Number(time[3] ?? 0)];
}

function namedMonth(text: string): number | undefined {
  if (!/^[A-Za-z]{3,9}\.?$/.test(text)) return undefined;
  const index = MONTHS.findIndex((m) => m.toLowerCase() === text.slice(0, 3).toLowerCase());
  return index < 0 ? undefined : index;
}

function numericMonth(text: string): number | undefined {
  const m = /^(\d{1,2})[月월]?$/.exec(text);
  const month = m ? Number(m[1]) : 0;
  return month >= 1 && month <= 12 ? month - 1 : undefined;
}

function makeDate(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): Date | undefined {
  if (month < 0 || month > 11 || hour > 23 || minute > 59 || second > 60) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  if (date.getUTCMonth() !== month || date.getUTCDate() !== day) return undefined;
  date.setUTCHours(hour, minute, second);
  return date;
}

/** The latest year in which the date exists and lies no more than a day after `now`. */
function inferYear(
  month: number,
  day: number,
  [hour, minute, second]: [number, number, number],
  now: Date,
): Date | undefined {
  const limit = now.getTime() + DAY_MS;
  const year = now.getUTCFullYear() + 1;
  // Eight years back always reach a February 29.
  for (let y = year; y > year - 9; y--) {
    const date = makeDate(y, month, day, hour, minute, second);
    if (date && date.getTime() <= limit) return date;
  }
  return undefined;
}
