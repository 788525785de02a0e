/**
 * The local file access of each runtime (`node:fs`, and Deno's own lookups in Deno), with
 * asynchronous and synchronous lookups: the same answers, the same error codes, and no call
 * that opens or changes a file follows a link in the last component.
 */

import assert from "node:assert/strict";
import { constants } from "node:fs";
import { chmod, lstat, mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type {
  LocalFileAccess,
  LocalListedEntry,
  LocalWriteMode,
} from "../lib/fs/local_file_access.ts";
import { readableFromHandle } from "../lib/fs/file_handle_streams.ts";
import { NodeFdFile } from "../lib/fs/node_fd_file.ts";
import { fileAccessVariants } from "./_fs_variants.ts";
import { tempDir } from "./_util.ts";

const encoder = new TextEncoder();

async function rejectsCode(promise: Promise<unknown>, code: string) {
  await assert.rejects(promise, (e: unknown) => {
    assert.equal((e as { code?: string }).code, code, `expected ${code}, got ${e}`);
    return true;
  });
}

/** Every batch of a listing (Node 20 has no `Array.fromAsync`). */
async function collect<T>(batches: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const batch of batches) all.push(batch);
  return all;
}

for (const variant of fileAccessVariants) {
  for (const sync of [false, true]) {
    describe(`local file access: ${variant.name}${sync ? ", sync lookups" : ""}`, () => {
      let dir: { path: string; remove(): Promise<void> };
      let files: LocalFileAccess;
      const at = (...names: string[]) => join(dir.path, ...names);
      before(async () => {
        dir = await tempDir("streamftp-access-");
        files = sync ? variant.access.withSyncLookups() : variant.access;
        await writeFile(at("file"), "contents");
        await mkdir(at("sub"));
        await symlink(at("file"), at("link"));
        await symlink(at("nowhere"), at("dangling"));
      });
      after(() => dir.remove());

      it("stat follows links, lstat does not, realpath resolves them", async () => {
        const info = await files.stat(at("link"));
        assert.equal(info.type, "file");
        assert.equal(info.size, 8);
        assert.equal(info.mode, (await stat(at("file"))).mode & 0o7777);
        assert.ok(info.mtime instanceof Date);
        assert.equal((await files.lstat(at("link"))).type, "link");
        assert.equal((await files.lstat(at("sub"))).type, "dir");
        assert.equal((await files.stat(at("sub"))).size, 0);
        assert.equal(await files.realpath(at("link")), await files.realpath(at("file")));
        assert.equal(await files.readlink(at("link")), at("file"));
      });

      it("fails with the error codes of node:fs, as rejections", async () => {
        await rejectsCode(files.stat(at("missing")), "ENOENT");
        await rejectsCode(files.lstat(at("missing")), "ENOENT");
        await rejectsCode(files.realpath(at("dangling")), "ENOENT");
        await rejectsCode(files.stat(at("file", "child")), "ENOTDIR");
        await rejectsCode(collect(files.listDir(at("missing"), 10)), "ENOENT");
        await rejectsCode(collect(files.listDir(at("file"), 10)), "ENOTDIR");
      });

      it("lists a directory in batches, each entry with its metadata and a link's target", async () => {
        await mkdir(at("many"));
        for (let i = 0; i < 600; i++) await writeFile(at("many", `f${i}`), "");
        await mkdir(at("many", "sub"));
        await symlink(at("file"), at("many", "a-link"));
        await symlink(at("nowhere"), at("many", "dangling"));
        const sizes: number[] = [];
        const entries = new Map<string, LocalListedEntry>();
        for await (const batch of files.listDir(at("many"), 256)) {
          sizes.push(batch.length);
          for (const entry of batch) entries.set(entry.name, entry);
        }
        assert.equal(entries.size, 603);
        assert.ok(sizes.every((n) => n <= 256) && sizes.length === 3, `batches ${sizes}`);
        const own = await stat(at("many", "f7"));
        const file = entries.get("f7")!;
        assert.deepEqual(
          [file.stat.type, file.stat.size, file.stat.mode, file.stat.nlink, file.target],
          ["file", 0, own.mode & 0o7777, own.nlink, undefined],
        );
        assert.equal(file.stat.mtime.getTime(), own.mtime.getTime());
        assert.equal(entries.get("sub")!.stat.type, "dir");
        assert.equal(entries.get("sub")!.stat.size, 0);
        const link = entries.get("a-link")!;
        assert.equal(link.stat.type, "link");
        assert.equal(link.target?.path, await files.realpath(at("file")));
        assert.deepEqual([link.target?.stat.type, link.target?.stat.size], ["file", 8]);
        const dangling = entries.get("dangling")!;
        assert.deepEqual([dangling.stat.type, dangling.target], ["link", undefined]);
      });

      it("closes the directory of a listing stopped early", async () => {
        let seen = 0;
        for await (const batch of files.listDir(at("many"), 16)) {
          seen += batch.length;
          if (seen >= 32) break;
        }
        assert.equal(seen, 32);
        // The next listing works as usual.
        assert.equal((await collect(files.listDir(at("many"), 1000))).flat().length, 603);
      });

      it("lists directories at the same time, each with its own entries", async () => {
        const names = ["left", "right"];
        for (const name of names) {
          await mkdir(at(name));
          for (let i = 0; i < 300; i++) await writeFile(at(name, `${name}${i}`), name);
        }
        const listed = await Promise.all(
          names.map(async (name) => (await collect(files.listDir(at(name), 64))).flat()),
        );
        for (const [i, name] of names.entries()) {
          assert.equal(listed[i].length, 300);
          assert.ok(listed[i].every((e) => e.name.startsWith(name) && e.stat.size === name.length));
        }
      });

      it("opens for reading and writing without following a link", async () => {
        await rejectsCode(files.openRead(at("link")), "ELOOP");
        // A large file may be opened another way (Deno reopens it): a link is still refused.
        await rejectsCode(files.openRead(at("link"), 8 << 20), "ELOOP");
        const modes: LocalWriteMode[] = ["truncate", "append", "update"];
        for (const mode of modes) await rejectsCode(files.openWrite(at("link"), mode), "ELOOP");
        await rejectsCode(files.openWrite(at("dangling"), "create-new"), "EEXIST");
        await rejectsCode(files.openWrite(at("dangling"), "truncate"), "ELOOP");
        assert.equal(await readFile(at("file"), "utf8"), "contents");
        assert.equal((await lstat(at("dangling"))).isSymbolicLink(), true);
      });

      it("opens in each write mode", async () => {
        const write = async (mode: LocalWriteMode, data: string, position: number | null) => {
          const file = await files.openWrite(at("w"), mode);
          const bytes = encoder.encode(data);
          await file.write(bytes, 0, bytes.length, position);
          await file.close();
        };
        await write("create-new", "abcdef", 0);
        await rejectsCode(files.openWrite(at("w"), "create-new"), "EEXIST");
        await write("update", "XY", 2);
        assert.equal(await readFile(at("w"), "utf8"), "abXYef");
        await write("append", "!", null);
        assert.equal(await readFile(at("w"), "utf8"), "abXYef!");
        await write("truncate", "z", 0);
        assert.equal(await readFile(at("w"), "utf8"), "z");
        const file = await files.openRead(at("w"));
        const buffer = new Uint8Array(4);
        assert.equal((await file.read(buffer, 0, 4, 0)).bytesRead, 1);
        assert.equal((await file.stat()).size, 1);
        await file.close();
      });

      it("reads a large file, from any position, the same when told its size", async () => {
        const data = new Uint8Array(3 << 20).map((_, i) => (i * 31) % 253);
        await writeFile(at("large"), data);
        for (const size of [undefined, data.length]) {
          const file = await files.openRead(at("large"), size);
          try {
            const buffer = new Uint8Array(1 << 20);
            for (const position of [0, 5, (2 << 20) + 7, 1]) {
              const { bytesRead } = await file.read(buffer, 3, 100_000, position);
              assert.equal(bytesRead, 100_000);
              assert.deepEqual(
                buffer.subarray(3, 3 + bytesRead),
                data.subarray(position, position + bytesRead),
              );
            }
            assert.equal((await file.read(buffer, 0, 10, data.length - 4)).bytesRead, 4);
            assert.equal((await file.read(buffer, 0, 10, data.length)).bytesRead, 0);
            assert.equal((await file.stat()).size, data.length);
          } finally {
            await file.close();
          }
        }
      });

      it("changes modes through a handle that does not follow links", async () => {
        await chmod(at("file"), 0o644);
        await rejectsCode(files.chmod(at("link"), 0o600), "ELOOP");
        assert.equal((await stat(at("file"))).mode & 0o7777, 0o644);
        await files.chmod(at("file"), 0o640);
        assert.equal((await stat(at("file"))).mode & 0o7777, 0o640);
        await files.chmod(at("sub"), 0o750);
        assert.equal((await stat(at("sub"))).mode & 0o7777, 0o750);
      });

      it("creates, renames and removes", async () => {
        await files.mkdir(at("m", "a", "b"), true);
        await rejectsCode(files.mkdir(at("m"), false), "EEXIST");
        await files.rename(at("m", "a"), at("m", "c"));
        assert.equal((await files.lstat(at("m", "c", "b"))).type, "dir");
        await rejectsCode(files.rmdir(at("m", "c")), "ENOTEMPTY");
        await files.rmdir(at("m", "c", "b"));
        await writeFile(at("m", "gone"), "");
        await files.unlink(at("m", "gone"));
        await rejectsCode(files.lstat(at("m", "gone")), "ENOENT");
        const when = new Date(Date.UTC(2003, 4, 5, 6, 7, 8));
        await files.setModifiedTime(at("m"), when);
        assert.equal((await files.stat(at("m"))).mtime.getTime(), when.getTime());
      });
    });
  }
}

