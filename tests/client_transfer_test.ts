/**
 * The client's per-file path, asserted on the commands a server received: a named file costs
 * the transfer's own exchanges (no MLST from `downloadFile`, none after the first on a server
 * without MLST, no listing of the parent), a refused RETR of a directory still downloads the
 * tree, an upload into an existing directory sends no MKD and a missing one is created after
 * the refusal, uploads read ahead into alternating buffers without corrupting what is sent,
 * the chunks a download hands out are never reused, and a small file (written in one call once
 * its bytes have ended) keeps the rules of a big one: parents created, a longer file replaced,
 * the bytes kept on a failed transfer, the client in step after a local failure. The server is
 * a small in-memory one on a real socket that records every command.
 *
 * @module
 */

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Client, type ListItem, ReplyError, type TransferProgress } from "../client.ts";
import type { RemoteFiles } from "../lib/client/remote_files.ts";
import { removeTree } from "../lib/client/tree.ts";
import { randomBytes, sha256, tempDir, testNetwork, within } from "./_util.ts";
import { FakeFtpServer, type FakeSession, sendAndClose } from "./peers/fake_server.ts";

/** What the in-memory server implements. */
interface Features {
  mlst: boolean;
}

/** An in-memory tree: files by path (no leading slash), directories as a set ("" is the root). */
interface Tree {
  files: Map<string, Uint8Array>;
  dirs: Set<string>;
}

const servers: FakeFtpServer[] = [];
const cleanups: (() => Promise<void>)[] = [];

function key(path: string): string {
  return path.replace(/^\/+/, "").replace(/\/+$/, "");
}

function parentOf(path: string): string {
  const at = path.lastIndexOf("/");
  return at < 0 ? "" : path.slice(0, at);
}

function mlsxFacts(tree: Tree, path: string): string | undefined {
  const file = tree.files.get(path);
  if (file) return `type=file;size=${file.length};`;
  if (tree.dirs.has(path)) return "type=dir;";
  return undefined;
}

function listLine(tree: Tree, path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const file = tree.files.get(path);
  const mode = file ? "-rw-r--r--" : "drwxr-xr-x";
  return `${mode}    1 ftp      ftp      ${
    String(file?.length ?? 0).padStart(8)
  } Jan 01 10:00 ${name}`;
}

function childrenOf(tree: Tree, dir: string): string[] {
  const all = [...tree.files.keys(), ...tree.dirs].filter((p) => p !== "");
  return all.filter((p) => parentOf(p) === dir).sort();
}

/**
 * Starts a server over `tree`: MLST when `mlst`, never MLSD (so LIST), SIZE, RETR, STOR (into
 * an existing directory only, else 553), MKD, and the standard commands.
 */
async function treeServer(tree: Tree, features: Features): Promise<FakeFtpServer> {
  const server = await FakeFtpServer.start(async (s: FakeSession) => {
    await s.send("220 ready");
    let listener: Awaited<ReturnType<FakeSession["epsv"]>> | undefined;
    const data = () => {
      if (!listener) throw new Error("no data listener");
      const current = listener;
      listener = undefined;
      return current.accept();
    };
    while (true) {
      const line = await s.read();
      if (line === null) return;
      const space = line.indexOf(" ");
      const verb = space < 0 ? line : line.slice(0, space);
      const path = key(space < 0 ? "" : line.slice(space + 1));
      if (verb === "EPSV") {
        listener = await s.epsv();
      } else if (verb === "MLST" && features.mlst) {
        const facts = mlsxFacts(tree, path);
        if (facts) await s.send("250-Listing", ` ${facts} ${path}`, "250 End");
        else await s.send("550 no such file");
      } else if (verb === "SIZE") {
        const file = tree.files.get(path);
        await s.send(file ? `213 ${file.length}` : "550 not a plain file");
      } else if (verb === "LIST") {
        if (!tree.dirs.has(path)) {
          await s.send("550 no such directory");
          continue;
        }
        const conn = await data();
        await s.send("150 listing");
        const lines = childrenOf(tree, path).map((p) => `${listLine(tree, p)}\r\n`);
        await sendAndClose(conn, lines.join(""));
        await s.send("226 done");
      } else if (verb === "RETR") {
        const file = tree.files.get(path);
        if (!file) {
          await s.send("550 not a plain file");
          continue;
        }
        const conn = await data();
        await s.send(`150 sending ${file.length} bytes`);
        await sendAndClose(conn, file);
        await s.send("226 sent");
      } else if (verb === "STOR") {
        if (!tree.dirs.has(parentOf(path))) {
          await s.send("553 could not create file");
          continue;
        }
        const conn = await data();
        await s.send("150 go ahead");
        tree.files.set(path, new Uint8Array(await new Response(conn.readable).arrayBuffer()));
        await s.send("226 stored");
      } else if (verb === "MKD") {
        if (tree.dirs.has(path) || tree.files.has(path)) await s.send("550 exists");
        else if (!tree.dirs.has(parentOf(path))) await s.send("550 no parent");
        else {
          tree.dirs.add(path);
          await s.send(`257 "/${path}" created`);
        }
      } else if (!await s.standard(line)) {
        await s.send("500 unknown command");
      }
    }
  });
  servers.push(server);
  return server;
}

