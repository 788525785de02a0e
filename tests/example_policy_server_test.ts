/**
 * examples/policy_server.ts run as a child process: the upload quota and the audit trail on
 * one server, the combined `transfer` hook doing both before the `226`.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Client, ReplyError } from "../client.ts";
import { tempDir } from "./_util.ts";
import { startExample } from "./_examples.ts";

async function upload(client: Client, path: string, data: Uint8Array): Promise<void> {
  const writer = (await client.uploadStream(path)).getWriter();
  await writer.write(data);
  await writer.close();
}

describe("example: policy_server", () => {
  it("uploads count against the allowance and every one is in the audit log", {
    timeout: 30000,
  }, async () => {
    const dir = await tempDir("streamftp-policy-example-");
    const logPath = join(dir.path, "audit.log");
    const lines = async () => (await readFile(logPath, "utf8")).trimEnd().split("\n");
    const served = await startExample("policy_server", [logPath, "1000", "0"]);
    try {
      const alice = await Client.connect(`ftp://alice:secret@127.0.0.1:${served.port}/`);
      await upload(alice, "one.bin", new Uint8Array(600));
      // The line is written before the 226 that ended the upload.
      assert.match((await lines()).at(-1)!, / upload \/one\.bin 600 bytes complete$/);
      await upload(alice, "two.bin", new Uint8Array(600)); // started below the allowance
      const refused = await alice.uploadStream("three.bin").catch((error) => error);
      assert.ok(refused instanceof ReplyError);
      assert.deepEqual([refused.code, refused.reply.lines[0]], [552, "quota exceeded"]);
      assert.equal(await alice.exists("three.bin"), false);
      await alice.remove("one.bin");
      assert.equal(
        new Uint8Array(await new Response(await alice.downloadStream("two.bin")).arrayBuffer())
          .length,
        600,
      );
      await alice.quit();
      const { code, stderr } = await served.stop();
      assert.equal(code, 0, stderr);
      const prefix = String.raw`^\S+Z alice@127\.0\.0\.1 plain `;
      const expected = [
        "login",
        "upload /one.bin 600 bytes complete",
        "upload /two.bin 600 bytes complete",
        "delete /one.bin",
        "download /two.bin 600 bytes complete",
      ];
      const written = await lines();
      assert.equal(written.length, expected.length, written.join("\n"));
      written.forEach((line, i) =>
        assert.match(line, new RegExp(prefix + expected[i].replaceAll(".", "\\.") + "$"), line)
      );
    } finally {
      await served.stop();
      await dir.remove();
    }
  });
});
