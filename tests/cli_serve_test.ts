/**
 * `streamftp serve` run as a child process: help and usage errors (exit 2), hashed passwords,
 * the event log on stdout, accounts and anonymous access, limits, FTPS, curl and lftp as
 * clients, and the graceful close on SIGTERM/SIGINT (a running transfer gets 426, the session
 * 421, the process exits 0).
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Client } from "../client.ts";
import { hashPassword, verifyPassword } from "../server.ts";
import { assertCleanExit, cliOk, cliSkip, runCli, serveCli } from "./_cli.ts";
import { peerSkip, randomBytes, run, sha256, tempDir, treeDigests, within } from "./_util.ts";
import { TEST_CA_CERT, TEST_SERVER_CERT, TEST_SERVER_KEY } from "./fixtures/tls.ts";
import { RawControl, readAll, text, writeAll } from "./server_raw.ts";

const CURL = "/usr/bin/curl";
const LFTP = "/usr/bin/lftp";
const T = { timeout: 60000 };
const local = (port: number, hostname = "127.0.0.1") => ({
  hostname,
  port,
  family: "IPv4" as const,
});

/** Runs `work` on up to `width` items at once (a few CLI processes at a time, not all). */
async function inBatches<T>(items: T[], width: number, work: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += width) {
    await Promise.all(items.slice(i, i + width).map(work));
  }
}

/** Sends STOR over a fresh passive connection and returns the reply to it. */
async function tryStore(c: RawControl, name: string, data = "x"): Promise<string> {
  const conn = await c.pasv();
  const opening = await c.ask(`STOR ${name}`);
  if (!opening.startsWith("150")) {
    conn.close();
    return opening;
  }
  await writeAll(conn, new TextEncoder().encode(data));
  return await c.next();
}