/**
 * Starts a server that answers any RETR by sending all of `content` and then the error
 * `finalReply` in place of 226.
 */
async function failingRetrServer(content: Uint8Array, finalReply: string): Promise<FakeFtpServer> {
  const server = await FakeFtpServer.start(async (s) => {
    await s.send("220 ready");
    let listener: Awaited<ReturnType<FakeSession["epsv"]>> | undefined;
    while (true) {
      const line = await s.read();
      if (line === null) return;
      if (line === "EPSV") listener = await s.epsv();
      else if (line.startsWith("RETR")) {
        const conn = await listener!.accept();
        await s.send("150 sending");
        await sendAndClose(conn, content);
        await s.send(finalReply);
      } else if (!await s.standard(line)) await s.send("500 unknown");
    }
  });
  servers.push(server);
  return server;
}

async function connect(server: FakeFtpServer): Promise<Client> {
  const client = await within(
    Client.connect("127.0.0.1", server.port, { network: testNetwork(), socketTimeout: 10000 }),
    10000,
  );
  await client.login("u", "p");
  return client;
}

/** The commands after login, without the standard ones every session sends. */
function sent(server: FakeFtpServer, session = 0): string[] {
  const skip = /^(USER|PASS|QUIT)\b/;
  return server.sessions[session].received.filter((line) => !skip.test(line));
}

async function scratch(): Promise<string> {
  const dir = await tempDir("streamftp-client-transfer-");
  cleanups.push(dir.remove);
  return dir.path;
}

function newTree(files: Record<string, Uint8Array>, dirs: string[] = []): Tree {
  const tree: Tree = { files: new Map(Object.entries(files)), dirs: new Set(["", ...dirs]) };
  return tree;
}

