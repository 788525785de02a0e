/**
 * curl against our server: upload (-T), download, resume (-C -) both ways, listings, -Q
 * commands, EPSV, forced PASV, active mode (-P) with EPRT and PORT.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MemoryFileSystem, Server, User } from "../server.ts";
import { peerSkip, randomBytes, run, sha256, tempDir, within } from "./_util.ts";
import { getFile, putFile } from "./server_raw.ts";

const CURL = "/usr/bin/curl";
const skip = peerSkip("curl", CURL);
const T = { timeout: 30000 };

describe("interop: curl against our server", { skip }, () => {
  let server: Server;
  let fs: MemoryFileSystem;
  let dir: { path: string; remove(): Promise<void> };
  let url: string;
  const payload = randomBytes(3 << 20, 11);

  before(async () => {
    fs = new MemoryFileSystem();
    await fs.mkdir("/pub");
    await putFile(fs, "/pub/data.bin", payload);
    server = new Server({
      fileSystem: fs,
      users: [new User(), new User({ login: "alice", password: "secret" })],
    });
    await server.start();
    url = `ftp://127.0.0.1:${server.address.port}`;
    dir = await tempDir("streamftp-curl-");
  });
  after(async () => {
    await within(server.close(), 10000);
    await dir.remove();
  });

  async function curl(...args: string[]): Promise<string> {
    const result = await run(CURL, ["-sS", "--max-time", "20", ...args], { timeoutMs: 25000 });
    assert.equal(result.code, 0, `curl ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  }

  it("login, PWD, NOOP, SYST, FEAT and CWD get the exact replies (curl -v)", T, async () => {
    const login = `ftp://alice:secret@127.0.0.1:${server.address.port}/pub/`;
    const result = await run(
      CURL,
      ["-sS", "-v", "--max-time", "20", "-Q", "NOOP", "-Q", "SYST", "-Q", "FEAT", login],
      { timeoutMs: 25000 },
    );
    assert.equal(result.code, 0, result.stderr);
    const dialogue = result.stderr.split(/\r?\n/).filter((l) => /^[<>] /.test(l));
    const expected = [
      "< 220 welcome",
      "> USER alice",
      "< 331 password required",
      "> PASS secret",
      "< 230 normal login",
      "> PWD",
      '< 257 "/"',
      "> NOOP",
      "< 200 NOOP ok",
      "> SYST",
      "< 215 UNIX Type: L8",
      "> FEAT",
      "< 211-Features:",
    ];
    assert.deepEqual(dialogue.slice(0, expected.length), expected);
    assert.ok(dialogue.includes("<  MLST type*;size*;modify*;perm*;unix.mode*;"));
    const cwd = dialogue.indexOf("> CWD pub");
    assert.ok(cwd > dialogue.indexOf("< 211 End"), "FEAT ends before CWD");
    assert.equal(dialogue[cwd + 1], '< 250 directory changed to "/pub"');
    assert.ok(dialogue.includes("< 226 list transfer done"));
  });

  it("download with EPSV, with PASV only, and in active mode (EPRT, PORT)", T, async () => {
    const variants = [[], ["--disable-epsv"], ["-P", "127.0.0.1"], [
      "-P",
      "127.0.0.1",
      "--disable-eprt",
    ]];
    for (const [i, extra] of variants.entries()) {
      const out = join(dir.path, `down${i}.bin`);
      await curl(...extra, "-o", out, `${url}/pub/data.bin`);
      assert.equal(sha256(await readFile(out)), sha256(payload), extra.join(" "));
    }
  });

  it("upload with -T (passive and active), then resume an upload with -C -", T, async () => {
    const local = join(dir.path, "up.bin");
    await writeFile(local, payload);
    await curl("-T", local, `${url}/pub/up.bin`);
    assert.equal(sha256(await getFile(fs, "/pub/up.bin")), sha256(payload));
    await curl("-P", "127.0.0.1", "-T", local, `${url}/pub/up-active.bin`);
    assert.equal(sha256(await getFile(fs, "/pub/up-active.bin")), sha256(payload));
    await putFile(fs, "/pub/partial.bin", payload.subarray(0, 1 << 20));
    await curl("-C", "-", "-T", local, `${url}/pub/partial.bin`);
    assert.equal(sha256(await getFile(fs, "/pub/partial.bin")), sha256(payload));
  });

  it("resume a download with -C -", T, async () => {
    const local = join(dir.path, "resume.bin");
    await writeFile(local, payload.subarray(0, 12345));
    await curl("-C", "-", "-o", local, `${url}/pub/data.bin`);
    assert.equal(sha256(await readFile(local)), sha256(payload));
  });

  it("LIST and NLST (--list-only) of a directory", T, async () => {
    const list = await curl(`${url}/pub/`);
    assert.match(list, /^-rw-r--r-- .* 3145728 .* data\.bin\r?$/m);
    const names = (await curl("--list-only", `${url}/pub/`)).split(/\r?\n/).filter(Boolean).sort();
    assert.ok(names.includes("data.bin"));
  });

  it("-Q commands before and after a transfer", T, async () => {
    await curl(
      "-Q",
      "MKD /made",
      "-Q",
      "-RNFR /pub/data.bin",
      "-Q",
      "-RNTO /made/moved.bin",
      "-o",
      join(dir.path, "q.bin"),
      `${url}/pub/data.bin`,
    );
    assert.equal(await fs.exists("/made/moved.bin"), true);
    assert.equal(await fs.exists("/pub/data.bin"), false);
    await curl("-Q", "-DELE /made/moved.bin", "-Q", "-RMD /made", `${url}/`);
    assert.equal(await fs.exists("/made"), false);
    await fs.rename("/pub/up.bin", "/pub/data.bin");
  });
});
