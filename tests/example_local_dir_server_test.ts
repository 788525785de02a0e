/**
 * examples/local_dir_server.ts run as a child process on a temporary directory: the rights of
 * alice and of anonymous visitors on `pub/` and `incoming/`, checked on the replies and on the
 * files on disk.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Client } from "../client.ts";
import { randomBytes, sha256, tempDir } from "./_util.ts";
import { startExample } from "./_examples.ts";

const bytesOf = async (stream: ReadableStream<Uint8Array>) =>
  new Uint8Array(await new Response(stream).arrayBuffer());

async function upload(client: Client, path: string, data: Uint8Array): Promise<void> {
  const writer = (await client.uploadStream(path)).getWriter();
  await writer.write(data);
  await writer.close();
}

const names = async (client: Client, path: string) =>
  (await client.listAll(path)).map((item) => item.info.name).sort();

describe("example: local_dir_server", () => {
  it("pub/ is read-only, incoming/ writable for alice and a drop box for anonymous", {
    timeout: 30000,
  }, async () => {
    const dir = await tempDir("streamftp-local-example-");
    const root = join(dir.path, "site");
    await mkdir(join(root, "pub"), { recursive: true });
    await writeFile(join(root, "pub", "hello.txt"), "hello\n");
    await writeFile(join(dir.path, "outside.txt"), "not served");
    const served = await startExample("local_dir_server", [root, "0"]);
    try {
      assert.ok(existsSync(join(root, "incoming")), "incoming/ is created");
      const alice = await Client.connect(`ftp://alice:secret@127.0.0.1:${served.port}/`);
      assert.deepEqual(await names(alice, "/"), ["incoming", "pub"]);
      assert.equal(
        new TextDecoder().decode(await bytesOf(await alice.downloadStream("pub/hello.txt"))),
        "hello\n",
      );
      await assert.rejects(upload(alice, "pub/new.txt", new Uint8Array(1)), { code: 550 });
      await assert.rejects(alice.remove("pub/hello.txt"), { code: 550 });
      await assert.rejects(alice.mkdir("other"), { code: 550 });
      // `..` stays inside the root: /outside.txt there does not exist.
      await assert.rejects(alice.downloadStream("../outside.txt"), { code: 550 });

      const report = randomBytes(200_000);
      await upload(alice, "incoming/report.bin", report);
      assert.equal(sha256(await readFile(join(root, "incoming", "report.bin"))), sha256(report));
      await alice.mkdir("incoming/2025");
      await alice.rename("incoming/report.bin", "incoming/2025/report.bin");
      assert.equal(
        sha256(await bytesOf(await alice.downloadStream("incoming/2025/report.bin"))),
        sha256(report),
      );
      await alice.remove("incoming/2025");
      assert.deepEqual(await names(alice, "incoming"), []);
      await alice.quit();

      const guest = await Client.connect(served.url.href);
      assert.deepEqual(await names(guest, "/"), ["incoming", "pub"]);
      assert.equal(
        new TextDecoder().decode(await bytesOf(await guest.downloadStream("pub/hello.txt"))),
        "hello\n",
      );
      await assert.rejects(upload(guest, "pub/new.txt", new Uint8Array(1)), { code: 550 });
      const drop = randomBytes(10_000, 7);
      await upload(guest, "incoming/drop.bin", drop);
      assert.equal(sha256(await readFile(join(root, "incoming", "drop.bin"))), sha256(drop));
      // What is dropped cannot be replaced, read, listed or deleted.
      await assert.rejects(upload(guest, "incoming/drop.bin", new Uint8Array(1)), { code: 550 });
      await assert.rejects(guest.downloadStream("incoming/drop.bin"), { code: 550 });
      await assert.rejects(guest.listAll("incoming"), { code: 550 });
      await assert.rejects(guest.removeFile("incoming/drop.bin"), { code: 550 });
      assert.equal(sha256(await readFile(join(root, "incoming", "drop.bin"))), sha256(drop));
      await guest.quit();
      const { code, stderr } = await served.stop();
      assert.equal(code, 0, stderr);
    } finally {
      await served.stop();
      await dir.remove();
    }
  });
});
