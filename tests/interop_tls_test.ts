/**
 * FTPS interop: our server with a certificate (tests/fixtures/tls.ts) against real clients that
 * verify it through the test CA. curl (explicit AUTH + PROT P, implicit `ftps://`, session
 * reuse required, TLS required), lftp (mirror both ways under PROT P), Python's `FTP_TLS`
 * (passive and active mode; uploads whose client closes at once), a plain `ftplib.FTP` refused,
 * and raw refusals (clear text and silence on an implicit-TLS listener, no handshake after 234)
 * that leave the server serving proper TLS clients.
 *
 * curl asks `AUTH SSL` before `AUTH TLS` (its CLI cannot change that); lftp and ftplib send
 * `AUTH TLS`. curl runs in passive mode only: curl 7.87 and 7.88 (Debian 12's) never start TLS on an
 * active-mode data connection (curl/curl#10669, fixed in 8.0); ftplib covers active mode.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { LineReader } from "../lib/stream/line_reader.ts";
import { type Reply, ReplyParser } from "../lib/protocol/reply.ts";
import type { Conn } from "../lib/socket.ts";
import {
  type FileSystem,
  LocalFileSystem,
  MemoryFileSystem,
  Server,
  type ServerOptions,
  User,
} from "../server.ts";
import {
  peerSkip,
  randomBytes,
  run,
  type RunResult,
  sha256,
  systemPython,
  tempDir,
  testNetwork,
  within,
} from "./_util.ts";
import { TEST_CA_CERT, TEST_SERVER_CERT, TEST_SERVER_KEY } from "./fixtures/tls.ts";
import { getFile, putFile } from "./server_raw.ts";

const CURL = "/usr/bin/curl";
const LFTP = "/usr/bin/lftp";
const TLS = { cert: TEST_SERVER_CERT, key: TEST_SERVER_KEY };
const T = { timeout: 30000 };

/** A started server with the test certificate, and its log. */
interface TlsServer {
  server: Server;
  port: number;
  /** Every log message, in order (replies appear as `"< 226 transfer done"`). */
  log: string[];
}

/**
 * Runs `fn` against a server with the test certificate on 127.0.0.1 (any port), users
 * anonymous and alice/secret, then closes it. A failing close does not hide the test's own
 * failure.
 */
async function withTlsServer(
  fileSystem: FileSystem,
  options: Partial<ServerOptions>,
  fn: (tls: TlsServer) => Promise<void>,
): Promise<void> {
  const log: string[] = [];
  const server = new Server({
    fileSystem,
    users: [new User(), new User({ login: "alice", password: "secret" })],
    tls: TLS,
    log: (record) => log.push(record.message),
    ...options,
  });
  await server.start("127.0.0.1", 0);
  let failed = true;
  try {
    await fn({ server, port: server.address.port, log });
    failed = false;
  } finally {
    const closing = within(server.close(), 10000, "server close");
    if (failed) await closing.catch(() => {});
    else await closing;
  }
}

