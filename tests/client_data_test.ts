/**
 * Client data-channel behaviour against scripted servers: EPSV→PASV fallback, PASV bounce
 * protection, the data connection timeout, MLSD→LIST and MLST fallbacks, listing warnings and
 * size cap, the recursion limit and loops (by `unique`), a listing iterated by hand, ABOR and
 * its races, signals and idle timeouts mid-transfer, getStream (the tutorial's COLL),
 * final-reply checks, a refused upload, APPE, throttling, hostile listing names, HASH
 * verification, and the shared timer of the client's time limits.
 *
 * @module
 */

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { existsSync } from "node:fs";
import { createHash } from "node:crypto";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Conn, Listener, Network } from "../lib/socket.ts";
import { deferred } from "../lib/stream/abort.ts";
import { watchDeadline } from "../lib/client/deadline.ts";
import { concatBytes } from "../lib/stream/bytes.ts";
import {
  ChecksumMismatchError,
  Client,
  type ClientOptions,
  DirectoryTooDeepError,
  ListingTooLargeError,
  type ListWarning,
  PathError,
  ReplyError,
  TimeoutError,
} from "../client.ts";
import { randomBytes, run, runtime, sha256, tempDir, testNetwork, within } from "./_util.ts";
import { FakeFtpServer, type FakeSession, sendAndClose } from "./peers/fake_server.ts";

const servers: FakeFtpServer[] = [];
const cleanups: (() => Promise<void>)[] = [];

async function fake(script: (s: FakeSession) => Promise<void>): Promise<FakeFtpServer> {
  const server = await FakeFtpServer.start(script);
  servers.push(server);
  return server;
}

async function connect(server: FakeFtpServer, extra: ClientOptions = {}): Promise<Client> {
  const client = await within(
    Client.connect("127.0.0.1", server.port, {
      network: testNetwork(),
      socketTimeout: 10000,
      ...extra,
    }),
    10000,
  );
  await client.login("u", "p");
  return client;
}

type Handler = (s: FakeSession, line: string) => Promise<boolean | void>;

/** Answers a data command: the opening reply, `content` on the data connection, then 226. */
async function sendData(
  s: FakeSession,
  data: () => Promise<Conn>,
  content: string | Uint8Array,
  opening: string,
): Promise<true> {
  const conn = await data();
  await s.send(opening);
  await sendAndClose(conn, content);
  await s.send("226 done");
  return true;
}

/**
 * A server that answers the standard commands, gives EPSV a fresh listener, and hands every
 * other command to `handler` with that listener's next connection available via `data()`.
 */
function dataServer(
  handler: (s: FakeSession, line: string, data: () => Promise<Conn>) => Promise<boolean | void>,
  fallback?: Handler,
): Promise<FakeFtpServer> {
  return fake(async (s) => {
    await s.send("220 ready");
    let listener: Listener | undefined;
    while (true) {
      const line = await s.read();
      if (line === null) return;
      if (line === "EPSV") {
        listener = await s.epsv();
        continue;
      }
      const current = listener;
      const data = () => {
        if (!current) throw new Error("no data listener");
        return current.accept();
      };
      if (await handler(s, line, data)) continue;
      if (await s.standard(line)) continue;
      if (fallback && await fallback(s, line)) continue;
      await s.send("502 not implemented");
    }
  });
}

/**
 * The test network, except that connecting to a port `silent` names hangs until the
 * connect's signal gives up on it (`onGiveUp` is told): a listening socket completes the
 * handshake even when nobody accepts, so the network plays the port behind a firewall that
 * drops SYNs.
 */
function hangingConnects(silent: (port: number) => boolean, onGiveUp = () => {}): Network {
  const base = testNetwork();
  return {
    name: base.name,
    listen: (options) => base.listen(options),
    connect: (options) =>
      !silent(options.port) ? base.connect(options) : new Promise((_, reject) => {
        const signal = options.signal!;
        signal.addEventListener("abort", () => {
          onGiveUp();
          reject(signal.reason);
        }, { once: true });
      }),
  };
}

