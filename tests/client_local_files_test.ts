/**
 * The calls the client makes on local files (`node:fs` everywhere, `Deno.*` in Deno): the same
 * bytes at the same positions, the same lookups and error codes, and the ones the runtime
 * registers are the ones a download uses. And a client's module graph loads neither `node:fs`
 * nor `node:path` at start-up (they cost a Deno process 35–50 ms).
 */

import assert from "node:assert/strict";
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { denoLocalFiles } from "../adapters/_deno_client_files.ts";
import { Client } from "../client.ts";
import {
  type ClientLocalFiles,
  localFiles,
  nodeLocalFiles,
  setLocalFiles,
} from "../lib/client/local_files.ts";
import { joinLocal, localBaseName, localParent } from "../lib/client/local_path.ts";
import { MemoryFileSystem } from "../server.ts";
import { readChunks } from "../lib/client/data_stream.ts";
import { saveToLocalFile } from "../lib/client/local_file.ts";
import { randomBytes, sha256, tempDir, testNetwork } from "./_util.ts";
import { withServer } from "./server_raw.ts";

const inDeno = "Deno" in globalThis;
const implementations: [string, ClientLocalFiles][] = [
  ["node:fs", nodeLocalFiles],
  ...(inDeno ? [["Deno", denoLocalFiles] as [string, ClientLocalFiles]] : []),
];
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

async function rejectsCode(promise: Promise<unknown>, code: string) {
  await assert.rejects(promise, (e: unknown) => {
    assert.equal((e as { code?: string }).code, code, `expected ${code}, got ${e}`);
    return true;
  });
}

