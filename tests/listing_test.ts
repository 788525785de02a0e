/**
 * Directory listings: MLSx facts, `ls -l` and Windows LIST lines — table tests over lines
 * captured from real servers (tests/fixtures/listings.ts), year inference, and the formatters
 * the server uses.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProtocolError } from "../lib/errors.ts";
import type { ListEntry } from "../lib/protocol/listing/entry.ts";
import {
  formatMlsxLine,
  formatMlsxTime,
  parseMlsxLine,
  parseMlsxTime,
} from "../lib/protocol/listing/mlsx.ts";
import { parseListLine } from "../lib/protocol/listing/parse_list_line.ts";
import {
  formatUnixListLine,
  parseUnixListLine,
  type UnixListLineEntry,
} from "../lib/protocol/listing/unix.ts";
import { parseWindowsListLine } from "../lib/protocol/listing/windows.ts";
import {
  CAPTURE_NOW,
  type ExpectedEntry,
  type ListingSample,
  MLSX_INVALID,
  MLSX_ODDITIES,
  SERVER_MLSX,
  SERVER_UNIX_LIST,
  UNIX_LIST_ODDITIES,
  WINDOWS_LIST,
} from "./fixtures/listings.ts";

/** Compares an entry with its expectation: listed properties exactly, facts as a subset. */
function assertEntry(actual: ListEntry | undefined, expected: ExpectedEntry | undefined): void {
  if (expected === undefined) {
    assert.equal(actual, undefined);
    return;
  }
  assert.ok(actual, "the line parses");
  assert.equal(actual.name, expected.name);
  assert.equal(actual.type, expected.type);
  if ("size" in expected) assert.equal(actual.size, expected.size);
  if ("modify" in expected) assert.equal(actual.modify?.toISOString(), expected.modify);
  if ("mode" in expected) assert.equal(actual.mode, expected.mode);
  if ("target" in expected) assert.equal(actual.target, expected.target);
  if (expected.facts) {
    if (Object.keys(expected.facts).length === 0) assert.deepEqual(actual.facts, {});
    for (const [fact, value] of Object.entries(expected.facts)) {
      assert.equal(actual.facts[fact], value, `fact ${fact}`);
    }
  }
}

function table(
  samples: ListingSample[],
  parse: (line: string) => ListEntry | undefined,
): void {
  for (const { source, line, entry } of samples) {
    it(`${source}: ${JSON.stringify(line)}`, () => assertEntry(parse(line), entry));
  }
}

const NOW = CAPTURE_NOW;
const iso = (text: string) => new Date(text);

describe("MLSx lines from real servers", () => {
  table(SERVER_MLSX, parseMlsxLine);
});

describe("MLSx oddities", () => {
  table(MLSX_ODDITIES, parseMlsxLine);

  for (const line of MLSX_INVALID) {
    it(`refuses ${JSON.stringify(line)}`, () => {
      assert.throws(() => parseMlsxLine(line), ProtocolError);
    });
  }

  it("lower-cases fact names and keeps values verbatim", () => {
    const entry = parseMlsxLine("Type=File;UNIX.Mode=0644;Perm=ADFR; n");
    assert.deepEqual(entry.facts, { type: "File", "unix.mode": "0644", perm: "ADFR" });
  });

  it("ignores a trailing CR", () => {
    assert.equal(parseMlsxLine("type=file; a.txt\r").name, "a.txt");
  });
});

describe("MLSx times", () => {
  it("formats in UTC with whole seconds", () => {
    assert.equal(formatMlsxTime(iso("2026-11-22T10:56:01.999Z")), "20261122105601");
    assert.equal(formatMlsxTime(iso("0999-01-02T03:04:05Z")), "09990102030405");
  });

  it("refuses invalid dates", () => {
    assert.throws(() => formatMlsxTime(new Date(NaN)), RangeError);
    assert.throws(() => formatMlsxTime(iso("+010000-01-01T00:00:00Z")), RangeError);
  });

  const times: [string, string | undefined][] = [
    ["20261122105601", "2026-11-22T10:56:01.000Z"],
    ["20261122105601.5", "2026-11-22T10:56:01.500Z"],
    ["20261122105601.123456", "2026-11-22T10:56:01.123Z"],
    ["20240229000000", "2024-02-29T00:00:00.000Z"],
    ["19700101000000", "1970-01-01T00:00:00.000Z"],
    ["20250229000000", undefined],
    ["20261322105601", undefined],
    ["20261122245601", undefined],
    ["20261122106001", undefined],
    ["2026112210560", undefined],
    ["202611221056011", undefined],
    ["20261122105601.", undefined],
    ["2026-11-22", undefined],
    ["", undefined],
  ];
  for (const [text, expected] of times) {
    it(`parses ${JSON.stringify(text)}`, () => {
      assert.equal(parseMlsxTime(text)?.toISOString(), expected);
    });
  }

  it("round-trips", () => {
    const date = iso("2026-01-31T23:59:59Z");
    assert.equal(parseMlsxTime(formatMlsxTime(date))?.getTime(), date.getTime());
  });
});

