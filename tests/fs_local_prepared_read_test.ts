/**
 * `LocalFileSystem.prepareRead`: a read opened ahead for a stat the file system just made,
 * which `openRead(path, { stat })` then is; given up when told or after 1 s; never made for a
 * directory, a large file, or a stat of another path or file system.
 */

import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { LocalFileSystem } from "../lib/fs/local.ts";
import { localFileSystemWith, localVariants } from "./_fs_variants.ts";
import { tempDir } from "./_util.ts";

const text = (stream: ReadableStream<Uint8Array>) => new Response(stream).text();

/** Open descriptors of this process, where the system lists them. */
const fds = existsSync("/proc/self/fd") ? () => readdirSync("/proc/self/fd").length : undefined;

/** Waits until `condition` holds, for at most `ms`. */
async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

for (const variant of localVariants) {
  describe(`LocalFileSystem: reads prepared ahead (${variant.name})`, () => {
    let root: { path: string; remove(): Promise<void> };
    let fs: LocalFileSystem;
    before(async () => {
      root = await tempDir("streamftp-prepared-");
      await mkdir(join(root.path, "sub"));
      fs = localFileSystemWith(variant.access, root.path, { syncLookups: variant.syncLookups });
    });
    after(() => root.remove());

    it("openRead with the stat is the prepared read: the file as it was when prepared", async () => {
      await writeFile(join(root.path, "a.txt"), "first");
      const stat = await fs.stat("/a.txt");
      const drop = fs.prepareRead("/a.txt", stat);
      assert.equal(typeof drop, "function");
      // Replaced after it was prepared: the prepared read has the file it opened.
      await writeFile(join(root.path, "new"), "second version");
      await rename(join(root.path, "new"), join(root.path, "a.txt"));
      assert.equal(await text(await fs.openRead("/a.txt", { stat })), "first");
      // Asked for again, or from an offset, or without the stat: the file as it is now.
      assert.equal(await text(await fs.openRead("/a.txt", { stat })), "second version");
      assert.equal(fs.prepareRead("/a.txt", stat) !== undefined, true);
      assert.equal(await text(await fs.openRead("/a.txt", { stat, offset: 7 })), "version");
      assert.equal(await text(await fs.openRead("/a.txt")), "second version");
      drop!();
      drop!(); // given up twice: nothing happens
    });

    it("a prepared read given up, or not asked for within 1 s, closes its file", {
      skip: fds ? false : "no /proc/self/fd here",
    }, async () => {
      await writeFile(join(root.path, "b.txt"), "bee");
      const open = fds!();
      const drop = fs.prepareRead("/b.txt", await fs.stat("/b.txt"))!;
      await until(() => fds!() === open + 1, 2000, "the file opened");
      drop();
      await until(() => fds!() === open, 2000, "the file closed when given up");
      fs.prepareRead("/b.txt", await fs.stat("/b.txt"));
      await until(() => fds!() === open + 1, 2000, "the file opened");
      await until(() => fds!() === open, 3000, "the file closed after 1 s");
    });

    it("nothing is prepared for a directory, a large file, or a stat it did not make for the path", async () => {
      await writeFile(join(root.path, "c.txt"), "sea");
      await writeFile(join(root.path, "big"), new Uint8Array(70_000));
      assert.equal(fs.prepareRead("/sub", await fs.stat("/sub")), undefined);
      assert.equal(fs.prepareRead("/big", await fs.stat("/big")), undefined);
      assert.equal(fs.prepareRead("/a.txt", await fs.stat("/c.txt")), undefined);
      const other = localFileSystemWith(variant.access, root.path);
      assert.equal(fs.prepareRead("/c.txt", await other.stat("/c.txt")), undefined);
      assert.equal(
        fs.prepareRead("/c.txt", { ...(await fs.stat("/c.txt")), nlink: 1 }),
        undefined,
      );
    });
  });
}