describe("client data channel", () => {
  after(async () => {
    for (const server of servers) await server.close();
    for (const cleanup of cleanups) await cleanup();
  });

  it("falls back from EPSV to PASV on a 5xx, once per connection", {
    timeout: 20000,
  }, async () => {
    const server = await fake(async (s) => {
      await s.send("220 ready");
      let listener: Listener | undefined;
      while (true) {
        const line = await s.read();
        if (line === null) return;
        if (line === "EPSV") await s.send("500 EPSV not understood");
        else if (line === "PASV") {
          listener = await s.listen();
          const p = listener.addr.port;
          await s.send(`227 Entering Passive Mode (127,0,0,1,${p >> 8},${p & 255})`);
        } else if (line.startsWith("RETR")) {
          const conn = await listener!.accept();
          await s.send("150 sending");
          await sendAndClose(conn, "abc");
          await s.send("226 done");
        } else await s.standard(line);
      }
    });
    const client = await connect(server);
    for (let i = 0; i < 2; i++) {
      const body = await new Response(await client.downloadStream("f")).text();
      assert.equal(body, "abc");
    }
    await client.quit();
    const sent = server.sessions[0].received;
    assert.equal(sent.filter((l) => l === "EPSV").length, 1);
    assert.equal(sent.filter((l) => l === "PASV").length, 2);
    assert.equal(sent.filter((l) => l.startsWith("TYPE")).length, 1);
  });

  for (const allow of [false, true]) {
    it(
      allow
        ? "follows a foreign PASV host when allowForeignPassiveHost is set"
        : "ignores a foreign host in a PASV reply and uses the control host",
      { timeout: 20000 },
      async () => {
        // The decoy listens on another loopback address with the same port: a client that
        // follows the PASV address reaches the decoy, one that does not reaches 127.0.0.1.
        let decoy: Listener | undefined;
        let decoyHits = 0;
        const server = await fake(async (s) => {
          await s.send("220 ready");
          let real: Listener | undefined;
          while (true) {
            const line = await s.read();
            if (line === null) return;
            if (line === "PASV") {
              real = await s.listen("127.0.0.1");
              const p = real.addr.port;
              decoy = await s.listen("127.0.0.2", p);
              void decoy.accept().then(async (conn) => {
                decoyHits++;
                await sendAndClose(conn, "decoy");
              }, () => {});
              await s.send(`227 Entering Passive Mode (127,0,0,2,${p >> 8},${p & 255})`);
            } else if (line.startsWith("RETR")) {
              await s.send("150 sending");
              if (allow) {
                await s.send("226 done");
                continue;
              }
              const conn = await real!.accept();
              await sendAndClose(conn, "real");
              await s.send("226 done");
            } else await s.standard(line);
          }
        });
        const client = await connect(server, {
          passiveCommands: ["PASV"],
          allowForeignPassiveHost: allow,
        });
        const body = await within(new Response(await client.downloadStream("f")).text(), 10000);
        assert.equal(body, allow ? "decoy" : "real");
        assert.equal(decoyHits, allow ? 1 : 0);
        await client.quit();
      },
    );
  }

  it("transfers over IPv6 with EPSV and with EPRT", { timeout: 20000 }, async () => {
    let server: FakeFtpServer;
    try {
      server = await FakeFtpServer.start(async (s) => {
        await s.send("220 ready");
        let passive: Listener | undefined;
        let active: { hostname: string; port: number } | undefined;
        while (true) {
          const line = await s.read();
          if (line === null) return;
          if (line === "EPSV") passive = await s.epsv();
          else if (line.startsWith("EPRT ")) {
            const [, family, hostname, port] = line.slice(5).split("|");
            active = family === "2" ? { hostname, port: Number(port) } : undefined;
            await s.send(active ? "200 EPRT ok" : "522 use IPv6");
          } else if (line.startsWith("RETR")) {
            await s.send("150 sending");
            const conn = active
              ? await testNetwork().connect({ hostname: active.hostname, port: active.port })
              : await passive!.accept();
            active = undefined;
            await sendAndClose(conn, "over v6");
            await s.send("226 done");
          } else await s.standard(line);
        }
      }, "::1");
    } catch {
      return; // No IPv6 loopback here.
    }
    servers.push(server);
    const client = await within(
      Client.connect("::1", server.port, { network: testNetwork(), socketTimeout: 10000 }),
      10000,
    );
    await client.login();
    assert.equal(await new Response(await client.downloadStream("f")).text(), "over v6");
    client.mode = "active";
    assert.equal(await new Response(await client.downloadStream("f")).text(), "over v6");
    await client.quit();
    const sent = server.sessions[0].received;
    assert.ok(sent.some((l) => /^EPRT \|2\|::1\|\d+\|$/.test(l)), JSON.stringify(sent));
    assert.ok(!sent.some((l) => l.startsWith("PORT")));
  });

  it("falls back from MLSD to LIST once per connection, runs a custom parser, skips bad lines", {
    timeout: 20000,
  }, async () => {
    const listing = [
      "total 12",
      "drwxr-xr-x 2 user group 4096 Jan  1 00:00 sub",
      "-rw-r--r-- 1 user group 3 Jan  1 00:00 a.txt",
      "this line is garbage",
      "RECORD special.dat 77",
      "drwxr-xr-x 2 user group 4096 Jan  1 00:00 .",
      "",
    ].join("\r\n");
    const server = await dataServer(async (s, line, data) => {
      if (line.startsWith("MLSD")) {
        await s.send("500 unknown command");
        return true;
      }
      if (line.startsWith("LIST")) {
        return await sendData(s, data, line === "LIST" ? listing : "", "150 here it comes");
      }
    });
    const warnings: ListWarning[] = [];
    const client = await connect(server, {
      onListWarning: (w) => warnings.push(w),
      parseListLine: (line) => {
        const match = /^RECORD (\S+) (\d+)$/.exec(line);
        return match
          ? { name: match[1], type: "file", size: Number(match[2]), facts: {} }
          : undefined;
      },
    });
    const items = await client.list("", { recursive: true }).toArray();
    assert.deepEqual(items.map((i) => [i.path, i.info.type, i.info.size]), [
      ["sub", "dir", 4096],
      ["a.txt", "file", 3],
      ["special.dat", "file", 77],
    ]);
    assert.deepEqual(warnings.map((w) => [w.command, w.line]), [["LIST", "this line is garbage"]]);
    await client.quit();
    const sent = server.sessions[0].received.filter((l) => /^(MLSD|LIST)/.test(l));
    assert.deepEqual(sent, ["MLSD", "LIST", "LIST sub"]);
  });

  it("reads single-line and multi-line MLST replies", { timeout: 20000 }, async () => {
    const server = await dataServer(async (s, line) => {
      if (line === "MLST one") {
        await s.send("250 type=file;size=7;modify=20200102030405; one");
        return true;
      }
      if (line === "MLST /d/multi") {
        await s.send("250-Listing /d/multi", " type=dir;unique=ab; /d/multi", "250 End");
        return true;
      }
      if (line === "MLST gone") {
        await s.send("550 no such file");
        return true;
      }
    });
    const client = await connect(server);
    const one = await client.stat("one");
    assert.deepEqual([one.name, one.type, one.size], ["one", "file", 7]);
    assert.equal(one.modify?.toISOString(), "2020-01-02T03:04:05.000Z");
    const multi = await client.stat("/d/multi");
    assert.deepEqual([multi.name, multi.type], ["multi", "dir"]);
    assert.equal(await client.exists("gone"), false);
    assert.equal(await client.isDir("/d/multi"), true);
    assert.equal(await client.isFile("/d/multi"), false);
    await client.quit();
  });

  it("falls back from MLST to a listing of the parent", { timeout: 20000 }, async () => {
    const server = await dataServer(async (s, line, data) => {
      if (line.startsWith("MLST")) {
        await s.send("502 no MLST");
        return true;
      }
      if (line.startsWith("MLSD")) {
        const conn = await data();
        await s.send("150 listing");
        await sendAndClose(
          conn,
          line === "MLSD /dir"
            ? "type=file;size=5; f.txt\r\ntype=dir; sub\r\n"
            : "type=dir; dir\r\n",
        );
        await s.send("226 done");
        return true;
      }
    });
    const client = await connect(server);
    const f = await client.stat("/dir/f.txt");
    assert.deepEqual([f.name, f.type, f.size], ["f.txt", "file", 5]);
    assert.equal(await client.isDir("/dir/sub"), true);
    assert.equal(await client.exists("/dir/none"), false);
    assert.equal((await client.stat("/")).type, "dir");
    await client.quit();
    const mlst = server.sessions[0].received.filter((l) => l.startsWith("MLST"));
    assert.deepEqual(mlst, ["MLST /dir/f.txt"]);
  });

  it("caps the listing size with ListingTooLargeError and stays usable", {
    timeout: 20000,
  }, async () => {
    const line = "type=file;size=1; " + "x".repeat(200) + "\r\n";
    const server = await dataServer(async (s, cmd, data) => {
      if (cmd.startsWith("MLSD")) {
        const conn = await data();
        await s.send("150 a lot is coming");
        const writer = conn.writable.getWriter();
        // Endless: only the client's cap stops this.
        void (async () => {
          try {
            while (true) await writer.write(new TextEncoder().encode(line.repeat(100)));
          } catch {
            // The client hung up.
          }
        })();
        return true;
      }
      if (cmd === "ABOR") {
        await s.send("426 aborted", "226 abort ok");
        return true;
      }
    });
    const client = await connect(server, { maxListingBytes: 100_000 });
    await assert.rejects(
      within(client.listAll(), 10000),
      (e) => e instanceof ListingTooLargeError && e.maxBytes === 100_000,
    );
    assert.equal(await client.pwd(), "/");
    await client.quit();
  });

  it("abort() after the server already finished drains 226 then 225 (aioftp #201)", {
    timeout: 20000,
  }, async () => {
    const finished = deferred<void>();
    const server = await dataServer(async (s, line, data) => {
      if (line.startsWith("RETR")) {
        const conn = await data();
        await s.send("150 sending");
        await sendAndClose(conn, "all of it");
        await s.send("226 transfer complete");
        finished.resolve();
        return true;
      }
      if (line === "ABOR") {
        await s.send("225 no transfer to abort");
        return true;
      }
      if (line.startsWith("ECHO ")) {
        await s.send(`200 ${line.slice(5)}`);
        return true;
      }
    });
    const client = await connect(server);
    const stream = await client.getStream("RETR f");
    await finished.promise;
    await within(stream.abort(), 10000);
    assert.deepEqual((await client.command("ECHO in step")).lines, ["in step"]);
    await within(stream.abort(), 10000);
    await client.quit();
  });

  it("abort() during a transfer drains 426 then 226", { timeout: 20000 }, async () => {
    const server = await dataServer(async (s, line, data) => {
      if (line.startsWith("RETR")) {
        const conn = await data();
        await s.send("150 sending");
        const writer = conn.writable.getWriter();
        await writer.write(randomBytes(100_000));
        return true; // keeps the connection open: the transfer is "running"
      }
      if (line === "ABOR") {
        await s.send("426 transfer aborted", "226 abort successful");
        return true;
      }
      if (line.startsWith("ECHO ")) {
        await s.send(`200 ${line.slice(5)}`);
        return true;
      }
    });
    const client = await connect(server);
    const stream = await client.downloadStream("f");
    const reader = stream.getReader();
    await reader.read();
    await within(client.abort(), 10000);
    await assert.rejects(reader.read());
    assert.deepEqual((await client.command("ECHO fine")).lines, ["fine"]);
    await client.quit();
  });

  it("an AbortSignal mid-download aborts with ABOR and the client is reusable", {
    timeout: 20000,
  }, async () => {
    const server = await dataServer(async (s, line, data) => {
      if (line.startsWith("RETR")) {
        const conn = await data();
        await s.send("150 sending");
        const writer = conn.writable.getWriter();
        void writer.write(randomBytes(64 * 1024)).catch(() => {});
        return true;
      }
      if (line === "ABOR") {
        await s.send("426 aborted", "226 ok");
        return true;
      }
    });
    const client = await connect(server);
    const controller = new AbortController();
    const stream = await client.downloadStream("f", { signal: controller.signal });
    const reader = stream.getReader();
    await reader.read();
    controller.abort(new Error("user stop"));
    await assert.rejects(within(reader.read(), 10000), /user stop/);
    assert.equal(await within(client.pwd(), 10000), "/");
    await client.quit();
    assert.ok(server.sessions[0].received.includes("ABOR"));
  });

  it("an idle data connection times out and the client stays usable", {
    timeout: 20000,
  }, async () => {
    const server = await dataServer(async (s, line, data) => {
      if (line.startsWith("RETR")) {
        await data();
        await s.send("150 sending nothing");
        return true;
      }
      if (line === "ABOR") {
        await s.send("426 aborted", "226 ok");
        return true;
      }
    });
    const client = await within(
      Client.connect("127.0.0.1", server.port, { network: testNetwork(), socketTimeout: 300 }),
      10000,
    );
    await client.login();
    const stream = await client.downloadStream("f");
    await assert.rejects(within(new Response(stream).arrayBuffer(), 10000), TimeoutError);
    assert.equal(await client.pwd(), "/");
    await client.quit();
  });

  it("downloadStream errors when the final reply is an error", { timeout: 20000 }, async () => {
    const server = await dataServer(async (s, line, data) => {
      if (line.startsWith("RETR")) {
        const conn = await data();
        await s.send("150 sending");
        await sendAndClose(conn, "partial");
        await s.send("451 local error in processing");
        return true;
      }
    });
    const client = await connect(server);
    await assert.rejects(
      new Response(await client.downloadStream("f")).text(),
      (e) => e instanceof ReplyError && e.code === 451,
    );
    assert.equal(await client.pwd(), "/");
    await client.quit();
  });

  it("uploadStream close() rejects on an error reply", { timeout: 20000 }, async () => {
    const server = await dataServer(async (s, line, data) => {
      if (line.startsWith("STOR")) {
        const conn = await data();
        await s.send("150 go ahead");
        const reader = conn.readable.getReader();
        while (!(await reader.read()).done) {
          // Drain.
        }
        conn.close();
        await s.send("552 quota exceeded");
        return true;
      }
    });
    const client = await connect(server);
    const sink = await client.uploadStream("f");
    const writer = sink.getWriter();
    await writer.write(new TextEncoder().encode("data"));
    await assert.rejects(writer.close(), (e) => e instanceof ReplyError && e.code === 552);
    assert.equal(await client.pwd(), "/");
    await client.quit();
  });

  it("downloads links as files and reports those the server will not retrieve", {
    timeout: 20000,
  }, async () => {
    const dir = await tempDir("streamftp-client-");
    cleanups.push(dir.remove);
    const server = await dataServer(async (s, line, data) => {
      if (line === "MLST tree") {
        await s.send("250-Listing", " type=dir; tree", "250 End");
        return true;
      }
      if (line === "MLSD tree") {
        const listing = [
          "type=file;size=4; a.txt",
          "type=OS.unix=slink:;size=5; to-file",
          "type=OS.unix=slink:;size=3; to-dir",
          "type=OS.unix=chr-1/3;size=0; null",
        ];
        return await sendData(s, data, listing.join("\r\n") + "\r\n", "150 listing");
      }
      if (line === "RETR tree/a.txt" || line === "RETR tree/to-file") {
        return await sendData(s, data, "file", "150 sending");
      }
      if (line === "RETR tree/to-dir") {
        await s.send("550 not a plain file");
        return true;
      }
    });
    const client = await connect(server);
    const done = await client.download("tree", dir.path);
    await client.quit();
    assert.equal(done.files, 2);
    assert.deepEqual(done.notTransferred, ["tree/null", "tree/to-dir"]);
    assert.equal(await readFile(join(dir.path, "tree", "to-file"), "utf8"), "file");
    assert.equal(existsSync(join(dir.path, "tree", "to-dir")), false);
  });

  it("uploads links to files as files and reports the rest of a tree it leaves out", {
    timeout: 20000,
  }, async () => {
    const dir = await tempDir("streamftp-client-");
    cleanups.push(dir.remove);
    const src = join(dir.path, "src");
    await mkdir(join(src, "sub"), { recursive: true });
    await writeFile(join(src, "a.txt"), "aaa");
    await symlink("a.txt", join(src, "to-file"));
    await symlink("sub", join(src, "to-dir"));
    await symlink("nowhere", join(src, "dangling"));
    const stored = new Map<string, string>();
    const server = await dataServer(async (s, line, data) => {
      if (/^(MKD|SIZE) /.test(line)) {
        await s.send(line.startsWith("MKD") ? '257 "made"' : "550 no");
        return true;
      }
      if (line.startsWith("STOR ")) {
        const conn = await data();
        await s.send("150 go ahead");
        stored.set(
          line.slice(5),
          await new Response(conn.readable).text(),
        );
        await s.send("226 stored");
        return true;
      }
    });
    const client = await connect(server);
    const done = await client.upload(src, "");
    await client.quit();
    assert.equal(done.files, 2);
    assert.deepEqual([...stored.entries()].sort(), [["src/a.txt", "aaa"], ["src/to-file", "aaa"]]);
    assert.deepEqual(done.notTransferred.sort(), [join(src, "dangling"), join(src, "to-dir")]);
  });

  it("refuses hostile names in a listing and writes nothing outside the target", {
    timeout: 20000,
  }, async () => {
    const dir = await tempDir("streamftp-client-");
    cleanups.push(dir.remove);
    for (const evil of ["../evil.txt", "a/../../evil.txt", "..\\evil.txt", "/etc/evil.txt"]) {
      const server = await dataServer(async (s, line, data) => {
        if (line === "MLST tree") {
          await s.send("250-Listing", " type=dir; tree", "250 End");
          return true;
        }
        if (line === "MLSD tree") {
          const conn = await data();
          await s.send("150 listing");
          await sendAndClose(conn, `type=file;size=4; ok.txt\r\ntype=file;size=4; ${evil}\r\n`);
          await s.send("226 done");
          return true;
        }
        if (line.startsWith("RETR")) {
          return await sendData(s, data, "evil", "150 sending");
        }
      });
      const client = await connect(server);
      await assert.rejects(
        client.download("tree", join(dir.path, "target")),
        (e) => e instanceof PathError && e.kind === "invalid-path",
      );
      await client.quit();
      assert.equal(existsSync(join(dir.path, "evil.txt")), false);
      assert.equal(existsSync(join(dir.path, "target", "tree", "ok.txt")), false);
    }
  });

  it("verifies downloads with HASH when FEAT offers SHA-256", { timeout: 20000 }, async () => {
    const dir = await tempDir("streamftp-client-");
    cleanups.push(dir.remove);
    const content = randomBytes(300_000, 7);
    let digest = sha256(content);
    const server = await dataServer(async (s, line, data) => {
      if (line === "MLST f.bin") {
        await s.send(`250 type=file;size=${content.length}; f.bin`);
        return true;
      }
      if (line === "FEAT") {
        await s.send("211-Features:", " HASH SHA-1;SHA-256*;MD5", "211 End");
        return true;
      }
      if (line === "HASH f.bin") {
        await s.send(`213 SHA-256 0-${content.length} ${digest} f.bin`);
        return true;
      }
      if (line.startsWith("RETR")) {
        return await sendData(s, data, content, "150 sending");
      }
    });
    const client = await connect(server);
    const done = await client.download("f.bin", dir.path, { verify: true });
    assert.deepEqual([done.files, done.verified, done.bytes], [1, 1, content.length]);
    assert.equal(sha256(await readFile(join(dir.path, "f.bin"))), digest);
    digest = "0".repeat(64);
    await assert.rejects(
      client.download("f.bin", dir.path, { verify: true }),
      (e) => e instanceof ChecksumMismatchError && e.remote === digest,
    );
    await client.quit();
  });

  it("gives up on a passive port that never accepts after dataConnectTimeout", {
    timeout: 20000,
  }, async () => {
    let silentPort = 0;
    const server = await fake(async (s) => {
      await s.send("220 ready");
      while (true) {
        const line = await s.read();
        if (line === null) return;
        if (line === "EPSV") {
          silentPort = (await s.listen()).addr.port;
          await s.send(`229 Entering Extended Passive Mode (|||${silentPort}|)`);
        } else if (!(await s.standard(line))) await s.send("502 not implemented");
      }
    });
    const network = hangingConnects((port) => port === silentPort);
    const client = await connect(server, { network, dataConnectTimeout: 300 });
    const started = performance.now();
    await assert.rejects(within(client.downloadStream("f"), 10000), TimeoutError);
    assert.ok(performance.now() - started >= 250);
    assert.equal(await client.pwd(), "/");
    await client.quit();
    assert.ok(!server.sessions[0].received.some((l) => l.startsWith("RETR")));
  });

  it("sends a transfer's command while its passive connection is being made, once one worked", {
    timeout: 20000,
  }, async () => {
    const retrSeen = deferred<void>();
    const server = await dataServer(async (s, line, data) => {
      if (!line.startsWith("RETR ")) return;
      if (line === "RETR b") retrSeen.resolve();
      return await sendData(s, data, line.slice(5), "150 here it comes");
    });
    // The second data connection is only made once the server has its RETR: a client that
    // waited for the connection before sending the command would never get there.
    const base = testNetwork();
    let connects = 0;
    const network: Network = {
      name: base.name,
      listen: (options) => base.listen(options),
      connect: async (options) => {
        if (options.port !== server.port && ++connects === 2) await retrSeen.promise;
        return await base.connect(options);
      },
    };
    const client = await connect(server, { network });
    for (const name of ["a", "b", "c"]) {
      const stream = await within(client.downloadStream(name), 10000, `RETR ${name}`);
      assert.equal(await new Response(stream).text(), name);
    }
    await client.quit();
    assert.equal(connects, 3);
  });

  it(
    "answers a passive connect that fails after the command went out with ABOR, then connects first again",
    {
      timeout: 20000,
    },
    async () => {
      let silentPort = 0;
      let epsvCount = 0;
      let retrBeforeFailure = false;
      let connectFailed = false;
      const server = await fake(async (s) => {
        await s.send("220 ready");
        let listener: Listener | undefined;
        while (true) {
          const line = await s.read();
          if (line === null) return;
          if (line === "EPSV") {
            listener = await s.listen();
            // The second and third transfers get a port whose connect never completes.
            if (++epsvCount >= 2) silentPort = listener.addr.port;
            await s.send(`229 Entering Extended Passive Mode (|||${listener.addr.port}|)`);
          } else if (line.startsWith("RETR ") && epsvCount === 1) {
            await sendData(s, () => listener!.accept(), "first", "150 here it comes");
          } else if (line.startsWith("RETR ")) {
            // A server waits for the data connection before it answers.
            retrBeforeFailure = !connectFailed;
          } else if (line === "ABOR") {
            await s.send("425 no data connection", "226 abort done");
          } else if (!(await s.standard(line))) await s.send("502 not implemented");
        }
      });
      const network = hangingConnects((port) => port === silentPort, () => connectFailed = true);
      const client = await connect(server, { network, dataConnectTimeout: 300 });
      assert.equal(await new Response(await client.downloadStream("f")).text(), "first");
      await assert.rejects(within(client.downloadStream("g"), 10000), TimeoutError);
      assert.ok(retrBeforeFailure, "the RETR went out while the connection was being made");
      assert.ok(server.sessions[0].received.includes("ABOR"));
      assert.equal(await client.pwd(), "/"); // in step again
      // After a failure the next transfer connects before its command: it fails at the connect.
      connectFailed = false;
      const received = server.sessions[0].received.length;
      await assert.rejects(within(client.downloadStream("h"), 10000), TimeoutError);
      assert.deepEqual(server.sessions[0].received.slice(received), ["EPSV"]);
      assert.equal(await client.pwd(), "/");
      await client.quit();
      assert.deepEqual(server.errors, []);
    },
  );

  it("falls back from MLSD to LIST on any 50x, a 501 included", { timeout: 20000 }, async () => {
    const server = await dataServer(async (s, line, data) => {
      if (line.startsWith("MLSD")) {
        await s.send("501 MLSD not understood");
        return true;
      }
      if (line.startsWith("LIST")) {
        return await sendData(
          s,
          data,
          "-rw-r--r-- 1 user group 3 Jan  1 00:00 a.txt\r\n",
          "150 here it comes",
        );
      }
    });
    const client = await connect(server);
    assert.deepEqual((await client.listAll()).map((i) => i.path), ["a.txt"]);
    assert.deepEqual((await client.listAll()).map((i) => i.path), ["a.txt"]);
    await client.quit();
    const sent = server.sessions[0].received.filter((l) => /^(MLSD|LIST)/.test(l));
    assert.deepEqual(sent, ["MLSD", "LIST", "LIST"]);
  });

  it("skips and reports a line on which a custom LIST parser throws", {
    timeout: 20000,
  }, async () => {
    const listing = [
      "-rw-r--r-- 1 user group 3 Jan  1 00:00 a.txt",
      "RECORD special.dat 77",
      "RECORD broken",
      "",
    ].join("\r\n");
    const server = await dataServer(async (s, line, data) => {
      if (line.startsWith("LIST")) {
        return await sendData(s, data, listing, "150 here it comes");
      }
    });
    const warnings: ListWarning[] = [];
    const client = await connect(server, {
      onListWarning: (w) => warnings.push(w),
      parseListLine: (line) => {
        const match = /^RECORD (\S+) (\d+)$/.exec(line);
        if (!match) throw new SyntaxError(`Not a record: ${line}`);
        return { name: match[1], type: "file", size: Number(match[2]), facts: {} };
      },
    });
    const items = await client.listAll("", { rawCommand: "LIST" });
    // The built-in parsers still read the lines the custom one throws on.
    assert.deepEqual(items.map((i) => i.path), ["a.txt", "special.dat"]);
    assert.deepEqual(
      warnings.map((w) => [w.line, w.error instanceof SyntaxError && w.error.message]),
      [["RECORD broken", "Not a record: RECORD broken"]],
    );
    await client.quit();
  });

  it("stops recursing into an endless tree at maxRecursionDepth (default 64)", {
    timeout: 30000,
  }, async () => {
    // Every directory holds a file and a directory "loop", as a server that lists a
    // `loop -> .` link as a directory does.
    const server = await dataServer(async (s, line, data) => {
      if (line.startsWith("MLST ")) {
        await s.send(`250 type=dir; ${line.slice(5)}`);
        return true;
      }
      if (line.startsWith("MLSD")) {
        const conn = await data();
        await s.send("150 listing");
        await sendAndClose(conn, "type=file;size=1; f\r\ntype=dir; loop\r\n");
        await s.send("226 done");
        return true;
      }
      if (line.startsWith("DELE ")) {
        await s.send("250 deleted");
        return true;
      }
    });
    const client = await connect(server);
    const paths: string[] = [];
    const walk = async () => {
      for await (const item of client.list("tree", { recursive: true })) paths.push(item.path);
    };
    await assert.rejects(
      within(walk(), 20000),
      (e) =>
        e instanceof DirectoryTooDeepError && e.maxDepth === 64 &&
        e.path === `tree${"/loop".repeat(65)}`,
    );
    assert.equal(paths.length, 2 * 65);
    await client.quit();

    const dir = await tempDir("streamftp-client-");
    cleanups.push(dir.remove);
    const limited = await connect(server, { maxRecursionDepth: 3 });
    const tooDeep = (e: unknown) =>
      e instanceof DirectoryTooDeepError && e.path === `tree${"/loop".repeat(4)}`;
    await assert.rejects(within(limited.download("tree", dir.path), 10000), tooDeep);
    assert.equal(existsSync(join(dir.path, "tree")), false);
    await assert.rejects(within(limited.remove("tree"), 10000), tooDeep);
    assert.equal(await limited.pwd(), "/");
    await limited.quit();
    // Levels 0 to 3, once for the download and once for the removal, which removed no
    // directory.
    const sent = server.sessions[1].received;
    assert.equal(sent.filter((l) => l.startsWith("MLSD")).length, 2 * 4);
    assert.ok(!sent.some((l) => l.startsWith("RMD")));
  });

  it(
    "a listing iterated by hand: calls at once get the entries in order, a failed or left walk is done",
    {
      timeout: 20000,
    },
    async () => {
      const listings: Record<string, string> = {
        "t": "type=file;size=1; a\r\ntype=dir; d\r\ntype=file;size=1; b\r\n",
        "t/d": "type=file;size=1; c\r\n",
      };
      const server = await dataServer(async (s, line, data) => {
        if (!line.startsWith("MLSD ")) return false;
        const listing = listings[line.slice(5)];
        if (listing === undefined) {
          await s.send("550 no such directory");
          return true;
        }
        const conn = await data();
        await s.send("150 listing");
        await sendAndClose(conn, listing);
        await s.send("226 done");
        return true;
      });
      const client = await connect(server);
      const walk = client.list("t", { recursive: true })[Symbol.asyncIterator]();
      // Four calls at once, the first of them before anything was fetched.
      const steps = await Promise.all([walk.next(), walk.next(), walk.next(), walk.next()]);
      assert.deepEqual(steps.map((step) => step.value?.path), ["t/a", "t/d", "t/b", "t/d/c"]);
      assert.deepEqual(await walk.next(), { value: undefined, done: true });

      const failing = client.list("missing")[Symbol.asyncIterator]();
      await assert.rejects(failing.next(), (e) => e instanceof ReplyError && e.code === 550);
      assert.deepEqual(await failing.next(), { value: undefined, done: true });

      const names: string[] = [];
      for await (const item of client.list("t")) {
        names.push(item.info.name);
        if (names.length === 2) break;
      }
      assert.deepEqual(names, ["a", "d"]);
      assert.equal(await client.pwd(), "/"); // the session is in step
      await client.quit();
    },
  );

  it(
    "a recursive listing enters no directory twice by its unique fact, wherever the cdir line is",
    {
      timeout: 20000,
    },
    async () => {
      // /t (unique 1) holds "self" (unique 1: a link to itself), "a" and "b" (both unique 2, one
      // directory under two names) and "c" (unique 3, whose own cdir line comes last).
      const listings: Record<string, string> = {
        "t": "type=cdir;unique=1; .\r\ntype=dir;unique=1; self\r\n" +
          "type=dir;unique=2; a\r\ntype=dir;unique=2; b\r\ntype=dir;unique=3; c\r\n",
        "t/a": "type=cdir;unique=2; .\r\ntype=file;size=1; f\r\n",
        "t/b": "type=cdir;unique=2; .\r\ntype=file;size=1; f\r\n",
        "t/c": "type=dir;unique=1; up\r\ntype=file;size=1; g\r\ntype=cdir;unique=3; .\r\n",
      };
      const server = await dataServer(async (s, line, data) => {
        if (!line.startsWith("MLSD ")) return false;
        const conn = await data();
        await s.send("150 listing");
        await sendAndClose(conn, listings[line.slice(5)] ?? "");
        await s.send("226 done");
        return true;
      });
      const client = await connect(server);
      const paths = (await client.list("t", { recursive: true }).toArray()).map((item) =>
        item.path
      );
      assert.deepEqual(paths, ["t/self", "t/a", "t/b", "t/c", "t/a/f", "t/c/up", "t/c/g"]);
      const listed = server.sessions[0].received.filter((l) => l.startsWith("MLSD"));
      assert.deepEqual(listed, ["MLSD t", "MLSD t/a", "MLSD t/c"]);
      await client.quit();
    },
  );

  it("an upload the server refuses mid-stream rejects with the server's reply", {
    timeout: 20000,
  }, async () => {
    const server = await dataServer(async (s, line, data) => {
      if (line.startsWith("STOR")) {
        const conn = await data();
        await s.send("150 go ahead");
        const reader = conn.readable.getReader();
        for (let received = 0; received < 100_000;) {
          const { value, done } = await reader.read();
          if (done) break;
          received += value.length;
        }
        await s.send("552 quota exceeded");
        conn.close(); // With the client's bytes unread: the client sees a reset.
        return true;
      }
      if (line === "ABOR") {
        await s.send("225 no transfer to abort");
        return true;
      }
    });
    const client = await connect(server);
    const writer = (await client.uploadStream("f")).getWriter();
    const chunk = randomBytes(64 * 1024);
    const failure = await within(
      (async () => {
        try {
          for (let i = 0; i < 100_000; i++) await writer.write(chunk);
        } catch (error) {
          return error;
        }
      })(),
      10000,
    );
    assert.ok(failure instanceof ReplyError && failure.code === 552, String(failure));
    assert.equal(await client.pwd(), "/");

    const dir = await tempDir("streamftp-client-");
    cleanups.push(dir.remove);
    await writeFile(join(dir.path, "big.bin"), randomBytes(8 << 20, 9));
    await assert.rejects(
      within(client.upload(join(dir.path, "big.bin")), 10000),
      (e) => e instanceof ReplyError && e.code === 552,
    );
    assert.equal(await client.pwd(), "/");
    await client.quit();
  });

  it("appendStream appends to an existing remote file", { timeout: 20000 }, async () => {
    let stored: Uint8Array = new TextEncoder().encode("hello, ");
    const server = await dataServer(async (s, line, data) => {
      if (line === "APPE greeting.txt") {
        const conn = await data();
        await s.send("150 appending");
        const added = new Uint8Array(await new Response(conn.readable).arrayBuffer());
        conn.close();
        stored = concatBytes([stored, added]);
        await s.send("226 appended");
        return true;
      }
      if (line === "RETR greeting.txt") {
        return await sendData(s, data, stored, "150 sending");
      }
    });
    const client = await connect(server);
    const writer = (await client.appendStream("greeting.txt")).getWriter();
    await writer.write(new TextEncoder().encode("wor"));
    await writer.write(new TextEncoder().encode("ld"));
    await within(writer.close(), 10000);
    assert.equal(new TextDecoder().decode(stored), "hello, world");
    const body = await new Response(await client.downloadStream("greeting.txt")).text();
    assert.equal(body, "hello, world");
    await client.quit();
  });

  it("throttled transfers pass a big chunk in small pieces at the limit", {
    timeout: 20000,
  }, async () => {
    const limit = 256 * 1024;
    const content = randomBytes(256 * 1024, 5);
    const arrivals: { at: number; bytes: number }[] = [];
    const server = await dataServer(async (s, line, data) => {
      if (line.startsWith("STOR")) {
        const conn = await data();
        await s.send("150 go ahead");
        for await (const chunk of conn.readable) {
          arrivals.push({ at: performance.now(), bytes: chunk.length });
        }
        conn.close();
        await s.send("226 stored");
        return true;
      }
      if (line.startsWith("RETR")) {
        return await sendData(s, data, content, "150 sending");
      }
    });
    const client = await connect(server, { downloadLimit: limit, uploadLimit: limit });
    // A tenth of a second at the limit is the piece size and the burst.
    const piece = Math.ceil(limit / 10);

    const writer = (await client.uploadStream("f")).getWriter();
    let started = performance.now();
    await writer.write(content);
    await within(writer.close(), 10000);
    assert.ok(performance.now() - started > 600, "upload faster than the limit");
    const first = arrivals[0].at;
    const early = arrivals.filter((a) => a.at - first < 150).reduce((n, a) => n + a.bytes, 0);
    assert.ok(early <= 3 * piece, `${early} bytes arrived in the first 150 ms`);

    const reader = (await client.downloadStream("f")).getReader();
    const sizes: number[] = [];
    started = performance.now();
    while (true) {
      const { value, done } = await within(reader.read(), 10000);
      if (done) break;
      sizes.push(value.length);
    }
    assert.ok(performance.now() - started > 600, "download faster than the limit");
    assert.equal(sizes.reduce((n, size) => n + size, 0), content.length);
    assert.ok(Math.max(...sizes) <= piece, `chunks of up to ${Math.max(...sizes)} bytes`);
    await client.quit();
  });

  for (
    const { feat, algorithm, opts } of [
      { feat: "SHA-1;MD5*", algorithm: "SHA-1", opts: ["OPTS HASH SHA-1"] },
      { feat: "MD5*", algorithm: "MD5", opts: [] },
      { feat: "CRC32*;SHA-256;SHA-512", algorithm: "SHA-512", opts: ["OPTS HASH SHA-512"] },
    ]
  ) {
    it(`verifies with ${algorithm} when FEAT offers HASH ${feat}, selecting it once`, {
      timeout: 20000,
    }, async () => {
      const dir = await tempDir("streamftp-client-");
      cleanups.push(dir.remove);
      const files: Record<string, Uint8Array> = {
        "d/a.bin": randomBytes(100_000, 11),
        "d/b.bin": randomBytes(50_000, 12),
      };
      const cryptoNames: Record<string, string> = {
        "SHA-512": "sha512",
        "SHA-256": "sha256",
        "SHA-1": "sha1",
        "MD5": "md5",
      };
      let current = feat.split(";").find((a) => a.endsWith("*"))?.slice(0, -1);
      let corrupt = false;
      const server = await dataServer(async (s, line, data) => {
        if (line === "FEAT") {
          await s.send("211-Features:", ` HASH ${feat}`, "211 End");
        } else if (line === "MLST d") {
          await s.send("250 type=dir; d");
        } else if (line === "MLSD d") {
          const conn = await data();
          await s.send("150 listing");
          await sendAndClose(
            conn,
            "type=file;size=100000; a.bin\r\ntype=file;size=50000; b.bin\r\n",
          );
          await s.send("226 done");
        } else if (line.startsWith("RETR ")) {
          const conn = await data();
          await s.send("150 sending");
          await sendAndClose(conn, files[line.slice(5)]);
          await s.send("226 done");
        } else if (line.startsWith("OPTS HASH ")) {
          current = line.slice(10);
          await s.send(`200 ${current}`);
        } else if (line.startsWith("HASH ")) {
          const content = files[line.slice(5)];
          const digest = createHash(cryptoNames[current!])
            .update(corrupt ? content.subarray(1) : content).digest("hex");
          await s.send(`213 ${current} 0-${content.length} ${digest} ${line.slice(5)}`);
        } else return false;
        return true;
      });
      const client = await connect(server);
      const done = await client.download("d", dir.path, { verify: true });
      assert.deepEqual([done.files, done.verified], [2, 2]);
      corrupt = true;
      await assert.rejects(
        client.download("d", dir.path, { verify: true }),
        (e) => e instanceof ChecksumMismatchError && e.algorithm === algorithm,
      );
      await client.quit();
      const sent = server.sessions[0].received;
      assert.deepEqual(sent.filter((l) => l.startsWith("OPTS HASH")), opts);
      assert.equal(sent.filter((l) => l.startsWith("HASH ")).length, 3);
    });
  }

  it("resumes a download from the local size with REST", { timeout: 20000 }, async () => {
    const dir = await tempDir("streamftp-client-");
    cleanups.push(dir.remove);
    const content = randomBytes(200_000, 3);
    await writeFile(join(dir.path, "r.bin"), content.subarray(0, 50_000));
    let offset = 0;
    const server = await dataServer(async (s, line, data) => {
      if (line === "MLST r.bin") {
        await s.send(`250 type=file;size=${content.length}; r.bin`);
        return true;
      }
      if (line.startsWith("REST ")) {
        offset = Number(line.slice(5));
        await s.send(`350 restarting at ${offset}`);
        return true;
      }
      if (line.startsWith("RETR")) {
        return await sendData(s, data, content.subarray(offset), "150 sending");
      }
    });
    const client = await connect(server);
    const progress: number[] = [];
    const done = await client.download("r.bin", dir.path, {
      resume: true,
      onProgress: (p) => progress.push(p.bytes),
    });
    assert.equal(offset, 50_000);
    assert.deepEqual([done.files, done.bytes], [1, 150_000]);
    assert.equal(progress.at(-1), content.length);
    assert.equal(sha256(await readFile(join(dir.path, "r.bin"))), sha256(content));
    const again = await client.download("r.bin", dir.path, { resume: true });
    assert.deepEqual([again.files, again.skipped], [0, 1]);
    await client.quit();
  });
});

