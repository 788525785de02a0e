/**
 * The server's FTPS (RFC 4217), driven by a raw client: AUTH/PBSZ/PROT/CCC and their replies,
 * the upgrade in place and what it refuses, implicit TLS, PROT P data connections in passive
 * and active mode, session reuse, and the TLS policy.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseEpsvReply } from "../lib/protocol/address.ts";
import type { Conn } from "../lib/socket.ts";
import { MemoryFileSystem, Server, type ServerOptions, User } from "../server.ts";
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
import { randomBytes, sha256, testNetwork, within } from "./_util.ts";

const T = { timeout: 30000 };
const TLS = { cert: TEST_SERVER_CERT, key: TEST_SERVER_KEY };
const canResume = testNetwork().canResumeTlsSessions === true;

/** A logged-in client that secured its control connection and chose PROT. */
async function securedSession(
  options: ServerOptions,
  fn: (c: RawControl, fs: MemoryFileSystem) => Promise<void>,
  prot: "C" | "P" = "P",
): Promise<void> {
  const fs = new MemoryFileSystem();
  await withServer({ fileSystem: fs, tls: TLS, ...options }, async (server) => {
    const c = await RawControl.connect(server.address);
    try {
      await c.secure(prot);
      await c.login();
      await fn(c, fs);
    } finally {
      c.close();
    }
  });
}

/** EPSV, connect, and (unless `secure` is false) the TLS client handshake resuming the control session. */
async function protectedData(
  c: RawControl,
  options: { resume?: boolean; secure?: boolean } = {},
): Promise<{ tcp: Conn; open(): Promise<Conn> }> {
  const reply = await c.command("EPSV");
  assert.equal(reply.code, 229);
  const port = parseEpsvReply(reply.lines[0]);
  const tcp = await testNetwork().connect({ hostname: "127.0.0.1", port });
  return {
    tcp,
    open: () =>
      options.secure === false ? Promise.resolve(tcp) : within(
        tcp.startTls({
          ...TEST_CLIENT_TLS,
          resumeSessionOf: options.resume === false ? undefined : c.conn,
        }),
        5000,
        "data handshake",
      ),
  };
}

