import assert from "node:assert/strict";
import { mkdir, readdir, readFile, symlink, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PathError } from "../lib/errors.ts";
import type { FileSystem } from "../lib/fs/file_system.ts";
import type { LocalFileSystem } from "../lib/fs/local.ts";
import { MemoryFileSystem } from "../lib/fs/memory.ts";
import { resolveVirtualPath } from "../lib/fs/virtual_path.ts";
import { concatBytes } from "../lib/stream/bytes.ts";
import { randomBytes, sha256, tempDir } from "./_util.ts";
import { localFileSystemWith, localVariants } from "./_fs_variants.ts";

const encoder = new TextEncoder();

async function write(fs: FileSystem, path: string, data: Uint8Array | string, options = {}) {
  const writable = await fs.openWrite(path, options);
  const writer = writable.getWriter();
  await writer.write(typeof data === "string" ? encoder.encode(data) : data);
  await writer.close();
}

async function read(fs: FileSystem, path: string, offset?: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of await fs.openRead(path, { offset })) chunks.push(chunk);
  return concatBytes(chunks);
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function rejectsKind(promise: Promise<unknown>, kind: string) {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof PathError, `expected PathError, got ${e}`);
    assert.equal(e.kind, kind);
    return true;
  });
}

async function names(fs: FileSystem, path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of fs.list(path)) out.push(entry.name);
  return out.sort();
}

describe("resolveVirtualPath", () => {
  it("clamps .. at the root and resolves relative paths", () => {
    assert.equal(resolveVirtualPath("/", "../../etc/passwd"), "/etc/passwd");
    assert.equal(resolveVirtualPath("/a/b", "../c"), "/a/c");
    assert.equal(resolveVirtualPath("/a", ""), "/a");
    assert.equal(resolveVirtualPath("/a", "/x/./y//z/.."), "/x/y");
  });
  it("refuses NUL bytes", () => {
    assert.throws(() => resolveVirtualPath("/", "a\0b"), (e: unknown) => {
      return e instanceof PathError && e.kind === "invalid-path";
    });
  });
});

