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
import {
  type CommandContext,
  type LogRecord,
  MemoryFileSystem,
  MemoryUserManager,
  Server,
  type Session,
  User,
  type UserManager,
} from "../server.ts";
import { TEST_SERVER_CERT, TEST_SERVER_KEY } from "./fixtures/tls.ts";
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

describe("server: a session closing under a command", () => {
  it("a handler can end its session with a farewell of its own", T, async () => {
    const server = new Server();
    server.commands.set("XBYE", {
      handler: (ctx: CommandContext) => ctx.close({ code: 421, text: "see you later" }),
    });
    await server.start();
    try {
      const client = await RawControl.connect(server.address);
      await client.send("XBYE");
      assert.deepEqual(await repliesUntilClosed(client), ["421 see you later"]);
    } finally {
      await within(server.close(), 10000, "server close");
    }
  });

  it("AUTH TLS waiting behind earlier replies sends no 234 after the 421", T, async () => {
    // The session's end waits for the logout (a slow user database) before it ends the
    // control connection: meanwhile the upgrade that waited would send its 234.
    const logoutGate = deferred<void>();
    class SlowLogout extends MemoryUserManager {
      override async notifyLogout(user: User): Promise<void> {
        await logoutGate.promise;
        await super.notifyLogout(user);
      }
    }
    const server = new Server({
      users: new SlowLogout([new User()]),
      tls: { cert: TEST_SERVER_CERT, key: TEST_SERVER_KEY },
    });
    const bodyGate = deferred<void>();
    // A multi-line reply whose body waits: AUTH's upgrade waits behind it.
    server.commands.set("XSLOW", {
      handler: (ctx: CommandContext) => {
        void ctx.replyLines(211, {
          first: "slow",
          body: gatedLines(bodyGate.promise),
          last: "done",
        });
      },
    });
    const auth = server.commands.get("AUTH")!;
    const authRunning = deferred<Session>();
    server.commands.set("AUTH", {
      ...auth,
      handler: (ctx, command) => {
        authRunning.resolve(ctx as Session);
        return Promise.resolve(auth.handler(ctx, command)).finally(() => logoutGate.resolve());
      },
    });
    await server.start();
    try {
      const client = await RawControl.connect(server.address);
      await client.login();
      await client.send("XSLOW");
      await client.send("AUTH TLS");
      const session = await within(authRunning.promise, 5000, "AUTH");
      const closing = server.close();
      if (!session.closing) {
        await new Promise((resolve) => session.signal.addEventListener("abort", resolve));
      }
      bodyGate.resolve();
      assert.deepEqual(await repliesUntilClosed(client), ["211 slow", SHUTDOWN]);
      await within(closing, 10000, "server close");
    } finally {
      await within(server.close(), 10000, "server close");
    }
  });

  it("the user manager's getUser and authenticate see the session's signal abort", T, async () => {
    const lookups: Array<Promise<string>> = [];
    /** Waits for the session's signal, as a manager on a slow directory service would. */
    const waitForClose = (signal: AbortSignal | undefined, what: string) => {
      const stopped = deferred<string>();
      lookups.push(stopped.promise);
      signal?.addEventListener("abort", () => stopped.resolve(what));
      return new Promise<never>((_resolve, reject) => {
        signal?.addEventListener("abort", () => reject(signal.reason));
      });
    };
    const asked = { getUser: deferred<void>(), authenticate: deferred<void>() };
    const slow: UserManager = {
      getUser: (login, context) => {
        if (login === "bob") {
          return Promise.resolve({
            state: "password-required",
            user: new User({ login }),
            info: "password required",
          });
        }
        asked.getUser.resolve();
        return waitForClose(context.signal, "getUser");
      },
      authenticate: (_user, _password, context) => {
        asked.authenticate.resolve();
        return waitForClose(context.signal, "authenticate");
      },
      notifyLogout: () => Promise.resolve(),
    };
    const server = new Server({ users: slow });
    await server.start();
    try {
      const looking = await RawControl.connect(server.address);
      await looking.send("USER alice");
      await within(asked.getUser.promise, 5000, "getUser");
      const checking = await RawControl.connect(server.address);
      assert.equal(await checking.ask("USER bob"), "331 password required");
      await checking.send("PASS secret");
      await within(asked.authenticate.promise, 5000, "authenticate");
      await within(server.close(), 10000, "server close");
      assert.deepEqual(
        (await within(Promise.all(lookups), 5000, "the lookups' abort")).sort(),
        ["authenticate", "getUser"],
      );
      for (const client of [looking, checking]) {
        assert.deepEqual(await repliesUntilClosed(client), [SHUTDOWN]);
      }
    } finally {
      await within(server.close(), 10000, "server close");
    }
  });

  it("a PASS left hanging by a closed session does not hold the address's logins", T, async () => {
    const checking = deferred<void>();
    const alice = new User({ login: "alice", password: "secret" });
    // Ignores the session's signal: only the login guard can let go of the attempt.
    const hanging: UserManager = {
      getUser: () =>
        Promise.resolve({ state: "password-required", user: alice, info: "password required" }),
      authenticate: (_user, password) => {
        if (password !== "hang") return Promise.resolve(password === "secret");
        checking.resolve();
        return new Promise(() => {});
      },
      notifyLogout: () => Promise.resolve(),
    };
    // One attempt in flight fills the address's budget: the next one waits for it to end.
    const server = new Server({ users: hanging, maxLoginFailuresPerIp: 1 });
    await server.start();
    try {
      const stuck = await RawControl.connect(server.address);
      assert.equal(await stuck.ask("USER alice"), "331 password required");
      await stuck.send("PASS hang");
      await within(checking.promise, 5000, "authenticate");
      const [session] = server.sessions;
      session.close({ code: 421, text: "closing" });
      assert.deepEqual(await repliesUntilClosed(stuck), ["421 closing"]);
      await within(session.closed, 5000, "the stuck session's end");

      const next = await RawControl.connect(server.address);
      await within(next.login("alice", "secret"), 5000, "the next login");
      assert.equal(await next.ask("PWD"), '257 "/"');
    } finally {
      await within(server.close(), 10000, "server close");
    }
  });

  it("a notifyLogout or disconnect hook that hangs does not hold close()", T, async () => {
    const loggingOut = deferred<void>();
    const disconnecting = deferred<void>();
    const alice = new User({ login: "alice" });
    const hanging: UserManager = {
      getUser: () => Promise.resolve({ state: "ok", user: alice, info: "logged in" }),
      authenticate: () => Promise.resolve(false),
      notifyLogout: () => {
        loggingOut.resolve();
        return new Promise(() => {});
      },
    };
    const logs: LogRecord[] = [];
    const server = new Server({
      users: hanging,
      hooks: {
        disconnect: () => {
          disconnecting.resolve();
          return new Promise(() => {});
        },
      },
      log: (record) => void logs.push(record),
    });
    await server.start();
    try {
      const client = await RawControl.connect(server.address);
      await client.login("alice");
      await within(server.close(), 15000, "server close");
      await within(Promise.all([loggingOut.promise, disconnecting.promise]), 1000, "the hooks");
      assert.deepEqual(await repliesUntilClosed(client), [SHUTDOWN]);
      assert.equal(server.sessions.size, 0);
      const late = logs.filter((r) => r.level === "error").map((r) => r.message);
      assert.equal(late.length, 2, late.join("; "));
    } finally {
      await within(server.close(), 15000, "server close");
    }
  });
});

/** Body lines that come once `gate` settles. */
async function* gatedLines(gate: Promise<void>): AsyncIterable<string> {
  await gate;
  yield "body";
}
