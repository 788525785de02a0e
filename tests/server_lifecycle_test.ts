/**
 * The server's life cycle: `await using`, `ServerOptions.signal`, and the graceful close a
 * Ctrl-C or SIGTERM asks for: a running transfer ends with `426` on its control connection,
 * then every session gets `421`, and nothing holds the close (a session mid-login, an idle
 * session, a session in a transfer, a data listener nobody connected to).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parsePasvReply } from "../lib/protocol/address.ts";
import type { Conn } from "../lib/socket.ts";
import { deferred } from "../lib/stream/abort.ts";
import { MemoryFileSystem, Server, User, type UserManager } from "../server.ts";
import { testNetwork, within } from "./_util.ts";
import { putFile, RawControl } from "./server_raw.ts";

const T = { timeout: 20000 };
const SHUTDOWN = "421 server shutting down";

/** Whether a connection to the port is refused (nothing listens there any more). */
async function refused(port: number): Promise<boolean> {
  try {
    const conn = await within(testNetwork().connect({ hostname: "127.0.0.1", port }), 5000);
    conn.close();
    return false;
  } catch {
    return true;
  }
}

/** Reads the replies still to come until the server closes the connection. */
async function repliesUntilClosed(client: RawControl): Promise<string[]> {
  const replies: string[] = [];
  while (true) {
    try {
      replies.push(await client.next());
    } catch (error) {
      if (/closed while a reply was awaited/.test(String(error))) return replies;
      throw error;
    }
  }
}

/** Reads a data connection until it ends or fails; resolves with the bytes seen. */
async function drain(conn: Conn): Promise<number> {
  const reader = conn.readable.getReader();
  let bytes = 0;
  while (true) {
    const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
    if (chunk.done) return bytes;
    bytes += chunk.value.length;
  }
}

describe("server: await using", () => {
  it("a server declared with await using is closed when its scope ends", T, async () => {
    let port = 0;
    let client: RawControl | undefined;
    {
      await using server = new Server();
      await server.start();
      port = server.address.port;
      client = await RawControl.connect(server.address);
      await client.login();
    }
    assert.equal(await client.next(), SHUTDOWN);
    assert.equal(await client.waitClosed(), true);
    assert.equal(await refused(port), true);
  });
});

describe("server: ServerOptions.signal", () => {
  it("aborting the signal closes the server: 421, and serveForever() resolves", T, async () => {
    const stop = new AbortController();
    const server = new Server({ signal: stop.signal });
    await server.start();
    const served = server.serveForever();
    const c = await RawControl.connect(server.address);
    await c.login();
    stop.abort();
    await within(served, 10000, "serveForever");
    assert.equal(await c.next(), SHUTDOWN);
    assert.equal(await c.waitClosed(), true);
    assert.equal(server.sessions.size, 0);
    assert.equal(await refused(server.address.port), true);
  });

  it("a server whose signal has aborted does not start, and listens nowhere", T, async () => {
    const stop = new AbortController();
    stop.abort();
    const server = new Server({ signal: stop.signal });
    await assert.rejects(server.start(), { name: "AbortError" });
    assert.throws(() => server.address, /call start\(\) first/);
    await server.close();
  });

  it("a server closed by hand and started again still closes on its signal", T, async () => {
    const stop = new AbortController();
    const server = new Server({ signal: stop.signal });
    await server.start();
    await server.close();
    await server.start();
    const c = await RawControl.connect(server.address);
    stop.abort();
    await within(server.serveForever(), 10000, "serveForever");
    assert.equal(await c.next(), SHUTDOWN);
    assert.equal(await c.waitClosed(), true);
  });
});

