/**
 * The server's hooks (`ServerOptions.hooks`), driven by a raw client: which events come, in
 * which order, with which fields; the "before" hooks refusing connections, logins and
 * transfers (nothing opened then); hooks that throw; and the event log built on them.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type EventLogEntry,
  eventLogHooks,
  type LogRecord,
  MemoryFileSystem,
  type ServerHooks,
  User,
} from "../server.ts";
import { TEST_SERVER_CERT, TEST_SERVER_KEY } from "./fixtures/tls.ts";
import {
  getFile,
  putFile,
  RawControl,
  readAll,
  TEST_CLIENT_TLS,
  text,
  withServer,
  writeAll,
} from "./server_raw.ts";
import { testNetwork, within } from "./_util.ts";
import { parseEpsvReply } from "../lib/protocol/address.ts";

const T = { timeout: 30000 };
const encoder = new TextEncoder();

interface Recorded {
  name: keyof ServerHooks;
  // deno-lint-ignore no-explicit-any
  event: any;
}

/** Hooks that record every event, and a way to wait for one. */
function recorder(overrides: ServerHooks = {}) {
  const events: Recorded[] = [];
  const waiting: { name: string; resolve: (r: Recorded) => void }[] = [];
  const record = (name: keyof ServerHooks) => (event: unknown) => {
    const entry = { name, event };
    events.push(entry);
    for (const w of waiting.filter((w) => w.name === name)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(entry);
    }
  };
  const names: (keyof ServerHooks)[] = [
    "connect",
    "login",
    "loginFailed",
    "logout",
    "disconnect",
    "command",
    "beforeTransfer",
    "transfer",
    "delete",
    "mkdir",
    "rmdir",
    "rename",
  ];
  const hooks: ServerHooks = Object.fromEntries(names.map((n) => [n, record(n)]));
  return {
    events,
    hooks: { ...hooks, ...overrides },
    /** The recorded events but commands, by name. */
    names: () => events.filter((e) => e.name !== "command").map((e) => e.name),
    /** `"VERB code"` of every command event. */
    commands: () =>
      events.filter((e) => e.name === "command").map((e) => `${e.event.verb} ${e.event.code}`),
    /** The first event of that name (recorded already, or the next one). */
    next(name: keyof ServerHooks): Promise<Recorded> {
      const found = events.find((e) => e.name === name);
      if (found) return Promise.resolve(found);
      return within(new Promise((resolve) => waiting.push({ name, resolve })), 10000, name);
    },
  };
}