describe("server: FTPS", () => {
  it(
    "FEAT lists AUTH TLS, PBSZ and PROT only with a certificate; AUTH without one is 502",
    T,
    async () => {
      await withServer({}, async (server) => {
        const c = await RawControl.connect(server.address);
        const feat = (await c.command("FEAT")).lines.join("\n");
        assert.doesNotMatch(feat, /AUTH|PBSZ|PROT/);
        assert.equal(await c.ask("AUTH TLS"), "502 TLS is not configured on this server");
        c.close();
      });
      await withServer({ tls: TLS }, async (server) => {
        const c = await RawControl.connect(server.address);
        const feat = (await c.command("FEAT")).lines;
        for (const line of [" AUTH TLS", " PBSZ", " PROT"]) assert.ok(feat.includes(line), line);
        c.close();
      });
    },
  );

  it("AUTH TLS upgrades in place; PBSZ, PROT and CCC answer per RFC 4217", T, async () => {
    await withServer({ tls: TLS }, async (server) => {
      const c = await RawControl.connect(server.address);
      assert.equal(
        await c.ask("PBSZ 0"),
        "503 bad sequence of commands (PBSZ needs AUTH TLS first)",
      );
      assert.equal(await c.ask("CCC"), "533 the control connection is not secured");
      assert.equal(
        await c.ask("AUTH KERBEROS_V4"),
        "504 security mechanism 'KERBEROS_V4' not understood",
      );
      assert.equal(await c.ask("AUTH TLS"), "234 AUTH TLS successful, starting the TLS handshake");
      await c.startTls();
      assert.equal(c.conn.secure, true);
      assert.equal(await c.ask("AUTH TLS"), "503 the control connection is already secured");
      assert.equal(
        await c.ask("PROT P"),
        "503 bad sequence of commands (PROT needs AUTH TLS and PBSZ first)",
      );
      assert.equal(await c.ask("PBSZ x"), "501 syntax error, use PBSZ 0");
      assert.equal(await c.ask("PBSZ 1024"), "200 PBSZ=0");
      assert.equal(await c.ask("PROT S"), "536 protection level S not supported");
      assert.equal(await c.ask("PROT Q"), "504 protection level 'Q' not understood");
      assert.equal(await c.ask("PROT P"), "200 protection level set to P");
      assert.equal(await c.ask("CCC"), "534 CCC refused: the control connection stays secured");
      const stat = (await c.command("STAT")).lines;
      assert.ok(stat.includes(" Control connection secured with TLS"), stat.join("|"));
      assert.ok(stat.includes(" Data protection: private (TLS)"), stat.join("|"));
      await c.login();
      assert.equal(await c.ask("PWD"), '257 "/"');
      c.close();
    });
  });

  it("commands pipelined behind AUTH TLS are discarded with 503, never run", T, async () => {
    await withServer({ tls: TLS }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.sendRaw("AUTH TLS\r\nUSER anonymous\r\nPASS x\r\n");
      assert.equal(
        await c.next(),
        "503 commands sent behind AUTH were discarded, no TLS handshake",
      );
      // Neither USER nor PASS ran: the session is not logged in, and nothing else is owed.
      assert.equal(await c.ask("PWD"), "530 Please login with USER and PASS");
      assert.equal(c.conn.secure, false);
      c.close();
    });
  });

  it("a USER named before AUTH must log in again under TLS", T, async () => {
    await withServer({ tls: TLS, users: [new User({ login: "u", password: "p" })] }, async (s) => {
      const c = await RawControl.connect(s.address);
      assert.equal(await c.ask("USER u"), "331 password required");
      await c.secure();
      assert.equal(
        await c.ask("PASS p"),
        "503 bad sequence of commands (no user (use USER firstly))",
      );
      await c.login("u", "p");
      c.close();
    });
  });

  it("PROT P: RETR, STOR and LIST move exact bytes over TLS in passive mode", T, async () => {
    await securedSession({}, async (c, fs) => {
      const payload = randomBytes(3 * 1024 * 1024 + 7);
      await putFile(fs, "/big.bin", payload);
      let data = await protectedData(c);
      await c.send("RETR big.bin");
      let conn = await data.open();
      assert.equal(await c.next(), "150 data transfer started");
      assert.equal(sha256(await readAll(conn)), sha256(payload));
      assert.equal(await c.next(), "226 transfer done");
      assert.equal(conn.secure, true);

      data = await protectedData(c);
      await c.send("STOR up.bin");
      conn = await data.open();
      assert.equal(await c.next(), "150 data transfer started");
      await writeAll(conn, payload);
      assert.equal(await c.next(), "226 transfer done");
      assert.equal(sha256(await getFile(fs, "/up.bin")), sha256(payload));

      data = await protectedData(c);
      await c.send("NLST");
      conn = await data.open();
      assert.equal(await c.next(), "150 list transfer started");
      assert.equal(text(await readAll(conn)), "big.bin\r\nup.bin\r\n");
      assert.equal(await c.next(), "226 list transfer done");

      data = await protectedData(c);
      await c.send("REST 1000");
      assert.equal(await c.next(), "350 restarting at 1000");
      await c.send("RETR big.bin");
      conn = await data.open();
      assert.equal(await c.next(), "150 data transfer started");
      assert.equal(sha256(await readAll(conn)), sha256(payload.subarray(1000)));
      assert.equal(await c.next(), "226 transfer done");
    });
  });

  it(
    "PROT P in active mode: the server connects and still runs the TLS server handshake",
    T,
    async () => {
      await securedSession({}, async (c, fs) => {
        await putFile(fs, "/a.txt", "active and private");
        const listener = await testNetwork().listen({ hostname: "127.0.0.1", port: 0 });
        try {
          assert.equal(
            await c.ask(`EPRT |1|127.0.0.1|${listener.addr.port}|`),
            "200 EPRT command successful",
          );
          await c.send("RETR a.txt");
          const accepted = await within(listener.accept(), 5000, "server's data connection");
          const conn = await within(
            accepted.startTls({ ...TEST_CLIENT_TLS, resumeSessionOf: c.conn }),
            5000,
            "handshake",
          );
          assert.equal(await c.next(), "150 data transfer started");
          assert.equal(text(await readAll(conn)), "active and private");
          assert.equal(await c.next(), "226 transfer done");
        } finally {
          await listener.close();
        }
      });
    },
  );

  it("PROT C after PROT P sends data in clear text again", T, async () => {
    await securedSession({}, async (c, fs) => {
      await putFile(fs, "/a.txt", "clear");
      assert.equal(await c.ask("PROT C"), "200 protection level set to C");
      const data = await protectedData(c, { secure: false });
      await c.send("RETR a.txt");
      const conn = await data.open();
      assert.equal(await c.next(), "150 data transfer started");
      assert.equal(text(await readAll(conn)), "clear");
      assert.equal(await c.next(), "226 transfer done");
    });
  });

  it("a data handshake that sees garbage ends with 425; the session lives on", T, async () => {
    await securedSession({ dataConnectTimeout: 3000 }, async (c, fs) => {
      await putFile(fs, "/a.txt", "x");
      const data = await protectedData(c, { secure: false });
      await c.send("RETR a.txt");
      assert.equal(await c.next(), "150 data transfer started");
      await writeAll(data.tcp, new TextEncoder().encode("this is no ClientHello\r\n".repeat(40)));
      assert.equal(await c.next(), "425 TLS handshake on the data connection failed");
      data.tcp.close();
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
    });
  });

  it("a data handshake that never starts ends with 425 after dataConnectTimeout", T, async () => {
    await securedSession({ dataConnectTimeout: 500 }, async (c, fs) => {
      await putFile(fs, "/a.txt", "x");
      const data = await protectedData(c, { secure: false });
      await c.send("RETR a.txt");
      assert.equal(await c.next(), "150 data transfer started");
      assert.equal(await c.next(), "425 TLS handshake on the data connection failed");
      data.tcp.close();
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
    });
  });

  it("ABOR during a protected transfer: 426, then 226", T, async () => {
    await securedSession({}, async (c, fs) => {
      await putFile(fs, "/big.bin", randomBytes(32 * 1024 * 1024));
      const data = await protectedData(c);
      await c.send("RETR big.bin");
      const conn = await data.open();
      assert.equal(await c.next(), "150 data transfer started");
      const reader = conn.readable.getReader();
      await reader.read();
      assert.equal(await c.ask("ABOR"), "426 transfer aborted");
      assert.equal(await c.next(), "226 abort successful");
      reader.releaseLock();
      conn.close();
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
    });
  });

  it(
    "requireTlsSessionReuse refuses a data connection that does not resume the session (522)",
    T,
    async () => {
      await securedSession({ requireTlsSessionReuse: true }, async (c, fs) => {
        await putFile(fs, "/a.txt", "reused");
        const fresh = await protectedData(c, { resume: false });
        await c.send("RETR a.txt");
        const conn = await fresh.open().catch(() => undefined);
        assert.equal(await c.next(), "150 data transfer started");
        assert.equal(await c.next(), "522 TLS session reuse required on data connections");
        conn?.close();
        if (!canResume) return;
        const resumed = await protectedData(c);
        await c.send("RETR a.txt");
        const ok = await resumed.open();
        assert.equal(ok.tlsSessionReused, true);
        assert.equal(await c.next(), "150 data transfer started");
        assert.equal(text(await readAll(ok)), "reused");
        assert.equal(await c.next(), "226 transfer done");
      });
    },
  );

  it("a session resumed from another control connection does not pass for this one", {
    ...T,
    skip: !canResume && "this runtime cannot resume TLS sessions",
  }, async () => {
    await withServer({ tls: TLS, requireTlsSessionReuse: true }, async (server) => {
      const other = await RawControl.connect(server.address);
      const c = await RawControl.connect(server.address);
      try {
        await other.secure("P");
        await c.secure("P");
        await c.login();
        const reply = await c.command("EPSV");
        const tcp = await testNetwork().connect({
          hostname: "127.0.0.1",
          port: parseEpsvReply(reply.lines[0]),
        });
        await c.send("NLST");
        const conn = await tcp.startTls({ ...TEST_CLIENT_TLS, resumeSessionOf: other.conn })
          .catch(() => undefined);
        assert.equal(await c.next(), "150 list transfer started");
        assert.equal(await c.next(), "522 TLS session reuse required on data connections");
        conn?.close();
      } finally {
        other.close();
        c.close();
      }
    });
  });
});

