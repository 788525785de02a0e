/**
 * examples/memory_server.ts run as a child process: alice reads and writes, anonymous only
 * reads, and SIGTERM ends it cleanly while a session is open.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Client } from "../client.ts";
import { randomBytes, sha256 } from "./_util.ts";
import { startExample } from "./_examples.ts";

const bytesOf = async (stream: ReadableStream<Uint8Array>) =>
  new Uint8Array(await new Response(stream).arrayBuffer());

describe("example: memory_server", () => {
  it("alice round-trips a file, anonymous reads it and may not write, SIGTERM stops it", {
    timeout: 30000,
  }, async () => {
    const served = await startExample("memory_server", ["0"]);
    try {
      assert.equal(served.url.href, `ftp://127.0.0.1:${served.port}/`);
      const data = randomBytes(300_000);
      const alice = await Client.connect(`ftp://alice:secret@127.0.0.1:${served.port}/`);
      const upload = (await alice.uploadStream("data.bin")).getWriter();
      await upload.write(data);
      await upload.close(); // resolves once the server confirmed the transfer
      assert.equal(sha256(await bytesOf(await alice.downloadStream("data.bin"))), sha256(data));
      await alice.quit();

      const guest = await Client.connect(served.url.href); // no user in the URL: anonymous
      const readme = new TextDecoder().decode(
        await bytesOf(await guest.downloadStream("readme.txt")),
      );
      assert.equal(readme, "Hello from streamftp!\n");
      assert.equal(sha256(await bytesOf(await guest.downloadStream("data.bin"))), sha256(data));
      await assert.rejects(guest.uploadStream("mine.bin"), { name: "ReplyError", code: 550 });
      await assert.rejects(guest.mkdir("dir"), { name: "ReplyError", code: 550 });
      await assert.rejects(guest.remove("data.bin"), { name: "ReplyError", code: 550 });
      assert.equal(await guest.size("data.bin"), data.length);
      // The guest stays connected: the server closes its session and exits by itself.
      const { code, stderr } = await served.stop();
      assert.equal(code, 0, stderr);
      await assert.rejects(guest.pwd());
      guest.close();
    } finally {
      await served.stop();
    }
  });
});