describe("server hooks: sessions and logins", () => {
  it(
    "a session from connect to disconnect: connect, login, commands with replies, logout, disconnect",
    T,
    async () => {
      const r = recorder();
      await withServer({
        users: [new User({ login: "alice", password: "pw" })],
        hooks: r.hooks,
      }, async (server) => {
        const c = await RawControl.connect(server.address);
        assert.equal(await c.ask("USER alice"), "331 password required");
        assert.equal(await c.ask("PASS pw"), "230 normal login");
        assert.equal(await c.ask("NOOP"), "200 NOOP ok");
        assert.equal(await c.ask("QUIT"), "221 bye");
        await r.next("disconnect");
        assert.deepEqual(r.names(), ["connect", "login", "logout", "disconnect"]);
        assert.deepEqual(r.commands(), ["USER 331", "PASS 230", "NOOP 200", "QUIT 221"]);
        const [connect, login] = r.events.filter((e) => e.name !== "command");
        assert.equal(connect.event.user, undefined);
        assert.equal(connect.event.remoteAddr.hostname, "127.0.0.1");
        assert.equal(connect.event.secure, false);
        assert.equal(login.event.user, "alice");
        assert.equal(login.event.anonymous, false);
        assert.ok(r.events.every((e) => e.event.sessionId === connect.event.sessionId));
        const pass = r.events.find((e) => e.name === "command" && e.event.verb === "PASS")!;
        assert.equal(pass.event.argument, "****", "the password is hidden");
        assert.equal(pass.event.text, "normal login");
        const disconnect = (await r.next("disconnect")).event;
        assert.equal(disconnect.user, "alice");
        assert.ok(disconnect.duration >= 0);
        c.close();
      });
    },
  );

  it("the command event of a transfer command carries its 150", T, async () => {
    const fs = new MemoryFileSystem();
    await putFile(fs, "/a.txt", "abc");
    const r = recorder();
    await withServer({ fileSystem: fs, users: [new User()], hooks: r.hooks }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login();
      const data = await c.pasv();
      assert.equal(await c.ask("RETR a.txt"), "150 data transfer started");
      assert.equal(text(await readAll(data)), "abc");
      assert.equal(await c.next(), "226 transfer done");
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
      assert.deepEqual(r.commands().slice(-3), ["PASV 227", "RETR 150", "NOOP 200"]);
      c.close();
    });
  });

  it(
    "a connect hook refuses: 421 with its text, the connection closes, no login happens",
    T,
    async () => {
      const r = recorder({
        connect: (
          e,
        ) => (e.remoteAddr.hostname === "127.0.0.1" ? { text: "not from here" } : undefined),
      });
      await withServer({ hooks: r.hooks }, async (server) => {
        const c = await RawControl.connect(server.address);
        assert.deepEqual(c.greeting, { code: 421, lines: ["not from here"] });
        assert.equal(await c.waitClosed(), true);
        await r.next("disconnect");
        assert.deepEqual(r.names(), ["disconnect"]);
      });
    },
  );

  it(
    "a login hook refuses: 530 with its text, counted as a failed login, the slot given back",
    T,
    async () => {
      let refuse = true;
      const r = recorder({ login: () => (refuse ? { text: "not today" } : undefined) });
      const one = new User({ login: "one", password: "p", maxConnections: 1 });
      await withServer({ users: [one], hooks: r.hooks, loginFailureDelay: 0 }, async (server) => {
        const c = await RawControl.connect(server.address);
        assert.equal(await c.ask("USER one"), "331 password required");
        assert.equal(await c.ask("PASS p"), "530 not today");
        assert.equal(await c.ask("PWD"), "530 Please login with USER and PASS");
        const failed = (await r.next("loginFailed")).event;
        assert.equal(failed.reason, "refused");
        assert.equal(failed.user, "one");
        // Had the refused login kept the account's only slot, this one would fail.
        refuse = false;
        const d = await RawControl.connect(server.address);
        await d.login("one", "p");
        assert.equal(await d.ask("PWD"), '257 "/"');
        assert.deepEqual(r.names().filter((n) => n === "logout"), []);
        c.close();
        d.close();
      });
    },
  );

  it("loginFailed says why: unknown-user, wrong-password, user-limit", T, async () => {
    const r = recorder();
    const one = new User({ login: "one", password: "p", maxConnections: 1 });
    const two = new User({ login: "two", password: "p" });
    await withServer({
      users: [one, two],
      hooks: r.hooks,
      loginFailureDelay: 0,
      maxLoginAttempts: 10,
    }, async (server) => {
      const holder = await RawControl.connect(server.address);
      await holder.login("one", "p");
      const c = await RawControl.connect(server.address);
      for (const [user, pass] of [["nobody", "x"], ["two", "bad"]]) {
        assert.equal(await c.ask(`USER ${user}`), "331 password required");
        assert.equal(await c.ask(`PASS ${pass}`), "530 login incorrect");
      }
      assert.equal(await c.ask("USER one"), "331 password required");
      assert.equal(await c.ask("PASS p"), "530 login incorrect");
      const failures = r.events.filter((e) => e.name === "loginFailed").map((e) => e.event);
      assert.deepEqual(failures.map((f) => [f.user, f.reason]), [
        ["nobody", "unknown-user"],
        ["two", "wrong-password"],
        ["one", "user-limit"],
      ]);
      holder.close();
      c.close();
    });
  });

  it(
    "a new USER logs the previous user out (logout event), and the user manager is told",
    T,
    async () => {
      const r = recorder();
      await withServer({
        users: [new User({ login: "a", maxConnections: 1 }), new User({ login: "b" })],
        hooks: r.hooks,
      }, async (server) => {
        const c = await RawControl.connect(server.address);
        assert.equal(await c.ask("USER a"), "230 login without password");
        assert.equal(await c.ask("USER b"), "230 login without password");
        // a's only slot was given back.
        const d = await RawControl.connect(server.address);
        assert.equal(await d.ask("USER a"), "230 login without password");
        d.close();
        const logins = r.events.filter((e) => e.name === "login" || e.name === "logout");
        assert.deepEqual(logins.map((e) => `${e.name} ${e.event.user}`), [
          "login a",
          "logout a",
          "login b",
          "login a",
        ]);
        c.close();
      });
    },
  );

  it("over TLS the events say secure, and a transfer under PROT P says so", T, async () => {
    const r = recorder();
    const fs = new MemoryFileSystem();
    await withServer({
      fileSystem: fs,
      users: [new User()],
      tls: { cert: TEST_SERVER_CERT, key: TEST_SERVER_KEY },
      hooks: r.hooks,
    }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.secure("P");
      await c.login();
      const reply = await c.command("EPSV");
      const port = parseEpsvReply(reply.lines[0]);
      const tcp = await testNetwork().connect({ hostname: "127.0.0.1", port });
      assert.equal(await c.ask("STOR s.txt"), "150 data transfer started");
      const data = await within(tcp.startTls(TEST_CLIENT_TLS), 5000, "data TLS");
      await writeAll(data, encoder.encode("secret"));
      assert.equal(await c.next(), "226 transfer done");
      const login = (await r.next("login")).event;
      assert.equal(login.secure, true);
      const transfer = (await r.next("transfer")).event;
      assert.equal(transfer.secure, true);
      assert.equal(transfer.dataProtection, "P");
      assert.equal(transfer.bytes, 6);
      c.close();
    });
  });
});

