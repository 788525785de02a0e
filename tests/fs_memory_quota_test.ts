/**
 * `MemoryFileSystem`'s byte quota (issue 9, hole 5): uploads cannot grow the server beyond
 * it, neither by writing nor by writing far past the end of a file.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PathError } from "../lib/errors.ts";
import { MemoryFileSystem } from "../lib/fs/memory.ts";
import { concatBytes } from "../lib/stream/bytes.ts";

const MiB = 1024 * 1024;

async function rejectsKind(promise: Promise<unknown>, kind: string) {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof PathError, `expected PathError, got ${e}`);
    assert.equal(e.kind, kind);
    return true;
  });
}

async function read(fs: MemoryFileSystem, path: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of await fs.openRead(path)) chunks.push(chunk);
  return concatBytes(chunks);
}

async function writeChunks(
  fs: MemoryFileSystem,
  path: string,
  chunks: Uint8Array[],
  options = {},
): Promise<void> {
  const writer = (await fs.openWrite(path, options)).getWriter();
  for (const chunk of chunks) await writer.write(chunk);
  await writer.close();
}

describe("MemoryFileSystem quota", () => {
  it("refuses by default to write 1 byte at 512 MiB (REST 536870912 + STOR)", async () => {
    const fs = new MemoryFileSystem();
    await writeChunks(fs, "/f", [new Uint8Array(10)]);
    await rejectsKind(fs.openWrite("/f", { offset: 512 * MiB }), "no-space");
    assert.equal((await fs.stat("/f")).size, 10);
    assert.equal(fs.usedBytes, 10);
  });

  it("fails a write beyond the quota with no-space and keeps what came before", async () => {
    const fs = new MemoryFileSystem({ maxBytes: 1000 });
    const chunk = new Uint8Array(400).fill(7);
    await rejectsKind(writeChunks(fs, "/big", [chunk, chunk, chunk]), "no-space");
    assert.equal((await fs.stat("/big")).size, 800);
    assert.equal(fs.usedBytes, 800);
    // Another file meets the same quota: it is shared.
    await rejectsKind(writeChunks(fs, "/other", [new Uint8Array(201)]), "no-space");
    await writeChunks(fs, "/other", [new Uint8Array(200)]);
    assert.equal(fs.usedBytes, 1000);
  });

  it("counts a gap past the end at the first write, and fills it with zeros", async () => {
    const fs = new MemoryFileSystem({ maxBytes: 1000 });
    await writeChunks(fs, "/g", [new Uint8Array([1, 2])]);
    await rejectsKind(fs.openWrite("/g", { offset: 2000 }), "no-space");
    // Opened but never written: the file keeps its size.
    await (await fs.openWrite("/g", { offset: 500 })).close();
    assert.equal((await fs.stat("/g")).size, 2);
    await writeChunks(fs, "/g", [new Uint8Array([9])], { offset: 500 });
    const data = await read(fs, "/g");
    assert.equal(data.length, 501);
    assert.deepEqual([...data.subarray(0, 3)], [1, 2, 0]);
    assert.ok(data.subarray(2, 500).every((b) => b === 0));
    assert.equal(data[500], 9);
    assert.equal(fs.usedBytes, 501);
    await rejectsKind(writeChunks(fs, "/g", [new Uint8Array(1)], { offset: 1001 }), "no-space");
  });

  it("frees what deletes, truncations and replacing renames release", async () => {
    const fs = new MemoryFileSystem({ maxBytes: 1000 });
    await writeChunks(fs, "/a", [new Uint8Array(600)]);
    await writeChunks(fs, "/b", [new Uint8Array(300)]);
    await fs.rename("/a", "/a");
    assert.equal(fs.usedBytes, 900);
    await fs.rename("/b", "/a");
    assert.equal(fs.usedBytes, 300);
    await writeChunks(fs, "/a", [new Uint8Array(100)]);
    assert.equal(fs.usedBytes, 100);
    await writeChunks(fs, "/a", [new Uint8Array(50)], { append: true });
    assert.equal(fs.usedBytes, 150);
    await fs.unlink("/a");
    assert.equal(fs.usedBytes, 0);
    await writeChunks(fs, "/c", [new Uint8Array(1000)]);
  });

  it("allows no limit with Infinity and refuses a negative quota", async () => {
    const fs = new MemoryFileSystem({ maxBytes: Infinity });
    await writeChunks(fs, "/x", [new Uint8Array(3 * MiB)]);
    assert.equal(fs.usedBytes, 3 * MiB);
    assert.throws(() => new MemoryFileSystem({ maxBytes: -1 }), RangeError);
  });
});