describe("formatMlsxLine", () => {
  it("formats the facts in order, lower-cased, then one space and the name", () => {
    assert.equal(
      formatMlsxLine("a.txt", { type: "file", size: "3", modify: "20261122000000" }),
      "type=file;size=3;modify=20261122000000; a.txt",
    );
    assert.equal(
      formatMlsxLine("x", { "UNIX.mode": "0644", Perm: "r" }),
      "unix.mode=0644;perm=r; x",
    );
  });

  it("formats a fact-less line", () => {
    assert.equal(formatMlsxLine("name", {}), " name");
  });

  it("keeps spaces in names and values", () => {
    assert.equal(
      formatMlsxLine(" a b ", { "unix.groupname": "domain users" }),
      "unix.groupname=domain users;  a b ",
    );
  });

  it("replaces CR and LF in names so that a name cannot forge a line", () => {
    assert.equal(formatMlsxLine("a\r\ntype=file; b", {}), " a  type=file; b");
  });

  it("refuses fact names and values that would break the line", () => {
    for (const fact of ["", "a=b", "a;b", "a b"]) {
      assert.throws(() => formatMlsxLine("n", { [fact]: "v" }), RangeError);
    }
    for (const value of ["a;b", "a\nb", "a\rb"]) {
      assert.throws(() => formatMlsxLine("n", { x: value }), RangeError);
    }
  });

  it("round-trips through the parser", () => {
    const facts = {
      type: "dir",
      sizd: "4096",
      modify: "20261122105601",
      perm: "elcdfmp",
      "unix.mode": "01777",
      "unix.groupname": "domain users",
    };
    const entry = parseMlsxLine(formatMlsxLine("  my ; dir  ", facts));
    assert.deepEqual(entry, {
      name: "  my ; dir  ",
      type: "dir",
      size: 4096,
      modify: iso("2026-11-22T10:56:01Z"),
      mode: 0o1777,
      facts,
    });
  });
});

describe("ls -l lines from real servers", () => {
  table(SERVER_UNIX_LIST, (line) => parseUnixListLine(line, NOW));
});

describe("ls -l oddities", () => {
  table(UNIX_LIST_ODDITIES, (line) => parseUnixListLine(line, NOW));

  it("derives facts from the columns", () => {
    assert.deepEqual(
      parseUnixListLine("-rwsr-xr-x    1 102      105        123456 Nov 20 08:15 big.bin", NOW)
        ?.facts,
      {
        type: "file",
        size: "123456",
        modify: "20261120081500",
        "unix.mode": "4755",
        "unix.links": "1",
        "unix.owner": "102",
        "unix.group": "105",
      },
    );
  });
});