describe("streamftp: help and usage errors", { skip: cliSkip }, () => {
  it("--help lists the commands; serve --help and help serve list its flags", T, async () => {
    const top = await cliOk(["--help"]);
    assert.match(top, /^Usage: streamftp <command> \[options\]/);
    for (const name of ["serve", "ls", "get", "put", "mirror", "cat", "rm", "mkdir", "mv"]) {
      assert.match(top, new RegExp(`^  ${name} `, "m"), name);
    }
    const serve = await cliOk(["serve", "--help"]);
    assert.match(serve, /^Usage: streamftp serve \[options\]/);
    for (
      const flag of [
        "--data-ports MIN-MAX",
        "--tls-cert FILE",
        "--tls-key FILE",
        "--implicit-tls",
        "--require-tls",
        "--upload-limit RATE",
        "--max-connections N",
      ]
    ) {
      assert.match(serve, new RegExp(`^  ${flag} `, "m"), flag);
    }
    assert.equal(await cliOk(["help", "serve"]), serve);
  });

  it("a wrong command line exits 2: the reason and the usage on stderr, nothing on stdout", {
    timeout: 60000,
  }, async () => {
    const dir = await tempDir("streamftp-cli-usage-");
    const cert = join(dir.path, "cert.pem");
    const key = join(dir.path, "key.pem");
    const ca = join(dir.path, "ca.pem");
    await writeFile(cert, TEST_SERVER_CERT);
    await writeFile(key, TEST_SERVER_KEY);
    await writeFile(ca, TEST_CA_CERT);
    const serve = "Usage: streamftp serve [options]";
    const top = "Usage: streamftp <command> [options]";
    const cases: [string[], string, string][] = [
      [[], "missing command", top],
      [["frobnicate"], 'unknown command "frobnicate"', top],
      [["serve", "--bogus"], "Unknown option '--bogus'", serve],
      [["serve", "--port"], "Option '--port <value>' argument missing", serve],
      [["serve", "extra"], 'unexpected argument "extra"', serve],
      [["serve", "--port", "70000"], "--port must be 0-65535", serve],
      [["serve", "--user", "alice"], "--user alice needs --pass or --pass-hash", serve],
      [["serve", "--pass", "x"], "--pass needs a --user before it", serve],
      [
        ["serve", "--user", "a", "--pass", "x", "--pass-hash", "y"],
        "--user a has more than one --pass or --pass-hash",
        serve,
      ],
      [
        ["serve", "--user", "a", "--pass", "x", "--user", "a", "--pass", "y"],
        "--user a is given twice",
        serve,
      ],
      [["serve", "--user", "a", "--pass-hash", "scrypt$1$2"], "--pass-hash: ", serve],
      [["serve", "--log", "xml"], "--log must be text or json", serve],
      [["serve", "--root", ".", "--memory"], "--root and --memory exclude each other", serve],
      [["serve", "--root", join(dir.path, "none")], "--root ", serve],
      [["serve", "--data-ports", "9-1"], "--data-ports must be MIN-MAX", serve],
      [["serve", "--upload-limit", "fast"], "--upload-limit must be a number of bytes", serve],
      [["serve", "--max-connections", "0"], "--max-connections must be a whole number", serve],
      [["serve", "--writable", "--read-only"], "--writable and --read-only exclude", serve],
      [
        ["serve", "--user", "a", "--pass", "x", "--writable"],
        "--writable is for anonymous users",
        serve,
      ],
      [["serve", "--implicit-tls"], "--implicit-tls needs --tls-cert", serve],
      [["serve", "--require-tls"], "--require-tls needs --tls-cert", serve],
      [["serve", "--tls-cert", cert], "--tls-cert and --tls-key go together", serve],
      [["serve", "--tls-key", key], "--tls-cert and --tls-key go together", serve],
      [["serve", "--tls-cert", ca, "--tls-key", key], "--tls-key ", serve],
      [["serve", "--tls-cert", join(dir.path, "none.pem"), "--tls-key", key], "--tls-cert ", serve],
    ];
    try {
      await inBatches(cases, 4, async ([args, message, usage]) => {
        const withPort = args[0] === "serve" && !args.includes("--port")
          ? [...args, "--port", "0"]
          : args;
        const result = await runCli(withPort);
        const what = `${args.join(" ")}: ${result.stderr}`;
        assert.equal(result.code, 2, what);
        assert.ok(result.stderr.startsWith(`streamftp: ${message}`), what);
        assert.ok(result.stderr.includes(usage), what);
        assert.equal(result.stdout, "", what);
      });
    } finally {
      await dir.remove();
    }
  });

  it("--hash-password prints a hash of stdin that --pass-hash takes", T, async () => {
    const hash = (await cliOk(["serve", "--hash-password"], { input: "pa$$ word\n" })).trim();
    assert.match(hash, /^scrypt\$16384\$8\$1\$\S+\$\S+$/);
    assert.equal(await verifyPassword("pa$$ word", hash), true);
    const served = await serveCli(["--user", "alice", "--pass-hash", hash, "--quiet"]);
    try {
      const c = await RawControl.connect(local(served.port));
      assert.equal(await c.ask("USER alice"), "331 password required");
      assert.equal(await c.ask("PASS pa$$ word"), "230 normal login");
      c.close();
    } finally {
      assertCleanExit(await served.stop());
    }
  });
});

/** One session that fails a login, logs in, and uploads, downloads, renames, deletes. */
async function busySession(port: number): Promise<void> {
  const c = await RawControl.connect(local(port));
  assert.equal(await c.ask("USER mallory"), "331 password required");
  assert.equal(await c.ask("PASS guess"), "530 login incorrect");
  await c.login("alice", "pw");
  assert.equal(await c.ask("MKD d"), '257 "/d" created');
  assert.equal(await tryStore(c, "d/a.txt", "hello"), "226 transfer done");
  const data = await c.pasv();
  assert.equal(await c.ask("RETR d/a.txt"), "150 data transfer started");
  assert.equal(text(await readAll(data)), "hello");
  assert.equal(await c.next(), "226 transfer done");
  assert.equal(await c.ask("RNFR d/a.txt"), "350 rename from accepted");
  assert.equal(await c.ask("RNTO d/b.txt"), "250 rename successful");
  assert.equal(await c.ask("DELE d/b.txt"), "250 file deleted");
  assert.equal(await c.ask("RMD d"), "250 directory removed");
  assert.equal(await c.ask("QUIT"), "221 bye");
  await c.waitClosed();
}