/** Waits until the server's log holds `line` (a reply is logged once it is written). */
async function waitForLog(log: string[], line: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!log.includes(line)) {
    if (Date.now() > end) {
      assert.fail(`the server never logged ${JSON.stringify(line)}:\n${log.join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The control dialogue that `curl -v` prints (`> COMMAND`, `< reply`). */
function dialogue(stderr: string): string[] {
  return stderr.split(/\r?\n/).filter((line) => /^[<>] /.test(line));
}

/** Asserts that `lines` holds `expected` as a contiguous run. */
function assertRun(lines: string[], expected: string[], what: string): void {
  const start = lines.indexOf(expected[0]);
  assert.ok(start >= 0, `${what}: ${expected[0]} missing in\n${lines.join("\n")}`);
  assert.deepEqual(lines.slice(start, start + expected.length), expected, what);
}

async function curl(...args: string[]): Promise<RunResult> {
  return await run(CURL, ["-sS", "--max-time", "20", ...args], { timeoutMs: 25000 });
}

async function curlOk(...args: string[]): Promise<RunResult> {
  const result = await curl(...args);
  assert.equal(result.code, 0, `curl ${args.join(" ")}:\n${result.stderr}`);
  return result;
}

/** The explicit-FTPS exchange after the greeting, as curl (which asks AUTH SSL first) shows it. */
const CURL_EXPLICIT = [
  "< 220 welcome",
  "> AUTH SSL",
  "< 234 AUTH SSL successful, starting the TLS handshake",
  "> USER alice",
  "< 331 password required",
  "> PASS secret",
  "< 230 normal login",
  "> PBSZ 0",
  "< 200 PBSZ=0",
  "> PROT P",
  "< 200 protection level set to P",
];

describe("interop FTPS: curl against our server", { skip: peerSkip("curl", CURL) }, () => {
  let dir: { path: string; remove(): Promise<void> };
  let ca: string;
  const payload = randomBytes(3 << 20, 21);

  before(async () => {
    dir = await tempDir("streamftp-tls-curl-");
    ca = join(dir.path, "ca.pem");
    await writeFile(ca, TEST_CA_CERT);
    await writeFile(join(dir.path, "payload.bin"), payload);
  });
  after(async () => {
    await dir.remove();
  });

  it("explicit (--ssl-reqd): upload -T, download, listings, exact replies", {
    timeout: 60000,
  }, async () => {
    const fs = new MemoryFileSystem();
    await withTlsServer(fs, {}, async (tls) => {
      const base = `ftp://alice:secret@127.0.0.1:${tls.port}`;
      const secure = ["--ssl-reqd", "--cacert", ca];
      const up = await curlOk(
        "-v",
        ...secure,
        "-T",
        join(dir.path, "payload.bin"),
        `${base}/up.bin`,
      );
      assert.match(up.stderr, /SSL certificate verify ok/);
      const upLines = dialogue(up.stderr);
      assert.deepEqual(upLines.slice(0, CURL_EXPLICIT.length), CURL_EXPLICIT);
      assertRun(
        upLines,
        ["> STOR up.bin", "< 150 data transfer started", "< 226 transfer done"],
        "STOR",
      );
      assert.equal(sha256(await getFile(fs, "/up.bin")), sha256(payload));

      const out = join(dir.path, "down.bin");
      const down = await curlOk("-v", ...secure, "-o", out, `${base}/up.bin`);
      assert.deepEqual(dialogue(down.stderr).slice(0, CURL_EXPLICIT.length), CURL_EXPLICIT);
      assertRun(dialogue(down.stderr), ["> RETR up.bin", "< 150 data transfer started"], "RETR");
      assert.ok(dialogue(down.stderr).includes("< 226 transfer done"));
      assert.equal(sha256(await readFile(out)), sha256(payload));

      const list = await curlOk("-v", ...secure, `${base}/`);
      assert.match(list.stdout, /^-rw-r--r-- .* 3145728 .* up\.bin\r?$/m);
      assertRun(dialogue(list.stderr), ["> LIST", "< 150 list transfer started"], "LIST");
      assert.ok(dialogue(list.stderr).includes("< 226 list transfer done"));
      const names = await curlOk(...secure, "--list-only", `${base}/`);
      assert.deepEqual(names.stdout.split(/\r?\n/).filter(Boolean), ["up.bin"]);
    });
  });

  it("implicit (ftps://, implicitTls): no AUTH, PBSZ/PROT P, download, upload, listing", {
    timeout: 60000,
  }, async () => {
    const fs = new MemoryFileSystem();
    await putFile(fs, "/data.bin", payload);
    await withTlsServer(fs, { implicitTls: true }, async (tls) => {
      const base = `ftps://alice:secret@127.0.0.1:${tls.port}`;
      const out = join(dir.path, "implicit.bin");
      const down = await curlOk("-v", "--cacert", ca, "-o", out, `${base}/data.bin`);
      assert.match(down.stderr, /SSL certificate verify ok/);
      assert.deepEqual(dialogue(down.stderr).slice(0, 9), [
        "< 220 welcome",
        "> USER alice",
        "< 331 password required",
        "> PASS secret",
        "< 230 normal login",
        "> PBSZ 0",
        "< 200 PBSZ=0",
        "> PROT P",
        "< 200 protection level set to P",
      ]);
      assert.equal(sha256(await readFile(out)), sha256(payload));
      await curlOk("--cacert", ca, "-T", join(dir.path, "payload.bin"), `${base}/back.bin`);
      assert.equal(sha256(await getFile(fs, "/back.bin")), sha256(payload));
      const list = await curlOk("--cacert", ca, `${base}/`);
      assert.match(list.stdout, /^-rw-r--r-- .* 3145728 .* back\.bin\r?$/m);
      assert.match(list.stdout, /^-rw-r--r-- .* 3145728 .* data\.bin\r?$/m);
    });
  });

  it("requireTlsSessionReuse: curl resumes the control session on data connections", {
    timeout: 60000,
  }, async () => {
    const fs = new MemoryFileSystem();
    await putFile(fs, "/data.bin", payload);
    await withTlsServer(fs, { requireTlsSessionReuse: true }, async (tls) => {
      const base = `ftp://alice:secret@127.0.0.1:${tls.port}`;
      const secure = ["--ssl-reqd", "--cacert", ca];
      const out = join(dir.path, "reuse.bin");
      await curlOk(...secure, "-o", out, `${base}/data.bin`);
      assert.equal(sha256(await readFile(out)), sha256(payload));
      await curlOk(...secure, "-T", join(dir.path, "payload.bin"), `${base}/up.bin`);
      assert.equal(sha256(await getFile(fs, "/up.bin")), sha256(payload));
      const list = await curlOk(...secure, `${base}/`);
      assert.match(list.stdout, / data\.bin\r?$/m);
      assert.ok(!tls.log.some((l) => l.startsWith("< 522")), tls.log.join("\n"));
    });
  });

  it("requireTlsSessionReuse: curl --no-sessionid is refused with 522", T, async () => {
    const fs = new MemoryFileSystem();
    await putFile(fs, "/data.bin", payload);
    await withTlsServer(fs, { requireTlsSessionReuse: true }, async (tls) => {
      const result = await curl(
        "--ssl-reqd",
        "--cacert",
        ca,
        "--no-sessionid",
        "-o",
        join(dir.path, "refused.bin"),
        `ftp://alice:secret@127.0.0.1:${tls.port}/data.bin`,
      );
      assert.notEqual(result.code, 0, result.stderr);
      // curl drops the connection after the failed data handshake, before it reads the 522.
      await waitForLog(tls.log, "< 522 TLS session reuse required on data connections");
    });
  });

  it('requireTls "all": plain curl gets 530 on USER; clear data gets 521', T, async () => {
    const fs = new MemoryFileSystem();
    await putFile(fs, "/data.bin", payload);
    await withTlsServer(fs, { requireTls: "all" }, async (tls) => {
      const base = `ftp://alice:secret@127.0.0.1:${tls.port}`;
      const plain = await curl("-v", `${base}/data.bin`);
      assert.equal(plain.code, 67, plain.stderr);
      assert.match(plain.stderr, /^curl: \(67\) Access denied: 530$/m);
      assert.deepEqual(dialogue(plain.stderr), [
        "< 220 welcome",
        "> USER alice",
        "< 530 TLS required: send AUTH TLS before USER",
      ]);
      const anonymous = await curl(`ftp://127.0.0.1:${tls.port}/data.bin`);
      assert.equal(anonymous.code, 67, anonymous.stderr);

      // TLS on the control connection only (PROT C): the data connection is refused.
      const clearData = await curl("-v", "--ftp-ssl-control", "--cacert", ca, `${base}/`);
      assert.notEqual(clearData.code, 0);
      assertRun(dialogue(clearData.stderr), [
        "> PROT C",
        "< 200 protection level set to C",
      ], "PROT C");
      assert.ok(
        dialogue(clearData.stderr).includes(
          "< 521 data connections must be protected: send PBSZ 0 and PROT P",
        ),
        clearData.stderr,
      );

      const out = join(dir.path, "all.bin");
      await curlOk("--ssl-reqd", "--cacert", ca, "-o", out, `${base}/data.bin`);
      assert.equal(sha256(await readFile(out)), sha256(payload));
    });
  });

  it('requireTls "non-anonymous": anonymous may stay plain, alice may not', T, async () => {
    const fs = new MemoryFileSystem();
    await putFile(fs, "/data.bin", payload);
    await withTlsServer(fs, { requireTls: "non-anonymous" }, async (tls) => {
      const out = join(dir.path, "anon.bin");
      await curlOk("-o", out, `ftp://127.0.0.1:${tls.port}/data.bin`);
      assert.equal(sha256(await readFile(out)), sha256(payload));
      const alice = await curl(`ftp://alice:secret@127.0.0.1:${tls.port}/data.bin`);
      assert.equal(alice.code, 67, alice.stderr);
      await curlOk("--ssl-reqd", "--cacert", ca, `ftp://alice:secret@127.0.0.1:${tls.port}/`);
    });
  });
});