describe("server: graceful close", () => {
  it(
    "close() ends a transfer with 426, then tells every session 421, its last reply",
    T,
    async () => {
      const fs = new MemoryFileSystem();
      await putFile(fs, "/big.bin", new Uint8Array(4 << 20));
      const failing = deferred<void>();
      const server = new Server({
        fileSystem: fs,
        users: [new User(), new User({ login: "alice", password: "secret" })],
        // 4 MiB at 64 KiB/s: the download is still running when the server closes.
        downloadLimitPerConnection: 64 * 1024,
        // A failed PASS waits this long before its 530: the close must not wait for it.
        loginFailureDelay: 60_000,
        hooks: { loginFailed: () => failing.resolve() },
      });
      await server.start();
      try {
        const transferring = await RawControl.connect(server.address);
        await transferring.login();
        const data = await transferring.pasv();
        assert.equal(await transferring.ask("RETR big.bin"), "150 data transfer started");
        const received = drain(data);

        const idle = await RawControl.connect(server.address);
        await idle.login();

        const named = await RawControl.connect(server.address);
        assert.equal(await named.ask("USER alice"), "331 password required");

        const guessing = await RawControl.connect(server.address);
        assert.equal(await guessing.ask("USER alice"), "331 password required");
        await guessing.send("PASS wrong");
        await within(failing.promise, 5000, "the failed login");

        const listening = await RawControl.connect(server.address);
        await listening.login();
        const pasv = await listening.command("PASV");
        assert.equal(pasv.code, 227);
        const dataPort = parsePasvReply(pasv.lines.join(" ")).port;

        await within(server.close(), 10000, "server close");

        assert.deepEqual(await repliesUntilClosed(transferring), [
          "426 transfer aborted",
          SHUTDOWN,
        ]);
        assert.ok(await within(received, 5000, "data end") < 4 << 20, "the whole file arrived");
        // The failed PASS wakes from its delay when the session closes: its 530 must not follow.
        for (const client of [idle, named, guessing, listening]) {
          assert.deepEqual(await repliesUntilClosed(client), [SHUTDOWN]);
        }
        assert.equal(await refused(dataPort), true, "the passive listener is still open");
        assert.equal(server.sessions.size, 0);
      } finally {
        await within(server.close(), 10000, "server close");
      }
    },
  );

  it("a USER whose user manager never answers does not hold close()", T, async () => {
    const asked = deferred<void>();
    const hanging: UserManager = {
      getUser: () => {
        asked.resolve();
        return new Promise(() => {});
      },
      authenticate: () => Promise.resolve(false),
      notifyLogout: () => Promise.resolve(),
    };
    const server = new Server({ users: hanging });
    await server.start();
    const client = await RawControl.connect(server.address);
    await client.send("USER alice");
    await within(asked.promise, 5000, "the user lookup");
    await within(server.close(), 5000, "server close");
    assert.deepEqual(await repliesUntilClosed(client), [SHUTDOWN]);
    assert.equal(server.sessions.size, 0);
  });

  it("a login the user manager completes after the close is given back to it", T, async () => {
    const asked = deferred<void>();
    const answer = deferred<void>();
    const loggedOut = deferred<User>();
    const alice = new User({ login: "alice" });
    const late: UserManager = {
      getUser: async () => {
        asked.resolve();
        await answer.promise;
        return { state: "ok", user: alice, info: "logged in" };
      },
      authenticate: () => Promise.resolve(false),
      notifyLogout: (user) => {
        loggedOut.resolve(user);
        return Promise.resolve();
      },
    };
    let logins = 0;
    const server = new Server({ users: late, hooks: { login: () => void logins++ } });
    await server.start();
    const client = await RawControl.connect(server.address);
    await client.send("USER alice");
    await within(asked.promise, 5000, "the user lookup");
    await within(server.close(), 5000, "server close");
    answer.resolve();
    assert.equal(await within(loggedOut.promise, 5000, "notifyLogout"), alice);
    assert.equal(logins, 0, "the login hook heard of a login after the session ended");
    assert.deepEqual(await repliesUntilClosed(client), [SHUTDOWN]);
  });

  it("close() with no session and twice in a row returns at once", T, async () => {
    const server = new Server();
    await server.start();
    await within(Promise.all([server.close(), server.close()]), 5000, "close");
    await within(server.close(), 5000, "close again");
    await within(server.serveForever(), 5000, "serveForever");
  });
});