describe("streamftp serve: event log", { skip: cliSkip }, () => {
  it("--log json: one JSON object per event, with the fields that apply", T, async () => {
    const served = await serveCli(["--user", "alice", "--pass", "pw", "--log", "json"]);
    try {
      await busySession(served.port);
      await served.line((l) => l.includes('"event":"disconnect"'));
    } finally {
      assertCleanExit(await served.stop());
    }
    const entries = served.lines.slice(1).map((line) => JSON.parse(line));
    assert.deepEqual(entries.map((e) => e.event), [
      "connect",
      "login-failed",
      "login",
      "mkdir",
      "upload",
      "download",
      "rename",
      "delete",
      "rmdir",
      "logout",
      "disconnect",
    ]);
    for (const e of entries) {
      assert.deepEqual(Object.keys(e).slice(0, 5), ["time", "event", "session", "ip", "user"]);
      assert.equal(e.session, entries[0].session);
      assert.equal(e.ip, "127.0.0.1");
      assert.equal(new Date(e.time).toISOString(), e.time);
    }
    const by = (event: string) => entries.find((e) => e.event === event);
    assert.deepEqual([by("login-failed").user, by("login-failed").reason], [
      "mallory",
      "unknown-user",
    ]);
    for (const direction of ["upload", "download"]) {
      const t = by(direction);
      assert.deepEqual([t.path, t.bytes, t.complete, t.code], ["/d/a.txt", 5, true, 226]);
    }
    assert.deepEqual([by("rename").from, by("rename").path], ["/d/a.txt", "/d/b.txt"]);
  });

  it("--log text (the default): one readable line per event", T, async () => {
    const served = await serveCli(["--user", "alice", "--pass", "pw"]);
    try {
      await busySession(served.port);
      await served.line((l) => / disconnect \d+ ms$/.test(l));
    } finally {
      assertCleanExit(await served.stop());
    }
    const lines = served.lines.slice(1);
    const who = String.raw`^\S+Z #(\d+) 127\.0\.0\.1`;
    const expected = [
      `${who} - connect$`,
      `${who} mallory login-failed \\(unknown-user\\)$`,
      `${who} alice login$`,
      `${who} alice mkdir /d$`,
      `${who} alice upload /d/a.txt 5 bytes \\d+ ms 226$`,
      `${who} alice download /d/a.txt 5 bytes \\d+ ms 226$`,
      `${who} alice rename /d/a.txt -> /d/b.txt$`,
      `${who} alice delete /d/b.txt$`,
      `${who} alice rmdir /d$`,
      `${who} alice logout$`,
      `${who} alice disconnect \\d+ ms$`,
    ];
    assert.equal(lines.length, expected.length, lines.join("\n"));
    lines.forEach((line, i) => assert.match(line, new RegExp(expected[i]), line));
  });

  it("--quiet prints only the URL", T, async () => {
    const served = await serveCli(["--user", "alice", "--pass", "pw", "--quiet"]);
    try {
      await busySession(served.port);
    } finally {
      assertCleanExit(await served.stop());
    }
    assert.deepEqual(served.lines, [`ftp://127.0.0.1:${served.port}`]);
  });
});