describe("server: implicit FTPS", () => {
  it("speaks TLS from the first byte: greeting, login and a PROT P transfer", T, async () => {
    const fs = new MemoryFileSystem();
    await putFile(fs, "/a.txt", "implicit");
    await withServer({ fileSystem: fs, tls: TLS, implicitTls: true }, async (server) => {
      const c = await RawControl.connect(server.address, TEST_CLIENT_TLS);
      assert.equal(c.greeting.code, 220);
      assert.equal(c.conn.secure, true);
      assert.equal(await c.ask("AUTH TLS"), "503 the control connection is already secured");
      assert.equal(await c.ask("PBSZ 0"), "200 PBSZ=0");
      assert.equal(await c.ask("PROT P"), "200 protection level set to P");
      await c.login();
      const data = await protectedData(c);
      await c.send("RETR a.txt");
      const conn = await data.open();
      assert.equal(await c.next(), "150 data transfer started");
      assert.equal(text(await readAll(conn)), "implicit");
      assert.equal(await c.next(), "226 transfer done");
      c.close();
    });
  });

  it(
    "plain text gets no greeting and is closed; a client that says nothing times out",
    T,
    async () => {
      await withServer(
        { tls: TLS, implicitTls: true, tlsHandshakeTimeout: 500 },
        async (server) => {
          for (const message of ["USER anonymous\r\n", ""]) {
            const conn = await testNetwork().connect({
              hostname: "127.0.0.1",
              port: server.address.port,
            });
            const writer = conn.writable.getWriter();
            if (message) await writer.write(new TextEncoder().encode(message));
            const received = await readAll(conn, 5000).catch(() => new Uint8Array(0));
            assert.doesNotMatch(text(received), /220/);
            conn.close();
          }
          const c = await RawControl.connect(server.address, TEST_CLIENT_TLS);
          assert.equal(c.greeting.code, 220);
          c.close();
        },
      );
    },
  );
});

