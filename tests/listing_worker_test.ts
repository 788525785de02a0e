/**
 * Listings on worker threads (`lib/fs/listing_worker.ts`): each entry carries the numbers the
 * runtime's own `lstat` gives (and a link its resolved target), and a process that listed a
 * directory, to its end or stopping early, exits by itself: an idle worker does not hold it.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import { type ListingCalls, listInWorker } from "../lib/fs/listing_worker.ts";
import type { FileStat } from "../lib/fs/file_system.ts";
import type { LocalListedEntry } from "../lib/fs/local_file_access.ts";
import { run, runtime, tempDir } from "./_util.ts";

const T = { timeout: 30000 };
const BATCH = 2;

/** The part of Deno's API these tests call (the suite also compiles for Node). */
interface DenoInfo {
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
  size: number;
  mtime: Date | null;
  ctime: Date | null;
  mode: number | null;
  nlink: number | null;
}
interface DenoCalls {
  lstatSync(path: string): DenoInfo;
  statSync(path: string): DenoInfo;
  realPathSync(path: string): string;
}
const deno = (globalThis as unknown as { Deno?: DenoCalls }).Deno;

const kinds: ListingCalls[] = runtime === "deno" ? ["deno", "node"] : ["node"];

/** What the runtime's own blocking lookups say of a path, as a listing should report it. */
function expected(calls: ListingCalls, path: string, follow: boolean): FileStat {
  if (calls === "deno") {
    const s = follow ? deno!.statSync(path) : deno!.lstatSync(path);
    const type = s.isFile ? "file" : s.isDirectory ? "dir" : s.isSymlink ? "link" : "other";
    return {
      type,
      size: type === "dir" ? 0 : s.size,
      mtime: new Date(s.mtime!.getTime()),
      ctime: s.ctime ? new Date(s.ctime.getTime()) : undefined,
      mode: s.mode! & 0o7777,
      nlink: s.nlink!,
    };
  }
  const s = follow ? fs.statSync(path) : fs.lstatSync(path);
  const type = s.isFile()
    ? "file"
    : s.isDirectory()
    ? "dir"
    : s.isSymbolicLink()
    ? "link"
    : "other";
  return {
    type,
    size: type === "dir" ? 0 : s.size,
    mtime: new Date(s.mtime.getTime()),
    ctime: new Date(s.ctime.getTime()),
    mode: s.mode & 0o7777,
    nlink: s.nlink,
  };
}

function realPath(calls: ListingCalls, path: string): string {
  return calls === "deno" ? deno!.realPathSync(path) : fs.realpathSync.native(path);
}

/** Every entry of a listing, by name (Node 20 has no `Array.fromAsync`). */
async function list(calls: ListingCalls, path: string): Promise<Map<string, LocalListedEntry>> {
  const all = new Map<string, LocalListedEntry>();
  const batches = listInWorker(calls, path, {
    batchSize: BATCH,
    fallback: () => assert.fail("a worker lists it"),
  });
  for await (const batch of batches) {
    assert.ok(batch.length > 0 && batch.length <= BATCH);
    for (const entry of batch) {
      assert.ok(!all.has(entry.name), `${entry.name} listed twice`);
      all.set(entry.name, entry);
    }
  }
  return all;
}

/** The listing module as a child process of this runtime imports it (source, or npm build). */
const MODULE_URL = new URL(
  `../lib/fs/listing_worker.${import.meta.url.endsWith(".js") ? "js" : "ts"}`,
  import.meta.url,
).href;

/** Runs a script in a child process of this runtime, bounded in time. */
function runScript(code: string) {
  const args = runtime === "deno"
    ? ["eval", code]
    : runtime === "bun"
    ? ["-e", code]
    : ["--input-type=module", "-e", code];
  return run(process.execPath, args, { timeoutMs: 20000 });
}

for (const calls of kinds) {
  describe(`listing worker: ${calls} calls`, () => {
    let dir: { path: string; remove(): Promise<void> };
    before(async () => {
      dir = await tempDir("streamftp-worker-");
      await writeFile(join(dir.path, "a.txt"), "hello");
      await writeFile(join(dir.path, "empty"), "");
      await mkdir(join(dir.path, "sub dir"));
      await symlink(join(dir.path, "a.txt"), join(dir.path, "link"));
      await symlink(join(dir.path, "nowhere"), join(dir.path, "dangling"));
      fs.chmodSync(join(dir.path, "empty"), 0o600);
    });
    after(() => dir.remove());

    it("gives each entry the numbers of lstat, and a link the stat of its target", T, async () => {
      const entries = await list(calls, dir.path);
      assert.deepEqual([...entries.keys()].sort(), [
        "a.txt",
        "dangling",
        "empty",
        "link",
        "sub dir",
      ]);
      for (const [name, entry] of entries) {
        const full = join(dir.path, name);
        assert.deepEqual(entry.stat, expected(calls, full, false), name);
      }
      assert.equal(entries.get("a.txt")!.stat.size, 5);
      assert.equal(entries.get("empty")!.stat.mode, 0o600);
      const link = entries.get("link")!;
      assert.equal(link.target?.path, realPath(calls, join(dir.path, "a.txt")));
      assert.deepEqual(link.target?.stat, expected(calls, join(dir.path, "a.txt"), true));
      assert.equal(entries.get("dangling")!.target, undefined);
    });

    for (const stop of [false, true]) {
      it(
        `lets a process exit by itself once it listed${stop ? ", stopping early" : ""}`,
        T,
        async () => {
          const code = `
          import { listInWorker } from ${JSON.stringify(MODULE_URL)};
          let count = 0;
          const batches = listInWorker(${JSON.stringify(calls)}, ${JSON.stringify(dir.path)}, {
            batchSize: ${BATCH},
            fallback() { throw new Error("no worker listed it"); },
          });
          for await (const batch of batches) {
            count += batch.length;
            if (${stop}) break;
          }
          console.log("listed " + count);
        `;
          const result = await runScript(code);
          assert.equal(result.stderr.trim(), "");
          assert.equal(result.stdout.trim(), `listed ${stop ? BATCH : 5}`);
          assert.equal(result.code, 0);
        },
      );
    }
  });
}
