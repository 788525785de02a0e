/**
 * `Client.mirror` in both directions against our own server and vsftpd (MLSD with exact times
 * and MFMT on one, LIST with whole minutes and no MFMT on the other): the first mirror copies
 * everything (over parallel sessions), the second transfers nothing, a changed size or an older
 * target makes only that file go, a dry run changes nothing, `delete` removes what the source
 * lost; then type conflicts, hostile remote names and a missing source.
 *
 * @module
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  Client,
  type MirrorAction,
  type MirrorOptions,
  type MirrorSummary,
  PathError,
} from "../client.ts";
import { peerSkip, randomBytes, sha256, tempDir, testNetwork, within } from "./_util.ts";
import { FakeFtpServer, sendAndClose } from "./peers/fake_server.ts";
import { startOwnServer } from "./peers/own_server.ts";
import { isRoot, type PeerServer } from "./peers/peer.ts";
import { startVsftpd, VSFTPD } from "./peers/vsftpd.ts";

/** The source tree: nested directories, an empty file, an empty directory, a name with a space. */
const TREE: Record<string, Uint8Array | null> = {
  "a.txt": new TextEncoder().encode("hello\n"),
  "empty.bin": new Uint8Array(0),
  "with space.txt": new TextEncoder().encode("spaced\n"),
  "sub/b.bin": randomBytes(300_000, 21),
  "sub/deep/c.txt": new TextEncoder().encode("deep\n"),
  "gone/x.txt": new TextEncoder().encode("to be deleted\n"),
  "emptydir": null,
};
const FILES = Object.keys(TREE).filter((p) => TREE[p] !== null);
const DIRS = ["emptydir", "gone", "sub", "sub/deep"];

async function writeTree(root: string): Promise<void> {
  for (const [path, data] of Object.entries(TREE)) {
    const full = join(root, ...path.split("/"));
    if (data === null) await mkdir(full, { recursive: true });
    else {
      await mkdir(join(full, ".."), { recursive: true });
      await writeFile(full, data);
    }
  }
}

/** Every file below `root` by relative path, with its digest; directories as `dir/`. */
async function snapshot(root: string, prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) {
      out[`${rel}/`] = "dir";
      Object.assign(out, await snapshot(root, rel));
    } else out[rel] = sha256(await readFile(join(root, rel)));
  }
  return out;
}

/** The actions of a summary as sorted `kind path (reason)` lines. */
function actions(summary: MirrorSummary, ...kinds: MirrorAction["kind"][]): string[] {
  return summary.actions
    .filter((a) => kinds.length === 0 || kinds.includes(a.kind))
    .map((a) => `${a.kind} ${a.path}${a.kind === "transfer" ? ` (${a.reason})` : ""}`)
    .sort();
}

const transfers = (paths: string[], reason: string) =>
  paths.map((p) => `transfer ${p} (${reason})`).sort();

/**
 * Registers a `before` that writes TREE into the source of the enclosing describe's mirrors,
 * once `roots` can name them (the server and the local directory have started).
 *
 * @returns The roots, filled in before the first test runs.
 */
function treeRoots(roots: () => { source: string; target: string }): {
  source: string;
  target: string;
} {
  const dirs = { source: "", target: "" };
  before(async () => {
    Object.assign(dirs, roots());
    await writeTree(dirs.source);
  });
  return dirs;
}

/** Makes the mirrored `a.txt` below `root` other bytes of the same size, two hours older. */
async function ageCopy(root: string): Promise<void> {
  const old = new Date(Date.now() - 2 * 3600_000);
  await writeFile(join(root, "a.txt"), "HELLO\n");
  await utimes(join(root, "a.txt"), old, old);
}

/** Adds `new.txt` to the source at `root` and removes its `gone` directory. */
async function addNewDropGone(root: string): Promise<void> {
  await writeFile(join(root, "new.txt"), "new\n");
  await rm(join(root, "gone"), { recursive: true });
}

interface PeerCase {
  name: string;
  start: () => Promise<PeerServer>;
  skip: false | string;
  /** How far a local copy's time may be from the server's file (LIST: whole minutes). */
  timeSlackMs: number;
}

