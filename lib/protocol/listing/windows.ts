/**
 * LIST lines in the MS-DOS `dir` format of IIS and other Windows servers:
 * `MM-DD-YY  hh:mmAM  <DIR>|size name`.
 *
 * Dates carry no time zone; they are read as UTC.
 *
 * @module
 */

import type { ListEntry } from "./entry.ts";
import { formatMlsxTime } from "./mlsx.ts";
import { utcTime } from "./utc_calendar.ts";

/**
 * Parses one Windows/IIS LIST line. Dates may be `MM-DD-YY` (IIS; years before 70 are 20xx),
 * `MM-DD-YYYY`, `MM/DD/YYYY` (`dir`), `YYYY-MM-DD`, or day-first where the month would exceed 12;
 * times may be 12-hour (`08:15PM`, `8:15 PM`) or 24-hour. Sizes may group thousands with commas
 * or dots. `<DIR>` makes a directory; `<JUNCTION>` and `<SYMLINK>`/`<SYMLINKD>` make a link
 * whose target is taken from the trailing `[target]`. One space separates size and name (so
 * names keep inner, trailing and further leading spaces); after `<DIR>` the padding is skipped.
 *
 * @example Parsing
 * ```ts
 * import { parseWindowsListLine } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * const entry = parseWindowsListLine("11-20-26  08:15PM                 1,234 a b.txt");
 * assert.equal(entry?.name, "a b.txt");
 * assert.equal(entry?.type, "file");
 * assert.equal(entry?.size, 1234);
 * assert.equal(entry?.modify?.toISOString(), "2026-11-20T20:15:00.000Z");
 * assert.equal(parseWindowsListLine("11-20-26  08:15PM       <DIR>          docs")?.type, "dir");
 * ```
 *
 * @param line The line without line end.
 * @returns The entry, or `undefined` when the line is not in this format.
 */
export function parseWindowsListLine(line: string): ListEntry | undefined {
  // Read in one pass, left to right: each part of
  //   D{1,4} [-/.] D{1,2} [-/.] D{1,4} " "+ D{1,2} ":" DD (":" DD)? " "* ([AaPp][Mm])? " "+
  //   ( <DIR>|<JUNCTION>|<SYMLINKD>|<SYMLINK> " "+ NAME | SIZE " " NAME )
  // ends where the next one starts, so that nothing is read twice.
  const text = line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
  const first = digitRun(text, 0, 4);
  if (first < 0 || !isDateSeparator(text.charCodeAt(first))) return undefined;
  const second = digitRun(text, first + 1, 2);
  if (second < 0 || !isDateSeparator(text.charCodeAt(second))) return undefined;
  const third = digitRun(text, second + 1, 4);
  if (third < 0) return undefined;
  const hourStart = skipSpaces(text, third);
  const hourEnd = digitRun(text, hourStart, 2);
  if (hourStart === third || hourEnd < 0) return undefined;
  if (text.charCodeAt(hourEnd) !== COLON || !isDigitPair(text, hourEnd + 1)) return undefined;
  let hour = number(text, hourStart, hourEnd);
  const minute = number(text, hourEnd + 1, hourEnd + 3);
  let i = hourEnd + 3;
  let seconds = 0;
  if (text.charCodeAt(i) === COLON) {
    if (!isDigitPair(text, i + 1)) return undefined;
    seconds = number(text, i + 1, i + 3);
    i += 3;
  }
  let next = skipSpaces(text, i);
  const meridiem = text.charCodeAt(next) | 0x20;
  if ((meridiem === 0x61 || meridiem === 0x70) && (text.charCodeAt(next + 1) | 0x20) === 0x6d) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (meridiem === 0x70 ? 12 : 0);
    i = next + 2;
    next = skipSpaces(text, i);
  }
  if (next === i) return undefined;

  // The date: year first, or month first (day first where the month would exceed 12).
  let year: number;
  let month: number;
  let day: number;
  const thirdLength = third - second - 1;
  if (first === 4) {
    year = number(text, 0, first);
    month = number(text, first + 1, second);
    day = number(text, second + 1, third);
  } else {
    if (first > 2 || (thirdLength !== 2 && thirdLength !== 4)) return undefined;
    month = number(text, 0, first);
    day = number(text, first + 1, second);
    year = number(text, second + 1, third);
    if (thirdLength === 2) year += year < 70 ? 2000 : 1900;
    if (month > 12 && day <= 12) {
      const swapped = month;
      month = day;
      day = swapped;
    }
  }
  const time = seconds > 59 ? NaN : utcTime(year, month - 1, day, hour, minute, seconds);
  if (Number.isNaN(time)) return undefined;

  const tag = text.charCodeAt(next) === 0x3c ? tagAt(text, next) : undefined;
  if (tag !== undefined) {
    const tagEnd = next + tag.length;
    const nameStart = skipSpaces(text, tagEnd);
    if (nameStart === tagEnd) return undefined;
    // A name of spaces alone is the last of them, one space at least staying the separator.
    let name: string;
    if (nameStart < text.length) name = text.slice(nameStart);
    else if (nameStart - tagEnd >= 2) name = " ";
    else return undefined;
    if (hasLineBreak(name)) return undefined;
    const modify = new Date(time);
    if (tag === "<DIR>") return { name, type: "dir", modify, facts: directoryFacts(modify) };
    const entry: ListEntry = { name, type: "link", modify, facts: linkFacts(modify) };
    // The target runs from the first " [" to a "]" that ends the line.
    const open = name.charCodeAt(name.length - 1) === 0x5d ? name.indexOf(" [") : -1;
    if (open >= 0) {
      entry.name = name.slice(0, open);
      entry.target = name.slice(open + 2, -1);
    }
    return entry;
  }
  const sizeEnd = sizeRun(text, next);
  if (sizeEnd < 0 || text.charCodeAt(sizeEnd) !== SPACE || sizeEnd + 1 === text.length) {
    return undefined;
  }
  const name = text.slice(sizeEnd + 1);
  if (hasLineBreak(name)) return undefined;
  const size = sizeValue(text, next, sizeEnd);
  const modify = new Date(time);
  return {
    name,
    type: "file",
    size,
    modify,
    facts: { modify: formatMlsxTime(modify), type: "file", size: String(size) },
  };
}