describe("client per-file path", () => {
  after(async () => {
    for (const server of servers) await server.close();
    for (const cleanup of cleanups) await cleanup();
  });

  it("downloadFile() sends EPSV and RETR only, also where the server has MLST", {
    timeout: 20000,
  }, async () => {
    const a = randomBytes(4096, 21);
    const b = randomBytes(70_000, 22);
    const server = await treeServer(newTree({ "d/a.bin": a, "d/b.bin": b }, ["d"]), {
      mlst: true,
    });
    const local = await scratch();
    const client = await connect(server);
    const one = await client.downloadFile("d/a.bin", join(local, "copy.bin"), { writeInto: true });
    const two = await client.downloadFile("/d/b.bin", local);
    await client.quit();
    assert.deepEqual([one.files, one.bytes, two.files, two.bytes], [1, a.length, 1, b.length]);
    assert.equal(sha256(await readFile(join(local, "copy.bin"))), sha256(a));
    assert.equal(sha256(await readFile(join(local, "b.bin"))), sha256(b));
    assert.deepEqual(sent(server), [
      "TYPE I",
      "EPSV",
      "RETR d/a.bin",
      "EPSV",
      "RETR /d/b.bin",
    ]);
  });

  it("download() of a file asks MLST once per file where the server has it", {
    timeout: 20000,
  }, async () => {
    const a = randomBytes(5000, 23);
    const server = await treeServer(newTree({ "a.bin": a }), { mlst: true });
    const local = await scratch();
    const client = await connect(server);
    await client.download("a.bin", local);
    await client.quit();
    assert.equal(sha256(await readFile(join(local, "a.bin"))), sha256(a));
    assert.deepEqual(sent(server), ["MLST a.bin", "TYPE I", "EPSV", "RETR a.bin"]);
  });

  it("download() on a server without MLST asks once, then sends RETR at once and lists nothing", {
    timeout: 20000,
  }, async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 5; i++) files[`pub/f${i}.bin`] = randomBytes(4096 + i, 30 + i);
    const server = await treeServer(newTree(files, ["pub"]), { mlst: false });
    const local = await scratch();
    const client = await connect(server);
    for (let i = 0; i < 5; i++) {
      await client.download(`pub/f${i}.bin`, join(local, `f${i}.bin`), { writeInto: true });
    }
    await client.quit();
    for (let i = 0; i < 5; i++) {
      const bytes = await readFile(join(local, `f${i}.bin`));
      assert.equal(sha256(bytes), sha256(files[`pub/f${i}.bin`]));
    }
    const commands = sent(server);
    assert.deepEqual(commands.slice(0, 4), [
      "MLST pub/f0.bin",
      "TYPE I",
      "EPSV",
      "RETR pub/f0.bin",
    ]);
    assert.equal(commands.filter((l) => l.startsWith("MLST")).length, 1);
    assert.ok(!commands.some((l) => /^(LIST|MLSD|SIZE|MKD)/.test(l)), commands.join(", "));
    assert.deepEqual(
      commands.slice(4),
      [1, 2, 3, 4].flatMap((i) => ["EPSV", `RETR pub/f${i}.bin`]),
    );
  });

  it("download() on a server without MLST fetches a directory as a tree after its refused RETR", {
    timeout: 20000,
  }, async () => {
    const inner = randomBytes(10_000, 41);
    const tree = newTree({ "pub/warm.bin": randomBytes(10, 40), "pub/site/x.bin": inner }, [
      "pub",
      "pub/site",
    ]);
    const server = await treeServer(tree, { mlst: false });
    const local = await scratch();
    const client = await connect(server);
    await client.download("pub/warm.bin", local);
    const done = await client.download("pub/site", local);
    await client.quit();
    assert.deepEqual([done.files, done.bytes], [1, inner.length]);
    assert.equal(sha256(await readFile(join(local, "site", "x.bin"))), sha256(inner));
    const commands = sent(server);
    const at = commands.indexOf("RETR pub/site");
    assert.ok(at > 0, commands.join(", "));
    // Refused, then the parent's listing tells a directory, then the tree's own listing.
    assert.deepEqual(
      commands.slice(at).filter((l) => !l.startsWith("EPSV")),
      ["RETR pub/site", "MLSD pub", "LIST pub", "LIST pub/site", "RETR pub/site/x.bin"],
    );
  });

  it("downloadFile() of a directory fails with the server's refusal and writes nothing", {
    timeout: 20000,
  }, async () => {
    const server = await treeServer(newTree({}, ["dir"]), { mlst: true });
    const local = await scratch();
    const client = await connect(server);
    await assert.rejects(
      client.downloadFile("dir", local),
      (e) => e instanceof ReplyError && e.code === 550,
    );
    assert.equal(existsSync(join(local, "dir")), false);
    assert.equal(await client.pwd(), "/");
    await client.quit();
    assert.ok(!sent(server).some((l) => /^(MLST|LIST|MLSD)/.test(l)));
  });

  it(
    "a download whose local target cannot be written fails with the local error, ABORs, and the client stays usable",
    {
      timeout: 20000,
    },
    async () => {
      const server = await treeServer(newTree({ "f.bin": randomBytes(100_000, 52) }), {
        mlst: true,
      });
      const local = await scratch();
      await mkdir(join(local, "taken"));
      const client = await connect(server);
      await assert.rejects(
        client.downloadFile("f.bin", join(local, "taken"), { writeInto: true }),
        (e) => (e as { code?: string }).code === "EISDIR",
      );
      assert.equal(await client.pwd(), "/");
      await client.quit();
      assert.ok(sent(server).includes("ABOR"), sent(server).join(", "));
    },
  );

  it("downloadFile() with onProgress asks SIZE for the total and creates missing local parents", {
    timeout: 20000,
  }, async () => {
    const content = randomBytes(300_000, 51);
    const server = await treeServer(newTree({ "big.bin": content }), { mlst: true });
    const local = await scratch();
    const client = await connect(server);
    const reports: TransferProgress[] = [];
    const target = join(local, "a", "b", "big.bin");
    await client.downloadFile("big.bin", target, {
      writeInto: true,
      onProgress: (p) => reports.push(p),
    });
    await client.quit();
    assert.equal(sha256(await readFile(target)), sha256(content));
    assert.ok(reports.length >= 2);
    assert.ok(
      reports.every((p) => p.total === content.length && p.overallTotal === content.length),
    );
    assert.equal(reports.at(-1)?.bytes, content.length);
    assert.deepEqual(sent(server), ["TYPE I", "SIZE big.bin", "EPSV", "RETR big.bin"]);
  });

  it("upload() of a file into an existing directory sends STOR and no MKD", {
    timeout: 20000,
  }, async () => {
    const tree = newTree({}, ["in"]);
    const server = await treeServer(tree, { mlst: true });
    const local = await scratch();
    const content = randomBytes(100_000, 61);
    await writeFile(join(local, "up.bin"), content);
    const client = await connect(server);
    const done = await client.upload(join(local, "up.bin"), "in/up.bin", { writeInto: true });
    await client.quit();
    assert.deepEqual([done.files, done.bytes], [1, content.length]);
    assert.equal(sha256(tree.files.get("in/up.bin")!), sha256(content));
    assert.deepEqual(sent(server), ["TYPE I", "EPSV", "STOR in/up.bin"]);
  });

  it("an upload of many chunks arrives intact (read-ahead buffers alternate safely)", {
    timeout: 20000,
  }, async () => {
    const tree = newTree({}, []);
    const server = await treeServer(tree, { mlst: true });
    const local = await scratch();
    const content = randomBytes(5 * 256 * 1024 + 123, 63);
    await writeFile(join(local, "many.bin"), content);
    const client = await connect(server);
    const done = await client.upload(join(local, "many.bin"), "");
    await client.quit();
    assert.deepEqual([done.files, done.bytes], [1, content.length]);
    assert.equal(sha256(tree.files.get("many.bin")!), sha256(content));
  });

  it("upload() of a file creates the missing parents once the server refused the STOR", {
    timeout: 20000,
  }, async () => {
    const tree = newTree({}, []);
    const server = await treeServer(tree, { mlst: true });
    const local = await scratch();
    const content = randomBytes(5_000, 62);
    await writeFile(join(local, "up.bin"), content);
    const client = await connect(server);
    await client.upload(join(local, "up.bin"), "a/b");
    await client.quit();
    assert.equal(sha256(tree.files.get("a/b/up.bin")!), sha256(content));
    const commands = sent(server).filter((l) => l !== "EPSV");
    assert.equal(commands[1], "STOR a/b/up.bin");
    assert.equal(commands.at(-1), "STOR a/b/up.bin");
    assert.ok(commands.includes("MKD a") && commands.includes("MKD a/b"), commands.join(", "));
  });

  it("chunks already handed out are never overwritten by later reads", {
    timeout: 20000,
  }, async () => {
    // Adapters copy small reads out of a buffer they reuse and hand large ones out whole:
    // either way a chunk kept by the caller must keep its bytes through the next transfers.
    const small = randomBytes(3000, 71);
    const large = randomBytes(3 * 1024 * 1024, 72);
    const other = randomBytes(3000, 73);
    const server = await treeServer(newTree({ small, large, other }), { mlst: true });
    const client = await connect(server);
    const keep: Uint8Array[][] = [];
    for (const name of ["small", "large", "other", "small"]) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of await client.downloadStream(name)) chunks.push(chunk);
      keep.push(chunks);
    }
    await client.quit();
    const joined = keep.map((chunks) => sha256(concat(chunks)));
    assert.deepEqual(joined, [sha256(small), sha256(large), sha256(other), sha256(small)]);
  });

  it("a failed download keeps the bytes that arrived, and the client stays usable", {
    timeout: 20000,
  }, async () => {
    const content = randomBytes(200_000, 81);
    const server = await failingRetrServer(content, "451 local error in processing");
    const local = await scratch();
    await mkdir(join(local, "out"));
    const client = await connect(server);
    await assert.rejects(
      client.downloadFile("f.bin", join(local, "out")),
      (e) => e instanceof ReplyError && e.code === 451,
    );
    assert.equal(sha256(await readFile(join(local, "out", "f.bin"))), sha256(content));
    assert.equal(await client.pwd(), "/");
    await client.quit();
  });
});

