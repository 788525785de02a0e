/**
 * The client commands of `streamftp` (`ls`, `get`, `put`, `mirror`, `cat`, `rm`, `mkdir`,
 * `mv`) run as child processes against our server and vsftpd: files and trees both ways,
 * checked byte for byte on the server's disk; mirrors that transfer nothing the second time;
 * the control dialogue of `--verbose` without the password; exit codes 0, 1 (with the
 * server's reply) and 2; FTPS with `--secure`, `--ca`, `--insecure` and ftps:// URLs.
 *
 * @module
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { LocalFileSystem, Server, User } from "../server.ts";
import { cliArgs, cliOk, cliSkip, runCli, runCliBytes } from "./_cli.ts";
import {
  peerSkip,
  randomBytes,
  requirePeers,
  sha256,
  tempDir,
  treeDigests,
  within,
} from "./_util.ts";
import { TEST_CA_CERT, TEST_SERVER_CERT, TEST_SERVER_KEY } from "./fixtures/tls.ts";
import { startOwnServer } from "./peers/own_server.ts";
import { isRoot, type PeerServer } from "./peers/peer.ts";
import { startVsftpd, VSFTPD } from "./peers/vsftpd.ts";

const T = { timeout: 60000 };

/** The local tree the tests upload: a space in a name, an empty file, three levels. */
const SITE: Record<string, Uint8Array> = {
  "a.txt": new TextEncoder().encode("hello\n"),
  "empty.bin": new Uint8Array(0),
  "with space.txt": new TextEncoder().encode("spaced out\n"),
  "sub/b.bin": randomBytes(300_000, 21),
  "sub/deep/c.txt": new TextEncoder().encode("deep\n"),
};

async function writeTree(root: string, files: Record<string, Uint8Array>): Promise<void> {
  for (const [name, data] of Object.entries(files)) {
    await mkdir(join(root, name, ".."), { recursive: true });
    await writeFile(join(root, name), data);
  }
}

const SITE_DIGESTS = new Map(Object.entries(SITE).map(([name, data]) => [name, sha256(data)]));

function rootSkip(name: string): false | string {
  if (isRoot) return false;
  if (requirePeers) throw new Error(`STREAMFTP_REQUIRE_PEERS=1 but ${name} needs root`);
  return `${name} needs root`;
}

interface PeerCase {
  name: string;
  start: () => Promise<PeerServer>;
  /** Log in with the peer's account in the URL (else: anonymously, no user in the URL). */
  credentials: boolean;
  skip: false | string;
}

const peers: PeerCase[] = [
  { name: "streamftp", start: () => startOwnServer(), credentials: true, skip: false },
  {
    name: "vsftpd",
    start: () => startVsftpd(),
    credentials: false,
    skip: peerSkip("vsftpd", VSFTPD) || rootSkip("vsftpd"),
  },
];