describe("streamftp serve: accounts and anonymous access", { skip: cliSkip }, () => {
  it("several --user pairs (--pass, --pass-hash); no anonymous login beside them", T, async () => {
    const hash = await hashPassword("bob's secret");
    const served = await serveCli([
      "--quiet",
      "--user",
      "alice",
      "--pass",
      "pw",
      "--user",
      "bob",
      "--pass-hash",
      hash,
    ]);
    try {
      const alice = await RawControl.connect(local(served.port));
      await alice.login("alice", "pw");
      assert.equal(await tryStore(alice, "from-alice.txt"), "226 transfer done");
      alice.close();
      const bob = await RawControl.connect(local(served.port));
      await bob.login("bob", "bob's secret");
      assert.equal(await tryStore(bob, "from-bob.txt"), "226 transfer done");
      bob.close();
      const anonymous = await RawControl.connect(local(served.port));
      assert.equal(await anonymous.ask("USER anonymous"), "331 password required");
      assert.equal(await anonymous.ask("PASS x"), "530 login incorrect");
      anonymous.close();
    } finally {
      assertCleanExit(await served.stop());
    }
  });

  it("memory, anonymous by default: read-only (STOR and MKD 550), --data-ports honoured, SIGTERM", {
    timeout: 60000,
  }, async () => {
    const served = await serveCli(["--memory", "--quiet", "--data-ports", "40000-40100"]);
    try {
      assert.equal(served.lines[0], `ftp://127.0.0.1:${served.port}`);
      const c = await RawControl.connect(local(served.port));
      assert.equal(await c.ask("USER anonymous"), "230 anonymous login");
      const epsv = await c.command("EPSV");
      const port = Number(/\|\|\|(\d+)\|/.exec(epsv.lines[0])![1]);
      assert.ok(port >= 40000 && port <= 40100, `data port ${port} outside the range`);
      assert.match(await c.ask("STOR x.txt"), /^55[03] /);
      assert.equal(await c.ask("MKD x"), "550 permission denied");
      assert.equal(await c.ask("QUIT"), "221 bye");
      c.close();
    } finally {
      assertCleanExit(await served.stop("SIGTERM"));
    }
  });

  it("--anonymous beside --user is read-only; --anonymous --writable may write", T, async () => {
    const mixed = await serveCli(["--quiet", "--user", "alice", "--pass", "pw", "--anonymous"]);
    try {
      const anonymous = await RawControl.connect(local(mixed.port));
      await anonymous.login("ftp");
      assert.match(await tryStore(anonymous, "no.txt"), /^55[03] /);
      anonymous.close();
      const alice = await RawControl.connect(local(mixed.port));
      await alice.login("alice", "pw");
      assert.equal(await tryStore(alice, "yes.txt"), "226 transfer done");
      alice.close();
    } finally {
      assertCleanExit(await mixed.stop());
    }
    const open = await serveCli(["--quiet", "--anonymous", "--writable"]);
    try {
      const anonymous = await RawControl.connect(local(open.port));
      await anonymous.login();
      assert.equal(await tryStore(anonymous, "yes.txt"), "226 transfer done");
      assert.equal(await anonymous.ask("MKD d"), '257 "/d" created');
      anonymous.close();
    } finally {
      assertCleanExit(await open.stop());
    }
  });

  it("--read-only: accounts may read but not write", T, async () => {
    const dir = await tempDir("streamftp-cli-ro-");
    await writeFile(join(dir.path, "kept.txt"), "kept");
    const served = await serveCli([
      "--quiet",
      "--root",
      dir.path,
      "--user",
      "alice",
      "--pass",
      "pw",
      "--read-only",
    ]);
    try {
      const c = await RawControl.connect(local(served.port));
      await c.login("alice", "pw");
      assert.match(await tryStore(c, "new.txt"), /^55[03] /);
      assert.equal(await c.ask("DELE kept.txt"), "550 permission denied");
      const data = await c.pasv();
      assert.equal(await c.ask("RETR kept.txt"), "150 data transfer started");
      assert.equal(text(await readAll(data)), "kept");
      assert.equal(await c.next(), "226 transfer done");
      c.close();
    } finally {
      assertCleanExit(await served.stop());
      await dir.remove();
    }
  });
});

describe("streamftp serve: addresses and limits", { skip: cliSkip }, () => {
  it("--host binds that address; --pasv-address goes into PASV replies", T, async () => {
    const served = await serveCli([
      "--quiet",
      "--host",
      "127.0.0.2",
      "--pasv-address",
      "127.0.0.9",
    ]);
    try {
      assert.equal(served.url.hostname, "127.0.0.2");
      await assert.rejects(RawControl.connect(local(served.port)));
      const c = await RawControl.connect(local(served.port, "127.0.0.2"));
      await c.login();
      assert.match(await c.ask("PASV"), /^227 Entering Passive Mode \(127,0,0,9,\d+,\d+\)\.$/);
      c.close();
    } finally {
      assertCleanExit(await served.stop());
    }
  });

  it("--max-connections 1: a second connection gets 421", T, async () => {
    const served = await serveCli(["--quiet", "--max-connections", "1"]);
    try {
      const first = await RawControl.connect(local(served.port));
      assert.equal(first.greeting.code, 220);
      const second = await RawControl.connect(local(served.port));
      assert.deepEqual(second.greeting, { code: 421, lines: ["Too many connections"] });
      second.close();
      first.close();
    } finally {
      assertCleanExit(await served.stop());
    }
  });

  it("--download-limit and --upload-limit (1M) hold a 1 MiB transfer near 1 s", {
    timeout: 60000,
    skip: peerSkip("curl", CURL),
  }, async () => {
    const dir = await tempDir("streamftp-cli-limit-");
    const payload = randomBytes(1 << 20, 3);
    await writeFile(join(dir.path, "big.bin"), payload);
    const served = await serveCli([
      "--quiet",
      "--root",
      dir.path,
      "--anonymous",
      "--writable",
      "--download-limit",
      "1M",
      "--upload-limit",
      "1024K",
    ]);
    try {
      const url = `ftp://127.0.0.1:${served.port}`;
      let started = performance.now();
      const down = await run(CURL, [
        "-sS",
        "--max-time",
        "20",
        "-o",
        join(dir.path, "down.bin"),
        `${url}/big.bin`,
      ]);
      assert.equal(down.code, 0, down.stderr);
      const downMs = performance.now() - started;
      assert.equal(sha256(await readFile(join(dir.path, "down.bin"))), sha256(payload));
      started = performance.now();
      const up = await run(CURL, [
        "-sS",
        "--max-time",
        "20",
        "-T",
        join(dir.path, "big.bin"),
        `${url}/up.bin`,
      ]);
      assert.equal(up.code, 0, up.stderr);
      const upMs = performance.now() - started;
      assert.equal(sha256(await readFile(join(dir.path, "up.bin"))), sha256(payload));
      // 1 MiB at 1 MiB/s, less the bucket's first tenth of a second.
      assert.ok(downMs > 700, `download took ${downMs} ms`);
      assert.ok(upMs > 700, `upload took ${upMs} ms`);
    } finally {
      assertCleanExit(await served.stop());
      await dir.remove();
    }
  });
});