/**
 * Starts a server of one file, `content` (any path, SIZE too), that sends RETR's bytes (from a
 * `REST` offset) in `piece`-byte writes, each awaited: the client receives many small chunks
 * while its writes run.
 */
async function tricklingRetrServer(content: Uint8Array, piece: number): Promise<FakeFtpServer> {
  const server = await FakeFtpServer.start(async (s) => {
    await s.send("220 ready");
    let listener: Awaited<ReturnType<FakeSession["epsv"]>> | undefined;
    let offset = 0;
    while (true) {
      const line = await s.read();
      if (line === null) return;
      if (line === "EPSV") listener = await s.epsv();
      else if (line.startsWith("SIZE ")) await s.send(`213 ${content.length}`);
      else if (line.startsWith("REST ")) {
        offset = Number(line.slice(5));
        await s.send(`350 restarting at ${offset}`);
      } else if (line.startsWith("RETR")) {
        const conn = await listener!.accept();
        await s.send("150 sending");
        const writer = conn.writable.getWriter();
        for (let at = offset; at < content.length; at += piece) {
          await writer.write(content.slice(at, at + piece));
        }
        await writer.close().catch(() => {});
        conn.close();
        offset = 0;
        await s.send("226 sent");
      } else if (!await s.standard(line)) await s.send("500 unknown");
    }
  });
  servers.push(server);
  return server;
}

