/**
 * UTC calendar arithmetic for the listing parsers: times from calendar fields and the MLSx text
 * of a time, by integer arithmetic on day numbers (proleptic Gregorian, as `Date` counts) rather
 * than through a `Date` and its setters and getters per entry.
 *
 * @module
 */

const DAY_MS = 86_400_000;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** Days from 1970-01-01 to a valid date (Howard Hinnant's `days_from_civil`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) +
    dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * The time of UTC calendar fields, as `Date.UTC` gives it but for every year (years 0–99 are
 * not moved to the 1900s) and with invalid fields refused rather than carried over: the month
 * must be 0–11, the day exist in that month, the hour be at most 23, the minute 59 and the
 * second 60 (a leap second, which carries into the next minute as `Date` does).
 *
 * @example
 * ```ts
 * import { utcTime } from "./utc_calendar.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(utcTime(2024, 1, 29, 12, 0, 0), Date.UTC(2024, 1, 29, 12));
 * assert.equal(utcTime(2025, 1, 29, 12, 0, 0), NaN); // 2025 is no leap year
 * ```
 *
 * @param year The full year.
 * @param month The month, 0 for January.
 * @param day The day of the month, from 1.
 * @param hour The hour.
 * @param minute The minute.
 * @param second The second.
 * @returns Milliseconds since the epoch, or `NaN` when a field is out of range.
 */
export function utcTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number {
  if (!(month >= 0 && month <= 11) || hour > 23 || minute > 59 || second > 60 || day < 1) {
    return NaN;
  }
  if (day > MONTH_DAYS[month] && !(month === 1 && day === 29 && isLeapYear(year))) return NaN;
  return daysFromCivil(year, month + 1, day) * DAY_MS + hour * 3_600_000 + minute * 60_000 +
    second * 1000;
}

/** `"00"` to `"99"`. */
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, "0"));
/** `YYYYMMDD` of each day number seen (emptied past a few thousand, like the ls caches). */
const dayTexts = new Map<number, string>();
const DAY_TEXT_LIMIT = 4096;

/**
 * The MLSx text of a time (RFC 3659 §2.3): `YYYYMMDDHHMMSS` in UTC, fractions of a second cut.
 *
 * @example
 * ```ts
 * import { mlsxTimeText } from "./utc_calendar.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(mlsxTimeText(Date.UTC(2026, 10, 22, 10, 56, 1, 999)), "20261122105601");
 * assert.equal(mlsxTimeText(NaN), undefined);
 * ```
 *
 * @param time Milliseconds since the epoch.
 * @returns The text, or `undefined` when the time is not finite or its year is outside 0–9999.
 */
export function mlsxTimeText(time: number): string | undefined {
  const days = Math.floor(time / DAY_MS);
  let date = dayTexts.get(days);
  if (date === undefined) {
    if (!Number.isFinite(days)) return undefined;
    // Howard Hinnant's `civil_from_days`.
    const z = days + 719_468;
    const era = Math.floor(z / 146_097);
    const dayOfEra = z - era * 146_097;
    const yearOfEra = Math.floor(
      (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) -
        Math.floor(dayOfEra / 146_096)) / 365,
    );
    const dayOfYear = dayOfEra -
      (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
    const shifted = Math.floor((5 * dayOfYear + 2) / 153);
    const day = dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1;
    const month = shifted < 10 ? shifted + 3 : shifted - 9;
    const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
    if (year < 0 || year > 9999) return undefined;
    date = TWO_DIGITS[Math.floor(year / 100)] + TWO_DIGITS[year % 100] + TWO_DIGITS[month] +
      TWO_DIGITS[day];
    if (dayTexts.size >= DAY_TEXT_LIMIT) dayTexts.clear();
    dayTexts.set(days, date);
  }
  const seconds = Math.floor((time - days * DAY_MS) / 1000);
  if (seconds % 60 === 0) {
    // Whole minutes (all that ls shows): the day and one cached string.
    const minute = seconds / 60;
    return date + (minuteTexts[minute] ??= clockText(seconds));
  }
  return date + clockText(seconds);
}

/** `HHMM00` of each minute of a day, made on first use. */
const minuteTexts: string[] = [];

/** `HHMMSS` of a second of a day. */
function clockText(seconds: number): string {
  return TWO_DIGITS[Math.floor(seconds / 3600)] + TWO_DIGITS[Math.floor(seconds / 60) % 60] +
    TWO_DIGITS[seconds % 60];
}