describe("server hooks: transfers and files", () => {
  it(
    "beforeTransfer refuses an upload with 552 and a download with 550: nothing is opened",
    T,
    async () => {
      const fs = new MemoryFileSystem();
      await putFile(fs, "/secret.txt", "no");
      const r = recorder({
        beforeTransfer: (e) =>
          e.direction === "upload"
            ? { code: 552, text: "quota exceeded" }
            : { text: "downloads are closed" },
      });
      await withServer({ fileSystem: fs, users: [new User()], hooks: r.hooks }, async (server) => {
        const c = await RawControl.connect(server.address);
        await c.login();
        const data = await c.pasv();
        assert.equal(await c.ask("STOR new.txt"), "552 quota exceeded");
        assert.equal(await fs.exists("/new.txt"), false, "the refused upload created the file");
        assert.equal(await c.ask("APPE secret.txt"), "552 quota exceeded");
        assert.equal(await c.ask("RETR secret.txt"), "550 downloads are closed");
        assert.equal(text(await getFile(fs, "/secret.txt")), "no");
        // The channel PASV prepared is still there for an allowed command.
        assert.equal(await c.ask("NLST"), "150 list transfer started");
        assert.equal(text(await readAll(data)), "secret.txt\r\n");
        assert.equal(await c.next(), "226 list transfer done");
        const asked = r.events.filter((e) => e.name === "command").map((e) => e.event);
        assert.ok(asked.some((e) => e.verb === "STOR" && e.code === 552));
        assert.deepEqual(r.names().filter((n) => n === "transfer"), [], "no transfer ran");
        c.close();
      });
    },
  );

  it(
    "transfer events: direction, path, offset, append, bytes moved, complete and code, before the 226",
    T,
    async () => {
      const fs = new MemoryFileSystem();
      let seenBeforeReply = 0;
      const r = recorder();
      const hooks: ServerHooks = {
        ...r.hooks,
        async transfer(e) {
          // The server awaits this before the final reply: prove it by taking a while.
          await new Promise((resolve) => setTimeout(resolve, 20));
          seenBeforeReply++;
          r.hooks.transfer!(e);
        },
      };
      await withServer(
        { fileSystem: fs, users: [new User({ login: "u" })], hooks },
        async (server) => {
          const c = await RawControl.connect(server.address);
          await c.login("u");
          let data = await c.pasv();
          assert.equal(await c.ask("STOR f.bin"), "150 data transfer started");
          await writeAll(data, encoder.encode("0123456789"));
          assert.equal(await c.next(), "226 transfer done");
          assert.equal(seenBeforeReply, 1, "the 226 came before the transfer hook ended");
          data = await c.pasv();
          assert.equal(await c.ask("APPE f.bin"), "150 data transfer started");
          await writeAll(data, encoder.encode("ab"));
          assert.equal(await c.next(), "226 transfer done");
          assert.equal(await c.ask("REST 4"), "350 restarting at 4");
          data = await c.pasv();
          assert.equal(await c.ask("RETR f.bin"), "150 data transfer started");
          assert.equal(text(await readAll(data)), "456789ab");
          assert.equal(await c.next(), "226 transfer done");
          assert.equal(seenBeforeReply, 3);
          const transfers = r.events.filter((e) => e.name === "transfer").map((e) => e.event);
          assert.deepEqual(
            transfers.map((
              t,
            ) => [t.direction, t.path, t.offset, t.append, t.bytes, t.complete, t.code]),
            [
              ["upload", "/f.bin", 0, false, 10, true, 226],
              ["upload", "/f.bin", 0, true, 2, true, 226],
              ["download", "/f.bin", 4, false, 8, true, 226],
            ],
          );
          for (const t of transfers) {
            assert.equal(t.user, "u");
            assert.equal(t.remoteAddr.hostname, "127.0.0.1");
            assert.equal(t.secure, false);
            assert.equal(t.dataProtection, "C");
            assert.ok(t.duration >= 0);
          }
          const before = r.events.filter((e) => e.name === "beforeTransfer").map((e) => e.event);
          assert.deepEqual(before.map((t) => [t.direction, t.path, t.offset]), [
            ["upload", "/f.bin", 0],
            ["upload", "/f.bin", 0],
            ["download", "/f.bin", 4],
          ]);
          c.close();
        },
      );
    },
  );

  it(
    "a transfer whose data connection never comes: complete false, code 425, 0 bytes",
    T,
    async () => {
      const r = recorder();
      await withServer({
        users: [new User()],
        hooks: r.hooks,
        dataConnectTimeout: 200,
      }, async (server) => {
        const c = await RawControl.connect(server.address);
        await c.login();
        assert.equal((await c.command("EPSV")).code, 229);
        assert.equal(await c.ask("STOR never.txt"), "425 Can't open data connection");
        const t = (await r.next("transfer")).event;
        assert.deepEqual([t.direction, t.bytes, t.complete, t.code], ["upload", 0, false, 425]);
        assert.deepEqual(r.commands().slice(-1), ["STOR 425"]);
        c.close();
      });
    },
  );

  it("delete, rename, mkdir, rmdir events after they succeed, none when they fail", T, async () => {
    const fs = new MemoryFileSystem();
    await putFile(fs, "/a.txt", "a");
    const r = recorder();
    await withServer(
      { fileSystem: fs, users: [new User({ login: "u" })], hooks: r.hooks },
      async (server) => {
        const c = await RawControl.connect(server.address);
        await c.login("u");
        assert.equal(await c.ask("MKD d"), '257 "/d" created');
        assert.equal(await c.ask("RNFR a.txt"), "350 rename from accepted");
        assert.equal(await c.ask("RNTO d/b.txt"), "250 rename successful");
        assert.equal(await c.ask("DELE d/b.txt"), "250 file deleted");
        assert.equal(await c.ask("DELE d/b.txt"), "550 path does not exist");
        assert.equal(await c.ask("RMD d"), "250 directory removed");
        assert.equal(await c.ask("RMD d"), "550 path does not exist");
        const changes = r.events.filter((e) =>
          ["delete", "rename", "mkdir", "rmdir"].includes(e.name)
        );
        assert.deepEqual(
          changes.map((
            { name, event },
          ) => [name, event.action, event.path ?? `${event.from} ${event.to}`, event.user]),
          [
            ["mkdir", "mkdir", "/d", "u"],
            ["rename", "rename", "/a.txt /d/b.txt", "u"],
            ["delete", "delete", "/d/b.txt", "u"],
            ["rmdir", "rmdir", "/d", "u"],
          ],
        );
        c.close();
      },
    );
  });
});