function directoryFacts(modify: Date): Record<string, string> {
  return { modify: formatMlsxTime(modify), type: "dir" };
}

function linkFacts(modify: Date): Record<string, string> {
  return { modify: formatMlsxTime(modify), type: "link" };
}

const CR = 0x0d;
const SPACE = 0x20;
const COLON = 0x3a;
const ZERO = 0x30;
const TAGS = ["<DIR>", "<JUNCTION>", "<SYMLINKD>", "<SYMLINK>"];

/** The tag (`<DIR>`, ...) at `start`, or `undefined`. */
function tagAt(text: string, start: number): string | undefined {
  for (const tag of TAGS) if (text.startsWith(tag, start)) return tag;
  return undefined;
}

function isDigit(code: number): boolean {
  return code >= ZERO && code <= ZERO + 9;
}

/** The end of the run of digits at `start` when it is 1 to `most` long, or -1. */
function digitRun(text: string, start: number, most: number): number {
  let i = start;
  while (isDigit(text.charCodeAt(i))) i++;
  return i === start || i - start > most ? -1 : i;
}

function isDigitPair(text: string, at: number): boolean {
  return isDigit(text.charCodeAt(at)) && isDigit(text.charCodeAt(at + 1));
}

function isDateSeparator(code: number): boolean {
  return code === 0x2d || code === 0x2f || code === 0x2e;
}

function skipSpaces(text: string, start: number): number {
  let i = start;
  while (text.charCodeAt(i) === SPACE) i++;
  return i;
}

/** The value of the digits text[start, end). */
function number(text: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + text.charCodeAt(i) - ZERO;
  return value;
}

function isGroupSeparator(code: number): boolean {
  return code === 0x2c || code === 0x2e;
}

/**
 * The end of a size at `start`: digits, or one to three digits followed by groups of three
 * after commas or dots (`1,234`, `1.234.567`); -1 when no size ends there.
 */
function sizeRun(text: string, start: number): number {
  const digits = digitRun(text, start, Infinity);
  if (digits < 0 || !isGroupSeparator(text.charCodeAt(digits))) return digits;
  if (digits - start > 3) return -1;
  let i = digits;
  while (
    isGroupSeparator(text.charCodeAt(i)) && isDigitPair(text, i + 1) &&
    isDigit(text.charCodeAt(i + 3))
  ) i += 4;
  // A group of fewer or more than three digits ends no size.
  return i === digits || isDigit(text.charCodeAt(i)) ? -1 : i;
}

/** The value of a size that `sizeRun` read, its separators left out. */
function sizeValue(text: string, start: number, end: number): number {
  let value = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (isDigit(code)) {
      value = value * 10 + code - ZERO;
      digits++;
    }
  }
  // Past 15 digits a sum may round differently from Number's parse.
  return digits <= 15 ? value : Number(text.slice(start, end).replace(/[,.]/g, ""));
}

/** Whether a name holds a line break (which no name read from a line can). */
function hasLineBreak(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code === 0x0a || code === CR || code === 0x2028 || code === 0x2029) return true;
  }
  return false;
}