const LFTP_FILES: Record<string, number> = {
  "empty.txt": 0,
  "one.bin": 1,
  "block.bin": 65536,
  "sub/big.bin": (4 << 20) + 7,
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

describe("interop FTPS: lftp against our server", { skip: peerSkip("lftp", LFTP) }, () => {
  it("ssl-force + ssl-protect-data: mirror -R then mirror back, every file identical", {
    timeout: 90000,
  }, async () => {
    const dir = await tempDir("streamftp-tls-lftp-");
    await mkdir(join(dir.path, "served"));
    const fs = new LocalFileSystem(join(dir.path, "served"));
    await withTlsServer(fs, {}, async (tls) => {
      const ca = join(dir.path, "ca.pem");
      await writeFile(ca, TEST_CA_CERT);
      const up = join(dir.path, "up");
      const down = join(dir.path, "down");
      let seed = 31;
      for (const [name, size] of Object.entries(LFTP_FILES)) {
        await mkdir(join(up, name, ".."), { recursive: true });
        await writeFile(join(up, name), randomBytes(size, seed++));
      }
      const script = [
        "set cmd:fail-exit yes",
        "set net:max-retries 1",
        "set net:timeout 10",
        "set ftp:ssl-force true",
        "set ftp:ssl-protect-data true",
        `set ssl:ca-file ${ca}`,
        "set ssl:verify-certificate true",
        `open -u alice,secret -p ${tls.port} 127.0.0.1`,
        `mirror -R --no-perms ${up} /tree`,
        `mirror --no-perms /tree ${down}`,
        "bye",
      ].join("; ");
      const result = await run(LFTP, ["-d", "-c", script], { timeoutMs: 80000 });
      assert.equal(result.code, 0, result.stderr + result.stdout);
      // lftp -d prints the dialogue: `---> AUTH TLS`, `<--- 234 ...`.
      const lines = result.stderr.split(/\r?\n/).map((l) => l.trim());
      assertRun(lines, [
        "---> AUTH TLS",
        "<--- 234 AUTH TLS successful, starting the TLS handshake",
      ], "AUTH TLS");
      assert.ok(lines.includes("<--- 200 PBSZ=0"), result.stderr);
      assert.ok(lines.includes("<--- 200 protection level set to P"), result.stderr);
      assert.ok(!lines.some((l) => l.startsWith("---> PROT C")), "lftp never went clear");
      const sent = await walk(up);
      const received = await walk(down);
      assert.equal(sent.size, Object.keys(LFTP_FILES).length);
      assert.deepEqual(received, sent);
      for (const [name, digest] of sent) {
        assert.equal(sha256(await getFile(fs, `/tree/${name}`)), digest, name);
      }
    }).finally(() => dir.remove());
  });
});

const FTP_TLS_SCRIPT = String.raw`
import ftplib, hashlib, io, json, ssl, sys
host, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
context = ssl.create_default_context(cafile=cafile)
out = {}
ftp = ftplib.FTP_TLS(context=context, timeout=15)
out["welcome"] = ftp.connect(host, port)
out["auth"] = ftp.auth()
out["cipher"] = ftp.sock.version()
out["login"] = ftp.login("alice", "secret")
out["prot_p"] = ftp.prot_p()
payload = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(5 << 15))
out["size"] = len(payload)
out["sha256"] = hashlib.sha256(payload).hexdigest()
out["stor"] = ftp.storbinary("STOR big.bin", io.BytesIO(payload))
got = bytearray()
out["retr"] = ftp.retrbinary("RETR big.bin", got.extend)
out["retr_sha256"] = hashlib.sha256(got).hexdigest()
listing = []
out["list"] = ftp.retrlines("LIST", listing.append)
out["listing"] = listing
out["mlsd"] = sorted([name, facts["type"], facts.get("size")] for name, facts in ftp.mlsd("/"))
ftp.set_pasv(False)
active = bytearray()
out["active_retr"] = ftp.retrbinary("RETR big.bin", active.extend)
out["active_sha256"] = hashlib.sha256(active).hexdigest()
out["active_stor"] = ftp.storbinary("STOR active.bin", io.BytesIO(payload[:100000]))
active_list = []
out["active_list"] = ftp.retrlines("NLST", active_list.append)
out["active_names"] = sorted(active_list)
ftp.set_pasv(True)
out["prot_c"] = ftp.prot_c()
clear = bytearray()
out["clear_retr"] = ftp.retrbinary("RETR active.bin", clear.extend)
out["clear_sha256"] = hashlib.sha256(clear).hexdigest()
try:
    out["ccc"] = ftp.ccc()
except ftplib.error_perm as error:
    out["ccc"] = str(error)
out["quit"] = ftp.quit()
print(json.dumps(out))
`;

const PLAIN_SCRIPT = String.raw`
import ftplib, json, sys
out = {}
ftp = ftplib.FTP()
out["welcome"] = ftp.connect(sys.argv[1], int(sys.argv[2]), timeout=10)
try:
    out["login"] = ftp.login("alice", "secret")
except ftplib.error_perm as error:
    out["login"] = str(error)
out["quit"] = ftp.quit()
print(json.dumps(out))
`;

/**
 * Uploads whose client closes the data socket as soon as its bytes are out, as lftp does: after
 * a TLS close_notify, or after a bare TCP FIN without one. The client never read the session
 * tickets the server sent, so its close may reset the connection. Every byte was sent before,
 * so the server must store them all, or refuse the upload (4xx): never a cut file with 226.
 */
const CLOSE_SCRIPT = String.raw`
import ftplib, hashlib, json, socket, ssl, sys
host, port, cafile, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
context = ssl.create_default_context(cafile=cafile)
payload = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(4 << 15))
out = {"sha256": hashlib.sha256(payload).hexdigest(), "replies": {}}
ftp = ftplib.FTP_TLS(context=context, timeout=15)
ftp.connect(host, port)
ftp.login("alice", "secret")
ftp.prot_p()
ftp.voidcmd("TYPE I")
for mode in ("notify", "fin"):
    for i in range(count):
        name = "%s%d.bin" % (mode, i)
        conn, _ = ftp.ntransfercmd("STOR " + name)
        conn.sendall(payload)
        if mode == "notify":
            conn.setblocking(False)
            try:
                conn.unwrap()
            except (ssl.SSLWantReadError, OSError):
                pass
        else:
            conn.shutdown(socket.SHUT_WR)
        conn.close()
        try:
            out["replies"][name] = ftp.voidresp()
        except ftplib.Error as error:
            out["replies"][name] = str(error)
out["quit"] = ftp.quit()
print(json.dumps(out))
`;

describe("interop FTPS: Python ftplib FTP_TLS", { skip: peerSkip("python3", systemPython) }, () => {
  it("AUTH TLS, PROT P, STOR + RETR of 5 MiB, LIST, MLSD, active mode, PROT C, CCC", {
    timeout: 60000,
  }, async () => {
    const dir = await tempDir("streamftp-tls-ftplib-");
    const fs = new MemoryFileSystem();
    await withTlsServer(fs, {}, async (tls) => {
      const ca = join(dir.path, "ca.pem");
      await writeFile(ca, TEST_CA_CERT);
      const result = await run(
        systemPython,
        ["-c", FTP_TLS_SCRIPT, "127.0.0.1", String(tls.port), ca],
        { timeoutMs: 50000 },
      );
      assert.equal(result.code, 0, result.stderr);
      const out = JSON.parse(result.stdout);
      assert.equal(out.welcome, "220 welcome");
      assert.equal(out.auth, "234 AUTH TLS successful, starting the TLS handshake");
      assert.match(out.cipher, /^TLSv1\.[23]$/);
      assert.equal(out.login, "230 normal login");
      assert.equal(out.prot_p, "200 protection level set to P");
      assert.equal(out.size, 5 << 20);
      assert.equal(out.stor, "226 transfer done");
      assert.equal(sha256(await getFile(fs, "/big.bin")), out.sha256);
      assert.equal(out.retr, "226 transfer done");
      assert.equal(out.retr_sha256, out.sha256);
      assert.equal(out.list, "226 list transfer done");
      assert.equal(out.listing.length, 1);
      assert.match(out.listing[0], /^-rw-r--r-- .* 5242880 .* big\.bin$/);
      assert.deepEqual(out.mlsd, [["big.bin", "file", "5242880"]]);
      assert.equal(out.active_retr, "226 transfer done");
      assert.equal(out.active_sha256, out.sha256);
      assert.equal(out.active_stor, "226 transfer done");
      assert.equal((await getFile(fs, "/active.bin")).length, 100000);
      assert.equal(out.active_list, "226 list transfer done");
      assert.deepEqual(out.active_names, ["active.bin", "big.bin"]);
      assert.equal(out.prot_c, "200 protection level set to C");
      assert.equal(out.clear_retr, "226 transfer done");
      assert.equal(out.clear_sha256, sha256(await getFile(fs, "/active.bin")));
      assert.equal(out.ccc, "534 CCC refused: the control connection stays secured");
      assert.equal(out.quit, "221 bye");
      assert.ok(tls.log.some((l) => l.startsWith("> PORT ")), "active mode used PORT");
    }).finally(() => dir.remove());
  });

  it("uploads closed at once (close_notify, or a bare FIN) are stored whole or refused", {
    timeout: 60000,
  }, async () => {
    const dir = await tempDir("streamftp-tls-close-");
    // Files on disk: writes slower than the network pause the TLS socket (backpressure).
    await mkdir(join(dir.path, "served"));
    const fs = new LocalFileSystem(join(dir.path, "served"));
    await withTlsServer(fs, {}, async (tls) => {
      const ca = join(dir.path, "ca.pem");
      await writeFile(ca, TEST_CA_CERT);
      const result = await run(
        systemPython,
        ["-c", CLOSE_SCRIPT, "127.0.0.1", String(tls.port), ca, "3"],
        { timeoutMs: 50000 },
      );
      assert.equal(result.code, 0, result.stderr);
      const out = JSON.parse(result.stdout);
      assert.equal(out.quit, "221 bye");
      const replies = Object.entries(out.replies as Record<string, string>);
      assert.equal(replies.length, 6);
      for (const [name, reply] of replies) {
        if (reply === "226 transfer done") {
          const stored = await getFile(fs, `/${name}`);
          assert.equal(stored.length, 4 << 20, `${name}: 226 for ${stored.length} bytes`);
          assert.equal(sha256(stored), out.sha256, name);
        } else {
          assert.match(reply, /^4\d\d /, name);
        }
      }
    }).finally(() => dir.remove());
  });

  it("a plain ftplib.FTP against a TLS-required server gets 530 on USER", T, async () => {
    await withTlsServer(new MemoryFileSystem(), { requireTls: "all" }, async (tls) => {
      const result = await run(systemPython, ["-c", PLAIN_SCRIPT, "127.0.0.1", String(tls.port)], {
        timeoutMs: 20000,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), {
        welcome: "220 welcome",
        login: "530 TLS required: send AUTH TLS before USER",
        quit: "221 bye",
      });
      assert.ok(!tls.log.some((l) => l.startsWith("> PASS")), "no PASS after the refusal");
    });
  });
});

/** Replies read line by line from a connection (plain or TLS). */
class Replies {
  readonly conn: Conn;
  readonly #lines: LineReader;
  readonly #parser = new ReplyParser();
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(conn: Conn) {
    this.conn = conn;
    this.#lines = new LineReader(conn.readable, { stripTelnet: false });
    this.#writer = conn.writable.getWriter();
    this.#writer.closed.catch(() => {});
  }

  read(ms = 5000): Promise<Reply> {
    return within(
      (async () => {
        while (true) {
          const line = await this.#lines.readLine();
          if (line === null) throw new Error("connection closed while a reply was awaited");
          const reply = this.#parser.push(line);
          if (reply) return reply;
        }
      })(),
      ms,
      "reply",
    );
  }

  async ask(line: string): Promise<string> {
    await this.#writer.write(new TextEncoder().encode(`${line}\r\n`));
    const reply = await this.read();
    return `${reply.code} ${reply.lines[0]}`;
  }
}

/** Connects with TLS from the first byte, trusting the test CA. */
function connectTls(port: number): Promise<Conn> {
  return testNetwork().connect({
    hostname: "127.0.0.1",
    port,
    tls: { role: "client", caCerts: [TEST_CA_CERT] },
  });
}

/**
 * Reads a plain connection until the peer closes it (or resets it): the bytes received and
 * how long that took.
 */
async function readUntilClosed(conn: Conn, ms: number): Promise<{ bytes: Uint8Array; ms: number }> {
  const started = Date.now();
  const reader = conn.readable.getReader();
  const chunks: Uint8Array[] = [];
  const drain = async () => {
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return;
        chunks.push(value);
      }
    } catch {
      // A reset also ends the connection.
    }
  };
  await within(drain(), ms, "server closing the connection");
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, chunk) => (bytes.set(chunk, at), at + chunk.length), 0);
  return { bytes, ms: Date.now() - started };
}

