/**
 * Machine listings of RFC 3659 (MLSD lines and the MLST entry): `fact=value;...; name`, and the
 * `YYYYMMDDHHMMSS[.sss]` UTC time values they carry.
 *
 * @module
 */

import { ProtocolError } from "../../errors.ts";
import type { ListEntry } from "./entry.ts";

/**
 * Formats a time as an MLSx time value (RFC 3659 §2.3), in UTC, whole seconds.
 *
 * @example Formatting
 * ```ts
 * import { formatMlsxTime } from "./mlsx.ts";
 * formatMlsxTime(new Date(Date.UTC(2026, 10, 22, 10, 56, 1))); // "20261122105601"
 * ```
 *
 * @param date The time.
 * @returns `YYYYMMDDHHMMSS`.
 * @throws {RangeError} When the date is invalid or outside the years 0–9999.
 */
export function formatMlsxTime(date: Date): string {
  const year = date.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) throw new RangeError(`Cannot format date "${date}" for MLSx`);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${String(year).padStart(4, "0")}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${
    two(date.getUTCHours())
  }${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}`;
}

/**
 * Parses an MLSx time value, `YYYYMMDDHHMMSS` with optional fractional seconds, as UTC (as MDTM
 * and MFMT use it too).
 *
 * @example Parsing
 * ```ts
 * import { parseMlsxTime } from "./mlsx.ts";
 * parseMlsxTime("20261122105601.25")?.toISOString(); // "2026-11-22T10:56:01.250Z"
 * ```
 *
 * @param text The value.
 * @returns The time, or `undefined` when the text is not a valid time.
 */
export function parseMlsxTime(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = m[7] ? Number(m[7].padEnd(3, "0").slice(0, 3)) : 0;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  // A leap second (60) is read as the next second, which Date cannot tell apart.
  date.setUTCHours(hour, minute, second, ms);
  return date;
}

/**
 * Formats one MLSx line: each fact as `name=value;` in the order given (names in lower case),
 * one space, the name. CR and LF in the name become spaces, so that a file name cannot forge a
 * listing line.
 *
 * @example Formatting
 * ```ts
 * import { formatMlsxLine } from "./mlsx.ts";
 * formatMlsxLine("a.txt", { type: "file", size: "3", modify: "20261122000000" });
 * // "type=file;size=3;modify=20261122000000; a.txt"
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
 * import { parseMlsxLine } from "./mlsx.ts";
 * parseMlsxLine("Type=file;Size=3;Modify=20261122000000; a b.txt");
 * // { name: "a b.txt", type: "file", size: 3, modify: 2026-11-22T00:00:00.000Z, facts: {...} }
 * ```
 *
 * @param line The line without line end (a trailing CR is ignored).
 * @returns The entry.
 * @throws {ProtocolError} When the line has no name or a fact without `=`.
 */
export function parseMlsxLine(line: string): ListEntry {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  let factsText: string;
  let name: string;
  if (text.startsWith(" ")) {
    factsText = "";
    name = text.slice(1);
  } else {
    const end = text.indexOf("; ");
    const cut = end >= 0 ? end + 1 : text.indexOf(" ");
    if (cut < 0) {
      throw new ProtocolError(`Cannot find the name in MLSx line ${JSON.stringify(line)}`);
    }
    factsText = text.slice(0, cut);
    name = text.slice(cut + 1);
  }
  if (name === "") throw new ProtocolError(`Empty name in MLSx line ${JSON.stringify(line)}`);
  const facts: Record<string, string> = {};
  for (const item of factsText.split(";")) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq <= 0) {
      throw new ProtocolError(`Malformed fact ${JSON.stringify(item)} in MLSx line`);
    }
    facts[item.slice(0, eq).toLowerCase()] = item.slice(eq + 1);
  }
  const entry: ListEntry = { name, type: "other", facts };
  const type = facts.type ?? "";
  const lowerType = type.toLowerCase();
  if (lowerType === "file") entry.type = "file";
  else if (lowerType === "dir" || lowerType === "cdir" || lowerType === "pdir") entry.type = "dir";
  else if (/^os\.unix=(slink|symlink)(:|$)/.test(lowerType)) {
    entry.type = "link";
    const colon = type.indexOf(":");
    if (colon >= 0 && colon < type.length - 1) entry.target = type.slice(colon + 1);
  }
  const size = facts.size ?? facts.sizd;
  if (size !== undefined && /^\d+$/.test(size)) entry.size = Number(size);
  const modify = facts.modify === undefined ? undefined : parseMlsxTime(facts.modify);
  if (modify) entry.modify = modify;
  const mode = facts["unix.mode"];
  if (mode !== undefined && /^[0-7]{1,6}$/.test(mode)) entry.mode = parseInt(mode, 8) & 0o7777;
  return entry;
}