function contract(name: string, make: () => Promise<{ fs: FileSystem; cleanup(): Promise<void> }>) {
  describe(`${name} (FileSystem contract)`, () => {
    let fs: FileSystem;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ fs, cleanup } = await make());
    });
    after(() => cleanup());

    it("stat, exists, isFile and isDir", async () => {
      await fs.mkdir("/s");
      await write(fs, "/s/f.txt", "hello");
      const st = await fs.stat("/s/f.txt");
      assert.equal(st.type, "file");
      assert.equal(st.size, 5);
      assert.ok(st.mtime instanceof Date);
      assert.equal((await fs.stat("/s")).type, "dir");
      assert.equal(await fs.exists("/s/f.txt"), true);
      assert.equal(await fs.exists("/s/none"), false);
      assert.equal(await fs.exists("/s/f.txt/child"), false);
      assert.equal(await fs.isFile("/s/f.txt"), true);
      assert.equal(await fs.isDir("/s/f.txt"), false);
      assert.equal(await fs.isDir("/s"), true);
      await rejectsKind(fs.stat("/s/none"), "not-found");
    });

    it("mkdir with and without parents", async () => {
      await fs.mkdir("/m/a/b", { parents: true });
      assert.equal(await fs.isDir("/m/a/b"), true);
      await fs.mkdir("/m/a/b", { parents: true });
      await rejectsKind(fs.mkdir("/m/a"), "exists");
      await rejectsKind(fs.mkdir("/m/missing/x"), "not-found");
      await write(fs, "/m/file", "x");
      await rejectsKind(fs.mkdir("/m/file"), "exists");
      await rejectsKind(fs.mkdir("/m/file/sub"), "not-a-directory");
    });

    it("rmdir and unlink refuse the wrong kind of path", async () => {
      await fs.mkdir("/r/full/inner", { parents: true });
      await write(fs, "/r/f", "x");
      await rejectsKind(fs.rmdir("/r/none"), "not-found");
      await rejectsKind(fs.rmdir("/r/f"), "not-a-directory");
      await rejectsKind(fs.rmdir("/r/full"), "not-empty");
      await rejectsKind(fs.unlink("/r/none"), "not-found");
      await rejectsKind(fs.unlink("/r/full"), "is-a-directory");
      await fs.rmdir("/r/full/inner");
      await fs.unlink("/r/f");
      assert.deepEqual(await names(fs, "/r"), ["full"]);
    });

    it("rename files and directories", async () => {
      await fs.mkdir("/n/d", { parents: true });
      await write(fs, "/n/d/a", "A");
      await write(fs, "/n/b", "B");
      await fs.rename("/n/d/a", "/n/a2");
      assert.equal(text(await read(fs, "/n/a2")), "A");
      await fs.rename("/n/d", "/n/d2");
      assert.equal(await fs.isDir("/n/d2"), true);
      await fs.rename("/n/a2", "/n/b");
      assert.equal(text(await read(fs, "/n/b")), "A");
      await rejectsKind(fs.rename("/n/none", "/n/x"), "not-found");
      await rejectsKind(fs.rename("/n/b", "/n/missing/x"), "not-found");
    });

    it("openRead honours offsets, also past the end", async () => {
      await write(fs, "/o.txt", "0123456789");
      assert.equal(text(await read(fs, "/o.txt")), "0123456789");
      assert.equal(text(await read(fs, "/o.txt", 4)), "456789");
      assert.equal(text(await read(fs, "/o.txt", 50)), "");
      await rejectsKind(fs.openRead("/nothing"), "not-found");
      await fs.mkdir("/odir");
      await rejectsKind(fs.openRead("/odir"), "is-a-directory");
    });

    it("openRead is a byte stream: a BYOB reader's buffers are filled, the file stays whole", async () => {
      const data = randomBytes(300_000, 11);
      await write(fs, "/byob.bin", data);
      for (const offset of [0, 5, 299_999]) {
        const reader = (await fs.openRead("/byob.bin", { offset })).getReader({ mode: "byob" });
        const chunks: Uint8Array[] = [];
        let buffer = new ArrayBuffer(100_000);
        while (true) {
          const { value, done } = await reader.read(new Uint8Array(buffer, 0, 100_000));
          if (done) break;
          assert.ok(value.byteLength <= 100_000);
          chunks.push(value.slice());
          buffer = value.buffer as ArrayBuffer; // the same memory, handed back
        }
        assert.equal(
          sha256(concatBytes(chunks)),
          sha256(data.subarray(offset)),
          `offset ${offset}`,
        );
      }
      // Read with both kinds of reader, the file is what was written.
      assert.equal(sha256(await read(fs, "/byob.bin")), sha256(data));
    });

    it("openWrite at an offset keeps the bytes around it (REST + STOR)", async () => {
      for (const n of [0, 2, 6, 9]) {
        const atom = "foobar";
        await write(fs, `/w${n}`, atom);
        await write(fs, `/w${n}`, "123", n === 0 ? {} : { offset: n });
        const expected = n === 0
          ? "123"
          : atom.slice(0, n) + "\0".repeat(Math.max(0, n - atom.length)) + "123" +
            atom.slice(n + 3);
        assert.equal(text(await read(fs, `/w${n}`)), expected, `offset ${n}`);
      }
    });

    it("openWrite appends and truncates", async () => {
      await write(fs, "/ap", "abc");
      await write(fs, "/ap", "def", { append: true });
      assert.equal(text(await read(fs, "/ap")), "abcdef");
      await write(fs, "/ap", "x");
      assert.equal(text(await read(fs, "/ap")), "x");
      await rejectsKind(write(fs, "/no/such/dir/file", "x"), "not-found");
    });

    it("an aborted write keeps what was written", async () => {
      const writer = (await fs.openWrite("/partial")).getWriter();
      await writer.write(encoder.encode("kept"));
      await writer.abort(new Error("interrupted"));
      assert.equal(text(await read(fs, "/partial")), "kept");
    });

    it("moves an 8 MiB file intact in chunks of at least 64 KiB", async () => {
      const data = randomBytes(8 * 1024 * 1024 + 123, 7);
      const writable = await fs.openWrite("/big.bin");
      const writer = writable.getWriter();
      for (let i = 0; i < data.length; i += 1_000_000) {
        await writer.write(data.slice(i, i + 1_000_000));
      }
      await writer.close();
      assert.equal((await fs.stat("/big.bin")).size, data.length);
      const sizes: number[] = [];
      const hash = await (async () => {
        const chunks: Uint8Array[] = [];
        for await (const chunk of await fs.openRead("/big.bin")) {
          sizes.push(chunk.length);
          chunks.push(chunk);
        }
        return sha256(concatBytes(chunks));
      })();
      assert.equal(hash, sha256(data));
      assert.ok(
        sizes.slice(0, -1).every((n) => n >= 64 * 1024),
        `chunk sizes ${sizes.slice(0, 5)}`,
      );
    });

    it("lists 2,000 entries", async () => {
      await fs.mkdir("/many");
      for (let i = 0; i < 2000; i++) await write(fs, `/many/f${i}`, String(i));
      const listed = await names(fs, "/many");
      assert.equal(listed.length, 2000);
      assert.ok(listed.includes("f1999"));
      let sizes = 0;
      for await (const entry of fs.list("/many")) sizes += entry.stat.size;
      assert.equal(
        sizes,
        Array.from({ length: 2000 }, (_, i) => String(i).length).reduce((a, b) => a + b),
      );
      await rejectsKind(
        (async () => {
          for await (const _ of fs.list("/missing")) { /* drain */ }
        })(),
        "not-found",
      );
    });

    it("setModifiedTime and chmod", async () => {
      await write(fs, "/t", "x");
      const when = new Date(Date.UTC(2001, 0, 2, 3, 4, 5));
      await fs.setModifiedTime("/t", when);
      assert.equal((await fs.stat("/t")).mtime.getTime(), when.getTime());
      assert.ok(fs.chmod, "chmod is supported");
      await fs.chmod!("/t", 0o600);
      assert.equal((await fs.stat("/t")).mode, 0o600);
    });

    it("lets a producer reuse its buffer once write() resolved", async () => {
      // Small chunks (gathered) and chunks larger than any gather buffer, all from one buffer
      // that the producer overwrites as soon as each write resolves.
      for (const size of [1000, 100_000, 700_000]) {
        const buffer = new Uint8Array(size);
        const expected = new Uint8Array(size * 12);
        const writer = (await fs.openWrite(`/reuse${size}`)).getWriter();
        for (let i = 0; i < 12; i++) {
          buffer.fill(i + 1);
          expected.fill(i + 1, i * size, (i + 1) * size);
          await writer.write(buffer);
        }
        buffer.fill(0xee);
        await writer.close();
        const got = await read(fs, `/reuse${size}`);
        assert.equal(got.length, expected.length);
        assert.ok(
          sha256(got) === sha256(expected),
          `chunks of ${size}: the file holds ${[...new Set(got)].join(",")} instead of 1..12`,
        );
      }
    });

    it("openRead takes the stat that stat() returned, and only for its own path", async () => {
      await write(fs, "/sa", "contents of a");
      await write(fs, "/sb", "b");
      await fs.mkdir("/sdir");
      const stat = await fs.stat("/sa");
      const chunks: Uint8Array[] = [];
      for await (const chunk of await fs.openRead("/sa", { stat, offset: 9 })) chunks.push(chunk);
      assert.equal(text(concatBytes(chunks)), "of a");
      // A stat of another path is not trusted for this one.
      const other: Uint8Array[] = [];
      for await (const chunk of await fs.openRead("/sb", { stat })) other.push(chunk);
      assert.equal(text(concatBytes(other)), "b");
      await rejectsKind(fs.openRead("/sdir", { stat: await fs.stat("/sdir") }), "is-a-directory");
      // The file grew after the stat: everything is read, not just the size the stat saw.
      const small = await fs.stat("/sb");
      await write(fs, "/sb", "0123456789".repeat(40_000), { append: true });
      const grown: Uint8Array[] = [];
      for await (const chunk of await fs.openRead("/sb", { stat: small })) grown.push(chunk);
      assert.equal(concatBytes(grown).length, 1 + 400_000);
    });

    it("openWrite with createNew creates a file, and never opens an existing one", async () => {
      await write(fs, "/cn", "fresh", { createNew: true });
      assert.equal(text(await read(fs, "/cn")), "fresh");
      await rejectsKind(write(fs, "/cn", "x", { createNew: true }), "exists");
      await fs.mkdir("/cndir");
      await rejectsKind(write(fs, "/cndir", "x", { createNew: true }), "exists");
      assert.equal(text(await read(fs, "/cn")), "fresh", "an exclusive create truncated the file");
    });

    it("realPath normalizes a path without links, existing or not", async () => {
      assert.ok(fs.realPath, "realPath is supported");
      await fs.mkdir("/rp/sub", { parents: true });
      assert.equal(await fs.realPath!("/rp/./sub/../sub"), "/rp/sub");
      assert.equal(await fs.realPath!("rp/none/deeper"), "/rp/none/deeper");
      assert.equal(await fs.realPath!("/"), "/");
    });

    it("serves concurrent readers independently", async () => {
      const data = randomBytes(1024 * 1024, 3);
      await write(fs, "/c.bin", data);
      const [a, b] = await Promise.all([read(fs, "/c.bin"), read(fs, "/c.bin", 1000)]);
      assert.equal(sha256(a), sha256(data));
      assert.equal(sha256(b), sha256(data.subarray(1000)));
    });
  });
}

