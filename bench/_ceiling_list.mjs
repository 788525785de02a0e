/**
 * The listing ceiling of one runtime: read a directory, lstat every entry and format one
 * `ls -l`-like line each into one encoded buffer, what a LIST costs without FTP. The calls:
 * `sync` (Deno: `readDirSync` + `lstatSync`; node:fs: `readdirSync` + `lstatSync`), `serial`
 * (the promise calls, one lstat awaited after the other) or `batched` (the names first, then
 * their lstats in parallel batches of BATCH promises).
 *
 * Usage: `<runtime> bench/_ceiling_list.mjs DIR ENTRIES sync|serial|batched [BATCH]`. One
 * untimed pass first, then one timed; each must find ENTRIES entries. Prints
 * `{"seconds", "cpu", "entries", "bytes"}`.
 *
 * @module
 */

import { lstatSync, readdirSync } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import process from "node:process";
import { api, args, cpuSeconds, fail, positive, report } from "./_ceiling_common.mjs";

const [dir, entriesArg, mode, batchArg] = args(
  "_ceiling_list.mjs DIR ENTRIES sync|serial|batched [BATCH]",
  3,
);
const entries = positive(entriesArg, "ENTRIES");
const batch = positive(batchArg ?? "64", "BATCH");
if (!["sync", "serial", "batched"].includes(mode)) fail(`unknown mode "${mode}"`);

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const PERMISSIONS = ["---", "--x", "-w-", "-wx", "r--", "r-x", "rw-", "rwx"];
const HALF_YEAR_MS = 182 * 24 * 3600 * 1000;
const now = Date.now();
const pad2 = (n) => (n < 10 ? `0${n}` : `${n}`);

/** One `ls -l` line: type and mode, links, owner, group, size, date, name. */
function line(name, info) {
  const mode = info.mode ?? 0o644;
  const type = info.isDirectory === true || (typeof info.isDirectory === "function" &&
      info.isDirectory())
    ? "d"
    : "-";
  const permissions = PERMISSIONS[(mode >> 6) & 7] + PERMISSIONS[(mode >> 3) & 7] +
    PERMISSIONS[mode & 7];
  const mtime = info.mtime ?? new Date(0);
  const day = `${MONTHS[mtime.getUTCMonth()]} ${String(mtime.getUTCDate()).padStart(2)}`;
  const when = Math.abs(now - mtime.getTime()) < HALF_YEAR_MS
    ? `${pad2(mtime.getUTCHours())}:${pad2(mtime.getUTCMinutes())}`
    : ` ${mtime.getUTCFullYear()}`;
  return `${type}${permissions} ${String(info.nlink ?? 1).padStart(3)} ftp      ftp      ${
    String(info.size).padStart(12)
  } ${day} ${when} ${name}\r\n`;
}

const join = (name) => `${dir}/${name}`;

/** The directory's listing text, with the API's calls. */
const listings = {
  deno: {
    sync() {
      let text = "";
      for (const entry of Deno.readDirSync(dir)) {
        text += line(entry.name, Deno.lstatSync(join(entry.name)));
      }
      return text;
    },
    async serial() {
      let text = "";
      for await (const entry of Deno.readDir(dir)) {
        text += line(entry.name, await Deno.lstat(join(entry.name)));
      }
      return text;
    },
    async batched() {
      const names = [];
      for await (const entry of Deno.readDir(dir)) names.push(entry.name);
      return await linesInBatches(names, (path) => Deno.lstat(path));
    },
  },
  node: {
    sync() {
      let text = "";
      for (const name of readdirSync(dir)) text += line(name, lstatSync(join(name)));
      return text;
    },
    async serial() {
      let text = "";
      for (const name of await readdir(dir)) text += line(name, await lstat(join(name)));
      return text;
    },
    async batched() {
      return await linesInBatches(await readdir(dir), lstat);
    },
  },
};

async function linesInBatches(names, lstatOf) {
  let text = "";
  for (let start = 0; start < names.length; start += batch) {
    const slice = names.slice(start, start + batch);
    const infos = await Promise.all(slice.map((name) => lstatOf(join(name))));
    for (let i = 0; i < slice.length; i++) text += line(slice[i], infos[i]);
  }
  return text;
}

const list = listings[api === "deno" ? "deno" : "node"][mode];
const encoder = new TextEncoder();

function check(bytes) {
  let lines = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) lines++;
  if (lines !== entries) fail(`listed ${lines} entries, expected ${entries}`);
}

check(encoder.encode(await list()));
const started = performance.now();
const cpu = cpuSeconds();
const bytes = encoder.encode(await list());
const seconds = (performance.now() - started) / 1000;
const used = cpuSeconds() - cpu;
check(bytes);
report({ seconds, cpu: used, entries, bytes: bytes.length });
process.exit(0);
