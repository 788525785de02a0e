/**
 * Python's ftplib (/usr/bin/python3) against our server: every verb group, REST, ABOR through
 * `abort()` (ABOR sent as urgent data), MLSD, NLST, SIZE, MDTM, TYPE A, active mode.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemoryFileSystem, Server, User } from "../server.ts";
import { peerSkip, randomBytes, run, sha256, systemPython, within } from "./_util.ts";
import { getFile, putFile } from "./server_raw.ts";

const skip = peerSkip("python3 ftplib", systemPython);

const SCRIPT = String.raw`
import ftplib, hashlib, io, json, sys
host, port = sys.argv[1], int(sys.argv[2])
out = {}
ftp = ftplib.FTP()
out["welcome"] = ftp.connect(host, port, timeout=10)
out["login"] = ftp.login("alice", "secret")
out["syst"] = ftp.sendcmd("SYST")
out["feat"] = ftp.sendcmd("FEAT").splitlines()
out["opts"] = ftp.sendcmd("OPTS UTF8 ON")
out["noop"] = ftp.voidcmd("NOOP")
out["mkd"] = ftp.mkd("dir")
out["cwd"] = ftp.cwd("dir")
out["pwd"] = ftp.pwd()
ftp.cwd("/")
payload = bytes(range(256)) * 4096
out["stor"] = ftp.storbinary("STOR dir/up.bin", io.BytesIO(payload))
got = bytearray()
out["retr"] = ftp.retrbinary("RETR dir/up.bin", got.extend)
out["retr_ok"] = bytes(got) == payload
rest = bytearray()
ftp.retrbinary("RETR dir/up.bin", rest.extend, rest=1000)
out["rest_ok"] = bytes(rest) == payload[1000:]
out["size"] = ftp.size("dir/up.bin")
out["mdtm"] = ftp.sendcmd("MDTM dir/up.bin")
out["nlst"] = sorted(ftp.nlst("dir"))
out["mlsd"] = sorted((name, facts["type"], facts.get("size")) for name, facts in ftp.mlsd("/"))
listing = []
ftp.dir("dir", listing.append)
out["list"] = listing
out["storlines"] = ftp.storlines("STOR text.txt", io.BytesIO(b"one\ntwo\n"))
lines = []
ftp.retrlines("RETR text.txt", lines.append)
out["retrlines"] = lines
out["rename"] = [ftp.sendcmd("RNFR text.txt"), ftp.sendcmd("RNTO renamed.txt")]
out["hash"] = ftp.sendcmd("HASH dir/up.bin")
out["sha256"] = hashlib.sha256(payload).hexdigest()
ftp.set_pasv(False)
active = bytearray()
out["active_retr"] = ftp.retrbinary("RETR dir/up.bin", active.extend)
out["active_ok"] = bytes(active) == payload
out["active_stor"] = ftp.storbinary("STOR active.bin", io.BytesIO(b"active"))
ftp.set_pasv(True)
conn = ftp.transfercmd("RETR big.bin")
conn.recv(65536)
out["abort"] = ftp.abort()
out["abort_after"] = ftp.voidresp()
conn.close()
out["noop_after_abort"] = ftp.voidcmd("NOOP")
out["delete"] = ftp.delete("dir/up.bin")
out["rmd"] = ftp.rmd("dir")
out["quit"] = ftp.quit()
print(json.dumps(out))
`;

describe("interop: Python ftplib against our server", { skip }, () => {
  it("every verb group, REST, ABOR, MLSD, NLST, SIZE, MDTM, TYPE A, active mode", {
    timeout: 60000,
  }, async () => {
    const fs = new MemoryFileSystem();
    const big = randomBytes(8 << 20, 3);
    await putFile(fs, "/big.bin", big);
    const server = new Server({
      fileSystem: fs,
      users: [new User({ login: "alice", password: "secret" })],
      writeSpeedLimitPerConnection: 8 << 20,
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
      assert.equal(out.welcome, "220 welcome");
      assert.equal(out.login, "230 normal login");
      assert.equal(out.syst, "215 UNIX Type: L8");
      assert.ok(out.feat.includes(" MLST type*;size*;modify*;perm*;unix.mode*;"));
      assert.equal(out.opts, "200 always in UTF8 mode");
      assert.equal(out.noop, "200 NOOP ok");
      assert.equal(out.mkd, "/dir");
      assert.equal(out.cwd, '250 directory changed to "/dir"');
      assert.equal(out.pwd, "/dir");
      assert.equal(out.stor, "226 transfer done");
      assert.equal(out.retr, "226 transfer done");
      assert.equal(out.retr_ok, true);
      assert.equal(out.rest_ok, true);
      assert.equal(out.size, 1 << 20);
      assert.match(out.mdtm, /^213 \d{14}$/);
      assert.deepEqual(out.nlst, ["up.bin"]);
      assert.deepEqual(out.mlsd, [["big.bin", "file", String(8 << 20)], [
        "dir",
        "dir",
        out.mlsd[1][2],
      ]]);
      assert.equal(out.list.length, 1);
      assert.match(out.list[0], /^-rw-r--r-- .* 1048576 .* up\.bin$/);
      assert.equal(out.storlines, "226 transfer done");
      assert.deepEqual(out.retrlines, ["one", "two"]);
      assert.equal(new TextDecoder().decode(await getFile(fs, "/renamed.txt")), "one\ntwo\n");
      assert.deepEqual(out.rename, ["350 rename from accepted", "250 rename successful"]);
      assert.equal(out.hash, `213 SHA-256 0-1048576 ${out.sha256} dir/up.bin`);
      assert.equal(out.active_retr, "226 transfer done");
      assert.equal(out.active_ok, true);
      assert.equal(out.active_stor, "226 transfer done");
      assert.equal(new TextDecoder().decode(await getFile(fs, "/active.bin")), "active");
      assert.equal(out.abort, "426 transfer aborted");
      assert.equal(out.abort_after, "226 abort successful");
      assert.equal(out.noop_after_abort, "200 NOOP ok");
      assert.equal(out.delete, "250 file deleted");
      assert.equal(out.rmd, "250 directory removed");
      assert.equal(out.quit, "221 bye");
      assert.equal(sha256(await getFile(fs, "/big.bin")), sha256(big));
    } finally {
      await within(server.close(), 10000);
    }
  });
});
