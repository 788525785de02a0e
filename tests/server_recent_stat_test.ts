import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type FileStat, MemoryFileSystem } from "../server.ts";
import { RECENT_STAT_MS } from "../lib/server/recent_stat.ts";
import { getFile, putFile, readAll, text, withSession, writeAll } from "./server_raw.ts";

const T = { timeout: 20000 };

/** A memory file system that counts its stats. */
class CountingFileSystem extends MemoryFileSystem {
  stats = 0;

  override stat(path: string): Promise<FileStat> {
    this.stats++;
    return super.stat(path);
  }
}

describe("server: a path check's stat answers the next commands about the path", () => {
  it("SIZE, MDTM and RETR of one file look it up once", T, async () => {
    const fs = new CountingFileSystem();
    await putFile(fs, "/a.txt", "hello");
    await withSession({ fileSystem: fs }, async (c) => {
      fs.stats = 0;
      const started = performance.now();
      assert.equal(await c.ask("SIZE a.txt"), "213 5");
      assert.match(await c.ask("MDTM a.txt"), /^213 \d{14}$/);
      assert.equal(await c.ask("TYPE I"), "200 type set to I");
      const data = await c.pasv();
      assert.equal(await c.ask("RETR a.txt"), "150 data transfer started");
      assert.equal(text(await readAll(data)), "hello");
      assert.equal(await c.next(), "226 transfer done");
      // On a machine so slow that the commands took longer than the reuse window, each
      // looked again: then there is nothing to tell.
      if (performance.now() - started < RECENT_STAT_MS) assert.equal(fs.stats, 1);
    });
  });

  it("the same verb again looks again, and sees a changed file", T, async () => {
    const fs = new CountingFileSystem();
    await putFile(fs, "/a.txt", "hello");
    await withSession({ fileSystem: fs }, async (c) => {
      assert.equal(await c.ask("SIZE a.txt"), "213 5");
      await putFile(fs, "/a.txt", "hello, world");
      fs.stats = 0;
      assert.equal(await c.ask("SIZE a.txt"), "213 12");
      assert.equal(fs.stats, 1);
    });
  });

  it("a command that may change files drops it", T, async () => {
    const fs = new CountingFileSystem();
    await putFile(fs, "/a.txt", "hello");
    await withSession({ fileSystem: fs }, async (c) => {
      assert.equal(await c.ask("SIZE a.txt"), "213 5");
      assert.equal(await c.ask("DELE a.txt"), "250 file deleted");
      assert.equal(await c.ask("MDTM a.txt"), "550 path does not exist");

      await putFile(fs, "/b.txt", "abc");
      assert.match(await c.ask("MDTM b.txt"), /^213 /);
      const data = await c.pasv();
      assert.equal(await c.ask("STOR b.txt"), "150 data transfer started");
      await writeAll(data, new TextEncoder().encode("a longer body"));
      data.close();
      assert.equal(await c.next(), "226 transfer done");
      fs.stats = 0;
      assert.equal(await c.ask("SIZE b.txt"), "213 13");
      assert.equal(fs.stats, 1);
      assert.equal(new TextDecoder().decode(await getFile(fs, "/b.txt")), "a longer body");
    });
  });
});