describe("local file access: a file open by descriptor (node:fs)", () => {
  it("a close waits for the reads and writes in flight; calls after it fail with EBADF", async () => {
    const dir = await tempDir("streamftp-fd-");
    try {
      const path = join(dir.path, "f.bin");
      const file = await NodeFdFile.open(path, constants.O_RDWR | constants.O_CREAT);
      const data = new Uint8Array(4 * 1024 * 1024).map((_, i) => i % 251);
      // The writes are under way when the close is asked for: each lands in this file.
      const writes = [0, 1, 2, 3].map((i) =>
        file.write(data, i * 1024 * 1024, 1024 * 1024, i * 1024 * 1024)
      );
      const settled: string[] = [];
      writes.forEach((write, i) => write.then(() => settled.push(`write ${i}`)));
      const closing = file.close().then(() => settled.push("close"));
      const written = await Promise.all(writes);
      assert.deepEqual(written.map((w) => w.bytesWritten), [1 << 20, 1 << 20, 1 << 20, 1 << 20]);
      await closing;
      assert.equal(settled.at(-1), "close", settled.join(", "));
      assert.equal(file.close(), file.close(), "one close");
      await rejectsCode(file.read(new Uint8Array(8), 0, 8, 0), "EBADF");
      await rejectsCode(file.write(data, 0, 8, 0), "EBADF");
      assert.deepEqual(new Uint8Array(await readFile(path)), data);
      // The descriptor number is free again: the next open may take it, and is not written to.
      const other = await NodeFdFile.open(
        join(dir.path, "g.bin"),
        constants.O_RDWR | constants.O_CREAT,
      );
      await rejectsCode(file.write(data, 0, 8, 0), "EBADF");
      assert.equal((await other.stat()).size, 0);
      await other.close();
    } finally {
      await dir.remove();
    }
  });
});