for (const peer of peers) {
  describe(`streamftp client commands against ${peer.name}`, { skip: cliSkip || peer.skip }, () => {
    let server: PeerServer;
    let work: { path: string; remove(): Promise<void> };
    /** The URL of a path below the peer's writable directory. */
    let url: (path?: string) => string;
    /** The server's local file behind a remote path. */
    let onDisk: (path: string) => string;

    before(async () => {
      server = await within(peer.start(), 20000, `${peer.name} start`);
      work = await tempDir("streamftp-cli-client-");
      await writeTree(join(work.path, "site"), SITE);
      const login = peer.credentials ? `${server.user}:${server.password}@` : "";
      const base = server.base === "/" ? "" : `${server.base.replace(/^\//, "")}/`;
      url = (path = "") =>
        `ftp://${login}${server.host}:${server.port}/${base}${
          encodeURI(path).replace(/#/g, "%23")
        }`;
      onDisk = (path) => join(server.root, path);
    });
    after(async () => {
      await server?.stop();
      await work?.remove();
    });

    it(
      "put: a tree into a directory (URL ending in /), a file to the path named, stdin",
      T,
      async () => {
        await cliOk(["put", join(work.path, "site"), url()]);
        assert.deepEqual(await treeDigests(onDisk("site")), SITE_DIGESTS);
        await cliOk(["put", join(work.path, "site", "a.txt"), url("renamed.txt")]);
        assert.equal(await readFile(onDisk("renamed.txt"), "utf8"), "hello\n");
        await cliOk(["put", join(work.path, "site", "sub", "b.bin"), url("site/")]);
        assert.equal(sha256(await readFile(onDisk("site/b.bin"))), sha256(SITE["sub/b.bin"]));
        await rm(onDisk("site/b.bin"));
        await cliOk(["put", "-", url("stdin.txt")], { input: "from stdin\n" });
        assert.equal(await readFile(onDisk("stdin.txt"), "utf8"), "from stdin\n");
      },
    );

    it(
      "ls: names, -R with paths relative to the URL, --long with type, size, time",
      T,
      async () => {
        const names = (await cliOk(["ls", url("site/")])).split("\n").filter(Boolean).sort();
        assert.deepEqual(names, ["a.txt", "empty.bin", "sub", "with space.txt"]);
        const all = (await cliOk(["ls", "-R", url("site")])).split("\n").filter(Boolean).sort();
        assert.deepEqual(all, [
          "a.txt",
          "empty.bin",
          "sub",
          "sub/b.bin",
          "sub/deep",
          "sub/deep/c.txt",
          "with space.txt",
        ]);
        const long = (await cliOk(["ls", "--long", url("site")])).split("\n");
        const time = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`;
        assert.ok(
          long.some((l) => new RegExp(`^- +6  ${time}  a\\.txt$`).test(l)),
          long.join("\n"),
        );
        assert.ok(long.some((l) => new RegExp(`^d +\\S+  ${time}  sub$`).test(l)), long.join("\n"));
        assert.ok(long.some((l) => /^- +11 .* with space\.txt$/.test(l)), long.join("\n"));
      },
    );

    it("get: a file into a directory, to a name, to stdout; cat; a tree (--parallel 3)", {
      timeout: 60000,
    }, async () => {
      const into = join(work.path, "into");
      await mkdir(into);
      await cliOk(["get", url("site/a.txt"), into]);
      assert.equal(await readFile(join(into, "a.txt"), "utf8"), "hello\n");
      await cliOk(["get", url("site/with space.txt"), join(into, "named.txt")]);
      assert.equal(await readFile(join(into, "named.txt"), "utf8"), "spaced out\n");
      const piped = await runCliBytes(["get", url("site/sub/b.bin"), "-"]);
      assert.equal(piped.code, 0, piped.stderr);
      assert.equal(sha256(piped.stdout), sha256(SITE["sub/b.bin"]));
      const cat = await runCliBytes(["cat", url("site/sub/b.bin")]);
      assert.equal(cat.code, 0, cat.stderr);
      assert.equal(sha256(cat.stdout), sha256(SITE["sub/b.bin"]));
      assert.equal(await cliOk(["cat", url("site/a.txt")]), "hello\n");
      const copy = join(work.path, "copy");
      await cliOk(["get", "--parallel", "3", url("site"), copy]);
      assert.deepEqual(await treeDigests(copy), SITE_DIGESTS);
    });

    it(
      "mirror: a copy, then nothing to do; --reverse --dry-run changes nothing; --reverse --delete",
      {
        timeout: 60000,
      },
      async () => {
        const mirror = join(work.path, "mirror");
        const first = (await cliOk(["mirror", url("site"), mirror])).trim().split("\n");
        assert.deepEqual(await treeDigests(mirror), SITE_DIGESTS);
        assert.ok(first.includes("transfer a.txt (missing, 6 B)"), first.join("\n"));
        assert.ok(first.includes("mkdir sub/deep"), first.join("\n"));
        assert.match(
          first[first.length - 1],
          /^5 transferred \(293\.0 KiB\), 2 directories created, 0 deleted, 0 up to date$/,
        );
        const second = (await cliOk(["mirror", url("site"), mirror])).trim().split("\n");
        assert.deepEqual(second, [
          "0 transferred (0 B), 0 directories created, 0 deleted, 5 up to date",
        ]);

        await writeFile(join(mirror, "a.txt"), "changed, and longer\n");
        await writeFile(join(mirror, "new.txt"), "new\n");
        await rm(join(mirror, "with space.txt"));
        const planned = await cliOk([
          "mirror",
          "--reverse",
          "--delete",
          "--dry-run",
          mirror,
          url("site"),
        ]);
        assert.match(planned, /^transfer a\.txt \(size, 20 B\)$/m);
        assert.match(planned, /^transfer new\.txt \(missing, 4 B\)$/m);
        assert.match(planned, /^delete with space\.txt$/m);
        assert.match(planned, /^2 would be transferred .* 1 would be deleted/m);
        assert.equal(await readFile(onDisk("site/a.txt"), "utf8"), "hello\n");
        assert.equal(existsSync(onDisk("site/new.txt")), false);
        assert.equal(existsSync(onDisk("site/with space.txt")), true);

        const done = await cliOk(["mirror", "--reverse", "--delete", mirror, url("site")]);
        assert.match(done, /^2 transferred .* 1 deleted, 3 up to date$/m);
        assert.deepEqual(await treeDigests(onDisk("site")), await treeDigests(mirror));
      },
    );

    it("mkdir -p, mv, rm and rm -r; a refusal exits 1 with the server's reply", T, async () => {
      await cliOk(["mkdir", "-p", url("made/deep/er")]);
      assert.equal((await stat(onDisk("made/deep/er"))).isDirectory(), true);
      await cliOk(["mkdir", "-p", url("made/deep")]);
      const again = await runCli(["mkdir", url("made")]);
      assert.equal(again.code, 1, again.stderr);
      assert.match(again.stderr, /^streamftp: 5\d\d /);

      await cliOk(["put", join(work.path, "site", "a.txt"), url("made/")]);
      const base = server.base === "/" ? "" : `${server.base.replace(/^\//, "")}/`;
      await cliOk(["mv", url("made/a.txt"), `${base}made/deep/moved.txt`]);
      assert.equal(await readFile(onDisk("made/deep/moved.txt"), "utf8"), "hello\n");
      await cliOk(["mv", url("made/deep/moved.txt"), url("made/back.txt")]);
      assert.equal(await readFile(onDisk("made/back.txt"), "utf8"), "hello\n");
      await cliOk(["rm", url("made/back.txt")]);
      assert.equal(existsSync(onDisk("made/back.txt")), false);

      const notFile = await runCli(["rm", url("made")]);
      assert.equal(notFile.code, 1, notFile.stderr);
      assert.match(notFile.stderr, /^streamftp: 550 /);
      await cliOk(["rm", "-r", url("made")]);
      assert.equal(existsSync(onDisk("made")), false);
      const missing = await runCli(["get", url("none.txt"), work.path]);
      assert.equal(missing.code, 1, missing.stderr);
      assert.match(missing.stderr, /^streamftp: 550 .*\n$/);
      assert.equal(missing.stdout, "");
    });

    it("--verbose shows the dialogue on stderr, the password masked; --active transfers", {
      timeout: 60000,
    }, async () => {
      const result = await runCli(["ls", "--verbose", url("site/")]);
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stderr.split("\n");
      assert.match(lines[0], /^< 220[ -]/);
      assert.ok(lines.includes(`> USER ${server.user}`), result.stderr);
      if (peer.credentials) {
        assert.ok(lines.some((l) => /^< 331 /.test(l)), result.stderr);
        assert.ok(lines.includes("> PASS ****"), result.stderr);
      }
      assert.ok(lines.some((l) => /^< 230[ -]/.test(l)), result.stderr);
      assert.ok(lines.includes("> QUIT"), result.stderr);
      assert.ok(!result.stderr.includes(server.password), "password shown");
      assert.match(result.stdout, /^a\.txt$/m);
      const active = await runCli(["get", "--active", "--verbose", url("site/sub/b.bin"), "-"]);
      assert.equal(active.code, 0, active.stderr);
      assert.match(active.stderr, /^> (EPRT|PORT) /m);
    });
  });
}

describe("streamftp client commands: exit codes, FTPS", { skip: cliSkip }, () => {
  let dir: { path: string; remove(): Promise<void> };
  let explicit: Server;
  let implicit: Server;
  let ca: string;

  before(async () => {
    dir = await tempDir("streamftp-cli-tls-");
    await writeFile(join(dir.path, "hello.txt"), "over tls\n");
    ca = join(dir.path, "ca.pem");
    await writeFile(ca, TEST_CA_CERT);
    const options = {
      users: [new User({ login: "alice", password: "pw" })],
      fileSystem: new LocalFileSystem(dir.path),
      tls: { cert: TEST_SERVER_CERT, key: TEST_SERVER_KEY },
      loginFailureDelay: 0,
    };
    explicit = new Server(options);
    await explicit.start();
    implicit = new Server({ ...options, implicitTls: true });
    await implicit.start();
  });
  after(async () => {
    await explicit?.close();
    await implicit?.close();
    await dir?.remove();
  });

  it(
    "exit 2 for a wrong command line: missing and extra arguments, bad values, no URL",
    T,
    async () => {
      const url = `ftp://alice:pw@127.0.0.1:${explicit.address.port}/`;
      const cases: [string[], string, string][] = [
        [["put", "x"], "missing URL", "Usage: streamftp put LOCAL URL [options]"],
        [["ls", url, "more"], 'unexpected argument "more"', "Usage: streamftp ls URL [options]"],
        [["get", "example.com/x"], '"example.com/x" is not an ftp://', "Usage: streamftp get URL"],
        [["get", "--parallel", "0", url], "--parallel must be a whole number", "streamftp get"],
        [["ls", "--ca", ca, url], "--ca and --insecure need --secure", "streamftp ls"],
        [["mv", `${url}a`, "ftp://127.0.0.2/b"], "mv cannot move between servers", "streamftp mv"],
        [["rm", "--force", url], "Unknown option '--force'", "streamftp rm"],
      ];
      await Promise.all(cases.map(async ([args, message, usage]) => {
        const result = await runCli(args);
        const what = `${args.join(" ")}: ${result.stderr}`;
        assert.equal(result.code, 2, what);
        assert.ok(result.stderr.startsWith(`streamftp: ${message}`), what);
        assert.ok(result.stderr.includes(usage), what);
      }));
    },
  );

  it("exit 1 for a refused login (530) and a server that does not answer", T, async () => {
    const wrong = await runCli(["ls", `ftp://alice:bad@127.0.0.1:${explicit.address.port}/`]);
    assert.equal(wrong.code, 1, wrong.stderr);
    assert.equal(wrong.stderr, "streamftp: 530 login incorrect\n");
    const probe = new Server();
    await probe.start();
    const port = probe.address.port;
    await probe.close();
    const refused = await runCli(["ls", `ftp://127.0.0.1:${port}/`]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^streamftp: .+\n$/);
  });

  it("cat into a reader that goes away (| head): exit 0, nothing on stderr", T, async () => {
    await writeFile(join(dir.path, "big.bin"), randomBytes(8 << 20, 22));
    const url = `ftp://alice:pw@127.0.0.1:${explicit.address.port}/big.bin`;
    const child = spawn(process.execPath, cliArgs(["cat", url]), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await within(
      new Promise((resolve) => child.on("close", (c) => resolve(c))),
      20000,
      "streamftp cat exit",
    );
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
    await rm(join(dir.path, "big.bin"));
  });

  it("--secure with --ca, ftpes:// and ftps:// URLs; --insecure; an untrusted server fails", {
    timeout: 60000,
  }, async () => {
    const host = `alice:pw@127.0.0.1`;
    const plain = `ftp://${host}:${explicit.address.port}/hello.txt`;
    assert.equal(await cliOk(["cat", "--secure", "--ca", ca, plain]), "over tls\n");
    const verbose = await runCli(["cat", "--secure", "--ca", ca, "--verbose", plain]);
    assert.match(verbose.stderr, /^> AUTH TLS$/m);
    assert.match(verbose.stderr, /^> PROT P$/m);
    const explicitUrl = `ftpes://${host}:${explicit.address.port}/hello.txt`;
    assert.equal(await cliOk(["cat", "--ca", ca, explicitUrl]), "over tls\n");
    const implicitUrl = `ftps://${host}:${implicit.address.port}/`;
    assert.deepEqual((await cliOk(["ls", "--ca", ca, implicitUrl])).split("\n").sort(), [
      "",
      "ca.pem",
      "hello.txt",
    ]);
    assert.equal(await cliOk(["cat", "--secure", "--insecure", plain]), "over tls\n");
    const untrusted = await runCli(["cat", "--secure", plain]);
    assert.equal(untrusted.code, 1, untrusted.stderr);
    assert.match(untrusted.stderr, /^streamftp: .*certificate/i);
  });
});
