import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type FileStat, LocalFileSystem, MemoryFileSystem } from "../server.ts";
import { RECENT_STAT_MS } from "../lib/server/recent_stat.ts";
import { getFile, putFile, readAll, text, withSession, writeAll } from "./server_raw.ts";
import { tempDir } from "./_util.ts";

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

/** A memory file system that records the reads it is asked to prepare, and their ends. */
class PreparingFileSystem extends MemoryFileSystem {
  prepared: string[] = [];
  dropped: string[] = [];

  prepareRead(path: string, _stat: FileStat): () => void {
    this.prepared.push(path);
    return () => void this.dropped.push(path);
  }
}

describe("server: reads prepared after SIZE, MDTM and MLST", () => {
  /** SIZE, MDTM, PASV and RETR of `name`, as lftp fetches a file. */
  async function fetchLikeLftp(c: Parameters<Parameters<typeof withSession>[1]>[0], name: string) {
    assert.match(await c.ask(`SIZE ${name}`), /^213 \d+$/);
    assert.match(await c.ask(`MDTM ${name}`), /^213 \d{14}$/);
    const data = await c.pasv();
    assert.equal(await c.ask(`RETR ${name}`), "150 data transfer started");
    const body = text(await readAll(data));
    assert.equal(await c.next(), "226 transfer done");
    return body;
  }

  it("once a RETR followed them, until a prepared read goes unused", T, async () => {
    const fs = new PreparingFileSystem();
    for (const name of ["a", "b", "c", "d", "e"]) await putFile(fs, `/${name}`, `body ${name}`);
    await withSession({ fileSystem: fs }, async (c) => {
      assert.equal(await c.ask("TYPE I"), "200 type set to I");
      // The first file shows the pattern; the next ones are prepared, once each.
      const started = performance.now();
      for (const name of ["a", "b", "c"]) {
        assert.equal(await fetchLikeLftp(c, name), `body ${name}`);
      }
      if (performance.now() - started >= RECENT_STAT_MS) return; // too slow a machine to tell
      assert.deepEqual(fs.prepared, ["/b", "/c"]);
      // A prepared read that no RETR uses is given up, and preparing stops.
      assert.match(await c.ask("SIZE d"), /^213 /);
      assert.deepEqual(fs.prepared, ["/b", "/c", "/d"]);
      assert.equal(await c.ask("DELE e"), "250 file deleted");
      assert.ok(fs.dropped.includes("/d"), fs.dropped.join(", "));
      assert.match(await c.ask("SIZE a"), /^213 /);
      assert.match(await c.ask("NOOP"), /^200/);
      assert.deepEqual(fs.prepared, ["/b", "/c", "/d"]);
      // A directory, or a file that is not there, is never prepared.
      assert.equal(await c.ask("MKD sub"), '257 "/sub" created');
      assert.equal(await fetchLikeLftp(c, "a"), "body a"); // the pattern again
      assert.equal(await c.ask("SIZE sub"), "550 path is not a file");
      assert.equal(await c.ask("SIZE nothing"), "550 path does not exist");
      assert.deepEqual(fs.prepared, ["/b", "/c", "/d"]);
      assert.match(await c.ask("SIZE b"), /^213 /);
      assert.deepEqual(fs.prepared, ["/b", "/c", "/d", "/b"]);
      const data = await c.pasv();
      assert.equal(await c.ask("RETR b"), "150 data transfer started");
      assert.equal(text(await readAll(data)), "body b");
      assert.equal(await c.next(), "226 transfer done");
      // streamftp's download() looks with MLST before its RETR.
      const listed = await c.ask("MLST c");
      assert.match(listed, /^250 /);
      assert.deepEqual(fs.prepared, ["/b", "/c", "/d", "/b", "/c"]);
    });
    // The session's end gives up the last one.
    assert.equal(fs.dropped.at(-1), "/c");
  });

  it("a local file's RETR sends what its SIZE saw, though it was replaced between", T, async () => {
    const dir = await tempDir("streamftp-prepared-");
    try {
      for (const name of ["a", "b", "c"]) await writeFile(join(dir.path, name), `body ${name}`);
      await withSession({ fileSystem: new LocalFileSystem(dir.path) }, async (c) => {
        assert.equal(await c.ask("TYPE I"), "200 type set to I");
        assert.equal(await fetchLikeLftp(c, "a"), "body a");
        const started = performance.now();
        assert.equal(await c.ask("SIZE b"), "213 6");
        await writeFile(join(dir.path, "new"), "a longer body b");
        await rename(join(dir.path, "new"), join(dir.path, "b"));
        const data = await c.pasv();
        assert.equal(await c.ask("RETR b"), "150 data transfer started");
        const body = text(await readAll(data));
        assert.equal(await c.next(), "226 transfer done");
        if (performance.now() - started < RECENT_STAT_MS) assert.equal(body, "body b");
        // The next look sees the new file.
        assert.equal(await fetchLikeLftp(c, "b"), "a longer body b");
        assert.equal(await fetchLikeLftp(c, "c"), "body c");
      });
    } finally {
      await dir.remove();
    }
  });
});