describe("ls date years", () => {
  const cases: [string, string, string][] = [
    // [now, ls date, expected]
    ["2026-11-22T23:06:00Z", "Nov 20 08:15", "2026-11-20T08:15:00.000Z"],
    ["2026-11-22T23:06:00Z", "Nov 23 10:00", "2026-11-23T10:00:00.000Z"],
    ["2026-11-22T23:06:00Z", "Nov 24 10:00", "2025-11-24T10:00:00.000Z"],
    ["2026-11-22T23:06:00Z", "Dec 25 18:00", "2025-12-25T18:00:00.000Z"],
    // aioftp #196 dates this into 2027.
    ["2026-11-22T23:06:00Z", "Jan 01 12:00", "2026-01-01T12:00:00.000Z"],
    ["2026-11-22T23:06:00Z", "May 20 00:00", "2026-05-20T00:00:00.000Z"],
    ["2026-01-01T00:30:00Z", "Dec 31 23:59", "2025-12-31T23:59:00.000Z"],
    ["2026-01-01T00:30:00Z", "Jan 01 00:10", "2026-01-01T00:10:00.000Z"],
    ["2026-01-01T00:30:00Z", "Jan 01 23:00", "2026-01-01T23:00:00.000Z"],
    ["2026-01-01T00:30:00Z", "Jan 02 02:00", "2025-01-02T02:00:00.000Z"],
    ["2025-12-31T20:00:00Z", "Jan 01 10:00", "2026-01-01T10:00:00.000Z"],
    ["2026-03-01T00:00:00Z", "Feb 29 12:00", "2024-02-29T12:00:00.000Z"],
    ["2028-03-01T00:00:00Z", "Feb 29 12:00", "2028-02-29T12:00:00.000Z"],
    ["2028-02-28T12:00:00Z", "Feb 29 00:00", "2028-02-29T00:00:00.000Z"],
    ["2028-02-27T00:00:00Z", "Feb 29 00:00", "2024-02-29T00:00:00.000Z"],
  ];
  for (const [now, date, expected] of cases) {
    it(`"${date}" seen at ${now} is ${expected}`, () => {
      const entry = parseUnixListLine(`-rw-r--r-- 1 ftp ftp 1 ${date} f`, iso(now));
      assert.equal(entry?.modify?.toISOString(), expected);
    });
  }

  it("uses the current time by default", () => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    const line = formatUnixListLine(
      { name: "f", type: "file", size: 1, mtime: hourAgo, mode: 0o644, nlink: 1 },
      new Date(),
    );
    assert.equal(
      parseUnixListLine(line)?.modify?.getTime(),
      Math.floor(hourAgo.getTime() / 60_000) * 60_000,
    );
  });
});