for (const [name, files] of implementations) {
  describe(`client local files: ${name}`, () => {
    let dir: { path: string; remove(): Promise<void> };
    before(async () => dir = await tempDir());
    after(() => dir.remove());

    it("reads from any position, 0 bytes at the end", async () => {
      const path = join(dir.path, "read.txt");
      await writeFile(path, "hello world");
      const file = await files.openRead(path);
      try {
        const buffer = new Uint8Array(16);
        assert.equal((await file.read(buffer, 2, 5, 6)).bytesRead, 5);
        assert.equal(text(buffer.subarray(2, 7)), "world");
        assert.equal((await file.read(buffer, 0, 5, 0)).bytesRead, 5);
        assert.equal(text(buffer.subarray(0, 5)), "hello");
        assert.equal((await file.read(buffer, 0, 16, 11)).bytesRead, 0);
      } finally {
        await file.close();
      }
    });

    it("truncate creates and empties, update keeps; writes land at their positions", async () => {
      const path = join(dir.path, "write.txt");
      await writeFile(path, "old content, longer");
      let file = await files.openWrite(path, "truncate");
      assert.equal((await file.write(bytes("xxabcxx"), 2, 3, 0)).bytesWritten, 3);
      assert.equal((await file.writev([bytes("de"), bytes("fg")], 3)).bytesWritten, 4);
      await file.close();
      assert.equal(await readFile(path, "utf8"), "abcdefg");
      file = await files.openWrite(path, "update");
      await file.write(bytes("XY"), 0, 2, 5);
      await file.write(bytes("Z"), 0, 1, 1);
      await file.close();
      assert.equal(await readFile(path, "utf8"), "aZcdeXY");
      file = await files.openWrite(path, "update");
      await file.truncate(3);
      await file.close();
      assert.equal(await readFile(path, "utf8"), "aZc");
    });

    it("fails with the system's codes", async () => {
      await rejectsCode(files.openRead(join(dir.path, "missing")), "ENOENT");
      await rejectsCode(files.openWrite(join(dir.path, "missing"), "update"), "ENOENT");
      await rejectsCode(files.openWrite(join(dir.path, "no", "such"), "truncate"), "ENOENT");
      await rejectsCode(files.writeFile(join(dir.path, "no", "such"), bytes("x")), "ENOENT");
      await rejectsCode(files.readDir(join(dir.path, "no-dir")), "ENOENT");
      await rejectsCode(files.setModifiedTime(join(dir.path, "missing"), new Date()), "ENOENT");
      await writeFile(join(dir.path, "plain"), "x");
      await rejectsCode(files.mkdir(join(dir.path, "plain", "sub")), "ENOTDIR");
    });

    it("writes whole files, replacing what was there", async () => {
      const path = join(dir.path, "whole.txt");
      await writeFile(path, "a longer old content");
      await files.writeFile(path, bytes("new"));
      assert.equal(await readFile(path, "utf8"), "new");
    });

    it("stats files and directories through links; nothing there is undefined", async () => {
      const base = join(dir.path, "stat");
      await mkdir(base);
      await writeFile(join(base, "f.bin"), new Uint8Array(4097));
      await symlink(join(base, "f.bin"), join(base, "link"));
      const info = await files.stat(join(base, "link"));
      assert.equal(info?.type, "file");
      assert.equal(info?.size, 4097);
      assert.equal(info?.modified.getTime(), (await stat(join(base, "f.bin"))).mtime.getTime());
      assert.equal((await files.stat(base))?.type, "dir");
      assert.equal(await files.stat(join(base, "missing")), undefined);
    });

    it("reads directories with each entry's own type", async () => {
      const base = join(dir.path, "tree");
      await mkdir(join(base, "sub"), { recursive: true });
      await writeFile(join(base, "f"), "x");
      await symlink(join(base, "f"), join(base, "l"));
      const entries = (await files.readDir(base)).sort((a, b) => a.name < b.name ? -1 : 1);
      assert.deepEqual(entries, [
        { name: "f", type: "file" },
        { name: "l", type: "link" },
        { name: "sub", type: "dir" },
      ]);
    });

    it("makes directories with their parents, removes trees, sets times", async () => {
      const base = join(dir.path, "made");
      await files.mkdir(join(base, "a", "b"));
      await files.mkdir(join(base, "a", "b"));
      assert.ok((await stat(join(base, "a", "b"))).isDirectory());
      await writeFile(join(base, "a", "b", "f"), "x");
      const time = new Date("2020-02-03T04:05:06Z");
      await files.setModifiedTime(join(base, "a", "b", "f"), time);
      assert.equal((await stat(join(base, "a", "b", "f"))).mtime.getTime(), time.getTime());
      await files.remove(join(base, "a"));
      assert.equal(await files.stat(join(base, "a")), undefined);
      await files.remove(join(base, "a")); // already gone: fine
    });
  });
}

describe("client local paths", () => {
  it("join, part and name as node:path does, for paths and plain names", () => {
    const paths = ["/", "/a", "/a/", "/a/b.txt", "a", "a/", "a/b", "./a/b", "//a//b//", "../x"];
    for (const path of paths) {
      // The same directory (node:path keeps a separator of "//a//b//": "//a/").
      assert.equal(resolve(localParent(path)), resolve(dirname(path)), `parent of ${path}`);
      assert.equal(localBaseName(path), basename(path), `name of ${path}`);
      for (const names of [["c.txt"], ["d", "e.txt"], ["..."]]) {
        // node:path also normalizes the caller's part; the joined path is the same one.
        assert.equal(join(joinLocal(path, ...names)), join(path, ...names), `${path} + ${names}`);
      }
    }
    assert.equal(joinLocal("/tmp/out", "a", "b"), "/tmp/out/a/b");
    assert.equal(joinLocal("/tmp/out/", "a"), "/tmp/out/a");
    assert.equal(joinLocal("", ""), ".");
  });
});