const peers: PeerCase[] = [
  { name: "streamftp", start: () => startOwnServer(), skip: false, timeSlackMs: 1000 },
  {
    name: "vsftpd",
    start: startVsftpd,
    skip: peerSkip("vsftpd", VSFTPD) || (isRoot ? false : "vsftpd needs root"),
    timeSlackMs: 60_000,
  },
];

for (const peerCase of peers) {
  describe(`mirror against ${peerCase.name}`, { skip: peerCase.skip }, () => {
    let peer: PeerServer;
    let client: Client;
    let local: { path: string; remove(): Promise<void> };
    const remote = (dir: string) => `${peer.base.replace(/\/$/, "")}/${dir}`;
    const run = (remoteDir: string, localDir: string, options: MirrorOptions = {}) => {
      const seen: MirrorAction[] = [];
      return within(
        client.mirror(remoteDir, localDir, { ...options, onAction: (a) => seen.push(a) }),
        30000,
        "mirror",
      ).then((summary) => {
        assert.deepEqual(seen, summary.actions, "onAction saw other actions than the summary");
        return summary;
      });
    };

    before(async () => {
      peer = await peerCase.start();
      local = await tempDir("streamftp-mirror-");
      client = await within(
        Client.connect(peer.host, peer.port, { network: testNetwork(), socketTimeout: 15000 }),
        15000,
        "connect",
      );
      await client.login(peer.user, peer.password);
    });

    after(async () => {
      await client?.quit();
      await peer?.stop();
      await local?.remove();
    });

    describe("download (remote to local)", () => {
      const dirs = treeRoots(() => ({
        source: join(peer.root, "down"),
        target: join(local.path, "down"),
      }));

      it("the first mirror creates every directory and copies every file, with its time", {
        timeout: 60000,
      }, async () => {
        const summary = await run(remote("down"), dirs.target, { parallel: 3 });
        assert.deepEqual(actions(summary, "mkdir"), DIRS.map((d) => `mkdir ${d}`).sort());
        assert.deepEqual(actions(summary, "transfer"), transfers(FILES, "missing"));
        assert.equal(summary.transferred, FILES.length);
        assert.equal(summary.created, DIRS.length);
        const bytes = FILES.reduce((sum, p) => sum + TREE[p]!.length, 0);
        assert.equal(summary.bytes, bytes);
        assert.deepEqual(await snapshot(dirs.target), await snapshot(dirs.source));
        const copied = (await stat(join(dirs.target, "sub", "b.bin"))).mtimeMs;
        const original = (await stat(join(dirs.source, "sub", "b.bin"))).mtimeMs;
        assert.ok(
          Math.abs(copied - original) <= peerCase.timeSlackMs,
          `local time ${copied} vs remote ${original}`,
        );
      });

      it("a second mirror transfers nothing: every file is skipped", {
        timeout: 60000,
      }, async () => {
        const summary = await run(remote("down"), dirs.target);
        assert.deepEqual(actions(summary), FILES.map((p) => `skip ${p}`).sort());
        assert.equal(summary.skipped, FILES.length);
        assert.equal(summary.transferred, 0);
      });

      it("only a file whose size changed on the server is transferred", {
        timeout: 60000,
      }, async () => {
        await writeFile(join(dirs.source, "sub", "deep", "c.txt"), "deeper now\n");
        const summary = await run(remote("down"), dirs.target);
        assert.deepEqual(actions(summary, "transfer"), ["transfer sub/deep/c.txt (size)"]);
        assert.equal(summary.skipped, FILES.length - 1);
        assert.equal(
          await readFile(join(dirs.target, "sub", "deep", "c.txt"), "utf8"),
          "deeper now\n",
        );
      });

      it("a local copy older than the server's file (same size) is transferred again", {
        timeout: 60000,
      }, async () => {
        await ageCopy(dirs.target);
        const summary = await run(remote("down"), dirs.target);
        assert.deepEqual(actions(summary, "transfer"), ["transfer a.txt (newer)"]);
        assert.equal(await readFile(join(dirs.target, "a.txt"), "utf8"), "hello\n");
      });

      it("a dry run reports what would change and changes nothing", {
        timeout: 60000,
      }, async () => {
        await addNewDropGone(dirs.source);
        const before = await snapshot(dirs.target);
        const summary = await run(remote("down"), dirs.target, { dryRun: true, delete: true });
        assert.deepEqual(actions(summary, "transfer", "delete", "mkdir"), [
          "delete gone",
          "transfer new.txt (missing)",
        ]);
        assert.deepEqual(summary.actions.find((a) => a.kind === "delete"), {
          kind: "delete",
          path: "gone",
          type: "dir",
        });
        assert.deepEqual(await snapshot(dirs.target), before);
      });

      it("delete removes what the source no longer has; without it, it stays", {
        timeout: 60000,
      }, async () => {
        await rm(join(dirs.source, "with space.txt"));
        const kept = await run(remote("down"), dirs.target);
        assert.deepEqual(actions(kept, "transfer", "delete"), ["transfer new.txt (missing)"]);
        assert.ok(existsSync(join(dirs.target, "gone", "x.txt")));
        const summary = await run(remote("down"), dirs.target, { delete: true });
        assert.deepEqual(actions(summary, "delete"), ["delete gone", "delete with space.txt"]);
        assert.equal(summary.deleted, 2);
        assert.deepEqual(await snapshot(dirs.target), await snapshot(dirs.source));
      });
    });

    describe("upload (reverse: local to remote)", () => {
      const dirs = treeRoots(() => ({
        source: join(local.path, "up-src"),
        target: join(peer.root, "up"),
      }));

      it("the first mirror creates the remote directory, its directories and files", {
        timeout: 60000,
      }, async () => {
        const summary = await run(remote("up"), dirs.source, { reverse: true, parallel: 3 });
        assert.deepEqual(actions(summary, "mkdir"), DIRS.map((d) => `mkdir ${d}`).sort());
        assert.deepEqual(actions(summary, "transfer"), transfers(FILES, "missing"));
        assert.deepEqual(await snapshot(dirs.target), await snapshot(dirs.source));
      });

      it("a second mirror transfers nothing: every file is skipped", {
        timeout: 60000,
      }, async () => {
        const summary = await run(remote("up"), dirs.source, { reverse: true });
        assert.deepEqual(actions(summary), FILES.map((p) => `skip ${p}`).sort());
      });

      it("only a file whose size changed locally is transferred", {
        timeout: 60000,
      }, async () => {
        await writeFile(join(dirs.source, "sub", "b.bin"), randomBytes(1000, 5));
        const summary = await run(remote("up"), dirs.source, { reverse: true });
        assert.deepEqual(actions(summary, "transfer"), ["transfer sub/b.bin (size)"]);
        assert.equal(
          sha256(await readFile(join(dirs.target, "sub", "b.bin"))),
          sha256(randomBytes(1000, 5)),
        );
      });

      it("a remote file older than the local one (same size) is transferred again", {
        timeout: 60000,
      }, async () => {
        await ageCopy(dirs.target);
        const summary = await run(remote("up"), dirs.source, { reverse: true });
        assert.deepEqual(actions(summary, "transfer"), ["transfer a.txt (newer)"]);
        assert.equal(await readFile(join(dirs.target, "a.txt"), "utf8"), "hello\n");
      });

      it("a dry run reports what would change and changes nothing", {
        timeout: 60000,
      }, async () => {
        await addNewDropGone(dirs.source);
        const before = await snapshot(dirs.target);
        const summary = await run(remote("up"), dirs.source, {
          reverse: true,
          dryRun: true,
          delete: true,
        });
        assert.deepEqual(actions(summary, "transfer", "delete", "mkdir"), [
          "delete gone",
          "transfer new.txt (missing)",
        ]);
        assert.deepEqual(await snapshot(dirs.target), before);
      });

      it("delete removes what the local source no longer has", { timeout: 60000 }, async () => {
        await rm(join(dirs.source, "with space.txt"));
        const summary = await run(remote("up"), dirs.source, { reverse: true, delete: true });
        assert.deepEqual(actions(summary, "delete"), ["delete gone", "delete with space.txt"]);
        assert.deepEqual(actions(summary, "transfer"), ["transfer new.txt (missing)"]);
        assert.deepEqual(await snapshot(dirs.target), await snapshot(dirs.source));
      });
    });
  });
}

