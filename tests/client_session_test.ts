/**
 * Client control-session behaviour against scripted servers: greeting, URL login, the
 * USER/PASS/ACCT chain, command(), injection guard, the operation queue, timeouts, signals,
 * the reply size cap, quit and dispose.
 *
 * @module
 */

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { deferred } from "../lib/stream/abort.ts";
import {
  Client,
  ConnectionClosedError,
  InvalidCommandError,
  ProtocolError,
  ReplyError,
  TimeoutError,
} from "../client.ts";
import { accountLogin, testNetwork, within } from "./_util.ts";
import { FakeFtpServer, type FakeSession } from "./peers/fake_server.ts";

const servers: FakeFtpServer[] = [];
async function fake(script: (s: FakeSession) => Promise<void>): Promise<FakeFtpServer> {
  const server = await FakeFtpServer.start(script);
  servers.push(server);
  return server;
}

/** A server that greets, answers the standard commands, and hands every other line to `answer`. */
function answering(
  answer: (s: FakeSession, line: string) => Promise<void>,
  greeting = ["220 ready"],
): Promise<FakeFtpServer> {
  return fake(async (s) => {
    await s.send(...greeting);
    while (true) {
      const line = await s.read();
      if (line === null) return;
      if (!await s.standard(line)) await answer(s, line);
    }
  });
}

/** A server that greets, then answers standard commands and `ECHO x` with `200 x`. */
function echoServer(greeting = ["220 ready"]): Promise<FakeFtpServer> {
  return answering(async (s, line) => {
    if (line.startsWith("ECHO ")) await s.send(`200 ${line.slice(5)}`);
    else await s.send("500 unknown command");
  }, greeting);
}

const options = () => ({ network: testNetwork(), socketTimeout: 10000 });