describe("client big-file downloads (chunks gathered into writes while one runs)", () => {
  after(async () => {
    for (const server of servers.splice(0)) await server.close();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it("a file in thousands of small chunks lands intact, resumed, and over a longer file", {
    timeout: 30000,
  }, async () => {
    const content = randomBytes(3 * 1024 * 1024 + 123, 91);
    const server = await tricklingRetrServer(content, 1000);
    const local = await scratch();
    const target = join(local, "f.bin");
    const client = await connect(server);
    const whole = await client.downloadFile("f.bin", target, { writeInto: true });
    assert.equal(whole.bytes, content.length);
    assert.equal(sha256(await readFile(target)), sha256(content));
    // A prefix of the file: the rest is fetched from the prefix's end.
    const prefix = 1024 * 1024 + 7;
    await writeFile(target, content.subarray(0, prefix));
    const resumed = await client.downloadFile("f.bin", target, { writeInto: true, resume: true });
    assert.equal(resumed.bytes, content.length - prefix);
    assert.equal(sha256(await readFile(target)), sha256(content));
    // A longer file is replaced, not written over.
    await writeFile(target, randomBytes(content.length + 5000, 92));
    await client.downloadFile("f.bin", target, { writeInto: true });
    assert.equal(sha256(await readFile(target)), sha256(content));
    assert.equal(await client.pwd(), "/");
    await client.quit();
    assert.ok(sent(server).includes(`REST ${prefix}`), sent(server).join(", "));
  });
});

describe("client small-file downloads (written in one call once the bytes have ended)", () => {
  after(async () => {
    for (const server of servers.splice(0)) await server.close();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it("a small file lands whole, also into missing local parents, replacing a longer file", {
    timeout: 20000,
  }, async () => {
    const content = randomBytes(4096, 91);
    const server = await treeServer(newTree({ "s.bin": content, "empty.bin": new Uint8Array() }), {
      mlst: false,
    });
    const local = await scratch();
    await mkdir(join(local, "old"));
    await writeFile(join(local, "old", "s.bin"), randomBytes(100_000, 92));
    await writeFile(join(local, "old", "empty.bin"), "stale");
    const client = await connect(server);
    const into = (name: string) => ({ name, path: join(local, "new", "deep", name) });
    for (const target of [into("s.bin"), { name: "s.bin", path: join(local, "old", "s.bin") }]) {
      const summary = await client.downloadFile(target.name, target.path, { writeInto: true });
      assert.equal(summary.bytes, 4096);
      assert.equal(sha256(await readFile(target.path)), sha256(content));
    }
    await client.downloadFile("empty.bin", join(local, "old", "empty.bin"), { writeInto: true });
    assert.equal((await readFile(join(local, "old", "empty.bin"))).length, 0);
    await client.quit();
  });

  it("a small download whose final reply is an error keeps its bytes and fails with the reply", {
    timeout: 20000,
  }, async () => {
    const content = randomBytes(3000, 93);
    const server = await failingRetrServer(content, "426 connection closed; transfer aborted");
    const local = await scratch();
    const client = await connect(server);
    await assert.rejects(
      client.downloadFile("f.bin", local),
      (e) => e instanceof ReplyError && e.code === 426,
    );
    assert.equal(sha256(await readFile(join(local, "f.bin"))), sha256(content));
    assert.equal(await client.pwd(), "/");
    await client.quit();
  });

  it("a small download into an unwritable target fails with the local error, the client in step", {
    timeout: 20000,
  }, async () => {
    const server = await treeServer(newTree({ "s.bin": randomBytes(2048, 94) }), { mlst: false });
    const local = await scratch();
    await mkdir(join(local, "taken"));
    const client = await connect(server);
    await assert.rejects(
      client.downloadFile("s.bin", join(local, "taken"), { writeInto: true }),
      (e) => (e as { code?: string }).code === "EISDIR",
    );
    assert.equal(await client.pwd(), "/");
    await client.downloadFile("s.bin", join(local, "again.bin"), { writeInto: true });
    assert.equal((await readFile(join(local, "again.bin"))).length, 2048);
    await client.quit();
  });
});

describe("client tree operations over the RemoteFiles interface", () => {
  it("removeTree removes files before their directory, depth first, over any RemoteFiles", async () => {
    const tree = newTree({ "t/a": new Uint8Array(1), "t/s/b": new Uint8Array(1) }, ["t", "t/s"]);
    const calls: string[] = [];
    const unused = () => Promise.reject(new Error("not used by removeTree"));
    const remote: RemoteFiles = {
      stat: unused,
      size: unused,
      mkdir: unused,
      getStream: unused,
      uploadStream: unused,
      appendStream: unused,
      features: unused,
      command: unused,
      async *list(path = ""): AsyncIterable<ListItem> {
        calls.push(`list ${path}`);
        for (const child of childrenOf(tree, key(path))) {
          const name = child.slice(child.lastIndexOf("/") + 1);
          const type = tree.dirs.has(child) ? "dir" as const : "file" as const;
          yield { path: child, info: { name, type, facts: {} } };
        }
      },
      removeFile(path: string) {
        calls.push(`DELE ${path}`);
        tree.files.delete(key(path));
        return Promise.resolve();
      },
      rmdir(path: string) {
        calls.push(`RMD ${path}`);
        assert.deepEqual(childrenOf(tree, key(path)), [], `${path} is empty when removed`);
        tree.dirs.delete(key(path));
        return Promise.resolve();
      },
    };
    await removeTree(remote, "t", "dir", { maxDepth: 5 });
    assert.deepEqual(calls, ["list t", "DELE t/a", "list t/s", "DELE t/s/b", "RMD t/s", "RMD t"]);
    assert.deepEqual([...tree.dirs], [""]);
  });
});

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