describe("client local files: start-up", () => {
  it("client.ts loads neither node:fs nor node:path with its modules", async (t) => {
    const entry = new URL("../client.ts", import.meta.url);
    let source: string;
    try {
      source = await readFile(entry, "utf8");
    } catch {
      t.skip("the TypeScript sources are not here (the npm build's tests)");
      return;
    }
    const loaded = new Map<string, string>();
    const seen = new Set<string>();
    const walk = async (url: URL, text: string) => {
      seen.add(url.href);
      // Static imports and re-exports that bring values (type-only ones load nothing).
      const pattern = /^(?:import|export)\s+(?!type\s)(?:[^;]*?\sfrom\s+)?"([^"]+)";/gms;
      for (const [, spec] of text.matchAll(pattern)) {
        if (spec.startsWith("node:")) loaded.set(spec, url.pathname);
        else if (spec.startsWith(".")) {
          const next = new URL(spec, url);
          if (!seen.has(next.href)) await walk(next, await readFile(next, "utf8"));
        }
      }
    };
    await walk(entry, source);
    assert.ok(seen.size > 20, `only ${seen.size} modules found: the walk is broken`);
    for (const builtin of ["node:fs", "node:fs/promises", "node:path", "node:process"]) {
      assert.equal(loaded.get(builtin), undefined, `${builtin} is imported statically`);
    }
  });
});

describe("client local files: the registered opener", () => {
  it("is the runtime's, and downloads and uploads go through it", async () => {
    const denoFiles = inDeno && testNetwork().name === "deno";
    assert.equal(localFiles(), denoFiles ? denoLocalFiles : nodeLocalFiles);
    const dir = await tempDir();
    const registered = localFiles();
    const opened: string[] = [];
    setLocalFiles({
      ...registered,
      openRead: (path) => (opened.push(`read ${path}`), registered.openRead(path)),
      openWrite: (path, mode) => (opened.push(`${mode} ${path}`), registered.openWrite(path, mode)),
    });
    try {
      await withServer({ fileSystem: new MemoryFileSystem() }, async (server) => {
        const { hostname, port } = server.address;
        const client = await Client.connect(hostname, port, { network: testNetwork() });
        await client.login();
        try {
          const data = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 251);
          await writeFile(join(dir.path, "up.bin"), data);
          await client.upload(join(dir.path, "up.bin"), "/f.bin", { writeInto: true });
          await client.download("/f.bin", join(dir.path, "down.bin"), { writeInto: true });
          assert.deepEqual(new Uint8Array(await readFile(join(dir.path, "down.bin"))), data);
        } finally {
          await client.close();
        }
      });
      assert.deepEqual(opened, [
        `read ${join(dir.path, "up.bin")}`,
        `truncate ${join(dir.path, "down.bin")}`,
      ]);
    } finally {
      setLocalFiles(registered);
      await dir.remove();
    }
  });
});

