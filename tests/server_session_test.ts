import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemoryFileSystem, Permission, Server, User } from "../server.ts";
import { within } from "./_util.ts";
import { putFile, RawControl, readAll, text, withServer } from "./server_raw.ts";

const T = { timeout: 20000 };
const users = () => [
  new User({ login: "u", password: "p" }),
  new User({ login: "nopass" }),
  new User({ login: "home", password: "p", home: "/home" }),
];

describe("server: greeting and login", () => {
  it("serveForever() resolves once close() has ended every session", T, async () => {
    const server = new Server();
    await server.start("127.0.0.1", 0);
    const served = server.serveForever();
    const c = await RawControl.connect(server.address);
    await c.login();
    await server.close();
    assert.equal(await c.next(), "421 server shutting down");
    assert.equal(await c.waitClosed(), true);
    await served;
    assert.equal(server.sessions.size, 0);
  });

  it(
    "a user with a file system of its own sees it from its home, and nothing else",
    T,
    async () => {
      const own = new MemoryFileSystem();
      await own.mkdir("/pub");
      await putFile(own, "/pub/mine.txt", "alice's");
      const shared = new MemoryFileSystem();
      await putFile(shared, "/shared.txt", "everyone's");
      const alice = new User({ login: "alice", password: "p", home: "/pub", fileSystem: own });
      await withServer({ users: [alice, new User()], fileSystem: shared }, async (server) => {
        const a = await RawControl.connect(server.address);
        await a.login("alice", "p");
        assert.equal(await a.ask("PWD"), '257 "/pub"');
        assert.equal(await a.ask("SIZE /shared.txt"), "550 path does not exist");
        const data = await a.pasv();
        assert.equal(await a.ask("RETR mine.txt"), "150 data transfer started");
        assert.equal(text(await readAll(data)), "alice's");
        assert.equal(await a.next(), "226 transfer done");
        const b = await RawControl.connect(server.address);
        await b.login();
        assert.equal(await b.ask("SIZE /shared.txt"), "213 10");
        assert.equal(await b.ask("SIZE /pub/mine.txt"), "550 path does not exist");
        a.close();
        b.close();
      });
    },
  );

  it("greets with the configured banner, several lines allowed", T, async () => {
    await withServer({ welcome: "Hello\nWorld" }, async (server) => {
      const c = await RawControl.connect(server.address);
      assert.deepEqual(c.greeting, { code: 220, lines: ["Hello", "World"] });
      c.close();
    });
    await withServer({}, async (server) => {
      const c = await RawControl.connect(server.address);
      assert.deepEqual(c.greeting, { code: 220, lines: ["welcome"] });
      c.close();
    });
  });

  it("USER/PASS login chain with aioftp's texts", T, async () => {
    await withServer({ users: users(), loginFailureDelay: 0 }, async (server) => {
      const c = await RawControl.connect(server.address);
      assert.equal(
        await c.ask("PASS p"),
        "503 bad sequence of commands (no user (use USER firstly))",
      );
      assert.equal(await c.ask("PWD"), "530 Please login with USER and PASS");
      assert.equal(await c.ask("USER nobody"), "331 password required");
      assert.equal(await c.ask("PASS p"), "530 login incorrect");
      assert.equal(await c.ask("USER u"), "331 password required");
      assert.equal(await c.ask("PWD"), "530 Please login with USER and PASS");
      assert.equal(await c.ask("PASS bad"), "530 login incorrect");
      assert.equal(await c.ask("PASS p"), "230 normal login");
      assert.equal(await c.ask("PASS p"), "503 already logged in");
      assert.equal(await c.ask("PWD"), '257 "/"');
      assert.equal(await c.ask("USER nopass"), "230 login without password");
      assert.equal(await c.ask("USER home"), "331 password required");
      assert.equal(await c.ask("PASS p"), "230 normal login");
      assert.equal(await c.ask("PWD"), '257 "/home"');
      assert.equal(await c.ask("QUIT"), "221 bye");
      assert.equal(await c.waitClosed(), true);
    });
  });

  it("the anonymous user takes the names anonymous and ftp without password", T, async () => {
    await withServer({}, async (server) => {
      const c = await RawControl.connect(server.address);
      assert.equal(await c.ask("USER ftp"), "230 anonymous login");
      assert.equal(await c.ask("USER anonymous"), "230 anonymous login");
      assert.equal(await c.ask("PWD"), '257 "/"');
      c.close();
    });
  });

  it("ACCT: 202 once logged in, 503 before", T, async () => {
    await withServer({}, async (server) => {
      const c = await RawControl.connect(server.address);
      assert.equal((await c.command("ACCT x")).code, 503);
      await c.login();
      assert.equal(await c.ask("ACCT x"), "202 account not needed");
      c.close();
    });
  });

  it(
    "a failed login is delayed, and the last allowed failure ends the session with 421",
    T,
    async () => {
      await withServer(
        { users: users(), loginFailureDelay: 300, maxLoginAttempts: 2 },
        async (server) => {
          const c = await RawControl.connect(server.address);
          await c.command("USER u");
          const started = Date.now();
          assert.equal(await c.ask("PASS bad"), "530 login incorrect");
          assert.ok(Date.now() - started >= 250, "the 530 came without delay");
          assert.equal(
            await c.ask("PASS bad"),
            "421 too many failed login attempts, closing control connection",
          );
          assert.equal(await c.waitClosed(), true);
        },
      );
    },
  );

  it(
    "failed logins count per address across sessions: reconnecting does not reset them",
    T,
    async () => {
      await withServer(
        { users: users(), loginFailureDelay: 0, maxLoginAttempts: 10, maxLoginFailuresPerIp: 3 },
        async (server) => {
          const a = await RawControl.connect(server.address);
          await a.command("USER u");
          assert.equal(await a.ask("PASS bad"), "530 login incorrect");
          assert.equal(await a.ask("PASS bad"), "530 login incorrect");
          a.close();
          const b = await RawControl.connect(server.address);
          await b.command("USER u");
          assert.equal(
            await b.ask("PASS bad"),
            "421 too many failed login attempts, closing control connection",
          );
          assert.equal(await b.waitClosed(), true);
          const c = await RawControl.connect(server.address);
          assert.deepEqual(c.greeting, {
            code: 421,
            lines: ["Too many failed logins from your address"],
          });
          assert.equal(await c.waitClosed(), true);
        },
      );
    },
  );

  it(
    "per-user connection limit: 530 at PASS for the extra session, slot freed by QUIT",
    T,
    async () => {
      const limited = new User({ login: "one", password: "p", maxConnections: 1 });
      await withServer({ users: [limited], loginFailureDelay: 0 }, async (server) => {
        // Knowing the name is not enough to hold a slot: only a completed login takes one.
        const early = await RawControl.connect(server.address);
        assert.equal(await early.ask("USER one"), "331 password required");
        const a = await RawControl.connect(server.address);
        await a.login("one", "p");
        const b = await RawControl.connect(server.address);
        // A full account is answered like any other at USER, and fails at PASS like a wrong
        // password, also for a session that named it before it filled up.
        assert.equal(await b.ask("USER one"), "331 password required");
        assert.equal(await b.ask("PASS p"), "530 login incorrect");
        assert.equal(await early.ask("PASS p"), "530 login incorrect");
        early.close();
        assert.equal(await a.ask("QUIT"), "221 bye");
        await a.waitClosed();
        assert.equal(await b.ask("USER one"), "331 password required");
        assert.equal(await b.ask("PASS p"), "230 normal login");
        b.close();
      });
    },
  );

  it("server connection limit: 421 Too many connections and close", T, async () => {
    await withServer({ maxConnections: 2 }, async (server) => {
      const a = await RawControl.connect(server.address);
      const b = await RawControl.connect(server.address);
      const c = await RawControl.connect(server.address);
      assert.deepEqual(c.greeting, { code: 421, lines: ["Too many connections"] });
      assert.equal(await c.waitClosed(), true);
      assert.equal(await a.ask("QUIT"), "221 bye");
      await a.waitClosed();
      const d = await RawControl.connect(server.address);
      assert.equal(d.greeting.code, 220);
      b.close();
      d.close();
    });
  });

  it("per-IP connection limit: 421 for the extra connection", T, async () => {
    await withServer({ maxConnectionsPerIp: 1 }, async (server) => {
      const a = await RawControl.connect(server.address);
      const b = await RawControl.connect(server.address);
      assert.deepEqual(b.greeting, {
        code: 421,
        lines: ["Too many connections from your address"],
      });
      assert.equal(await b.waitClosed(), true);
      assert.equal(await a.ask("NOOP"), "200 NOOP ok");
      a.close();
    });
  });
});

