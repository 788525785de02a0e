/**
 * examples/quota.ts: the upload allowance built on the server's hooks, against a real server.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { UploadQuota } from "../examples/quota.ts";
import { MemoryFileSystem, User } from "../server.ts";
import { RawControl, withServer, writeAll } from "./server_raw.ts";

describe("example: upload quota", () => {
  it("uploads run until the allowance is used, then 552 quota exceeded and no file", {
    timeout: 30000,
  }, async () => {
    const quota = new UploadQuota(1000);
    const fs = new MemoryFileSystem();
    const users = [new User({ login: "alice" }), new User({ login: "bob" })];
    await withServer({ fileSystem: fs, users, hooks: quota.hooks }, async (server) => {
      const alice = await RawControl.connect(server.address);
      await alice.login("alice");
      for (const name of ["one", "two"]) {
        const data = await alice.pasv();
        assert.equal(await alice.ask(`STOR ${name}`), "150 data transfer started");
        await writeAll(data, new Uint8Array(600));
        assert.equal(await alice.next(), "226 transfer done");
      }
      // The second upload started below the allowance and ran to its end.
      assert.equal(quota.used("alice"), 1200);
      await alice.pasv();
      assert.equal(await alice.ask("STOR three"), "552 quota exceeded");
      assert.equal(await fs.exists("/three"), false);
      // Downloads and other users are not limited.
      assert.equal(await alice.ask("SIZE one"), "213 600");
      const bob = await RawControl.connect(server.address);
      await bob.login("bob");
      const data = await bob.pasv();
      assert.equal(await bob.ask("STOR four"), "150 data transfer started");
      await writeAll(data, new Uint8Array(10));
      assert.equal(await bob.next(), "226 transfer done");
      assert.equal(quota.used("bob"), 10);
      alice.close();
      bob.close();
    });
  });
});
