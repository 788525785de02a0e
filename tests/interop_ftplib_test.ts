/**
 * Python's ftplib (/usr/bin/python3) against our server: every verb group, REST, ABOR through
 * `abort()` (ABOR sent as urgent data), MLSD, MLST, NLST, STAT, SIZE, MDTM, MFMT, SITE CHMOD,
 * HASH with OPTS HASH, APPE, STOU, CDUP, TYPE A, EPSV, active mode.
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
out["appe"] = ftp.storbinary("APPE renamed.txt", io.BytesIO(b"three\n"))
out["stou"] = ftp.storbinary("STOU", io.BytesIO(b"unique"))
out["cdup"] = [ftp.cwd("dir"), ftp.cwd(".."), ftp.pwd()]
out["stat"] = ftp.sendcmd("STAT dir").splitlines()
try:
    out["site_chmod"] = ftp.sendcmd("SITE CHMOD 600 dir/up.bin")
except ftplib.error_perm as error:
    out["site_chmod"] = str(error)
out["opts_mlst"] = ftp.sendcmd("OPTS MLST type;size;unix.mode;")
out["mlst"] = ftp.sendcmd("MLST dir/up.bin").splitlines()
out["mfmt"] = ftp.sendcmd("MFMT 20200102030405 dir/up.bin")
out["mdtm_after"] = ftp.sendcmd("MDTM dir/up.bin")
out["mode_stru"] = [ftp.sendcmd("MODE S"), ftp.sendcmd("STRU F")]
out["help"] = ftp.sendcmd("HELP").splitlines()[0]
out["opts_hash"] = ftp.sendcmd("OPTS HASH MD5")
out["hash_md5"] = ftp.sendcmd("HASH dir/up.bin")
ftp.sendcmd("OPTS HASH SHA-256")
ftp.af = __import__("socket").AF_INET6  # ftplib sends EPSV instead of PASV for IPv6
epsv = bytearray()
out["epsv_retr"] = ftp.retrbinary("RETR dir/up.bin", epsv.extend)
out["epsv_ok"] = bytes(epsv) == payload
ftp.af = __import__("socket").AF_INET
out["hash"] = ftp.sendcmd("HASH dir/up.bin")
out["sha256"] = hashlib.sha256(payload).hexdigest()
out["md5"] = hashlib.md5(payload).hexdigest()
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
  it("every verb group, REST, ABOR, listings, file commands, HASH, EPSV, active mode", {
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
      assert.equal(out.appe, "226 transfer done");
      assert.equal(
        new TextDecoder().decode(await getFile(fs, "/renamed.txt")),
        "one\ntwo\nthree\n",
      );
      assert.equal(out.stou, "226 transfer done");
      const unique: string[] = [];
      for await (const entry of fs.list("/")) {
        if (!["big.bin", "dir", "renamed.txt", "active.bin"].includes(entry.name)) {
          unique.push(entry.name);
        }
      }
      assert.equal(unique.length, 1, JSON.stringify(unique));
      assert.equal(new TextDecoder().decode(await getFile(fs, `/${unique[0]}`)), "unique");
      assert.deepEqual(out.cdup, [
        '250 directory changed to "/dir"',
        '250 directory changed to "/"',
        "/",
      ]);
      assert.equal(out.stat.length, 3);
      assert.deepEqual([out.stat[0], out.stat[2]], ["212-Status of /dir:", "212 End of status"]);
      assert.match(out.stat[1], /^ -rw-r--r-- .* 1048576 .* up\.bin$/);
      assert.equal(out.site_chmod, "200 SITE CHMOD command successful");
      assert.equal(out.opts_mlst, "200 MLST OPTS type;size;unix.mode;");
      assert.deepEqual(out.mlst, [
        "250-Listing /dir/up.bin",
        " type=file;size=1048576;unix.mode=0600; /dir/up.bin",
        "250 End",
      ]);
      assert.equal(out.mfmt, "213 Modify=20200102030405; dir/up.bin");
      assert.equal(out.mdtm_after, "213 20200102030405");
      assert.deepEqual(out.mode_stru, ["200 mode set to S", "200 structure set to F"]);
      assert.equal(out.help, "214-The following commands are recognized:");
      assert.equal(out.opts_hash, "200 MD5");
      assert.equal(out.hash_md5, `213 MD5 0-1048576 ${out.md5} dir/up.bin`);
      assert.equal(out.epsv_retr, "226 transfer done");
      assert.equal(out.epsv_ok, true);
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