describe("server: robustness of the control channel", () => {
  it("an overlong line gets 500 and the session goes on", T, async () => {
    await withServer({ maxLineLength: 100 }, async (server) => {
      const c = await RawControl.connect(server.address);
      assert.equal(await c.ask(`NOOP ${"x".repeat(500)}`), "500 command line too long");
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
      c.close();
    });
  });

  it("non-UTF-8 bytes never drop the session", T, async () => {
    await withServer({}, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.sendRaw(Uint8Array.of(0x80, 0xfe, 0xc3, 0x0d, 0x0a));
      assert.equal((await c.read()).code, 500);
      await c.login();
      await c.sendRaw(Uint8Array.of(0x43, 0x57, 0x44, 0x20, 0xc3, 0x28, 0xa0, 0x0d, 0x0a));
      assert.equal((await c.read()).code, 550);
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
      c.close();
    });
  });

  it("Telnet IAC IP/DM before ABOR are stripped", T, async () => {
    await withServer({}, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login();
      await c.sendRaw(
        Uint8Array.of(0xff, 0xf4, 0xff, 0xf2, ...new TextEncoder().encode("ABOR\r\n")),
      );
      assert.equal(await c.ask("NOOP"), "226 nothing to abort");
      assert.equal((await c.read()).code, 200);
      c.close();
    });
  });

  it("ABOR whose LF went out as urgent data (ftplib.abort) is answered at once", T, async () => {
    await withServer({}, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login();
      await c.sendRaw("ABOR\r");
      assert.equal((await c.read()).code, 226);
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
      c.close();
    });
  });

  it("unknown verbs and empty lines get 500, the session goes on", T, async () => {
    await withServer({}, async (server) => {
      const c = await RawControl.connect(server.address);
      assert.equal(await c.ask("FROB x"), "500 unknown command 'FROB'");
      assert.equal(await c.ask(""), "500 unknown command ''");
      assert.equal(await c.ask("noop"), "200 NOOP ok");
      c.close();
    });
  });

  it("pipelined commands are answered in command order", T, async () => {
    await withServer({ users: users() }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.sendRaw("USER u\r\nPASS p\r\nPWD\r\nMKD a\r\nCWD a\r\nPWD\r\nSYST\r\n");
      const codes = [];
      for (let i = 0; i < 7; i++) codes.push((await c.read()).code);
      assert.deepEqual(codes, [331, 230, 257, 257, 250, 257, 215]);
      c.close();
    });
  });

  it("the idle timeout says 421 and closes the session", T, async () => {
    await withServer({ idleTimeout: 300 }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login();
      const reply = await c.read(5000);
      assert.deepEqual(reply, { code: 421, lines: ["idle timeout, closing control connection"] });
      assert.equal(await c.waitClosed(), true);
    });
  });

  it("a client that stops reading its replies is cut off after the idle timeout", T, async () => {
    await withServer({ idleTimeout: 300 }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login();
      // Far more replies than the socket buffers hold; none is read, so the server's writes stall.
      const burst = new TextEncoder().encode("HELP\r\n".repeat(4_000_000));
      const failure = await within(
        c.sendRaw(burst).then(() => undefined, (e) => e),
        15000,
        "burst",
      );
      assert.ok(failure, "the server kept taking commands from a client that reads nothing");
    });
  });

  it("close() tells connected clients 421 and waits for their sessions", T, async () => {
    const server = new (await import("../server.ts")).Server();
    await server.start();
    const c = await RawControl.connect(server.address);
    await c.login();
    await server.close();
    assert.deepEqual(await c.read(), { code: 421, lines: ["server shutting down"] });
    assert.equal(await c.waitClosed(), true);
    assert.equal(server.sessions.size, 0);
  });
});