describe("formatUnixListLine", () => {
  const base: UnixListLineEntry = {
    name: "a.txt",
    type: "file",
    size: 11,
    mtime: iso("2026-11-20T08:15:42Z"),
    mode: 0o644,
    nlink: 1,
  };

  it("formats like vsftpd, with ls dates", () => {
    assert.equal(
      formatUnixListLine(base, NOW),
      "-rw-r--r--    1 ftp      ftp            11 Nov 20 08:15 a.txt",
    );
    assert.equal(
      formatUnixListLine(
        { ...base, name: "old", type: "dir", mode: 0o755, nlink: 2, mtime: iso("2001-01-01Z") },
        NOW,
      ),
      "drwxr-xr-x    2 ftp      ftp            11 Jan  1  2001 old",
    );
  });

  it("shows the year outside the recent half year and for the far future", () => {
    const at = (mtime: string) => formatUnixListLine({ ...base, mtime: iso(mtime) }, NOW);
    assert.match(at("2026-05-25T00:00:00Z"), / May 25 00:00 /);
    assert.match(at("2026-05-20T00:00:00Z"), / May 20 {2}2026 /);
    assert.match(at("2026-11-23T12:00:00Z"), / Nov 23 12:00 /);
    assert.match(at("2026-11-25T12:00:00Z"), / Nov 25 {2}2026 /);
  });

  it("formats special bits, owners and link targets", () => {
    const line = (extra: Partial<UnixListLineEntry>) =>
      formatUnixListLine({ ...base, ...extra }, NOW).split(/ +/);
    assert.equal(line({ mode: 0o4755 })[0], "-rwsr-xr-x");
    assert.equal(line({ mode: 0o6644 })[0], "-rwSr-Sr--");
    assert.equal(line({ type: "dir", mode: 0o1777 })[0], "drwxrwxrwt");
    assert.equal(line({ type: "dir", mode: 0o1770 })[0], "drwxrwx--T");
    assert.equal(line({ type: "other", mode: 0o20666 })[0], "crw-rw-rw-");
    assert.equal(line({ type: "other", mode: 0o10644 })[0], "prw-r--r--");
    assert.equal(line({ type: "other", mode: 0o644 })[0], "-rw-r--r--");
    assert.deepEqual(line({ owner: "alice", group: "staff" }).slice(2, 4), ["alice", "staff"]);
    assert.match(
      formatUnixListLine({ ...base, type: "link", name: "l", target: "a b", mode: 0o777 }, NOW),
      /^lrwxrwxrwx .* l -> a b$/,
    );
  });

  it("formats exact lines: six-month rule, year boundaries, sizes, links, names with spaces", () => {
    const halfYear = 15_778_476_000;
    const day = 86_400_000;
    const newYear = iso("2026-01-01T00:00:30Z");
    const head = "-rw-r--r--    1 ftp      ftp      ";
    const cases: [Partial<UnixListLineEntry>, string, Date?][] = [
      [{}, "      11 Nov 20 08:15 a.txt"],
      [{ mtime: new Date(NOW.getTime() - halfYear) }, "      11 May 24  2026 a.txt"],
      [{ mtime: new Date(NOW.getTime() - halfYear + 1) }, "      11 May 24 08:11 a.txt"],
      [{ mtime: new Date(NOW.getTime() + day) }, "      11 Nov 23 23:06 a.txt"],
      [{ mtime: new Date(NOW.getTime() + day + 1) }, "      11 Nov 23  2026 a.txt"],
      [{ mtime: iso("2025-12-31T23:59:59Z") }, "      11 Dec 31 23:59 a.txt", newYear],
      [{ mtime: iso("2026-01-01T00:00:00Z") }, "      11 Jan  1 00:00 a.txt", newYear],
      [{ mtime: iso("2025-05-20T10:00:00Z") }, "      11 May 20  2025 a.txt"],
      [{ mtime: iso("1969-07-20T20:17:00Z") }, "      11 Jul 20  1969 a.txt"],
      [{ size: 0 }, "       0 Nov 20 08:15 a.txt"],
      [{ size: 99_999_999 }, "99999999 Nov 20 08:15 a.txt"],
      [{ size: 123_456_789 }, "123456789 Nov 20 08:15 a.txt"],
      [{ size: 2 ** 40 }, "1099511627776 Nov 20 08:15 a.txt"],
      [{ name: "  two  spaces  " }, "      11 Nov 20 08:15   two  spaces  "],
      [{ name: "a -> b" }, "      11 Nov 20 08:15 a -> b"],
    ];
    for (const [extra, tail, now] of cases) {
      assert.equal(formatUnixListLine({ ...base, ...extra }, now ?? NOW), head + tail);
    }
    const exact: [Partial<UnixListLineEntry>, string][] = [
      [
        { type: "dir", mode: 0o755, nlink: 12345 },
        "drwxr-xr-x 12345 ftp      ftp            11 Nov 20 08:15 a.txt",
      ],
      [
        { owner: "a-long-owner", group: "g" },
        "-rw-r--r--    1 a-long-owner g              11 Nov 20 08:15 a.txt",
      ],
      [
        { type: "other", mode: 0o140755 },
        "srwxr-xr-x    1 ftp      ftp            11 Nov 20 08:15 a.txt",
      ],
      [
        { type: "other", mode: 0o60660 },
        "brw-rw----    1 ftp      ftp            11 Nov 20 08:15 a.txt",
      ],
      [
        { type: "link", name: "my link", target: "../a b", mode: 0o777 },
        "lrwxrwxrwx    1 ftp      ftp            11 Nov 20 08:15 my link -> ../a b",
      ],
    ];
    for (const [extra, line] of exact) {
      assert.equal(formatUnixListLine({ ...base, ...extra }, NOW), line);
    }
  });

  it("decides time or year by each call's now, and keeps the minutes of one day apart", () => {
    const at = (mtime: string, now: Date) =>
      formatUnixListLine({ ...base, mtime: iso(mtime) }, now).slice(-18, -6);
    assert.equal(at("2026-11-20T08:15:00Z", NOW), "Nov 20 08:15");
    assert.equal(at("2026-11-20T08:15:00Z", iso("2028-01-01Z")), "Nov 20  2026");
    assert.equal(at("2026-11-20T08:15:00Z", NOW), "Nov 20 08:15");
    assert.equal(at("2026-11-20T08:16:00Z", NOW), "Nov 20 08:16");
    assert.equal(at("2026-11-20T23:59:59Z", NOW), "Nov 20 23:59");
    assert.equal(at("2026-11-20T00:00:00Z", NOW), "Nov 20 00:00");
  });

  it("formats every day right across many thousands of days, before 1970 too", () => {
    const start = Date.UTC(1960, 0, 1, 6, 30);
    const later = iso("2100-01-01Z");
    for (let d = 0; d < 12_000; d++) {
      const mtime = new Date(start + d * 86_400_000);
      // "Sat, 01 Jan 1960 06:30:00 GMT": the same fields, from the runtime's own formatter.
      const [, dd, month, year] = /^\w+, (\d\d) (\w{3}) (\d{4}) /.exec(mtime.toUTCString())!;
      const expected = `${month} ${String(Number(dd)).padStart(2)}  ${year}`;
      assert.equal(formatUnixListLine({ ...base, mtime }, later).slice(-18, -6), expected);
    }
  });

  it("replaces CR and LF in names so that a name cannot forge a line", () => {
    const line = formatUnixListLine(
      { ...base, name: "x\r\n-rw-r--r-- 1 a a 1 Nov 20 08:15 y" },
      NOW,
    );
    assert.doesNotMatch(line, /[\r\n]/);
  });

  it("round-trips through the parser", () => {
    const entries: UnixListLineEntry[] = [
      base,
      { ...base, name: "  lead and trail  ", mode: 0o4755 },
      { ...base, type: "dir", name: "sub dir", mode: 0o1777, size: 4096, nlink: 3 },
      { ...base, type: "link", name: "l", target: "sub dir/", mode: 0o777 },
      { ...base, name: "old", mtime: iso("1999-12-31T00:00:00Z"), mode: 0o600, size: 2 ** 40 },
      { ...base, name: "2026 next.txt", mtime: iso("2026-11-23T01:02:00Z") },
    ];
    for (const entry of entries) {
      const parsed = parseUnixListLine(formatUnixListLine(entry, NOW), NOW);
      assert.ok(parsed);
      assert.equal(parsed.name, entry.name);
      assert.equal(parsed.type, entry.type);
      assert.equal(parsed.size, entry.size);
      assert.equal(parsed.mode, entry.mode);
      assert.equal(parsed.target, entry.target);
      const minute = Math.floor(entry.mtime.getTime() / 60_000) * 60_000;
      const recent = NOW.getTime() - entry.mtime.getTime() < 15_778_476_000;
      const day = Date.UTC(
        entry.mtime.getUTCFullYear(),
        entry.mtime.getUTCMonth(),
        entry.mtime.getUTCDate(),
      );
      assert.equal(parsed.modify?.getTime(), recent ? minute : day);
    }
  });
});

