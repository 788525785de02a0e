/**
 * Parallel tree transfers (`parallel` on `upload`/`download`) against our own server: a tree of
 * 40 files arrives intact over several sessions (the server's hooks see them), the summary
 * counts are right, the extra sessions are closed at the end, a server at its connection limit
 * gets fewer sessions instead of a failure, the first refused file aborts the rest and is
 * thrown, a signal aborts them all, and the client stays usable after each.
 *
 * @module
 */

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Client, type ClientOptions, ReplyError } from "../client.ts";
import type { ServerHooks } from "../lib/server/hooks.ts";
import type { ServerOptions } from "../lib/server/server.ts";
import { deferred } from "../lib/stream/abort.ts";
import { randomBytes, sha256, tempDir, testNetwork, within } from "./_util.ts";
import { TEST_CA_CERT, TEST_SERVER_CERT, TEST_SERVER_KEY } from "./fixtures/tls.ts";
import { startOwnServer } from "./peers/own_server.ts";
import type { PeerServer } from "./peers/peer.ts";

/** 40 files in four directories (one nested), 0 to ~200 KiB each. */
function makeTree(): Record<string, Uint8Array> {
  const tree: Record<string, Uint8Array> = {};
  const dirs = ["a", "b", "b/deep", "c"];
  for (let i = 0; i < 40; i++) {
    const size = i === 0 ? 0 : (i * 4999) % 200_000;
    tree[`${dirs[i % dirs.length]}/f${String(i).padStart(2, "0")}.bin`] = randomBytes(size, i + 1);
  }
  return tree;
}

const TREE = makeTree();
const TOTAL_BYTES = Object.values(TREE).reduce((sum, data) => sum + data.length, 0);
const expected = () => Object.fromEntries(Object.entries(TREE).map(([p, d]) => [p, sha256(d)]));

async function writeTree(root: string): Promise<void> {
  for (const [path, data] of Object.entries(TREE)) {
    const full = join(root, ...path.split("/"));
    await mkdir(join(full, ".."), { recursive: true });
    await writeFile(full, data);
  }
}

async function digests(root: string, prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) Object.assign(out, await digests(root, rel));
    else out[rel] = sha256(await readFile(join(root, rel)));
  }
  return out;
}

/** What the server saw: sessions, logins, transfers by session, disconnects. */
class Observed {
  readonly loggedIn = new Set<number>();
  readonly transfersBySession = new Map<number, number>();
  connects = 0;
  disconnects = 0;
  readonly #disconnectWaiters: { count: number; resolve(): void }[] = [];
  readonly #loginWaiters: { count: number; resolve(): void }[] = [];

  hooks(extra: ServerHooks = {}): ServerHooks {
    return {
      ...extra,
      connect: () => void this.connects++,
      login: (e) => {
        this.loggedIn.add(e.sessionId);
        this.#settle(this.#loginWaiters, this.loggedIn.size);
      },
      transfer: (e) => {
        if (!e.complete) return;
        this.transfersBySession.set(
          e.sessionId,
          (this.transfersBySession.get(e.sessionId) ?? 0) + 1,
        );
      },
      disconnect: () => {
        this.disconnects++;
        this.#settle(this.#disconnectWaiters, this.disconnects);
      },
    };
  }

  /** Resolves once `count` sessions have logged in. */
  logins(count: number): Promise<void> {
    return this.#wait(this.#loginWaiters, this.loggedIn.size, count);
  }

  /** Resolves once `count` sessions have ended. */
  disconnected(count: number): Promise<void> {
    return this.#wait(this.#disconnectWaiters, this.disconnects, count);
  }

