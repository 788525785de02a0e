/**
 * examples/bun_script.ts run with `bun`, from whichever runtime runs the tests: against a
 * server of this test (the uploaded bytes checked in its file system) and against the server
 * the script starts itself. Skipped, with a notice, where no `bun` is found.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { MemoryFileSystem, Server, User } from "../server.ts";
import { run, runtime, sha256, within } from "./_util.ts";
import { examplePath } from "./_examples.ts";
import { getFile } from "./server_raw.ts";

/** This runtime when it is Bun, else a `bun` on PATH. */
function findBun(): string | undefined {
  if (runtime === "bun") return process.execPath;
  const dirs = (process.env.PATH ?? "").split(":").filter(Boolean);
  return dirs.map((dir) => join(dir, "bun")).find((path) => existsSync(path));
}

const bun = findBun();
const skip = bun === undefined ? "bun is not on PATH" : false;
if (skip) console.warn(`NOTICE: skipping examples/bun_script.ts tests: ${skip}`);

const LINE = /^1048576 bytes to (127\.0\.0\.1:\d+) and back, sha256 ([0-9a-f]{64}) matches\n$/;

describe("example: bun_script (run with bun)", { skip }, () => {
  it("uploads 1 MiB to a given server and checks what comes back", {
    timeout: 30000,
  }, async () => {
    const fileSystem = new MemoryFileSystem();
    const server = new Server({
      fileSystem,
      users: [new User({ login: "bob", password: "pw" })],
    });
    await server.start("127.0.0.1", 0);
    try {
      await fileSystem.mkdir("/drop");
      const url = `ftp://bob:pw@127.0.0.1:${server.address.port}/drop/`;
      const result = await run(bun!, [examplePath("bun_script"), url], { timeoutMs: 20000 });
      assert.equal(result.code, 0, result.stderr);
      const [, where, checksum] = LINE.exec(result.stdout) ?? assert.fail(result.stdout);
      assert.equal(where, `127.0.0.1:${server.address.port}`);
      // What the server stored is what the script says it sent.
      const stored = await getFile(fileSystem, "/drop/bun_script.bin");
      assert.equal(stored.length, 1 << 20);
      assert.equal(sha256(stored), checksum);
    } finally {
      await within(server.close(), 10000, "server close");
    }
  });

  it("starts an in-memory server of its own without a URL", { timeout: 30000 }, async () => {
    const result = await run(bun!, [examplePath("bun_script")], { timeoutMs: 20000 });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, LINE);
  });
});
