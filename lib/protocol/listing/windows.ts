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

const WINDOWS_LINE =
  /^(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4}) +(\d{1,2}):(\d{2})(?::(\d{2}))? *([AaPp][Mm])? +(?:(<DIR>|<JUNCTION>|<SYMLINKD?>) +(.+)|(\d{1,3}(?:[,.]\d{3})+|\d+) (.+))$/;

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
 * import { parseWindowsListLine } from "./windows.ts";
 * parseWindowsListLine("11-20-26  08:15PM                 1,234 a b.txt");
 * // { name: "a b.txt", type: "file", size: 1234, modify: 2026-11-20T20:15:00.000Z, facts: {...} }
 * ```
 *
 * @param line The line without line end.
 * @returns The entry, or `undefined` when the line is not in this format.
 */
export function parseWindowsListLine(line: string): ListEntry | undefined {
  const m = WINDOWS_LINE.exec(line.endsWith("\r") ? line.slice(0, -1) : line);
  if (!m) return undefined;
  const modify = parseDate(m);
  if (!modify) return undefined;
  const facts: Record<string, string> = { modify: formatMlsxTime(modify) };
  const tag = m[8];
  if (tag === undefined) {
    const size = Number(m[10].replace(/[,.]/g, ""));
    facts.type = "file";
    facts.size = String(size);
    return { name: m[11], type: "file", size, modify, facts };
  }
  let name = m[9];
  if (tag === "<DIR>") {
    facts.type = "dir";
    return { name, type: "dir", modify, facts };
  }
  facts.type = "link";
  const entry: ListEntry = { name, type: "link", modify, facts };
  const target = / \[(.*)\]$/.exec(name);
  if (target) {
    name = entry.name = name.slice(0, target.index);
    entry.target = target[1];
  }
  return entry;
}

function parseDate(m: RegExpExecArray): Date | undefined {
  let year: number;
  let month: number;
  let day: number;
  if (m[1].length === 4) {
    [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  } else {
    if (m[1].length > 2 || (m[3].length !== 2 && m[3].length !== 4)) return undefined;
    [month, day, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (m[3].length === 2) year += year < 70 ? 2000 : 1900;
    if (month > 12 && day <= 12) [month, day] = [day, month];
  }
  let hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6] ?? 0);
  const meridiem = m[7]?.toUpperCase();
  if (meridiem) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (meridiem === "PM" ? 12 : 0);
  }
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  date.setUTCHours(hour, minute, second);
  return date;
}