describe("server hooks: failures", () => {
  it(
    "hooks that throw are logged; connect refuses with 421, login with 530, beforeTransfer with 451, the others are ignored",
    T,
    async () => {
      const records: LogRecord[] = [];
      const fs = new MemoryFileSystem();
      await putFile(fs, "/a.txt", "a");
      let connects = 0;
      const boom = () => {
        throw new Error("boom");
      };
      const hooks: ServerHooks = {
        connect: () => {
          if (connects++ === 0) throw new Error("boom");
        },
        login: (e) => {
          if (e.user === "b") throw new Error("boom");
        },
        beforeTransfer: boom,
        delete: boom,
        command: () => Promise.reject(new Error("boom")),
        logout: boom,
        disconnect: boom,
      };
      await withServer({
        fileSystem: fs,
        users: [new User({ login: "a" }), new User({ login: "b" })],
        hooks,
        log: (record) => records.push(record),
        loginFailureDelay: 0,
      }, async (server) => {
        const refused = await RawControl.connect(server.address);
        assert.deepEqual(refused.greeting, {
          code: 421,
          lines: ["service not available, closing control connection"],
        });
        assert.equal(await refused.waitClosed(), true);
        const c = await RawControl.connect(server.address);
        assert.equal(c.greeting.code, 220);
        assert.equal(await c.ask("USER b"), "530 login refused");
        assert.equal(await c.ask("USER a"), "230 login without password");
        assert.equal((await c.command("EPSV")).code, 229);
        assert.equal(
          await c.ask("RETR a.txt"),
          "451 requested action aborted: local error in processing",
        );
        assert.equal(await c.ask("DELE a.txt"), "250 file deleted");
        assert.equal(await c.ask("NOOP"), "200 NOOP ok");
        assert.equal(await c.ask("QUIT"), "221 bye");
        assert.equal(await c.waitClosed(), true);
      });
      const failed = records.filter((r) => r.level === "error").map((r) => r.message);
      for (
        const name of [
          "connect",
          "login",
          "beforeTransfer",
          "delete",
          "command",
          "logout",
          "disconnect",
        ]
      ) {
        assert.ok(failed.includes(`The ${name} hook failed`), `${name}: ${failed.join("; ")}`);
      }
      assert.ok(
        records.filter((r) => r.level === "error").every((r) =>
          (r.error as Error).message === "boom"
        ),
      );
    },
  );
});

