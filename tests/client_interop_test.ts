/**
 * The client against real FTP servers started by `tests/peers`: vsftpd, pure-ftpd, pyftpdlib,
 * aioftp 0.21.4 and our own server. The same operations run against each: login, mkdir with
 * parents, tree upload into a nested destination, recursive listing, stat, tree download with
 * sha256 comparison, rename, resume both ways, active mode, ABOR and AbortSignal mid-transfer
 * (the client must stay usable), throttling, and recursive removal.
 *
 * @module
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Client, type TransferProgress } from "../client.ts";
import {
  peerSkip,
  randomBytes,
  requirePeers,
  sha256,
  systemPython,
  tempDir,
  testNetwork,
  within,
} from "./_util.ts";
import { startAioftp } from "./peers/aioftp.ts";
import { startOwnServer } from "./peers/own_server.ts";
import { isRoot, type PeerServer } from "./peers/peer.ts";
import { PURE_FTPD, PURE_PW, startPureFtpd } from "./peers/pure_ftpd.ts";
import { startPyftpdlib } from "./peers/pyftpdlib.ts";
import { startVsftpd, VSFTPD } from "./peers/vsftpd.ts";

interface PeerCase {
  name: string;
  start: () => Promise<PeerServer>;
  skip: false | string;
}

function rootSkip(name: string): false | string {
  if (isRoot) return false;
  if (requirePeers) throw new Error(`STREAMFTP_REQUIRE_PEERS=1 but ${name} needs root`);
  console.warn(`NOTICE: skipping ${name} tests: they need root (chroot, the ftp account)`);
  return `${name} needs root`;
}

const pythonModule = (name: string) => `/usr/lib/python3/dist-packages/${name}`;

const peers: PeerCase[] = [
  { name: "streamftp", start: () => startOwnServer(), skip: false },
  { name: "vsftpd", start: startVsftpd, skip: peerSkip("vsftpd", VSFTPD) || rootSkip("vsftpd") },
  {
    name: "pure-ftpd",
    start: startPureFtpd,
    skip: peerSkip("pure-ftpd", PURE_FTPD, PURE_PW, "/usr/bin/openssl") || rootSkip("pure-ftpd"),
  },
  {
    name: "pyftpdlib",
    start: startPyftpdlib,
    skip: peerSkip("pyftpdlib", systemPython, pythonModule("pyftpdlib")),
  },
  {
    name: "aioftp",
    start: startAioftp,
    skip: peerSkip("aioftp", systemPython, pythonModule("aioftp")),
  },
];

/** The local tree every peer gets: names with spaces, an empty file, nesting three deep. */
const TREE: Record<string, Uint8Array> = {
  "a.txt": new TextEncoder().encode("hello\n"),
  "empty.bin": new Uint8Array(0),
  "with space.txt": new TextEncoder().encode("spaced out\n"),
  "sub/b.bin": randomBytes(1024 * 1024 + 17, 11),
  "sub/deep/c.txt": new TextEncoder().encode("deep\n"),
  "sub/deep/d.bin": randomBytes(300_000, 12),
};
const BIG = randomBytes(24 * 1024 * 1024, 13);
const RESUME = randomBytes(3 * 1024 * 1024 + 5, 14);

async function writeTree(root: string): Promise<void> {
  for (const [path, data] of Object.entries(TREE)) {
    const full = join(root, ...path.split("/"));
    await mkdir(join(full, ".."), { recursive: true });
    await writeFile(full, data);
  }
}

async function treeDigests(root: string, prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) Object.assign(out, await treeDigests(root, rel));
    else out[rel] = sha256(await readFile(join(root, rel)));
  }
  return out;
}

const expectedDigests = () =>
  Object.fromEntries(Object.entries(TREE).map(([p, d]) => [p, sha256(d)]));