describe("streamftp serve to curl and lftp", {
  skip: cliSkip || peerSkip("curl", CURL) || peerSkip("lftp", LFTP),
}, () => {
  it("--root: curl lists and downloads, lftp mirrors the tree; SIGINT ends it", T, async () => {
    const dir = await tempDir("streamftp-cli-root-");
    const root = join(dir.path, "root");
    const files: Record<string, Uint8Array> = {
      "a.txt": new TextEncoder().encode("hello\n"),
      "sub/b.bin": randomBytes(300_000, 5),
      "sub/deep/with space.txt": new TextEncoder().encode("spaced\n"),
    };
    for (const [name, data] of Object.entries(files)) {
      await mkdir(join(root, name, ".."), { recursive: true });
      await writeFile(join(root, name), data);
    }
    const served = await serveCli(["--quiet", "--root", root]);
    try {
      const url = `ftp://127.0.0.1:${served.port}`;
      const list = await run(CURL, ["-sS", "--max-time", "20", `${url}/`]);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^-\S+ .* 6 .* a\.txt\r?$/m);
      assert.match(list.stdout, /^d\S+ .* sub\r?$/m);
      const got = await run(CURL, [
        "-sS",
        "--max-time",
        "20",
        "-o",
        join(dir.path, "b.bin"),
        `${url}/sub/b.bin`,
      ]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(sha256(await readFile(join(dir.path, "b.bin"))), sha256(files["sub/b.bin"]));
      const copy = join(dir.path, "copy");
      const script = [
        "set cmd:fail-exit yes",
        "set net:max-retries 1",
        "set net:timeout 10",
        `open -p ${served.port} 127.0.0.1`,
        `mirror --no-perms / ${copy}`,
        "bye",
      ].join("; ");
      const mirrored = await run(LFTP, ["-c", script], { timeoutMs: 30000 });
      assert.equal(mirrored.code, 0, mirrored.stderr + mirrored.stdout);
      assert.deepEqual(await treeDigests(copy), await treeDigests(root));
    } finally {
      assertCleanExit(await served.stop("SIGINT"));
      await dir.remove();
    }
  });

  it("--memory --anonymous --writable: curl uploads, lftp reads the file back", T, async () => {
    const dir = await tempDir("streamftp-cli-mem-");
    const payload = randomBytes(200_000, 6);
    await writeFile(join(dir.path, "up.bin"), payload);
    const served = await serveCli(["--quiet", "--memory", "--anonymous", "--writable"]);
    try {
      const url = `ftp://127.0.0.1:${served.port}`;
      const up = await run(CURL, [
        "-sS",
        "--max-time",
        "20",
        "--ftp-create-dirs",
        "-T",
        join(dir.path, "up.bin"),
        `${url}/in/up.bin`,
      ]);
      assert.equal(up.code, 0, up.stderr);
      const back = join(dir.path, "back.bin");
      const script = [
        "set cmd:fail-exit yes",
        "set net:max-retries 1",
        "set net:timeout 10",
        `open -p ${served.port} 127.0.0.1`,
        `get in/up.bin -o ${back}`,
        "bye",
      ].join("; ");
      const got = await run(LFTP, ["-c", script], { timeoutMs: 30000 });
      assert.equal(got.code, 0, got.stderr + got.stdout);
      assert.equal(sha256(await readFile(back)), sha256(payload));
    } finally {
      assertCleanExit(await served.stop());
      await dir.remove();
    }
  });
});