/**
 * Asserts that what a TLS listener sent a clear-text client is no FTP reply: nothing, or TLS
 * alert records only (content type 21, version 3.x), as some TLS stacks send before closing.
 */
function assertNoGreeting(bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) {
    const record = bytes.subarray(at, at + 5);
    const isAlert = record.length === 5 && record[0] === 21 && record[1] === 3;
    assert.ok(isAlert, `not a TLS alert: ${JSON.stringify(new TextDecoder().decode(bytes))}`);
    at += 5 + ((record[3] << 8) | record[4]);
  }
}

describe("interop FTPS: raw refusals", () => {
  const HANDSHAKE_MS = 1000;

  it("implicit TLS: clear text gets no greeting and is closed; TLS clients are served", {
    timeout: 20000,
  }, async () => {
    await withTlsServer(new MemoryFileSystem(), {
      implicitTls: true,
      tlsHandshakeTimeout: HANDSHAKE_MS,
    }, async (tls) => {
      const talker = await testNetwork().connect({ hostname: "127.0.0.1", port: tls.port });
      const writer = talker.writable.getWriter();
      await writer.write(new TextEncoder().encode("USER anonymous\r\n"));
      writer.releaseLock();
      const talked = await readUntilClosed(talker, HANDSHAKE_MS + 6000);
      talker.close();
      assertNoGreeting(talked.bytes);

      const client = new Replies(await connectTls(tls.port));
      assert.equal(client.conn.secure, true);
      const greeting = await client.read();
      assert.deepEqual([greeting.code, greeting.lines], [220, ["welcome"]]);
      assert.equal(await client.ask("USER anonymous"), "230 anonymous login");
      assert.equal(await client.ask("PBSZ 0"), "200 PBSZ=0");
      assert.equal(await client.ask("PROT P"), "200 protection level set to P");
      assert.equal(await client.ask("AUTH TLS"), "503 the control connection is already secured");
      assert.equal(await client.ask("QUIT"), "221 bye");
      client.conn.close();
    });
  });

  it("implicit TLS: a silent client is closed after tlsHandshakeTimeout, holding up nobody", {
    timeout: 20000,
  }, async () => {
    await withTlsServer(new MemoryFileSystem(), {
      implicitTls: true,
      tlsHandshakeTimeout: HANDSHAKE_MS,
    }, async (tls) => {
      const silent = await testNetwork().connect({ hostname: "127.0.0.1", port: tls.port });
      // Bounds are loose: the machine running the tests may be busy.
      const silence = readUntilClosed(silent, HANDSHAKE_MS + 8000);
      silence.catch(() => {});
      // Meanwhile a TLS client is greeted.
      const client = new Replies(await connectTls(tls.port));
      const greeting = await client.read(5000);
      assert.deepEqual([greeting.code, greeting.lines], [220, ["welcome"]]);
      try {
        const silenced = await silence;
        assert.equal(silenced.bytes.length, 0);
        assert.ok(silenced.ms >= HANDSHAKE_MS - 100, `closed after ${silenced.ms} ms, too early`);
        assert.ok(silenced.ms < HANDSHAKE_MS + 6000, `closed after ${silenced.ms} ms, too late`);
      } finally {
        silent.close();
      }
      // The server still serves, that client and a new one.
      assert.equal(await client.ask("USER anonymous"), "230 anonymous login");
      assert.equal(await client.ask("QUIT"), "221 bye");
      client.conn.close();
      const again = new Replies(await connectTls(tls.port));
      assert.equal((await again.read()).code, 220);
      assert.equal(await again.ask("QUIT"), "221 bye");
      again.conn.close();
    });
  });

  it("explicit TLS: no handshake after 234 is closed within tlsHandshakeTimeout", {
    timeout: 20000,
  }, async () => {
    await withTlsServer(new MemoryFileSystem(), {
      tlsHandshakeTimeout: HANDSHAKE_MS,
    }, async (tls) => {
      const conn = await testNetwork().connect({ hostname: "127.0.0.1", port: tls.port });
      const reader = conn.readable.getReader();
      const writer = conn.writable.getWriter();
      const readText = async () => {
        const { value } = await within(reader.read(), 5000, "reply");
        return new TextDecoder().decode(value);
      };
      assert.equal(await readText(), "220 welcome\r\n");
      await writer.write(new TextEncoder().encode("AUTH TLS\r\n"));
      assert.equal(await readText(), "234 AUTH TLS successful, starting the TLS handshake\r\n");
      writer.releaseLock();
      reader.releaseLock();
      const closed = await readUntilClosed(conn, HANDSHAKE_MS + 8000);
      conn.close();
      assertNoGreeting(closed.bytes);
      assert.ok(closed.ms >= HANDSHAKE_MS - 100, `closed after ${closed.ms} ms, too early`);
      assert.ok(closed.ms < HANDSHAKE_MS + 6000, `closed after ${closed.ms} ms, too late`);
    });
  });
});