describe("local file access: a file read with read-ahead", () => {
  /** Runs `test` with a new temporary directory, removed after. */
  async function inTempDir(test: (dir: { path: string }) => Promise<void>): Promise<void> {
    const dir = await tempDir("streamftp-ahead-");
    try {
      await test(dir);
    } finally {
      await dir.remove();
    }
  }

  /** A 10,000-byte file of known bytes, open by descriptor, with its reads counted. */
  async function countedFile(path: string) {
    const data = new Uint8Array(10_000).map((_, i) => (i * 7) % 256);
    await writeFile(path, data);
    const file = await NodeFdFile.open(path, constants.O_RDONLY);
    const reads: number[] = [];
    const read = file.read.bind(file);
    file.read = (buffer, offset, length, position) => {
      reads.push(position);
      return read(buffer, offset, length, position);
    };
    return { data, file, reads };
  }

  for (const room of [3_000, 10_001, 65_536]) {
    it(`reads before it is asked, then fills ${room}-byte BYOB buffers with the right bytes`, async () => {
      await inTempDir(async (dir) => {
        const { data, file, reads } = await countedFile(join(dir.path, "f.bin"));
        const stream = readableFromHandle(file, {
          chunkSize: 4096,
          size: data.length,
          offset: 100,
          readAhead: true,
        });
        assert.deepEqual(reads, [100], "the first read starts with the stream");
        const reader = stream.getReader({ mode: "byob" });
        const got: number[] = [];
        let buffer = new ArrayBuffer(room);
        while (true) {
          const { done, value } = await reader.read(new Uint8Array(buffer));
          if (value) buffer = value.buffer as ArrayBuffer;
          if (done) break;
          got.push(...value);
        }
        assert.deepEqual(new Uint8Array(got), data.subarray(100));
        await rejectsCode(file.read(new Uint8Array(8), 0, 8, 0), "EBADF"); // closed at the end
      });
    });
  }

  it("an empty file ends at the first read request, BYOB or not", async () => {
    await inTempDir(async (dir) => {
      const path = join(dir.path, "empty");
      await writeFile(path, "");
      for (const mode of ["byob", undefined] as const) {
        const file = await NodeFdFile.open(path, constants.O_RDONLY);
        const stream = readableFromHandle(file, { chunkSize: 4096, size: 0, readAhead: true });
        const result = mode
          ? await stream.getReader({ mode }).read(new Uint8Array(16))
          : await stream.getReader().read();
        assert.equal(result.done, true);
        assert.equal(result.value?.byteLength ?? 0, 0);
        await rejectsCode(file.read(new Uint8Array(8), 0, 8, 0), "EBADF");
      }
    });
  });

  it("a stream cancelled before its first read request closes the file once the read ends", async () => {
    await inTempDir(async (dir) => {
      const { file, reads } = await countedFile(join(dir.path, "f.bin"));
      const stream = readableFromHandle(file, { chunkSize: 4096, size: 10_000, readAhead: true });
      await stream.cancel();
      assert.deepEqual(reads, [0]);
      await rejectsCode(file.read(new Uint8Array(8), 0, 8, 0), "EBADF");
    });
  });

  it("a failed read-ahead errors the stream at the first read request, with the mapped error", async () => {
    await inTempDir(async (dir) => {
      const { file } = await countedFile(join(dir.path, "f.bin"));
      file.read = () => Promise.reject(Object.assign(new Error("EIO"), { code: "EIO" }));
      const stream = readableFromHandle(file, {
        chunkSize: 4096,
        size: 10_000,
        readAhead: true,
        mapError: (error) => new Error("mapped", { cause: error }),
      });
      await new Promise((resolve) => setTimeout(resolve, 0)); // the failure is not unhandled
      await assert.rejects(stream.getReader().read(), /mapped/);
      await rejectsCode(file.write(new Uint8Array(1), 0, 1, 0), "EBADF"); // closed on the error
    });
  });
});