describe("mirror edge cases against our own server", () => {
  let peer: PeerServer;
  let client: Client;
  let local: { path: string; remove(): Promise<void> };

  before(async () => {
    peer = await startOwnServer();
    local = await tempDir("streamftp-mirror-edge-");
    client = await Client.connect(peer.host, peer.port, {
      network: testNetwork(),
      socketTimeout: 15000,
    });
    await client.login(peer.user, peer.password);
  });

  after(async () => {
    await client?.quit();
    await peer?.stop();
    await local?.remove();
  });

  it("uploads set the remote time to the local one with MFMT", { timeout: 30000 }, async () => {
    const source = join(local.path, "timed");
    await mkdir(source);
    const when = new Date("2024-05-06T07:08:09Z");
    await writeFile(join(source, "t.txt"), "time\n");
    await utimes(join(source, "t.txt"), when, when);
    await client.mirror("/timed", source, { reverse: true });
    assert.equal((await stat(join(peer.root, "timed", "t.txt"))).mtime.getTime(), when.getTime());
  });

  it("a type conflict is left alone without delete and replaced with it", {
    timeout: 30000,
  }, async () => {
    await mkdir(join(peer.root, "conflict"), { recursive: true });
    await writeFile(join(peer.root, "conflict", "was-dir"), "now a file\n");
    const target = join(local.path, "conflict");
    await mkdir(join(target, "was-dir", "inner"), { recursive: true });
    await writeFile(join(target, "was-dir", "inner", "old.txt"), "old\n");
    const kept = await client.mirror("/conflict", target);
    assert.deepEqual(kept.notTransferred, ["was-dir"]);
    assert.equal(kept.transferred, 0);
    assert.ok(existsSync(join(target, "was-dir", "inner", "old.txt")));
    const replaced = await client.mirror("/conflict", target, { delete: true });
    assert.deepEqual(actions(replaced), ["delete was-dir", "transfer was-dir (missing)"]);
    assert.equal(await readFile(join(target, "was-dir"), "utf8"), "now a file\n");
  });

  it("a missing source is a PathError with kind not-found", { timeout: 30000 }, async () => {
    await assert.rejects(
      client.mirror("/no-such-dir", join(local.path, "x")),
      (e) => e instanceof PathError && e.kind === "not-found",
    );
    await assert.rejects(
      client.mirror("/x", join(local.path, "no-such-dir"), { reverse: true }),
      (e) => e instanceof PathError && e.kind === "not-found",
    );
    assert.equal(await client.pwd(), "/");
  });
});

