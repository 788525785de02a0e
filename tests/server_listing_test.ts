import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemoryFileSystem } from "../server.ts";
import { putFile, RawControl, readAll, text, withServer, withSession } from "./server_raw.ts";

const T = { timeout: 30000 };
const MODIFIED = new Date(Date.UTC(2020, 0, 2, 3, 4, 5));

async function tree(): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem();
  await putFile(fs, "/a.txt", "abc");
  await fs.setModifiedTime("/a.txt", MODIFIED);
  await fs.mkdir("/sub");
  await putFile(fs, "/sub/inner.bin", "12345");
  await putFile(fs, "/sub/sp ace.txt", "");
  return fs;
}

async function session(fn: (c: RawControl, fs: MemoryFileSystem) => Promise<void>): Promise<void> {
  const fs = await tree();
  await withSession({ fileSystem: fs }, (c) => fn(c, fs));
}

/** Runs a listing command and returns its lines. */
async function listing(
  c: RawControl,
  command: string,
  done = "226 list transfer done",
): Promise<string[]> {
  const data = await c.pasv();
  const opening = await c.ask(command);
  assert.match(opening, /^150 /, `${command}: ${opening}`);
  const lines = text(await readAll(data)).split("\r\n");
  assert.equal(lines.pop(), "", "listing does not end with CRLF");
  assert.equal(await c.next(), done);
  return lines;
}

const names = (lines: string[]) => lines.map((l) => l.slice(l.lastIndexOf(" ") + 1)).sort();

describe("server: listings", () => {
  it("LIST in ls -l form; options accepted and ignored; a path after options", T, async () => {
    await session(async (c) => {
      const root = await listing(c, "LIST");
      assert.equal(root.length, 2);
      assert.match(
        root.find((l) => l.endsWith(" a.txt"))!,
        /^-rw-r--r-- +\d+ \S+ +\S+ +3 .+ a\.txt$/,
      );
      assert.match(root.find((l) => l.endsWith(" sub"))!, /^d[rwx-]{9} /);
      for (const command of ["LIST -la", "LIST -al", "LIST -l -a", "LIST -a /"]) {
        assert.deepEqual(names(await listing(c, command)), ["a.txt", "sub"], command);
      }
      const sub = await listing(c, "LIST -la sub");
      assert.ok(sub.some((l) => l.endsWith(" sp ace.txt")));
      assert.ok(sub.some((l) => l.endsWith(" inner.bin")));
      const file = await listing(c, "LIST a.txt");
      assert.equal(file.length, 1);
      assert.ok(file[0].endsWith(" a.txt"));
      await c.pasv();
      assert.equal(await c.ask("LIST missing"), "550 path does not exist");
    });
  });

  it("NLST gives names only", T, async () => {
    await session(async (c) => {
      assert.deepEqual((await listing(c, "NLST")).sort(), ["a.txt", "sub"]);
      assert.deepEqual((await listing(c, "NLST sub")).sort(), ["inner.bin", "sp ace.txt"]);
    });
  });

  it("MLSD facts (RFC 3659), OPTS MLST chooses them, MLSD on a file is 501", T, async () => {
    await session(async (c) => {
      const lines = await listing(c, "MLSD", "226 mlsd transfer done");
      const a = lines.find((l) => l.endsWith(" a.txt"))!;
      assert.equal(a, "type=file;size=3;modify=20200102030405;perm=radfw;unix.mode=0644; a.txt");
      const sub = lines.find((l) => l.endsWith(" sub"))!;
      assert.match(sub, /^type=dir;size=\d+;modify=\d{14};perm=elcdfmp;unix\.mode=0\d{3}; sub$/);
      const inner = await listing(c, "MLSD sub", "226 mlsd transfer done");
      assert.ok(inner.some((l) => l.endsWith("; sp ace.txt")));
      assert.equal(await c.ask("OPTS MLST size;modify;"), "200 MLST OPTS size;modify;");
      assert.deepEqual(
        (await listing(c, "MLSD", "226 mlsd transfer done")).find((l) => l.endsWith(" a.txt")),
        "size=3;modify=20200102030405; a.txt",
      );
      await c.pasv();
      assert.equal(await c.ask("MLSD a.txt"), "501 path is not a directory");
      assert.equal(await c.ask("MLSD missing"), "550 path does not exist");
    });
  });

  it("MLST answers on the control channel", T, async () => {
    await session(async (c) => {
      assert.deepEqual(await c.command("MLST a.txt"), {
        code: 250,
        lines: [
          "Listing /a.txt",
          " type=file;size=3;modify=20200102030405;perm=radfw;unix.mode=0644; /a.txt",
          "End",
        ],
      });
      const cwd = await c.command("MLST");
      assert.equal(cwd.lines[0], "Listing /");
      assert.match(cwd.lines[1], /^ type=dir;.* \/$/);
      assert.equal(await c.ask("MLST missing"), "550 path does not exist");
    });
  });

  it(
    "STAT with a path lists over the control channel: 212 for a directory, 213 for a file",
    T,
    async () => {
      await session(async (c) => {
        const dir = await c.command("STAT sub");
        assert.equal(dir.code, 212);
        assert.equal(dir.lines[0], "Status of /sub:");
        assert.equal(dir.lines.at(-1), "End of status");
        assert.equal(dir.lines.length, 4);
        assert.ok(dir.lines.some((l) => /^ -.* sp ace\.txt$/.test(l)));
        const file = await c.command("STAT -la a.txt");
        assert.equal(file.code, 213);
        assert.match(file.lines[1], /^ -rw-r--r-- .* a\.txt$/);
        assert.equal(await c.ask("STAT missing"), "550 path does not exist");
      });
    },
  );

  it("SIZE, MDTM and MFMT", T, async () => {
    await session(async (c) => {
      assert.equal(await c.ask("SIZE a.txt"), "213 3");
      assert.equal(await c.ask("SIZE sub"), "550 path is not a file");
      assert.equal(await c.ask("SIZE missing"), "550 path does not exist");
      assert.equal(await c.ask("MDTM a.txt"), "213 20200102030405");
      assert.equal(await c.ask("MFMT 20210304050607 a.txt"), "213 Modify=20210304050607; a.txt");
      assert.equal(await c.ask("MDTM a.txt"), "213 20210304050607");
      assert.equal(
        await c.ask("MFMT 2021 a.txt"),
        "501 syntax error, use MFMT YYYYMMDDHHMMSS path",
      );
      assert.equal(await c.ask("MFMT 20210304050607 missing"), "550 path does not exist");
    });
  });

  it("a directory of 100,000 entries streams with every name", T, async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir("/many");
    const count = 100_000;
    for (let i = 0; i < count; i++) await fs.mkdir(`/many/entry-${i}`);
    await withServer({ fileSystem: fs }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login();
      for (
        const [command, done] of [["LIST many", "226 list transfer done"], [
          "MLSD many",
          "226 mlsd transfer done",
        ]]
      ) {
        const lines = await listing(c, command, done);
        assert.equal(lines.length, count, command);
        const seen = new Set(lines.map((l) => l.slice(l.lastIndexOf(" ") + 1)));
        for (let i = 0; i < count; i++) {
          assert.ok(seen.has(`entry-${i}`), `${command} lacks entry-${i}`);
        }
      }
      c.close();
    });
  });
});
