/**
 * lftp against our server: `mirror -R` uploads a tree, `mirror` downloads it again, and every
 * file's SHA-256 must match, on both sides and on the server's disk (lftp lists with MLSD,
 * which FEAT advertises).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { LocalFileSystem, Server, User } from "../server.ts";
import { peerSkip, randomBytes, run, sha256, tempDir, within } from "./_util.ts";
import { getFile } from "./server_raw.ts";

const LFTP = "/usr/bin/lftp";
const skip = peerSkip("lftp", LFTP);

const FILES: Record<string, number> = {
  "empty.txt": 0,
  "one.bin": 1,
  "block.bin": 65536,
  "sub/big.bin": (1 << 20) + 3,
  "sub/with space.txt": 1000,
  "sub/deeper/leaf.dat": 70000,
};

async function walk(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    out.set(relative(root, path), sha256(await readFile(path)));
  }
  return out;
}

describe("interop: lftp against our server", { skip }, () => {
  it("mirror -R then mirror back: every file identical", { timeout: 60000 }, async () => {
    const dir = await tempDir("streamftp-lftp-");
    await mkdir(join(dir.path, "served"));
    const fs = new LocalFileSystem(join(dir.path, "served"));
    const server = new Server({
      fileSystem: fs,
      users: [new User({ login: "alice", password: "secret" })],
    });
    await server.start();
    try {
      const up = join(dir.path, "up");
      const down = join(dir.path, "down");
      let seed = 1;
      for (const [name, size] of Object.entries(FILES)) {
        await mkdir(join(up, name, ".."), { recursive: true });
        await writeFile(join(up, name), randomBytes(size, seed++));
      }
      const script = [
        "set cmd:fail-exit yes",
        "set net:max-retries 1",
        "set net:timeout 10",
        "set ftp:ssl-allow no",
        `open -u alice,secret -p ${server.address.port} 127.0.0.1`,
        `mirror -R --no-perms ${up} /tree`,
        `mirror --no-perms /tree ${down}`,
        "bye",
      ].join("; ");
      const result = await run(LFTP, ["-c", script], { timeoutMs: 50000 });
      assert.equal(result.code, 0, result.stderr + result.stdout);
      const sent = await walk(up);
      const received = await walk(down);
      assert.equal(sent.size, Object.keys(FILES).length);
      assert.deepEqual(received, sent);
      for (const [name, digest] of sent) {
        assert.equal(sha256(await getFile(fs, `/tree/${name}`)), digest, name);
      }
    } finally {
      await within(server.close(), 10000);
      await dir.remove();
    }
  });
});
