/**
 * The aioftp 0.21.4 client (Debian's python3-aioftp) against our server: upload, download,
 * list, stat, rename, remove (it uses EPSV, MLSD and MLST).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { MemoryFileSystem, Server, User } from "../server.ts";
import { peerSkip, run, systemPython, within } from "./_util.ts";
import { getFile, putFile } from "./server_raw.ts";

const AIOFTP = "/usr/lib/python3/dist-packages/aioftp/__init__.py";
const skip = peerSkip("python3-aioftp", systemPython) ||
  (existsSync(AIOFTP) ? false : peerSkip("python3-aioftp", AIOFTP));

const SCRIPT = String.raw`
import asyncio, json, sys
import aioftp

async def main(host, port):
    out = {}
    payload = bytes(range(256)) * 1000
    async with aioftp.Client.context(host, port, user="alice", password="secret") as client:
        await client.make_directory("d/e")
        async with client.upload_stream("d/e/f.bin") as stream:
            await stream.write(payload)
        async with client.download_stream("d/e/f.bin") as stream:
            got = await stream.read()
        out["download_ok"] = got == payload
        out["list"] = sorted((str(p), info["type"], info.get("size")) for p, info in await client.list("d/e"))
        out["list_recursive"] = sorted(str(p) for p, info in await client.list("d", recursive=True))
        stat = await client.stat("d/e/f.bin")
        out["stat"] = [stat["type"], stat["size"]]
        out["exists"] = [await client.exists("d/e/f.bin"), await client.exists("nope")]
        out["is_dir"] = await client.is_dir("d/e")
        await client.rename("d/e/f.bin", "d/g.bin")
        out["after_rename"] = [await client.exists("d/e/f.bin"), await client.exists("d/g.bin")]
        async with client.download_stream("seed.txt", offset=2) as stream:
            out["offset"] = (await stream.read()).decode()
        await client.remove("d/g.bin")
        await client.remove("d")
        out["after_remove"] = await client.exists("d")
        out["pwd"] = str(await client.get_current_directory())
    print(json.dumps(out))

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
`;

describe("interop: aioftp 0.21.4 client against our server", { skip }, () => {
  it("upload, download, list, stat, rename, remove", { timeout: 60000 }, async () => {
    const fs = new MemoryFileSystem();
    await putFile(fs, "/seed.txt", "hello");
    const server = new Server({
      fileSystem: fs,
      users: [new User({ login: "alice", password: "secret" })],
    });
    await server.start();
    try {
      const result = await run(systemPython, [
        "-c",
        SCRIPT,
        "127.0.0.1",
        String(server.address.port),
      ], {
        timeoutMs: 45000,
      });
      assert.equal(result.code, 0, result.stderr);
      const out = JSON.parse(result.stdout);
      assert.equal(out.download_ok, true);
      assert.deepEqual(out.list, [["d/e/f.bin", "file", "256000"]]);
      assert.deepEqual(out.list_recursive, ["d/e", "d/e/f.bin"]);
      assert.deepEqual(out.stat, ["file", "256000"]);
      assert.deepEqual(out.exists, [true, false]);
      assert.equal(out.is_dir, true);
      assert.deepEqual(out.after_rename, [false, true]);
      assert.equal(out.offset, "llo");
      assert.equal(out.after_remove, false);
      assert.equal(out.pwd, "/");
      assert.equal(await fs.exists("/d"), false);
      assert.equal(new TextDecoder().decode(await getFile(fs, "/seed.txt")), "hello");
    } finally {
      await within(server.close(), 10000);
    }
  });
});