describe("server: TLS policy", () => {
  const alice = () => new User({ login: "alice", password: "secret" });

  it(
    'requireTls "all": USER in clear text is 530, under TLS it works; PROT C data is 521',
    T,
    async () => {
      await withServer({ tls: TLS, requireTls: "all", users: [alice(), new User()] }, async (s) => {
        const c = await RawControl.connect(s.address);
        assert.equal(await c.ask("USER alice"), "530 TLS required: send AUTH TLS before USER");
        assert.equal(await c.ask("USER anonymous"), "530 TLS required: send AUTH TLS before USER");
        await c.secure("C");
        await c.login("alice", "secret");
        assert.equal((await c.command("EPSV")).code, 229);
        assert.equal(
          await c.ask("LIST"),
          "521 data connections must be protected: send PBSZ 0 and PROT P",
        );
        assert.equal(await c.ask("PROT P"), "200 protection level set to P");
        const data = await protectedData(c);
        await c.send("NLST");
        const conn = await data.open();
        assert.equal(await c.next(), "150 list transfer started");
        await readAll(conn);
        assert.equal(await c.next(), "226 list transfer done");
        c.close();
      });
    },
  );

  it('requireTls "non-anonymous": anonymous may stay in clear text, alice may not', T, async () => {
    const fs = new MemoryFileSystem();
    await putFile(fs, "/a.txt", "public");
    await withServer(
      { fileSystem: fs, tls: TLS, requireTls: "non-anonymous", users: [alice(), new User()] },
      async (s) => {
        const c = await RawControl.connect(s.address);
        assert.equal(await c.ask("USER alice"), "530 TLS required: send AUTH TLS before USER");
        await c.login("anonymous", "x");
        const pasv = await c.pasv();
        await c.send("RETR a.txt");
        assert.equal(await c.next(), "150 data transfer started");
        assert.equal(text(await readAll(pasv)), "public");
        assert.equal(await c.next(), "226 transfer done");
        c.close();
      },
    );
  });

  it("a policy that requires TLS without a certificate is refused at construction", () => {
    assert.throws(() => new Server({ requireTls: "all" }), /no tls certificate/);
    assert.throws(() => new Server({ implicitTls: true }), /no tls certificate/);
  });
});