describe("eventLogHooks", () => {
  it(
    "one flat entry per event: connect, login, upload, rename, delete, logout, disconnect",
    T,
    async () => {
      const entries: EventLogEntry[] = [];
      let disconnected!: () => void;
      const done = new Promise<void>((resolve) => (disconnected = resolve));
      const hooks = eventLogHooks((entry) => {
        entries.push(entry);
        if (entry.event === "disconnect") disconnected();
      });
      await withServer(
        { users: [new User({ login: "u" })], hooks, loginFailureDelay: 0 },
        async (server) => {
          const c = await RawControl.connect(server.address);
          assert.equal(await c.ask("USER nobody"), "331 password required");
          assert.equal(await c.ask("PASS x"), "530 login incorrect");
          await c.login("u");
          const data = await c.pasv();
          assert.equal(await c.ask("STOR x"), "150 data transfer started");
          await writeAll(data, encoder.encode("12345"));
          assert.equal(await c.next(), "226 transfer done");
          await c.command("RNFR x");
          await c.command("RNTO y");
          await c.command("DELE y");
          assert.equal(await c.ask("QUIT"), "221 bye");
          await within(done, 10000, "disconnect");
        },
      );
      assert.deepEqual(entries.map((e) => e.event), [
        "connect",
        "login-failed",
        "login",
        "upload",
        "rename",
        "delete",
        "logout",
        "disconnect",
      ]);
      for (const e of entries) {
        assert.equal(e.ip, "127.0.0.1");
        assert.equal(e.session, entries[0].session);
        assert.ok(!Number.isNaN(Date.parse(e.time)), e.time);
      }
      assert.equal(entries[0].user, null);
      assert.deepEqual(
        { ...entries[3], time: "", ms: 0 },
        {
          time: "",
          event: "upload",
          session: entries[0].session,
          ip: "127.0.0.1",
          user: "u",
          secure: false,
          path: "/x",
          bytes: 5,
          complete: true,
          ms: 0,
          code: 226,
        },
      );
      assert.equal(entries[1].reason, "unknown-user");
      assert.deepEqual([entries[4].from, entries[4].path], ["/x", "/y"]);
    },
  );
});
