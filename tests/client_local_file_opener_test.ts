/**
 * The openers of the client's local files (`node:fs` everywhere, `Deno.open` in Deno): the same
 * bytes at the same positions, the same error codes, and the one the runtime registers is the
 * one a download uses.
 */

import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { denoFileOpener } from "../adapters/_deno_client_files.ts";
import { Client } from "../client.ts";
import {
  type ClientFileOpener,
  localFileOpener,
  nodeFileOpener,
  setLocalFileOpener,
} from "../lib/client/local_file_opener.ts";
import { MemoryFileSystem } from "../server.ts";
import { tempDir, testNetwork } from "./_util.ts";
import { withServer } from "./server_raw.ts";

const inDeno = "Deno" in globalThis;
const openers: [string, ClientFileOpener][] = [
  ["node:fs", nodeFileOpener],
  ...(inDeno ? [["Deno.open", denoFileOpener] as [string, ClientFileOpener]] : []),
];
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

async function rejectsCode(promise: Promise<unknown>, code: string) {
  await assert.rejects(promise, (e: unknown) => {
    assert.equal((e as { code?: string }).code, code, `expected ${code}, got ${e}`);
    return true;
  });
}

for (const [name, opener] of openers) {
  describe(`client local files: ${name}`, () => {
    let dir: { path: string; remove(): Promise<void> };
    before(async () => dir = await tempDir());
    after(() => dir.remove());

    it("reads from any position, 0 bytes at the end", async () => {
      const path = join(dir.path, "read.txt");
      await writeFile(path, "hello world");
      const file = await opener.openRead(path);
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
      let file = await opener.openWrite(path, "truncate");
      assert.equal((await file.write(bytes("xxabcxx"), 2, 3, 0)).bytesWritten, 3);
      assert.equal((await file.writev([bytes("de"), bytes("fg")], 3)).bytesWritten, 4);
      await file.close();
      assert.equal(await readFile(path, "utf8"), "abcdefg");
      file = await opener.openWrite(path, "update");
      await file.write(bytes("XY"), 0, 2, 5);
      await file.write(bytes("Z"), 0, 1, 1);
      await file.close();
      assert.equal(await readFile(path, "utf8"), "aZcdeXY");
      file = await opener.openWrite(path, "update");
      await file.truncate(3);
      await file.close();
      assert.equal(await readFile(path, "utf8"), "aZc");
    });

    it("fails with the system's codes", async () => {
      await rejectsCode(opener.openRead(join(dir.path, "missing")), "ENOENT");
      await rejectsCode(opener.openWrite(join(dir.path, "missing"), "update"), "ENOENT");
      await rejectsCode(opener.openWrite(join(dir.path, "no", "such"), "truncate"), "ENOENT");
    });
  });
}

describe("client local files: the registered opener", () => {
  it("is the runtime's, and downloads and uploads go through it", async () => {
    const denoFiles = inDeno && testNetwork().name === "deno";
    assert.equal(localFileOpener(), denoFiles ? denoFileOpener : nodeFileOpener);
    const dir = await tempDir();
    const registered = localFileOpener();
    const opened: string[] = [];
    setLocalFileOpener({
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
      setLocalFileOpener(registered);
      await dir.remove();
    }
  });
});