describe("mirror against a hostile listing", () => {
  const servers: FakeFtpServer[] = [];
  after(async () => {
    for (const server of servers) await server.close();
  });

  it("refuses a remote name that is not one plain component before changing anything", {
    timeout: 30000,
  }, async () => {
    const server = await FakeFtpServer.start(async (s) => {
      await s.send("220 ready");
      let listener: Awaited<ReturnType<typeof s.epsv>> | undefined;
      while (true) {
        const line = await s.read();
        if (line === null) return;
        if (await s.standard(line)) continue;
        if (line === "EPSV") listener = await s.epsv();
        else if (line.startsWith("MLSD") && listener) {
          const conn = await listener.accept();
          await s.send("150 listing");
          await sendAndClose(
            conn,
            "type=file;size=3;modify=20240101000000; ok.txt\r\n" +
              "type=file;size=4;modify=20240101000000; ../evil.txt\r\n",
          );
          await s.send("226 done");
        } else await s.send("502 not here");
      }
    });
    servers.push(server);
    const dir = await tempDir("streamftp-mirror-hostile-");
    try {
      const client = await Client.connect("127.0.0.1", server.port, { network: testNetwork() });
      await client.login("u", "p");
      const target = join(dir.path, "target");
      await assert.rejects(
        within(client.mirror("pub", target, { delete: true }), 10000),
        (e) => e instanceof PathError && e.kind === "invalid-path",
      );
      assert.ok(!existsSync(target));
      assert.ok(!existsSync(join(dir.path, "evil.txt")));
      await client.quit();
    } finally {
      await dir.remove();
    }
  });
});