describe("client downloads into recycled buffers", () => {
  it("reuse a buffer only once its bytes are in the file", async () => {
    // A reader that fills the buffers it is given (as a Deno socket does), up to 300 KiB at a
    // time, with a short read now and then: what the file gets must be the stream, byte for
    // byte, though the buffers are read into again.
    const total = 24 * 1024 * 1024;
    const stream = randomBytes(total, 7);
    const given = new Set<ArrayBufferLike>();
    let at = 0;
    let reads = 0;
    const reader = {
      read: () => Promise.reject(new Error("read() while readInto is offered")),
      readInto: (buffer: Uint8Array<ArrayBuffer>) => {
        given.add(buffer.buffer);
        if (at >= total) {
          return Promise.resolve({ done: true as const, value: buffer.subarray(0, 0) });
        }
        const size = Math.min(reads++ % 40 === 39 ? 10_000 : 300 * 1024, buffer.length, total - at);
        buffer.set(stream.subarray(at, at + size));
        at += size;
        return Promise.resolve({ done: false as const, value: buffer.subarray(0, size) });
      },
      cancel: () => Promise.resolve(),
    };
    const dir = await tempDir();
    try {
      const path = join(dir.path, "big.bin");
      assert.equal(await saveToLocalFile(reader, path), total);
      assert.equal(sha256(await readFile(path)), sha256(stream));
      // Recycled: a new buffer per read would be one per read.
      assert.ok(given.size < reads / 2, `${given.size} buffers for ${reads} reads`);
    } finally {
      await dir.remove();
    }
  });

  it("small downloads, one after another and at once, pass their buffers on: each file whole", async () => {
    /** A reader that fills the buffers it is given with `data`, up to 30,000 bytes a read. */
    const readerOf = (data: Uint8Array, given: ArrayBufferLike[]) => {
      let at = 0;
      return {
        read: () => Promise.reject(new Error("read() while readInto is offered")),
        readInto: async (buffer: Uint8Array<ArrayBuffer>) => {
          given.push(buffer.buffer);
          await new Promise((resolve) => setTimeout(resolve, 0)); // the others run meanwhile
          const size = Math.min(30_000, buffer.length, data.length - at);
          if (size === 0) return { done: true as const, value: buffer.subarray(0, 0) };
          buffer.set(data.subarray(at, at + size));
          at += size;
          return { done: false as const, value: buffer.subarray(0, size) };
        },
        cancel: () => Promise.resolve(),
      };
    };
    const dir = await tempDir();
    try {
      // At once: three downloads of each size, each file whole.
      const given: ArrayBufferLike[] = [];
      for (let round = 0; round < 4; round++) {
        const files = [3_000, 40_000, 70_000].map((size, i) => randomBytes(size, round * 3 + i));
        await Promise.all(
          files.map((data, i) =>
            saveToLocalFile(readerOf(data, given), join(dir.path, `${round}-${i}`))
          ),
        );
        for (const [i, data] of files.entries()) {
          const got = await readFile(join(dir.path, `${round}-${i}`));
          assert.equal(sha256(got), sha256(data), `${round}-${i}`);
        }
      }
      // One after another: each reads into the buffers the ones before it left.
      const sequential: ArrayBufferLike[] = [];
      for (let i = 0; i < 10; i++) {
        const data = randomBytes(40_000, 100 + i);
        await saveToLocalFile(readerOf(data, sequential), join(dir.path, `s${i}`));
        assert.equal(sha256(await readFile(join(dir.path, `s${i}`))), sha256(data), `s${i}`);
      }
      const distinct = new Set(sequential).size;
      assert.ok(distinct <= 4, `${distinct} buffers for 10 downloads one after another`);
    } finally {
      await dir.remove();
    }
  });

  it("downloads in this runtime read into the caller's buffers where the socket is a byte stream", async () => {
    await withServer({ fileSystem: new MemoryFileSystem() }, async (server) => {
      const { hostname, port } = server.address;
      const client = await Client.connect(hostname, port, { network: testNetwork() });
      await client.login();
      const dir = await tempDir();
      try {
        const files = [randomBytes(5 * 1024 * 1024, 1), randomBytes(3 * 1024 * 1024 + 17, 2)];
        for (const [i, data] of files.entries()) {
          await new Blob([data.slice()]).stream().pipeTo(await client.uploadStream(`/f${i}`));
        }
        // One after the other, then at once on two sessions: each file whole.
        for (const i of [0, 1]) {
          await client.download(`/f${i}`, join(dir.path, `a${i}`), { writeInto: true });
        }
        const other = await Client.connect(hostname, port, { network: testNetwork() });
        await other.login();
        await Promise.all([
          client.download("/f0", join(dir.path, "b0"), { writeInto: true }),
          other.download("/f1", join(dir.path, "b1"), { writeInto: true }),
        ]);
        await other.quit();
        for (const name of ["a0", "a1", "b0", "b1"]) {
          const expected = files[Number(name[1])];
          assert.equal(sha256(await readFile(join(dir.path, name))), sha256(expected), name);
        }
        const stream = await client.getStream("RETR /f1");
        const reader = readChunks(stream, { intoBuffers: true });
        assert.equal(
          typeof reader.readInto,
          testNetwork().name === "deno" ? "function" : "undefined",
        );
        await reader.cancel();
      } finally {
        await client.close();
        await dir.remove();
      }
    });
  });
});