  #wait(waiters: { count: number; resolve(): void }[], now: number, count: number) {
    if (now >= count) return Promise.resolve();
    const done = deferred<void>();
    waiters.push({ count, resolve: () => done.resolve() });
    return done.promise;
  }

  #settle(waiters: { count: number; resolve(): void }[], now: number) {
    for (const waiter of [...waiters]) {
      if (now < waiter.count) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function setUp(
  serverOptions: (observed: Observed) => ServerOptions = (o) => ({ hooks: o.hooks() }),
  clientOptions: ClientOptions = {},
): Promise<{ peer: PeerServer; client: Client; observed: Observed; local: string }> {
  const observed = new Observed();
  const peer = await startOwnServer(serverOptions(observed));
  cleanups.push(() => peer.stop());
  const dir = await tempDir("streamftp-parallel-");
  cleanups.push(() => dir.remove());
  const client = await within(
    Client.connect(peer.host, peer.port, {
      network: testNetwork(),
      socketTimeout: 15000,
      ...clientOptions,
    }),
    10000,
    "connect",
  );
  cleanups.push(() => client.quit());
  await client.login(peer.user, peer.password);
  return { peer, client, observed, local: dir.path };
}

/** Server options whose first transfer waits until `sessions` sessions have logged in. */
function waitingForSessions(sessions: number) {
  return (observed: Observed): ServerOptions => ({
    hooks: observed.hooks({
      beforeTransfer: () => within(observed.logins(sessions), 10000, "extra sessions"),
    }),
  });
}

describe("parallel tree transfers", () => {
  it("downloads 40 files over four sessions, intact, and closes the extra ones", {
    timeout: 60000,
  }, async () => {
    const { peer, client, observed, local } = await setUp(waitingForSessions(4));
    await writeTree(join(peer.root, "tree"));
    await client.cd("/");
    const summary = await within(client.download("tree", local, { parallel: 4 }), 30000);
    assert.equal(summary.files, 40);
    assert.equal(summary.bytes, TOTAL_BYTES);
    assert.deepEqual(summary.notTransferred, []);
    assert.deepEqual(await digests(join(local, "tree")), expected());
    assert.equal(observed.loggedIn.size, 4);
    assert.ok(observed.transfersBySession.size > 1, "one session did all the work");
    const moved = [...observed.transfersBySession.values()].reduce((a, b) => a + b, 0);
    assert.equal(moved, 40);
    // The three extra sessions end; the client's own stays and works.
    await within(observed.disconnected(3), 10000, "extra sessions closing");
    assert.equal(observed.connects - observed.disconnects, 1);
    assert.equal(await client.pwd(), "/");
  });

  it("uploads 40 files over four sessions into the client's working directory", {
    timeout: 60000,
  }, async () => {
    const { peer, client, observed, local } = await setUp(waitingForSessions(4));
    await writeTree(join(local, "tree"));
    await client.mkdir("/in/here", { parents: true });
    await client.cd("/in/here");
    const progress: number[] = [];
    const summary = await within(
      client.upload(join(local, "tree"), "", {
        parallel: 4,
        onProgress: (p) => progress.push(p.overallBytes),
      }),
      30000,
    );
    assert.equal(summary.files, 40);
    assert.equal(summary.bytes, TOTAL_BYTES);
    assert.deepEqual(await digests(join(peer.root, "in", "here", "tree")), expected());
    assert.ok(observed.transfersBySession.size > 1, "one session did all the work");
    assert.equal(progress.at(-1), TOTAL_BYTES);
    await within(observed.disconnected(3), 10000, "extra sessions closing");
    assert.equal(await client.pwd(), "/in/here");
  });

  it("goes on with fewer sessions when the server refuses more (421)", {
    timeout: 60000,
  }, async () => {
    const codes: number[] = [];
    const { peer, client, observed, local } = await setUp((o) => ({
      hooks: o.hooks(),
      maxConnectionsPerIp: 2,
    }), { onReply: (reply) => codes.push(reply.code) });
    await writeTree(join(peer.root, "tree"));
    const summary = await within(client.download("tree", local, { parallel: 4 }), 30000);
    assert.equal(summary.files, 40);
    assert.deepEqual(await digests(join(local, "tree")), expected());
    assert.ok(codes.includes(421), "no session was refused");
    assert.ok(observed.loggedIn.size <= 2, `${observed.loggedIn.size} sessions logged in`);
    assert.equal(await client.pwd(), "/");
  });

  it("the first refused file aborts the rest and is thrown; the client stays usable", {
    timeout: 60000,
  }, async () => {
    const { peer, client, observed, local } = await setUp((o) => ({
      hooks: o.hooks({
        beforeTransfer: async (e) => {
          await within(o.logins(3), 10000, "extra sessions");
          if (e.path.endsWith("/f05.bin")) return { code: 550, text: "refused by policy" };
        },
      }),
    }));
    await writeTree(join(peer.root, "tree"));
    await assert.rejects(
      within(client.download("tree", local, { parallel: 3 }), 30000),
      (e) => e instanceof ReplyError && e.code === 550 && e.message.includes("refused by policy"),
    );
    await within(observed.disconnected(2), 10000, "extra sessions closing");
    assert.ok(
      [...observed.transfersBySession.values()].reduce((a, b) => a + b, 0) < 40,
      "every file was transferred despite the failure",
    );
    assert.equal(await client.pwd(), "/");
  });

  it("a signal aborts every session's transfer", { timeout: 60000 }, async () => {
    const { peer, client, observed, local } = await setUp(waitingForSessions(3));
    await writeTree(join(peer.root, "tree"));
    const controller = new AbortController();
    let files = 0;
    const transfer = client.download("tree", local, {
      parallel: 3,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.bytes === p.total && ++files === 5) controller.abort(new Error("enough"));
      },
    });
    await assert.rejects(
      within(transfer, 30000),
      (e) => e instanceof Error && e.message === "enough",
    );
    await within(observed.disconnected(2), 10000, "extra sessions closing");
    assert.equal(await client.pwd(), "/");
    const again = await within(client.download("tree", join(local, "again")), 30000);
    assert.equal(again.files, 40);
  });

  it("extra sessions of an ftps:// client connect, log in and stay in TLS like it", {
    timeout: 60000,
  }, async () => {
    const observed = new Observed();
    const secure = new Set<number>();
    const peer = await startOwnServer({
      tls: { cert: TEST_SERVER_CERT, key: TEST_SERVER_KEY },
      implicitTls: true,
      requireTls: "all",
      hooks: observed.hooks({
        beforeTransfer: async (e) => {
          if (e.secure && e.dataProtection === "P") secure.add(e.sessionId);
          await within(observed.logins(3), 10000, "extra sessions");
        },
      }),
    });
    cleanups.push(() => peer.stop());
    const dir = await tempDir("streamftp-parallel-tls-");
    cleanups.push(() => dir.remove());
    await writeTree(join(peer.root, "pub", "tree"));
    const user = encodeURIComponent(peer.user);
    const password = encodeURIComponent(peer.password);
    const client = await within(
      Client.connect(`ftps://${user}:${password}@127.0.0.1:${peer.port}/pub`, {
        network: testNetwork(),
        socketTimeout: 15000,
        tls: { caCerts: [TEST_CA_CERT], serverName: "localhost" },
      }),
      10000,
      "connect",
    );
    cleanups.push(() => client.quit());
    const summary = await within(client.download("tree", dir.path, { parallel: 3 }), 30000);
    assert.equal(summary.files, 40);
    assert.deepEqual(await digests(join(dir.path, "tree")), expected());
    assert.equal(secure.size, 3);
    assert.equal(await client.pwd(), "/pub");
  });

  it("the extra sessions share the client's download limit", { timeout: 60000 }, async () => {
    const { peer, client, observed, local } = await setUp(waitingForSessions(4), {
      downloadLimit: 2 * 1024 * 1024,
    });
    const data = randomBytes(256 * 1024, 99);
    await mkdir(join(peer.root, "limited"));
    for (let i = 0; i < 8; i++) await writeFile(join(peer.root, "limited", `${i}.bin`), data);
    const started = Date.now();
    const summary = await within(client.download("limited", local, { parallel: 4 }), 30000);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(summary.bytes, 8 * data.length);
    assert.ok(observed.transfersBySession.size > 1, "one session did all the work");
    // 2 MiB at 2 MiB/s for all sessions together: about 1 s (0.25 s if each had its own).
    assert.ok(seconds > 0.7 && seconds < 10, `took ${seconds} s`);
  });

  it("refuses a parallel that is not a whole number >= 1", { timeout: 20000 }, async () => {
    const { peer, client, local } = await setUp();
    await writeTree(join(peer.root, "tree"));
    for (const parallel of [0, 1.5, -2]) {
      await assert.rejects(client.download("tree", local, { parallel }), RangeError);
    }
  });
});