describe("server: part A verbs", () => {
  it("SYST, NOOP, ALLO, HELP, STAT", T, async () => {
    await withServer({}, async (server) => {
      const c = await RawControl.connect(server.address);
      assert.equal(await c.ask("SYST"), "215 UNIX Type: L8");
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
      const help = await c.command("HELP");
      assert.equal(help.code, 214);
      assert.equal(help.lines[0], "The following commands are recognized:");
      for (const verb of ["ABOR", "FEAT", "MLSD", "RETR", "STOU", "XPWD"]) {
        assert.ok(help.lines.join(" ").includes(verb), `HELP lacks ${verb}`);
      }
      assert.equal(await c.ask("HELP user"), "214 Syntax: USER <SP> <username>");
      assert.equal(await c.ask("HELP FROB"), "502 unknown command 'FROB'");
      const stat = await c.command("STAT");
      assert.equal(stat.code, 211);
      assert.deepEqual(stat.lines, [
        "FTP server status:",
        " Connected to 127.0.0.1",
        " Not logged in",
        " Control connection in clear text",
        " Data protection: clear",
        " TYPE: BINARY, STRUcture: File, MODE: Stream",
        " No data connection",
        "End of status",
      ]);
      await c.login();
      assert.equal(await c.ask("ALLO 1000"), "202 no storage allocation necessary");
      c.close();
    });
  });

  it("FEAT advertises exactly what is implemented (RFC 2389 format)", T, async () => {
    await withServer({}, async (server) => {
      const c = await RawControl.connect(server.address);
      const feat = await c.command("FEAT");
      assert.deepEqual(feat, {
        code: 211,
        lines: [
          "Features:",
          " EPRT",
          " EPSV",
          " HASH SHA-256*;SHA-1;MD5;CRC32",
          " MDTM",
          " MFMT",
          " MLST type*;size*;modify*;perm*;unix.mode*;",
          " REST STREAM",
          " SIZE",
          " TVFS",
          " UTF8",
          "End",
        ],
      });
      server.commands.delete("MFMT");
      const fewer = await c.command("FEAT");
      assert.ok(!fewer.lines.includes(" MFMT"));
      c.close();
    });
  });

  it("OPTS UTF8, OPTS MLST, unknown OPTS", T, async () => {
    await withServer({}, async (server) => {
      const c = await RawControl.connect(server.address);
      assert.equal(await c.ask("OPTS UTF8 ON"), "200 always in UTF8 mode");
      assert.equal(await c.ask("OPTS UTF8 OFF"), "200 always in UTF8 mode");
      assert.equal(await c.ask("OPTS MLST size;Type;bogus;"), "200 MLST OPTS type;size;");
      const feat = await c.command("FEAT");
      assert.ok(feat.lines.includes(" MLST type*;size*;modify;perm;unix.mode;"));
      assert.equal(await c.ask("OPTS FROB"), "501 option 'FROB' not understood");
      c.close();
    });
  });

  it("TYPE, MODE, STRU: supported values 200, known others 504, garbage 501", T, async () => {
    await withServer({}, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login();
      assert.equal(await c.ask("TYPE A"), "200 type set to A");
      assert.equal(await c.ask("TYPE i"), "200 type set to I");
      assert.equal(await c.ask("TYPE a n"), "200 type set to A");
      assert.equal(await c.ask("TYPE L 8"), "200 type set to I");
      assert.equal(await c.ask("TYPE E"), "504 type 'E' not implemented");
      assert.equal(await c.ask("TYPE A T"), "504 type 'A T' not implemented");
      assert.equal(await c.ask("TYPE FOO"), "501 syntax error in type 'FOO'");
      assert.equal(await c.ask("MODE s"), "200 mode set to S");
      assert.equal(await c.ask("MODE B"), "504 mode 'B' not implemented");
      assert.equal(await c.ask("MODE X"), "501 syntax error in mode 'X'");
      assert.equal(await c.ask("STRU F"), "200 structure set to F");
      assert.equal(await c.ask("STRU R"), "504 structure 'R' not implemented");
      c.close();
    });
  });

  it("PWD/XPWD quote the path, CWD/XCWD/CDUP/XCUP move, 550 for missing or files", T, async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir("/a");
    await fs.mkdir('/a/q"uote');
    const writer = (await fs.openWrite("/a/file.txt")).getWriter();
    await writer.write(new TextEncoder().encode("x"));
    await writer.close();
    await withServer({ fileSystem: fs }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login();
      assert.equal(await c.ask("CWD a"), '250 directory changed to "/a"');
      assert.equal(await c.ask('XCWD q"uote'), '250 directory changed to "/a/q""uote"');
      assert.equal(await c.ask("PWD"), '257 "/a/q""uote"');
      assert.equal(await c.ask("XPWD"), '257 "/a/q""uote"');
      assert.equal(await c.ask("CDUP"), '250 directory changed to "/a"');
      assert.equal(await c.ask("CWD missing"), "550 path does not exist");
      assert.equal(await c.ask("CWD file.txt"), "550 path is not a directory");
      assert.equal(await c.ask("XCUP"), '250 directory changed to "/"');
      assert.equal(await c.ask("CDUP"), '250 directory changed to "/"');
      assert.equal(await c.ask("CWD ../../.."), '250 directory changed to "/"');
      c.close();
    });
  });

  it("permissions: unreadable paths answer 550 permission denied before existence", T, async () => {
    const user = new User({
      login: "r",
      permissions: [new Permission("/"), new Permission("/secret", { readable: false })],
    });
    await withServer({ users: [user] }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login("r");
      assert.equal(await c.ask("CWD /secret/nothing-here"), "550 permission denied");
      assert.equal(await c.ask("CWD /nothing-here"), "550 path does not exist");
      c.close();
    });
  });
});