describe("streamftp serve: FTPS", { skip: cliSkip }, () => {
  async function tlsFiles() {
    const dir = await tempDir("streamftp-cli-tls-");
    await writeFile(join(dir.path, "cert.pem"), TEST_SERVER_CERT);
    await writeFile(join(dir.path, "key.pem"), TEST_SERVER_KEY);
    return dir;
  }
  const tls = { caCerts: [TEST_CA_CERT] };

  it(
    "--require-tls: plain USER refused but for anonymous; AUTH TLS, PROT P transfers",
    T,
    async () => {
      const dir = await tlsFiles();
      const root = join(dir.path, "root");
      await mkdir(root);
      const served = await serveCli([
        "--quiet",
        "--root",
        root,
        "--user",
        "alice",
        "--pass",
        "pw",
        "--anonymous",
        "--tls-cert",
        join(dir.path, "cert.pem"),
        "--tls-key",
        join(dir.path, "key.pem"),
        "--require-tls",
      ]);
      try {
        assert.equal(served.url.protocol, "ftp:");
        const plain = await RawControl.connect(local(served.port));
        assert.equal(await plain.ask("USER alice"), "530 TLS required: send AUTH TLS before USER");
        assert.equal(await plain.ask("USER anonymous"), "230 anonymous login");
        plain.close();
        const client = await Client.connect(`ftp://alice:pw@127.0.0.1:${served.port}/`, {
          secure: true,
          tls,
        });
        try {
          const up = await client.uploadStream("hello.txt");
          await new Response("over tls").body!.pipeTo(up);
          assert.equal(await readFile(join(root, "hello.txt"), "utf8"), "over tls");
          assert.equal(
            await new Response(await client.downloadStream("hello.txt")).text(),
            "over tls",
          );
        } finally {
          await client.quit();
        }
      } finally {
        assertCleanExit(await served.stop());
        await dir.remove();
      }
    },
  );

  it("--implicit-tls: an ftps:// URL, TLS from the first byte", T, async () => {
    const dir = await tlsFiles();
    const root = join(dir.path, "root");
    await mkdir(root);
    await writeFile(join(root, "shared.txt"), "implicit");
    const served = await serveCli([
      "--quiet",
      "--root",
      root,
      "--tls-cert",
      join(dir.path, "cert.pem"),
      "--tls-key",
      join(dir.path, "key.pem"),
      "--implicit-tls",
    ]);
    try {
      assert.equal(served.lines[0], `ftps://127.0.0.1:${served.port}`);
      const client = await Client.connect(served.lines[0], { tls });
      try {
        assert.equal(client.connection.secure, true);
        assert.deepEqual((await client.listAll()).map((i) => i.path), ["shared.txt"]);
        assert.equal(
          await new Response(await client.downloadStream("shared.txt")).text(),
          "implicit",
        );
      } finally {
        await client.quit();
      }
    } finally {
      assertCleanExit(await served.stop());
      await dir.remove();
    }
  });
});

describe("streamftp serve: graceful close", { skip: cliSkip }, () => {
  it(
    "SIGTERM during a download: 426 for the transfer, 421 for the session, exit 0",
    T,
    async () => {
      const dir = await tempDir("streamftp-cli-close-");
      await writeFile(join(dir.path, "big.bin"), randomBytes(4 << 20, 7));
      const served = await serveCli(["--quiet", "--root", dir.path, "--download-limit", "256K"]);
      try {
        const c = await RawControl.connect(local(served.port));
        await c.login();
        const data = await c.pasv();
        assert.equal(await c.ask("RETR big.bin"), "150 data transfer started");
        const reader = data.readable.getReader();
        const first = await within(reader.read(), 5000, "first data");
        assert.ok(first.value && first.value.length > 0);
        served.child.kill("SIGTERM");
        const replies = [await c.next(), await c.next()].sort();
        assert.deepEqual(replies, ["421 server shutting down", "426 transfer aborted"]);
        reader.releaseLock();
        data.close();
        assert.equal(await c.waitClosed(), true);
        c.close();
        assertCleanExit(await within(served.exit, 10000, "exit"));
      } finally {
        served.child.kill("SIGKILL");
        await dir.remove();
      }
    },
  );
});