for (const peerCase of peers) {
  describe(`client against ${peerCase.name}`, { skip: peerCase.skip }, () => {
    let peer: PeerServer;
    let client: Client;
    let local: { path: string; remove(): Promise<void> };
    const at = (path: string) => (peer.base.endsWith("/") ? peer.base : `${peer.base}/`) + path;
    const open = async (mode: "passive" | "active" = "passive") => {
      const c = await within(
        Client.connect(peer.host, peer.port, {
          network: testNetwork(),
          socketTimeout: 15000,
          mode,
        }),
        15000,
        "connect",
      );
      await c.login(peer.user, peer.password);
      return c;
    };

    before(async () => {
      peer = await peerCase.start();
      local = await tempDir("streamftp-interop-");
      await writeTree(join(local.path, "src"));
      await writeFile(join(local.path, "big.bin"), BIG);
      await writeFile(join(local.path, "resume.bin"), RESUME);
      client = await open();
    });

    after(async () => {
      await client?.quit();
      await peer?.stop();
      await local?.remove();
    });

    it("logs in and changes to the work directory", { timeout: 20000 }, async () => {
      await client.cd(peer.base);
      assert.equal(await client.pwd(), peer.base);
      await client.cd(peer.base);
    });

    it("mkdir with parents creates the chain and accepts an existing directory", {
      timeout: 20000,
    }, async () => {
      await client.mkdir(at("m1/m2/m3"), { parents: true });
      await client.mkdir(at("m1/m2/m3"), { parents: true });
      assert.equal(await client.isDir(at("m1/m2/m3")), true);
      assert.equal(await client.exists(at("m1/nothing")), false);
      assert.ok(existsSync(join(peer.root, "m1", "m2", "m3")));
    });

    it("uploads a tree into a nested destination", { timeout: 30000 }, async () => {
      const progress: TransferProgress[] = [];
      const done = await client.upload(join(local.path, "src"), at("up/nested"), {
        onProgress: (p) => progress.push(p),
      });
      const total = Object.values(TREE).reduce((s, d) => s + d.length, 0);
      assert.deepEqual([done.files, done.bytes], [Object.keys(TREE).length, total]);
      assert.equal(progress.at(-1)?.overallBytes, total);
      assert.equal(progress.at(-1)?.overallTotal, total);
      // The server's own disk shows the nesting (aioftp's upload drops "up/nested").
      assert.deepEqual(
        await treeDigests(join(peer.root, "up", "nested", "src")),
        expectedDigests(),
      );
    });

    it("lists the tree recursively", { timeout: 20000 }, async () => {
      const items = await client.listAll(at("up/nested/src"), { recursive: true });
      const seen = Object.fromEntries(
        items.map((i) => [i.path.slice(at("up/nested/src/").length), [i.info.type, i.info.size]]),
      );
      for (const [path, data] of Object.entries(TREE)) {
        assert.deepEqual(seen[path], ["file", data.length], path);
      }
      assert.equal(seen["sub"]?.[0], "dir");
      assert.equal(seen["sub/deep"]?.[0], "dir");
      assert.equal(items.length, Object.keys(TREE).length + 2);
    });

    it("allows other calls inside a listing loop", { timeout: 20000 }, async () => {
      let files = 0;
      for await (const item of client.list(at("up/nested/src"), { recursive: true })) {
        if (item.info.type === "file") {
          assert.equal(await client.isFile(item.path), true, item.path);
          files++;
        }
      }
      assert.equal(files, Object.keys(TREE).length);
    });

    it("stats a file and a directory", { timeout: 20000 }, async () => {
      const file = await client.stat(at("up/nested/src/sub/b.bin"));
      assert.deepEqual([file.name, file.type, file.size], [
        "b.bin",
        "file",
        TREE["sub/b.bin"].length,
      ]);
      assert.equal((await client.stat(at("up/nested/src/sub"))).type, "dir");
      assert.equal(await client.isFile(at("up/nested/src/a.txt")), true);
      assert.equal(await client.isFile(at("up/nested/src/missing")), false);
    });

    it("downloads the tree with matching sha256 checksums", { timeout: 30000 }, async () => {
      const done = await client.download(at("up/nested/src"), join(local.path, "down"));
      assert.equal(done.files, Object.keys(TREE).length);
      assert.deepEqual(await treeDigests(join(local.path, "down", "src")), expectedDigests());
      const single = await client.download(
        at("up/nested/src/sub/deep/c.txt"),
        join(local.path, "one"),
      );
      assert.equal(single.files, 1);
      assert.equal(await readFile(join(local.path, "one", "c.txt"), "utf8"), "deep\n");
    });

    it("verifies transfers with HASH where the server offers it", { timeout: 30000 }, async () => {
      const offers = (await client.features()).has("HASH");
      // Of these peers, only our own server implements draft-bryan-ftpext-hash.
      assert.equal(offers, peerCase.name === "streamftp");
      const down = await client.download(at("up/nested/src/sub"), join(local.path, "verified"), {
        verify: true,
      });
      assert.deepEqual([down.files, down.verified], [3, offers ? 3 : 0]);
      const up = await client.upload(join(local.path, "src", "sub"), at("verified"), {
        verify: true,
      });
      assert.deepEqual([up.files, up.verified], [3, offers ? 3 : 0]);
    });

    it("writeInto puts the source at the exact destination", { timeout: 30000 }, async () => {
      await client.upload(join(local.path, "src", "a.txt"), at("exact.txt"), { writeInto: true });
      assert.equal(await readFile(join(peer.root, "exact.txt"), "utf8"), "hello\n");
      const into = join(local.path, "into");
      await client.download(at("up/nested/src"), into, { writeInto: true });
      assert.deepEqual(await treeDigests(into), expectedDigests());
      await client.download(at("exact.txt"), join(into, "copy.txt"), { writeInto: true });
      assert.equal(await readFile(join(into, "copy.txt"), "utf8"), "hello\n");
    });

    it("reads and sets modification times", {
      timeout: 20000,
      skip: peerCase.name === "aioftp" ? "aioftp has no MDTM" : false,
    }, async () => {
      const when = new Date(Date.UTC(2021, 4, 6, 7, 8, 9));
      await client.setModifiedTime(at("exact.txt"), when);
      assert.equal((await client.modifiedTime(at("exact.txt"))).getTime(), when.getTime());
      assert.equal((await stat(join(peer.root, "exact.txt"))).mtime.getTime(), when.getTime());
    });

    it("renames a file", { timeout: 20000 }, async () => {
      await client.rename(at("up/nested/src/a.txt"), at("up/nested/src/renamed.txt"));
      assert.equal(await client.exists(at("up/nested/src/a.txt")), false);
      assert.equal(await client.isFile(at("up/nested/src/renamed.txt")), true);
    });

    it("resumes an interrupted upload", { timeout: 30000 }, async () => {
      const sink = await client.uploadStream(at("resume.bin"));
      const writer = sink.getWriter();
      await writer.write(RESUME.subarray(0, 1_000_000));
      await writer.close();
      const done = await client.upload(join(local.path, "resume.bin"), peer.base, { resume: true });
      assert.deepEqual([done.files, done.bytes], [1, RESUME.length - 1_000_000]);
      assert.equal(sha256(await readFile(join(peer.root, "resume.bin"))), sha256(RESUME));
      const again = await client.upload(join(local.path, "resume.bin"), peer.base, {
        resume: true,
      });
      assert.deepEqual([again.files, again.skipped], [0, 1]);
    });

    it("resumes an interrupted download", { timeout: 30000 }, async () => {
      const target = join(local.path, "resumed");
      await mkdir(target, { recursive: true });
      await writeFile(join(target, "resume.bin"), RESUME.subarray(0, 2_000_000));
      const done = await client.download(at("resume.bin"), target, { resume: true });
      assert.deepEqual([done.files, done.bytes], [1, RESUME.length - 2_000_000]);
      assert.equal(sha256(await readFile(join(target, "resume.bin"))), sha256(RESUME));
    });

    it("transfers in active mode", {
      timeout: 30000,
      skip: peerCase.name === "aioftp" ? "aioftp has no active mode" : false,
    }, async () => {
      const active = await open("active");
      try {
        await active.upload(join(local.path, "src", "sub"), at("active"));
        const items = await active.listAll(at("active/sub"), { recursive: true });
        assert.equal(items.length, 4);
        const done = await active.download(at("active/sub"), join(local.path, "active"));
        assert.equal(done.files, 3);
        assert.equal(
          sha256(await readFile(join(local.path, "active", "sub", "b.bin"))),
          sha256(TREE["sub/b.bin"]),
        );
      } finally {
        await active.quit();
      }
    });

    it("aborts a download mid-way and stays usable", { timeout: 30000 }, async () => {
      await client.upload(join(local.path, "big.bin"), peer.base);
      const stream = await client.downloadStream(at("big.bin"));
      const reader = stream.getReader();
      const first = await reader.read();
      assert.ok(!first.done && first.value.length > 0);
      await within(client.abort(), 15000, "abort");
      await assert.rejects(reader.read());
      assert.equal(await client.pwd(), peer.base);
      const small = await new Response(
        await client.downloadStream(at("up/nested/src/sub/deep/c.txt")),
      ).text();
      assert.equal(small, "deep\n");
    });

    it("cancels transfers with an AbortSignal and stays usable", { timeout: 30000 }, async () => {
      const controller = new AbortController();
      await assert.rejects(
        within(
          client.download(at("big.bin"), join(local.path, "cancelled"), {
            signal: controller.signal,
            onProgress: () => controller.abort(new Error("stop download")),
          }),
          15000,
        ),
        /stop download/,
      );
      assert.equal(await client.pwd(), peer.base);
      const upload = new AbortController();
      await assert.rejects(
        within(
          client.upload(join(local.path, "big.bin"), at("cancelled"), {
            signal: upload.signal,
            onProgress: (p) => p.bytes > 1_000_000 && upload.abort(new Error("stop upload")),
          }),
          15000,
        ),
        /stop upload/,
      );
      assert.equal(await client.pwd(), peer.base);
      assert.equal(await client.isFile(at("up/nested/src/renamed.txt")), true);
    });

    it("throttles downloads and uploads (downloadLimit, uploadLimit)", {
      timeout: 40000,
    }, async () => {
      const directions = [
        {
          limit: "downloadLimit",
          move: () => client.download(at("resume.bin"), join(local.path, "throttled")),
          result: join(local.path, "throttled", "resume.bin"),
        },
        {
          limit: "uploadLimit",
          move: () => client.upload(join(local.path, "resume.bin"), at("throttled")),
          result: join(peer.root, "throttled", "resume.bin"),
        },
      ] as const;
      for (const { limit, move, result } of directions) {
        client[limit] = 2 * 1024 * 1024;
        try {
          const started = Date.now();
          await move();
          const seconds = (Date.now() - started) / 1000;
          // 3 MiB at 2 MiB/s: at least ~1 s after the first burst, well under 10 s.
          assert.ok(seconds > 0.7 && seconds < 10, `${limit}: took ${seconds} s`);
        } finally {
          client[limit] = undefined;
        }
        assert.equal(sha256(await readFile(result)), sha256(RESUME), limit);
      }
    });

    it("removes a tree recursively", { timeout: 30000 }, async () => {
      await client.remove(at("up"));
      await client.remove(at("m1"));
      assert.equal(await client.exists(at("up")), false);
      assert.equal(existsSync(join(peer.root, "up")), false);
      await client.remove(at("big.bin"));
      assert.equal((await stat(join(local.path, "big.bin"))).size, BIG.length);
    });
  });
}