describe("Windows lines", () => {
  table(WINDOWS_LIST, parseWindowsListLine);
});

describe("parseListLine", () => {
  const custom = (line: string): ListEntry | undefined =>
    line.startsWith("custom:") ? { name: line.slice(7), type: "file", facts: {} } : undefined;
  const unixLine = "-rw-r--r-- 1 ftp ftp 11 Nov 20 08:15 a.txt";

  describe("tries unix, then Windows", () => {
    table(
      [...SERVER_UNIX_LIST, ...UNIX_LIST_ODDITIES].filter((s) => s.entry !== undefined),
      (line) => parseListLine(line, { now: NOW }),
    );
    table(
      WINDOWS_LIST.filter((s) => s.entry !== undefined),
      (line) => parseListLine(line),
    );
  });

  it("returns undefined when no parser understands the line", () => {
    assert.equal(parseListLine("total 12"), undefined);
    assert.equal(parseListLine("garbage"), undefined);
    assert.equal(parseListLine("custom:x", { custom: () => undefined }), undefined);
  });

  it("runs a custom parser first by default", () => {
    const first = (): ListEntry => ({ name: "mine", type: "other", facts: {} });
    assert.equal(parseListLine(unixLine, { custom: first })?.name, "mine");
    assert.equal(parseListLine("custom:z", { custom })?.name, "z");
  });

  it("runs a custom parser last when asked", () => {
    const last = (): ListEntry => ({ name: "mine", type: "other", facts: {} });
    assert.equal(parseListLine(unixLine, { custom: last, customFirst: false })?.name, "a.txt");
    assert.equal(parseListLine("custom:z", { custom, customFirst: false })?.name, "z");
  });

  it("falls through when the custom parser declines", () => {
    assert.equal(parseListLine(unixLine, { custom })?.name, "a.txt");
  });

  it("passes now to the unix parser", () => {
    const line = "-rw-r--r-- 1 ftp ftp 1 Dec 25 18:00 f";
    assert.equal(
      parseListLine(line, { now: iso("2026-12-26T00:00:00Z") })?.modify?.toISOString(),
      "2026-12-25T18:00:00.000Z",
    );
  });
});