contract("MemoryFileSystem", () => {
  return Promise.resolve({ fs: new MemoryFileSystem(), cleanup: () => Promise.resolve() });
});

for (const variant of localVariants) {
  contract(`LocalFileSystem (${variant.name})`, async () => {
    const dir = await tempDir();
    const fs = localFileSystemWith(variant.access, dir.path, { syncLookups: variant.syncLookups });
    return { fs, cleanup: dir.remove };
  });
  confinement(variant);
}

function confinement(variant: (typeof localVariants)[number]) {
  describe(`LocalFileSystem confinement (${variant.name})`, () => {
    let root: { path: string; remove(): Promise<void> };
    let outside: { path: string; remove(): Promise<void> };
    let fs: LocalFileSystem;
    before(async () => {
      root = await tempDir("streamftp-root-");
      outside = await tempDir("streamftp-outside-");
      await writeFile(join(outside.path, "canary"), "secret");
      await mkdir(join(root.path, "inside"));
      await writeFile(join(root.path, "inside", "real.txt"), "inside");
      await symlink(outside.path, join(root.path, "escape"));
      await symlink(join(outside.path, "canary"), join(root.path, "canary-link"));
      await symlink(join(outside.path, "new-file"), join(root.path, "dangling"));
      await symlink(join(root.path, "inside", "real.txt"), join(root.path, "good-link"));
      fs = localFileSystemWith(variant.access, root.path, { syncLookups: variant.syncLookups });
    });
    after(async () => {
      await root.remove();
      await outside.remove();
    });

    it("keeps .. and absolute paths inside the root", async () => {
      await write(fs, "/../../../x.txt", "x");
      assert.equal(await readFile(join(root.path, "x.txt"), "utf8"), "x");
      assert.equal(text(await read(fs, "../inside/../inside/real.txt")), "inside");
    });

    it("refuses every operation through a link that leaves the root", async () => {
      await rejectsKind(fs.stat("/escape/canary"), "permission-denied");
      await rejectsKind(fs.openRead("/escape/canary"), "permission-denied");
      await rejectsKind(fs.openRead("/canary-link"), "permission-denied");
      await rejectsKind(fs.openWrite("/escape/new"), "permission-denied");
      await rejectsKind(fs.openWrite("/canary-link"), "permission-denied");
      await rejectsKind(fs.openWrite("/dangling"), "permission-denied");
      await rejectsKind(fs.mkdir("/escape/dir"), "permission-denied");
      await rejectsKind(fs.mkdir("/escape/a/b", { parents: true }), "permission-denied");
      await rejectsKind(fs.unlink("/escape/canary"), "permission-denied");
      await rejectsKind(fs.rename("/inside/real.txt", "/escape/stolen"), "permission-denied");
      await rejectsKind(fs.rename("/escape/canary", "/inside/stolen"), "permission-denied");
      await rejectsKind(fs.setModifiedTime("/escape/canary", new Date(0)), "permission-denied");
      await rejectsKind(fs.chmod("/escape/canary", 0o777), "permission-denied");
      await rejectsKind(
        (async () => {
          for await (const _ of fs.list("/escape")) { /* drain */ }
        })(),
        "permission-denied",
      );
      // Not "absent": a path that cannot be looked up is a failure.
      await rejectsKind(fs.exists("/escape/canary"), "permission-denied");
      await rejectsKind(fs.isDir("/escape"), "permission-denied");
      assert.equal(await readFile(join(outside.path, "canary"), "utf8"), "secret");
      assert.deepEqual((await readdir(outside.path)).sort(), ["canary"]);
    });

    it("follows links that stay inside and lists escaping ones as links", async () => {
      assert.equal(text(await read(fs, "/good-link")), "inside");
      const types = new Map<string, string>();
      for await (const entry of fs.list("/")) types.set(entry.name, entry.stat.type);
      assert.equal(types.get("good-link"), "file");
      assert.equal(types.get("escape"), "link");
      assert.equal(types.get("canary-link"), "link");
    });

    it("refuses NUL bytes", async () => {
      await rejectsKind(fs.stat("/a\0b"), "invalid-path");
      await rejectsKind(fs.openWrite("/a\0b"), "invalid-path");
    });

    it("never removes or renames the root itself", async () => {
      await rejectsKind(fs.rmdir("/"), "permission-denied");
      await rejectsKind(fs.rename("/", "/x"), "permission-denied");
    });

    it("a stat handed to openRead does not follow a link swapped in after it", async () => {
      const file = join(root.path, "inside", "swap.txt");
      await writeFile(file, "mine");
      const stat = await fs.stat("/inside/swap.txt");
      await unlink(file);
      await symlink(join(outside.path, "canary"), file);
      await assert.rejects(
        (async () => {
          for await (const _ of await fs.openRead("/inside/swap.txt", { stat })) { /* drain */ }
        })(),
        (e: unknown) => e instanceof PathError,
      );
    });
  });
}