describe("client session", () => {
  after(async () => {
    for (const server of servers) await server.close();
  });

  it("reads the greeting, waiting through 120", { timeout: 20000 }, async () => {
    const server = await echoServer(["120 ready in a moment", "220-welcome", "220 to the test"]);
    const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
    assert.equal(client.greeting.code, 220);
    assert.deepEqual(client.greeting.lines, ["welcome", "to the test"]);
    await client.quit();
  });

  it("fails with ReplyError when the greeting is not 220", { timeout: 20000 }, async () => {
    const server = await echoServer(["421 too many users"]);
    await assert.rejects(
      within(Client.connect("127.0.0.1", server.port, options()), 10000),
      (e) => e instanceof ReplyError && e.code === 421,
    );
  });

  it("logs in from a URL with percent-decoded credentials and changes directory", {
    timeout: 20000,
  }, async () => {
    const server = await fake(async (s) => {
      await s.send("220 ready");
      while (true) {
        const line = await s.read();
        if (line === null) return;
        if (await s.standard(line, { CWD: "250 ok" })) continue;
        await s.send("500 unknown");
      }
    });
    const url = `ftp://us%40er:p%3As%20s@127.0.0.1:${server.port}/dir%20x`;
    const client = await within(Client.connect(url, options()), 10000);
    await client.quit();
    assert.deepEqual(server.sessions[0].received.slice(0, 3), [
      "USER us@er",
      "PASS p:s s",
      "CWD dir x",
    ]);
  });

  it("logs in anonymously from a URL without user", { timeout: 20000 }, async () => {
    const server = await echoServer();
    const client = await within(Client.connect(`ftp://127.0.0.1:${server.port}`, options()), 10000);
    await client.quit();
    assert.deepEqual(server.sessions[0].received.slice(0, 2), ["USER anonymous", "PASS anon@"]);
  });

  it("connects to [::1] by URL when IPv6 loopback is available", { timeout: 20000 }, async () => {
    let listener;
    try {
      listener = await testNetwork().listen({ hostname: "::1", port: 0 });
    } catch {
      return; // No IPv6 loopback here.
    }
    const accepted = (async () => {
      const conn = await listener.accept();
      const writer = conn.writable.getWriter();
      await writer.write(new TextEncoder().encode("220 v6\r\n230 in\r\n"));
      return conn;
    })();
    const client = await within(
      Client.connect(`ftp://[::1]:${listener.addr.port}`, options()),
      10000,
    );
    assert.equal(client.connection.remoteAddr.hostname, "::1");
    client.close();
    (await accepted).close();
    await listener.close();
  });

  it("follows the USER, PASS, ACCT chain", { timeout: 20000 }, async () => {
    const server = await fake(accountLogin);
    const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
    await within(client.login("u", "p", { account: "acc" }), 10000);
    await client.quit();
    assert.deepEqual(server.sessions[0].received.slice(0, 3), ["USER u", "PASS p", "ACCT acc"]);
  });

  it("login() takes the user, password and account as one options object", {
    timeout: 20000,
  }, async () => {
    const server = await fake(accountLogin);
    const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
    await within(client.login({ user: "u", password: "p", account: "acc" }), 10000);
    await client.quit();
    assert.deepEqual(server.sessions[0].received.slice(0, 3), ["USER u", "PASS p", "ACCT acc"]);
  });

  it("login() without arguments is anonymous; a positional account is a TypeError", {
    timeout: 20000,
  }, async () => {
    const server = await echoServer();
    const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
    const legacy = client.login as unknown as (...args: unknown[]) => Promise<void>;
    await assert.rejects(legacy.call(client, "u", "p", "acc"), TypeError);
    await client.login();
    await client.quit();
    assert.deepEqual(server.sessions[0].received.slice(0, 2), ["USER anonymous", "PASS anon@"]);
  });

  it("refuses an unexpected 33x and a 530 during login", { timeout: 20000 }, async () => {
    const server = await fake(async (s) => {
      await s.send("220 ready");
      await s.read();
      await s.send("331 password");
      await s.read();
      await s.send("333 what");
      await s.read();
      await s.send("530 not logged in");
      while ((await s.read()) !== null) await s.send("221 bye");
    });
    const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
    await assert.rejects(client.login("u", "p"), (e) => e instanceof ReplyError && e.code === 333);
    await assert.rejects(client.login("u", "p"), (e) => e instanceof ReplyError && e.code === 530);
    await client.quit();
  });

  it("command() returns the final reply whatever its code, or checks it", {
    timeout: 20000,
  }, async () => {
    const server = await answering(async (s, line) => {
      if (line === "SLOWOK") await s.send("150 working", "151 still", "200 done");
      else await s.send("502 nope");
    });
    const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
    assert.equal((await client.command("SITE X")).code, 502);
    await assert.rejects(
      client.command("SITE X", "2xx"),
      (e) => e instanceof ReplyError && e.code === 502 && e.expected[0] === "2xx",
    );
    const done = await client.command("SLOWOK");
    assert.equal(done.code, 200);
    assert.deepEqual(done.lines, ["done"]);
    await client.quit();
  });

  it("command() matching a 1xx discards its final reply before the next command", {
    timeout: 20000,
  }, async () => {
    const server = await answering(async (s, line) => {
      if (line.startsWith("ECHO ")) await s.send(`200 ${line.slice(5)}`);
      else await s.send("150 started", "226 finished");
    });
    const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
    assert.equal((await client.command("WORK", "1xx")).code, 150);
    const echo = await client.command("ECHO next");
    assert.deepEqual([echo.code, echo.lines], [200, ["next"]]);
    await client.quit();
  });

  it("refuses CR, LF and NUL in commands and paths before sending anything", {
    timeout: 20000,
  }, async () => {
    const server = await echoServer();
    const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
    const bad = (p: Promise<unknown>) => assert.rejects(p, InvalidCommandError);
    await bad(client.command("NOOP\r\nDELE x"));
    await bad(client.cd("a\nb"));
    await bad(client.mkdir("a\rb", { parents: true }));
    await bad(client.stat("a\0b"));
    await bad(client.rename("a", "b\r\nDELE c"));
    await bad(client.login("u\r\nDELE x"));
    await bad(client.downloadStream("f\nDELE x"));
    await bad(client.uploadStream("f\r\n"));
    await bad(client.getStream("RETR f\nDELE x"));
    await bad(client.download("f\0", "/tmp"));
    assert.throws(() => client.list("d\ne"), InvalidCommandError);
    const echo = await client.command("ECHO still fine");
    assert.deepEqual(echo.lines, ["still fine"]);
    await client.quit();
    const sent = server.sessions[0].received;
    assert.ok(sent.every((line) => !/DELE|\0/.test(line)), JSON.stringify(sent));
  });

  it("queues concurrent calls instead of interleaving them", { timeout: 20000 }, async () => {
    const server = await echoServer();
    const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
    const words = Array.from({ length: 50 }, (_, i) => `word${i}`);
    const replies = await within(
      Promise.all(words.map((w) => client.command(`ECHO ${w}`, "200"))),
      10000,
    );
    assert.deepEqual(replies.map((r) => r.lines[0]), words);
    await client.quit();
  });

  it("a signal cancels a waiting command and the client stays in step", {
    timeout: 20000,
  }, async () => {
    const release = deferred<void>();
    const server = await answering(async (s, line) => {
      if (line === "SLOW") {
        await release.promise;
        await s.send("200 slow answer");
      } else if (line.startsWith("ECHO ")) await s.send(`200 ${line.slice(5)}`);
    });
    const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
    const controller = new AbortController();
    const slow = client.command("SLOW", undefined, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(slow, (e) => (e as Error).name === "AbortError");
    const next = client.command("ECHO after");
    release.resolve();
    assert.deepEqual((await within(next, 10000)).lines, ["after"]);
    await client.quit();
  });

  it("a signal aborted while queued gives up the turn", { timeout: 20000 }, async () => {
    const release = deferred<void>();
    const server = await answering(async (s, line) => {
      if (line === "SLOW") await release.promise;
      await s.send(`200 ${line}`);
    });
    const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
    const slow = client.command("SLOW");
    const controller = new AbortController();
    const queued = client.command("QUEUED", undefined, { signal: controller.signal });
    controller.abort();
    await assert.rejects(queued, (e) => (e as Error).name === "AbortError");
    release.resolve();
    assert.deepEqual((await slow).lines, ["SLOW"]);
    assert.deepEqual((await client.command("LAST")).lines, ["LAST"]);
    await client.quit();
    assert.ok(!server.sessions[0].received.includes("QUEUED"));
  });

  it("socketTimeout turns a silent server into a TimeoutError and closes", {
    timeout: 20000,
  }, async () => {
    const server = await fake(async (s) => {
      await s.send("220 ready");
      while ((await s.read()) !== null) {
        // Never answers.
      }
    });
    const client = await within(
      Client.connect("127.0.0.1", server.port, { network: testNetwork(), socketTimeout: 200 }),
      10000,
    );
    await assert.rejects(within(client.noop(), 10000), TimeoutError);
    assert.equal(client.closed, true);
    await assert.rejects(client.noop(), ConnectionClosedError);
    await client.quit();
  });

  it("connectTimeout bounds the wait for the greeting", { timeout: 20000 }, async () => {
    const server = await fake(async (s) => {
      while ((await s.read()) !== null) {
        // Never greets.
      }
    });
    await assert.rejects(
      within(
        Client.connect("127.0.0.1", server.port, { network: testNetwork(), connectTimeout: 200 }),
        10000,
      ),
      TimeoutError,
    );
  });

  it("fails to connect to a closed port", { timeout: 20000 }, async () => {
    const listener = await testNetwork().listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    await listener.close();
    await assert.rejects(within(Client.connect("127.0.0.1", port, options()), 10000));
  });

  it("a reply bigger than maxReplyBytes (default 1 MiB) is a ProtocolError and closes", {
    timeout: 20000,
  }, async () => {
    const server = await answering(async (s, line) => {
      if (line === "STAT") {
        // About 20 kB: over a 10 kB cap, far under the default.
        const body = Array.from({ length: 200 }, (_, i) => ` line ${i} ${"s".repeat(90)}`);
        await s.send("211-Status", ...body, "211 End");
      } else if (line === "HELP") {
        // Without end: only the client's cap stops it.
        await s.send("214-Help");
        const lines = Array.from({ length: 100 }, () => ` ${"h".repeat(1000)}`);
        try {
          while (true) await s.send(...lines);
        } catch {
          return; // The client hung up.
        }
      } else await s.send("500 unknown command");
    });
    const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
    assert.equal((await client.command("STAT")).lines.length, 202);
    await assert.rejects(
      within(client.command("HELP"), 10000),
      (e) => e instanceof ProtocolError && e.message === "Reply longer than 1048576 bytes",
    );
    assert.equal(client.closed, true);
    await assert.rejects(client.noop(), ConnectionClosedError);

    const capped = await within(
      Client.connect("127.0.0.1", server.port, { ...options(), maxReplyBytes: 10_000 }),
      10000,
    );
    await assert.rejects(capped.command("STAT"), ProtocolError);
    assert.equal(capped.closed, true);
  });

  it("quit() tolerates a connection the server already dropped", { timeout: 20000 }, async () => {
    const server = await fake(async (s) => {
      await s.send("220 ready");
      s.conn.close();
    });
    const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
    await within(client.quit(), 10000);
    assert.equal(client.closed, true);
    await within(client.quit(), 10000);
  });

  it("await using sends QUIT", { timeout: 20000 }, async () => {
    const server = await echoServer();
    {
      const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
      try {
        await client.noop();
      } finally {
        await client[Symbol.asyncDispose]();
      }
      assert.equal(client.closed, true);
    }
    assert.equal(server.sessions[0].received.at(-1), "QUIT");
  });

  it("features() parses FEAT into a map; pwd() understands doubled quotes", {
    timeout: 20000,
  }, async () => {
    const server = await fake(async (s) => {
      await s.send("220 ready");
      while (true) {
        const line = await s.read();
        if (line === null) return;
        if (line === "FEAT") {
          await s.send(
            "211-Features:",
            " MDTM",
            " MLST type*;size*;",
            " HASH SHA-256*;MD5",
            "211 End",
          );
        } else if (line === "PWD") await s.send('257 "/a ""quoted"" dir" is current');
        else await s.standard(line);
      }
    });
    const client = await within(Client.connect("127.0.0.1", server.port, options()), 10000);
    const features = await client.features();
    assert.deepEqual([...features], [
      ["MDTM", ""],
      ["MLST", "type*;size*;"],
      ["HASH", "SHA-256*;MD5"],
    ]);
    assert.equal(await client.pwd(), '/a "quoted" dir');
    await client.quit();
  });
});