describe("client deadlines on one shared timer", () => {
  it("fire in order of their limits, never once ended, also when added while others fire", {
    timeout: 10000,
  }, async () => {
    // The shared timer keeps no program alive; what is waited for does (here, this timer).
    const waiting = setTimeout(() => {}, 5000);
    try {
      const fired: string[] = [];
      const done = deferred<void>();
      const stopLong = watchDeadline(60_000, () => fired.push("long")); // armed first
      const stopEnded = watchDeadline(5, () => fired.push("ended"));
      stopEnded();
      watchDeadline(30, () => {
        fired.push("30 ms");
        watchDeadline(1, () => {
          fired.push("added");
          done.resolve();
        });
      });
      watchDeadline(10, () => fired.push("10 ms"));
      await within(done.promise, 5000);
      stopLong();
      assert.deepEqual(fired, ["10 ms", "30 ms", "added"]);
    } finally {
      clearTimeout(waiting);
    }
  });

  it("keep no program alive", { timeout: 30000 }, async () => {
    // This runtime's process with a minute's deadline armed: it ends once its script has.
    const here = new URL(import.meta.url);
    const module = new URL(`../lib/client/deadline${here.pathname.slice(-3)}`, here);
    const dir = await tempDir();
    try {
      const script = join(dir.path, "armed.mjs");
      await writeFile(
        script,
        `const { watchDeadline } = await import(${JSON.stringify(module.href)});\n` +
          `watchDeadline(60_000, () => console.log("fired"));\nconsole.log("armed");\n`,
      );
      const args = runtime === "deno" ? ["run", "-A", script] : [script];
      const result = await run(process.execPath, args, { timeoutMs: 20000 });
      assert.deepEqual([result.code, result.stdout, result.stderr], [0, "armed\n", ""]);
    } finally {
      await dir.remove();
    }
  });
});
