/**
 * Accounts and logins: scrypt password hashes, the user manager's view of the client (address,
 * TLS), and the login holes of the security review, each over real sockets: the brute-force
 * limit (parallel guesses, sessions opened before the block, IPv6 /64), user enumeration at
 * USER, names that are not the anonymous user, and state that must not survive USER.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addressKey } from "../lib/server/address_key.ts";
import { LoginGuard } from "../lib/server/login_guard.ts";
import {
  type GetUserResult,
  hashPassword,
  type LoginContext,
  MemoryFileSystem,
  MemoryUserManager,
  User,
  verifyPassword,
} from "../server.ts";
import { TEST_SERVER_CERT, TEST_SERVER_KEY } from "./fixtures/tls.ts";
import { putFile, RawControl, readAll, text, withServer } from "./server_raw.ts";
import { within } from "./_util.ts";

const T = { timeout: 30000 };
const TLS = { cert: TEST_SERVER_CERT, key: TEST_SERVER_KEY };
/** A cheap scrypt cost, for tests only. */
const FAST = { cost: 1024 };

describe("password hashes", () => {
  it(
    "hashPassword makes scrypt$N$r$p$salt$key with a fresh salt; verifyPassword checks it",
    T,
    async () => {
      const hash = await hashPassword("correct horse", FAST);
      assert.match(hash, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
      assert.notEqual(await hashPassword("correct horse", FAST), hash, "the salt is random");
      assert.equal(await verifyPassword("correct horse", hash), true);
      assert.equal(await verifyPassword("correct horsE", hash), false);
      assert.equal(await verifyPassword("", hash), false);
      assert.match(await hashPassword("x"), /^scrypt\$16384\$8\$1\$/, "the default cost");
    },
  );

  it(
    "bad parameters and malformed hashes are refused with RangeError and TypeError",
    T,
    async () => {
      await assert.rejects(hashPassword("x", { cost: 1000 }), RangeError);
      await assert.rejects(hashPassword("x", { blockSize: 0 }), RangeError);
      for (
        const bad of [
          "plain",
          "scrypt$1024$8$1$c2FsdA==",
          "bcrypt$1024$8$1$c2FsdA==$a2V5a2V5a2V5a2V5a2V5a2V5",
          "scrypt$1000$8$1$c2FsdA==$a2V5a2V5a2V5a2V5a2V5a2V5",
          "scrypt$1024$8$1$c2FsdA==$a2V5",
          "scrypt$1024$8$1$!!$a2V5a2V5a2V5a2V5a2V5a2V5",
        ]
      ) {
        await assert.rejects(verifyPassword("x", bad), TypeError, bad);
        assert.throws(() => new User({ login: "a", passwordHash: bad }), TypeError, bad);
      }
      const hash = await hashPassword("x", FAST);
      assert.throws(() => new User({ login: "a", password: "x", passwordHash: hash }), TypeError);
    },
  );

  it("a user with a passwordHash logs in with its password and not with another", T, async () => {
    const alice = new User({ login: "alice", passwordHash: await hashPassword("s3cret", FAST) });
    assert.equal(alice.password, undefined);
    assert.equal(alice.hasPassword, true);
    await withServer({ users: [alice], loginFailureDelay: 0 }, async (server) => {
      const c = await RawControl.connect(server.address);
      assert.equal(await c.ask("USER alice"), "331 password required");
      assert.equal(await c.ask("PASS s3cre"), "530 login incorrect");
      assert.equal(await c.ask("PASS s3cret"), "230 normal login");
      c.close();
    });
  });
});

/** A manager that records what it is told and allows some names from some addresses only. */
class AllowListManager extends MemoryUserManager {
  readonly seen: string[] = [];
  constructor(users: User[], readonly allowed: Record<string, string[]>) {
    super(users);
  }

  override getUser(login: string, context: LoginContext): Promise<GetUserResult> {
    this.seen.push(`getUser ${login} ${whoIs(context)}`);
    const from = this.allowed[login];
    if (from && !from.includes(context.remoteAddr.hostname)) {
      return Promise.resolve({ state: "error", info: "not from your address" });
    }
    return super.getUser(login, context);
  }

  override authenticate(user: User, password: string, context: LoginContext): Promise<boolean> {
    this.seen.push(`authenticate ${user.login} ${whoIs(context)}`);
    return super.authenticate(user, password, context);
  }

  override notifyLogout(user: User, context: LoginContext): Promise<void> {
    this.seen.push(`notifyLogout ${user.login} ${whoIs(context)}`);
    return super.notifyLogout(user, context);
  }
}

function whoIs(context: LoginContext): string {
  return `${context.remoteAddr.hostname} ${context.secure ? "tls" : "plain"}`;
}

describe("user manager: the client's address and TLS", () => {
  it(
    "getUser, authenticate and notifyLogout get the address: an allow list per IP",
    T,
    async () => {
      const manager = new AllowListManager(
        [new User({ login: "alice", password: "a" }), new User({ login: "bob", password: "b" })],
        { alice: ["127.0.0.1"], bob: ["192.0.2.10"] },
      );
      await withServer({ users: manager, loginFailureDelay: 0 }, async (server) => {
        const c = await RawControl.connect(server.address);
        assert.equal(await c.ask("USER bob"), "331 password required");
        assert.equal(await c.ask("PASS b"), "530 login incorrect");
        await c.login("alice", "a");
        assert.equal(await c.ask("QUIT"), "221 bye");
        await c.waitClosed();
      });
      assert.deepEqual(manager.seen, [
        "getUser bob 127.0.0.1 plain",
        "getUser alice 127.0.0.1 plain",
        "authenticate alice 127.0.0.1 plain",
        "notifyLogout alice 127.0.0.1 plain",
      ]);
    },
  );

  it(
    "a manager that refuses clear-text logins: plain fails at PASS, the same login under TLS works",
    T,
    async () => {
      class TlsOnly extends MemoryUserManager {
        override getUser(login: string, context: LoginContext): Promise<GetUserResult> {
          if (!context.secure) return Promise.resolve({ state: "error", info: "TLS required" });
          return super.getUser(login, context);
        }
      }
      const manager = new TlsOnly([new User({ login: "alice", password: "a" })]);
      await withServer({ users: manager, tls: TLS, loginFailureDelay: 0 }, async (server) => {
        const plain = await RawControl.connect(server.address);
        assert.equal(await plain.ask("USER alice"), "331 password required");
        assert.equal(await plain.ask("PASS a"), "530 login incorrect");
        plain.close();
        const secured = await RawControl.connect(server.address);
        await secured.secure();
        assert.equal(await secured.ask("USER alice"), "331 password required");
        assert.equal(await secured.ask("PASS a"), "230 normal login");
        secured.close();
      });
    },
  );
});

describe("login holes", () => {
  it(
    "60 parallel wrong PASS from one address: only maxLoginFailuresPerIp (20) are checked, the rest get 421",
    T,
    async () => {
      const sessions = 60;
      let checked = 0;
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      // The password checks are held until 20 are under way: without a budget for the attempts
      // in flight, all 60 would be checked by then.
      class Slow extends MemoryUserManager {
        override async authenticate(user: User, password: string, context: LoginContext) {
          if (++checked === 20) open();
          await gate;
          return await super.authenticate(user, password, context);
        }
      }
      await withServer({
        users: new Slow([new User({ login: "u", password: "right" })]),
        loginFailureDelay: 0,
        maxLoginAttempts: 100,
        maxConnectionsPerIp: 100,
        maxPreLoginConnectionsPerIp: 100,
      }, async (server) => {
        const clients = await Promise.all(
          Array.from({ length: sessions }, () => RawControl.connect(server.address)),
        );
        for (const c of clients) assert.equal(await c.ask("USER u"), "331 password required");
        const replies = await within(
          Promise.all(clients.map((c) => c.ask("PASS wrong", 10000))),
          20000,
          "the PASS replies",
        );
        assert.equal(checked, 20, "passwords checked");
        const blocked = "421 too many failed logins from your address, closing control connection";
        assert.equal(replies.filter((r) => r === blocked).length, sessions - 20);
        assert.ok(replies.every((r) => /^(421|530) /.test(r)), replies.join("\n"));
        for (const c of clients) c.close();
      });
    },
  );

  it(
    "40 parallel right PASS from one address all log in: attempts beyond the budget wait",
    T,
    async () => {
      const sessions = 40;
      let checking = 0;
      let most = 0;
      class Counting extends MemoryUserManager {
        override async authenticate(user: User, password: string, context: LoginContext) {
          most = Math.max(most, ++checking);
          try {
            return await super.authenticate(user, password, context);
          } finally {
            checking--;
          }
        }
      }
      await withServer({
        users: new Counting([new User({ login: "u", password: "right" })]),
        maxConnectionsPerIp: 100,
        maxPreLoginConnectionsPerIp: 100,
      }, async (server) => {
        const clients = await Promise.all(
          Array.from({ length: sessions }, () => RawControl.connect(server.address)),
        );
        for (const c of clients) assert.equal(await c.ask("USER u"), "331 password required");
        const replies = await within(
          Promise.all(clients.map((c) => c.ask("PASS right", 10000))),
          20000,
          "the PASS replies",
        );
        assert.deepEqual(new Set(replies), new Set(["230 normal login"]));
        assert.ok(most <= 20, `at most 20 checked at once (${most})`);
        for (const c of clients) c.close();
      });
    },
  );

  it("a session opened before its address was blocked cannot log in afterwards", T, async () => {
    await withServer({
      users: [new User({ login: "u", password: "right" })],
      loginFailureDelay: 0,
      maxLoginAttempts: 10,
      maxLoginFailuresPerIp: 2,
    }, async (server) => {
      const early = await RawControl.connect(server.address);
      assert.equal(await early.ask("USER u"), "331 password required");
      const guesser = await RawControl.connect(server.address);
      assert.equal(await guesser.ask("USER u"), "331 password required");
      assert.equal(await guesser.ask("PASS a"), "530 login incorrect");
      assert.equal(
        await guesser.ask("PASS b"),
        "421 too many failed login attempts, closing control connection",
      );
      assert.equal(
        await early.ask("PASS right"),
        "421 too many failed logins from your address, closing control connection",
      );
      assert.equal(await early.waitClosed(), true);
    });
  });

  it("per-address limits count an IPv6 /64 as one address, IPv4 addresses one by one", async () => {
    assert.equal(addressKey("192.0.2.1"), "192.0.2.1");
    assert.equal(addressKey("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
    assert.equal(addressKey("2001:DB8:1:2::9"), "2001:db8:1:2::/64");
    assert.equal(addressKey("2001:db8:0001:0002:ffff::"), "2001:db8:1:2::/64");
    assert.equal(addressKey("fe80::1%eth0"), "fe80:0:0:0::/64");
    assert.equal(addressKey("::1"), "0:0:0:0::/64");
    assert.equal(addressKey("::ffff:192.0.2.1"), "192.0.2.1");
    assert.equal(addressKey("::ffff:c000:201"), "192.0.2.1");
    assert.equal(addressKey("not:an:address::x"), "not:an:address::x");
    const guard = new LoginGuard({ maxFailures: 3, window: 60_000 });
    for (const ip of ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"]) {
      (await guard.begin(ip))!.end(true);
    }
    assert.equal(guard.blocked("2001:db8:1:2:abcd::99"), true, "the same /64");
    assert.equal(await guard.begin("2001:db8:1:2::4"), undefined);
    assert.equal(guard.blocked("2001:db8:1:3::1"), false, "the next /64");
    for (const ip of ["192.0.2.1", "192.0.2.2", "192.0.2.3"]) (await guard.begin(ip))!.end(true);
    assert.equal(guard.blocked("192.0.2.4"), false);
  });

  it("attempts in flight count: one beyond the budget waits for them, and is refused if they fail", async () => {
    const guard = new LoginGuard({ maxFailures: 2, window: 60_000 });
    const a = (await guard.begin("192.0.2.1"))!;
    const b = (await guard.begin("192.0.2.1"))!;
    let third: unknown = "waiting";
    const waiting = guard.begin("192.0.2.1").then((attempt) => (third = attempt));
    await Promise.resolve();
    assert.equal(third, "waiting", "two in flight fill the budget");
    a.end(false);
    const admitted = (await waiting)!;
    assert.ok(admitted, "admitted once one ended well");
    const fourth = guard.begin("192.0.2.1");
    const fifth = guard.begin("192.0.2.1");
    b.end(true);
    b.end(true); // a second end is ignored
    admitted.end(true);
    assert.equal(await fourth, undefined, "two failures: refused");
    assert.equal(await fifth, undefined, "and the next one in line too");
    assert.equal(guard.blocked("192.0.2.1"), true);
  });

  it(
    "USER answers alike for known, unknown and full accounts; PASS fails alike, after the delay",
    T,
    async () => {
      const full = new User({ login: "full", password: "f", maxConnections: 1 });
      const users = [
        new User({ login: "alice", password: "a" }),
        new User({ login: "hashed", passwordHash: await hashPassword("h", FAST) }),
        full,
      ];
      const delay = 150;
      await withServer({
        users,
        loginFailureDelay: delay,
        maxLoginAttempts: 10,
      }, async (server) => {
        const holder = await RawControl.connect(server.address);
        await holder.login("full", "f");
        const c = await RawControl.connect(server.address);
        for (
          const [name, password] of [["alice", "x"], ["hashed", "x"], ["nobody", "x"], [
            "full",
            "f",
          ]]
        ) {
          assert.equal(await c.ask(`USER ${name}`), "331 password required", name);
          const started = performance.now();
          assert.equal(await c.ask(`PASS ${password}`), "530 login incorrect", name);
          assert.ok(performance.now() - started >= delay - 20, `${name}: the 530 came early`);
        }
        holder.close();
        c.close();
      });
    },
  );

  it("AUTH TLS after USER forgets the name, known or not: PASS answers 503 alike", T, async () => {
    await withServer({
      users: [new User({ login: "alice", password: "a" })],
      tls: TLS,
      loginFailureDelay: 0,
    }, async (server) => {
      for (const name of ["alice", "nobody"]) {
        const c = await RawControl.connect(server.address);
        assert.equal(await c.ask(`USER ${name}`), "331 password required");
        await c.secure();
        assert.equal(
          await c.ask("PASS a"),
          "503 bad sequence of commands (no user (use USER firstly))",
          name,
        );
        c.close();
      }
    });
  });

  it(
    "only anonymous and ftp name the anonymous user; any other unknown name fails at PASS",
    T,
    async () => {
      await withServer({ loginFailureDelay: 0 }, async (server) => {
        const c = await RawControl.connect(server.address);
        assert.equal(await c.ask("USER root"), "331 password required");
        assert.equal(await c.ask("PASS x"), "530 login incorrect");
        assert.equal(await c.ask("PWD"), "530 Please login with USER and PASS");
        assert.equal(await c.ask("USER FTP"), "230 anonymous login");
        assert.equal(await c.ask("PWD"), '257 "/"');
        c.close();
      });
    },
  );

  it(
    "anonymousNames replaces the anonymous names, for the user manager and the TLS policy",
    T,
    async () => {
      await withServer({
        anonymousNames: ["guest"],
        tls: TLS,
        requireTls: "non-anonymous",
        loginFailureDelay: 0,
      }, async (server) => {
        const c = await RawControl.connect(server.address);
        assert.equal(await c.ask("USER anonymous"), "530 TLS required: send AUTH TLS before USER");
        assert.equal(await c.ask("USER guest"), "230 anonymous login");
        c.close();
        const secured = await RawControl.connect(server.address);
        await secured.secure();
        assert.equal(await secured.ask("USER anonymous"), "331 password required");
        assert.equal(await secured.ask("PASS x"), "530 login incorrect");
        secured.close();
      });
    },
  );

  it("USER clears the rename source and the REST offset", T, async () => {
    const fs = new MemoryFileSystem();
    await putFile(fs, "/a.txt", "0123456789");
    await withServer({ fileSystem: fs, users: [new User({ login: "u" })] }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login("u");
      assert.equal(await c.ask("RNFR a.txt"), "350 rename from accepted");
      assert.equal(await c.ask("USER u"), "230 login without password");
      assert.equal(
        await c.ask("RNTO b.txt"),
        "503 bad sequence of commands (no filename (use RNFR firstly))",
      );
      assert.equal(await c.ask("REST 5"), "350 restarting at 5");
      assert.equal(await c.ask("USER u"), "230 login without password");
      const data = await c.pasv();
      assert.equal(await c.ask("RETR a.txt"), "150 data transfer started");
      assert.equal(text(await readAll(data)), "0123456789");
      assert.equal(await c.next(), "226 transfer done");
      assert.equal(await fs.exists("/a.txt"), true);
      c.close();
    });
  });
});
