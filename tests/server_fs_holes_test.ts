/**
 * Holes of the security review (issue 9) that live in the file systems, seen over a real
 * control connection: SITE CHMOD setting setuid/setgid bits or following a link, a rename that
 * turns a link outward, STOU truncating a file that appeared after its check, and uploads
 * growing a memory file system without bound.
 */

import assert from "node:assert/strict";
import { mkdir, readlink, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PathError } from "../lib/errors.ts";
import { pathErrorReply } from "../lib/server/path_error_reply.ts";
import { LocalFileSystem, MemoryFileSystem, type ServerOptions } from "../server.ts";
import { randomBytes, tempDir } from "./_util.ts";
import { getFile, putFile, type RawControl, text, withSession, writeAll } from "./server_raw.ts";

const T = { timeout: 20000 };

const modeOf = async (path: string) => (await stat(path)).mode & 0o7777;

describe("server: file-system holes on a LocalFileSystem", () => {
  let root: { path: string; remove(): Promise<void> };
  const at = (...names: string[]) => join(root.path, ...names);
  before(async () => {
    root = await tempDir("streamftp-server-holes-");
    await mkdir(at("pub"));
    await mkdir(at("ro"));
    await writeFile(at("ro", "keep.txt"), "keep");
    await writeFile(at("pub", "tool"), "#!/bin/sh\n");
    await symlink("../ro", at("pub", "toro"));
    await symlink("../ro/keep.txt", at("pub", "keep-link"));
  });
  after(() => root.remove());

  const session = (options: ServerOptions, fn: (c: RawControl) => Promise<void>) =>
    withSession({ fileSystem: new LocalFileSystem(root.path), ...options }, fn);

  it("SITE CHMOD 6777 sets 0777: no setuid or setgid bit by default", T, async () => {
    await session({}, async (c) => {
      assert.equal(
        await c.ask("SITE CHMOD 6777 pub/tool"),
        "200 SITE CHMOD command successful, mode set to 0777",
      );
      assert.equal(await modeOf(at("pub", "tool")), 0o777);
      assert.equal(await c.ask("SITE CHMOD 750 pub/tool"), "200 SITE CHMOD command successful");
      assert.equal(await modeOf(at("pub", "tool")), 0o750);
    });
  });

  it("SITE CHMOD keeps the special bits an operator allows with chmodMask", T, async () => {
    await session({ chmodMask: 0o7777 }, async (c) => {
      assert.equal(await c.ask("SITE CHMOD 2755 pub/tool"), "200 SITE CHMOD command successful");
      assert.equal(await modeOf(at("pub", "tool")), 0o2755);
    });
  });

  it("SITE CHMOD on a symbolic link is 550 and leaves its target alone", T, async () => {
    await session({}, async (c) => {
      const before = await modeOf(at("ro", "keep.txt"));
      assert.equal(await c.ask("SITE CHMOD 777 pub/keep-link"), "550 permission denied");
      assert.equal(await modeOf(at("ro", "keep.txt")), before);
    });
  });

  it("a rename that would make a relative link lead out of the root is 550", T, async () => {
    await session({}, async (c) => {
      assert.equal(await c.ask("RNFR pub/toro"), "350 rename from accepted");
      assert.equal(await c.ask("RNTO /toro"), "550 permission denied");
      assert.equal(await readlink(at("pub", "toro")), "../ro");
      assert.equal(await c.ask("RNFR pub/toro"), "350 rename from accepted");
      assert.equal(await c.ask("RNTO pub/toro2"), "250 rename successful");
    });
  });
});

/**
 * A memory file system whose `exists` answers `false` for everything: what a STOU sees when a
 * concurrent upload creates the file just after its check.
 */
class RacingFileSystem extends MemoryFileSystem {
  override exists(): Promise<boolean> {
    return Promise.resolve(false);
  }
}

describe("server: STOU and memory quotas", () => {
  it("STOU never truncates a file that appeared after its check", T, async () => {
    const fs = new RacingFileSystem();
    await putFile(fs, "/stou", "precious");
    await withSession({ fileSystem: fs }, async (c) => {
      const data = await c.pasv();
      assert.equal(await c.ask("STOU"), "150 FILE: stou.1");
      await writeAll(data, new TextEncoder().encode("new"));
      assert.equal(await c.next(), "226 transfer done");
    });
    assert.equal(text(await getFile(fs, "/stou")), "precious");
    assert.equal(text(await getFile(fs, "/stou.1")), "new");
  });

  it("an upload beyond a MemoryFileSystem's quota fails and keeps what fit", T, async () => {
    const fs = new MemoryFileSystem({ maxBytes: 100_000 });
    const { code, text: reason } = pathErrorReply(new PathError("no-space", "/big"), true);
    await withSession({ fileSystem: fs }, async (c) => {
      const data = await c.pasv();
      assert.equal(await c.ask("STOR big"), "150 data transfer started");
      await writeAll(data, randomBytes(300_000, 5)).catch(() => {});
      assert.equal(await c.next(), `${code} ${reason}, partial file kept`);
      assert.ok(fs.usedBytes <= 100_000, `${fs.usedBytes} bytes stored`);
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
    });
  });
});
