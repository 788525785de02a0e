/**
 * The client's FTPS against scripted servers: the order of AUTH TLS, login, PBSZ and PROT;
 * protected transfers in passive and active mode; refusals (AUTH TLS, PROT P) that end in a
 * typed error with nothing sent in clear behind them; a reply smuggled in behind the 234;
 * handshake failures in plain words (untrusted certificate, wrong name, a server that does not
 * speak TLS, a data handshake that never finishes); implicit TLS; a data connection refused for
 * lack of session reuse; and the option checks.
 *
 * @module
 */

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  Client,
  type ClientOptions,
  ProtocolError,
  TimeoutError,
  TlsError,
  TlsHandshakeError,
  TlsRefusedError,
  TlsSessionReuseError,
} from "../client.ts";
import { parseFtpUrl } from "../lib/client/ftp_url.ts";
import type { Conn, Listener } from "../lib/socket.ts";
import { concatBytes } from "../lib/stream/bytes.ts";
import { LineReader } from "../lib/stream/line_reader.ts";
import { randomBytes, sha256, testNetwork, within } from "./_util.ts";
import { TEST_CA_CERT, TEST_SERVER_CERT, TEST_SERVER_KEY } from "./fixtures/tls.ts";

const encoder = new TextEncoder();

/** One control connection of a scripted FTPS server. */
class TlsSession {
  conn: Conn;
  /** Every command line received, in order, with whether it came over TLS. */
  readonly received: { line: string; secure: boolean }[] = [];
  /** The scope the control connection's TLS sessions live in (data connections may resume). */
  readonly scope = {};
  /** The last passive data listener. */
  listener: Listener | undefined;
  #lines: LineReader;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #listeners: Listener[] = [];
  readonly #data: Conn[] = [];
  /** Aborts handshakes in progress when the session closes. */
  readonly #closing = new AbortController();

  constructor(conn: Conn) {
    this.conn = conn;
    this.#lines = new LineReader(conn.readable);
    this.#writer = conn.writable.getWriter();
  }

  /** Sends reply lines in one write (CRLF added to each). */
  async send(...lines: string[]): Promise<void> {
    await this.#writer.write(encoder.encode(lines.map((l) => `${l}\r\n`).join("")));
  }

  /** Reads the next command line, `null` when the client closed. */
  async read(): Promise<string | null> {
    const line = await this.#lines.readLine().catch(() => null);
    if (line !== null) this.received.push({ line, secure: this.conn.secure });
    return line;
  }

  /** The commands received, without the TLS flag. */
  get lines(): string[] {
    return this.received.map((r) => r.line);
  }

  /** Runs the TLS server handshake on the control connection. */
  async upgrade(): Promise<void> {
    const rest = this.#lines.releaseLock();
    assert.equal(rest.length, 0, "client sent bytes before the handshake");
    this.#writer.releaseLock();
    this.conn = await this.handshake(this.conn);
    this.#lines = new LineReader(this.conn.readable);
    this.#writer = this.conn.writable.getWriter();
  }

  /** Releases the control streams for raw access. */
  raw(): { reader: ReadableStreamDefaultReader<Uint8Array>; writer: WritableStreamDefaultWriter } {
    this.#lines.releaseLock();
    this.#writer.releaseLock();
    return { reader: this.conn.readable.getReader(), writer: this.conn.writable.getWriter() };
  }

  /** Opens a passive data listener and answers EPSV with its port. */
  async epsv(): Promise<Listener> {
    const listener = await testNetwork().listen({ hostname: "127.0.0.1", port: 0 });
    this.#listeners.push(listener);
    this.listener = listener;
    await this.send(`229 Entering Extended Passive Mode (|||${listener.addr.port}|)`);
    return listener;
  }

  /**
   * Runs the TLS server handshake on a connection, given up when the session closes (a client
   * that rejects the certificate may leave the server's side of the handshake pending).
   */
  async handshake(conn: Conn, scope: object = this.scope): Promise<Conn> {
    const signal = this.#closing.signal;
    const attempt = conn.startTls(serverTls(scope), signal);
    const closed = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(new Error("session closed"));
      signal.addEventListener("abort", () => reject(new Error("session closed")), { once: true });
    });
    attempt.then((secured) => signal.aborted && secured.close(), () => {});
    return this.track(await Promise.race([attempt, closed]));
  }

  /** Keeps a data connection for closing with the session. */
  track(conn: Conn): Conn {
    this.#data.push(conn);
    return conn;
  }

  close(): void {
    this.#closing.abort();
    this.conn.close();
    for (const conn of this.#data) conn.close();
    for (const listener of this.#listeners) void listener.close().catch(() => {});
  }
}

function serverTls(scope: object) {
  return {
    role: "server" as const,
    cert: TEST_SERVER_CERT,
    key: TEST_SERVER_KEY,
    sessionScope: scope,
  };
}

interface Scripted {
  port: number;
  sessions: TlsSession[];
  errors: unknown[];
  close(): Promise<void>;
}

const servers: Scripted[] = [];

/**
 * Starts a scripted server. With `implicit`, every connection runs the TLS handshake first.
 */
async function scripted(
  script: (s: TlsSession) => Promise<void>,
  implicit = false,
): Promise<Scripted> {
  const listener = await testNetwork().listen({ hostname: "127.0.0.1", port: 0 });
  const sessions: TlsSession[] = [];
  const errors: unknown[] = [];
  const done: Promise<void>[] = [];
  void (async () => {
    while (true) {
      let conn: Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      done.push((async () => {
        const session = new TlsSession(conn);
        sessions.push(session);
        try {
          if (implicit) await session.upgrade();
          await script(session);
        } catch (error) {
          errors.push(error);
        } finally {
          session.close();
        }
      })());
    }
  })();
  const server: Scripted = {
    port: listener.addr.port,
    sessions,
    errors,
    async close() {
      await listener.close().catch(() => {});
      for (const session of sessions) session.close();
      await Promise.all(done);
    },
  };
  servers.push(server);
  return server;
}

/** What the standard FTPS script stores and serves. */
interface Store {
  files: Map<string, Uint8Array>;
}

/**
 * A server that wants, like most, PBSZ and PROT after login: answers AUTH TLS, USER, PASS,
 * PBSZ, PROT, TYPE, PWD, NOOP, EPSV, EPRT, RETR, STOR and QUIT, with TLS on data connections
 * once PROT P is set (the server is the TLS server, in active mode too).
 */
function ftpsScript(store: Store, extra?: (s: TlsSession, line: string) => Promise<boolean>) {
  return async (s: TlsSession) => {
    await s.send("220 scripted FTPS");
    let loggedIn = false;
    let prot = "C";
    let passive: Listener | undefined;
    let active: { hostname: string; port: number } | undefined;
    const dataConn = async (): Promise<Conn> => {
      const plain = s.track(
        passive
          ? await passive.accept()
          : await testNetwork().connect({ hostname: active!.hostname, port: active!.port }),
      );
      if (prot !== "P") return plain;
      return await s.handshake(plain);
    };
    while (true) {
      const line = await s.read();
      if (line === null) return;
      const [verb, ...rest] = line.split(" ");
      const argument = rest.join(" ");
      if (extra && await extra(s, line)) continue;
      switch (verb.toUpperCase()) {
        case "AUTH":
          await s.send("234 AUTH TLS successful");
          await s.upgrade();
          break;
        case "USER":
          await s.send("331 password please");
          break;
        case "PASS":
          loggedIn = true;
          await s.send("230 logged in");
          break;
        case "PBSZ":
          await s.send(loggedIn ? "200 PBSZ=0" : "503 Login with USER first");
          break;
        case "PROT":
          if (!loggedIn) await s.send("503 Login with USER first");
          else {
            prot = argument.toUpperCase();
            await s.send(`200 PROT now ${prot}`);
          }
          break;
        case "TYPE":
          await s.send("200 type set");
          break;
        case "PWD":
          await s.send('257 "/" is the current directory');
          break;
        case "NOOP":
          await s.send("200 ok");
          break;
        case "EPSV":
          active = undefined;
          passive = await s.epsv();
          break;
        case "EPRT": {
          const [, , hostname, port] = argument.split("|");
          passive = undefined;
          active = { hostname, port: Number(port) };
          await s.send("200 EPRT ok");
          break;
        }
        case "RETR": {
          const data = store.files.get(argument);
          if (!data) {
            await s.send("550 no such file");
            break;
          }
          await s.send("150 sending");
          const conn = await dataConn();
          const writer = conn.writable.getWriter();
          await writer.write(data);
          await writer.close();
          conn.close();
          await s.send("226 done");
          break;
        }
        case "STOR": {
          await s.send("150 receiving");
          const conn = await dataConn();
          const chunks: Uint8Array[] = [];
          for await (const chunk of conn.readable) chunks.push(chunk);
          conn.close();
          store.files.set(argument, concatBytes(chunks));
          await s.send("226 stored");
          break;
        }
        case "QUIT":
          await s.send("221 bye");
          return;
        default:
          await s.send("502 not implemented");
      }
    }
  };
}

const trusted = (extra: ClientOptions = {}): ClientOptions => ({
  network: testNetwork(),
  socketTimeout: 10000,
  secure: true,
  tls: { caCerts: [TEST_CA_CERT] },
  ...extra,
});

function connect(port: number, options: ClientOptions = trusted()): Promise<Client> {
  return within(Client.connect("127.0.0.1", port, options), 10000, "connect");
}

describe("client FTPS against scripted servers", () => {
  after(async () => {
    for (const server of servers) await server.close();
  });

  it("sends AUTH TLS, logs in over TLS, then PBSZ 0 and PROT P; transfers are protected", {
    timeout: 30000,
  }, async () => {
    const store: Store = { files: new Map([["big.bin", randomBytes(3 * 1024 * 1024 + 7, 3)]]) };
    const server = await scripted(ftpsScript(store));
    const client = await connect(server.port);
    assert.equal(client.connection.secure, true);
    await client.login("user", "secret");
    for (const mode of ["passive", "active"] as const) {
      client.mode = mode;
      const upload = randomBytes(1024 * 1024 + 3, mode === "passive" ? 4 : 5);
      const stream = await client.getStream(`STOR up-${mode}.bin`);
      assert.equal(stream.secure, true, `${mode} data connection runs TLS`);
      const writer = stream.writable.getWriter();
      await writer.write(upload);
      await writer.close();
      assert.equal((await stream.finish()).code, 226);
      assert.equal(sha256(store.files.get(`up-${mode}.bin`)!), sha256(upload), mode);
      const body = await new Response(await client.downloadStream("big.bin")).arrayBuffer();
      assert.equal(sha256(new Uint8Array(body)), sha256(store.files.get("big.bin")!), mode);
    }
    await client.quit();
    const session = server.sessions[0];
    assert.deepEqual(session.lines.slice(0, 5), [
      "AUTH TLS",
      "USER user",
      "PASS secret",
      "PBSZ 0",
      "PROT P",
    ]);
    // Only AUTH TLS went in clear.
    assert.deepEqual(session.received.filter((r) => !r.secure).map((r) => r.line), ["AUTH TLS"]);
    assert.deepEqual(server.errors, []);
  });

  it("accepts 334 to AUTH TLS", { timeout: 20000 }, async () => {
    const server = await scripted(ftpsScript({ files: new Map() }, async (s, line) => {
      if (line !== "AUTH TLS") return false;
      await s.send("334 go ahead");
      await s.upgrade();
      return true;
    }));
    const client = await connect(server.port);
    assert.equal(client.connection.secure, true);
    await client.login();
    assert.equal(await client.pwd(), "/");
    await client.quit();
  });

  for (const code of ["500 AUTH not understood", "502 no TLS here", "530 log in first"]) {
    it(`fails with TlsRefusedError on "${code}" and sends nothing more`, {
      timeout: 20000,
    }, async () => {
      let closed!: () => void;
      const sessionEnded = new Promise<void>((resolve) => (closed = resolve));
      const server = await scripted(async (s) => {
        await s.send("220 plain only");
        while (true) {
          const line = await s.read();
          if (line === null) break;
          if (line.startsWith("AUTH")) await s.send(code);
          else await s.send("230 anything goes");
        }
        closed();
      });
      await assert.rejects(connect(server.port), (error) => {
        assert.ok(error instanceof TlsRefusedError, String(error));
        assert.ok(error instanceof TlsError);
        assert.equal(error.command, "AUTH TLS");
        assert.equal(error.code, Number(code.slice(0, 3)));
        return true;
      });
      await within(sessionEnded, 10000, "client closing");
      assert.deepEqual(server.sessions[0].lines, ["AUTH TLS"]);
    });
  }

  it("refuses a reply that came in the same segment as the 234", { timeout: 20000 }, async () => {
    let extraBytes = -1;
    const server = await scripted(async (s) => {
      await s.send("220 ready");
      assert.equal(await s.read(), "AUTH TLS");
      await s.send("234 go ahead", "230 injected before the handshake");
      const { reader } = s.raw();
      extraBytes = 0;
      while (true) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) break;
        extraBytes += value!.length;
      }
    });
    await assert.rejects(
      connect(server.port),
      (error) => error instanceof ProtocolError && /before the handshake/.test(error.message),
    );
    await within(server.close(), 10000, "server end");
    assert.equal(extraBytes, 0, "no handshake was started");
  });

  it("fails with TlsRefusedError when PROT P is refused, before any data connection", {
    timeout: 20000,
  }, async () => {
    const server = await scripted(ftpsScript({ files: new Map() }, async (s, line) => {
      if (!line.startsWith("PROT")) return false;
      await s.send("534 data protection refused by policy");
      return true;
    }));
    const client = await connect(server.port);
    await assert.rejects(
      client.login(),
      (error) =>
        error instanceof TlsRefusedError && error.command === "PROT P" &&
        error.code === 534,
    );
    // A transfer asks again, and fails again: data never goes in clear.
    await assert.rejects(client.downloadStream("x"), TlsRefusedError);
    await client.quit();
    const lines = server.sessions[0].lines;
    assert.ok(!lines.some((l) => l === "EPSV" || l.startsWith("RETR")), lines.join(","));
  });

  it("says the certificate is not trusted; rejectUnauthorized: false connects anyway", {
    timeout: 20000,
  }, async () => {
    const server = await scripted(ftpsScript({ files: new Map([["f", encoder.encode("ok")]]) }));
    await assert.rejects(
      connect(server.port, { ...trusted(), tls: {} }),
      (error) => {
        assert.ok(error instanceof TlsHandshakeError, String(error));
        assert.equal(error.reason, "untrusted", error.message);
        assert.equal(error.channel, "control");
        assert.match(
          error.message,
          new RegExp(
            `^TLS handshake with 127\\.0\\.0\\.1:${server.port} failed: certificate not trusted`,
          ),
        );
        assert.ok(error.cause !== undefined);
        return true;
      },
    );
    const client = await connect(server.port, { ...trusted(), tls: { rejectUnauthorized: false } });
    await client.login();
    assert.equal(await new Response(await client.downloadStream("f")).text(), "ok");
    await client.quit();
  });

  it("says the certificate does not match the server name", { timeout: 20000 }, async () => {
    const server = await scripted(ftpsScript({ files: new Map() }));
    await assert.rejects(
      connect(
        server.port,
        trusted({ tls: { caCerts: [TEST_CA_CERT], serverName: "ftp.example.com" } }),
      ),
      (error) => {
        assert.ok(error instanceof TlsHandshakeError, String(error));
        assert.equal(error.reason, "name-mismatch", error.message);
        assert.match(error.message, /certificate does not match the server name/);
        return true;
      },
    );
  });

  it("says when the server does not speak TLS after its 234", { timeout: 20000 }, async () => {
    const server = await scripted(async (s) => {
      await s.send("220 ready");
      assert.equal(await s.read(), "AUTH TLS");
      await s.send("234 go ahead");
      const { reader, writer } = s.raw();
      await reader.read(); // the ClientHello
      await writer.write(encoder.encode("500 this is not TLS at all, just text\r\n"));
      await writer.close().catch(() => {});
    });
    await assert.rejects(connect(server.port), (error) => {
      assert.ok(error instanceof TlsHandshakeError, String(error));
      assert.match(error.message, /^TLS handshake with 127\.0\.0\.1:\d+ failed: /);
      assert.ok(["not-tls", "closed"].includes(error.reason), error.message);
      return true;
    });
  });

  it("bounds a data handshake that never finishes by dataConnectTimeout", {
    timeout: 20000,
  }, async () => {
    const server = await scripted(ftpsScript({ files: new Map() }, async (s, line) => {
      if (line.startsWith("RETR")) {
        await s.send("150 sending, but never a TLS handshake");
        return true;
      }
      if (line === "ABOR") {
        await s.send("426 aborted", "226 abort done");
        return true;
      }
      return false;
    }));
    const client = await connect(server.port, trusted({ dataConnectTimeout: 500 }));
    await client.login();
    const started = Date.now();
    await assert.rejects(
      client.downloadStream("stalled"),
      (error) =>
        error instanceof TimeoutError && /TLS handshake on the data connection/.test(error.message),
    );
    assert.ok(Date.now() - started < 5000);
    // The client is back in step.
    assert.equal(await client.pwd(), "/");
    await client.quit();
  });

  it('speaks implicit TLS for ftps:// URLs and secure: "implicit"', {
    timeout: 20000,
  }, async () => {
    const store: Store = { files: new Map([["f.txt", encoder.encode("implicit\n")]]) };
    const server = await scripted(ftpsScript(store), true);
    const url = `ftps://user:p%40ss@127.0.0.1:${server.port}/`;
    const options = {
      network: testNetwork(),
      socketTimeout: 10000,
      tls: { caCerts: [TEST_CA_CERT] },
    };
    // `secure: true` follows the URL's scheme.
    const a = await within(Client.connect(url, { ...options, secure: true }), 10000, "connect");
    assert.equal(a.connection.secure, true);
    assert.equal(await new Response(await a.downloadStream("f.txt")).text(), "implicit\n");
    await a.quit();
    const b = await connect(server.port, { ...options, secure: "implicit" });
    await b.login();
    assert.equal(await b.pwd(), "/");
    await b.quit();
    assert.deepEqual(server.sessions[0].lines.slice(0, 4), [
      "USER user",
      "PASS p@ss",
      "PBSZ 0",
      "PROT P",
    ]);
    assert.ok(server.sessions.every((s) => s.received.every((r) => r.secure)));
  });

  it("names a data connection refused for lack of TLS session reuse", {
    timeout: 20000,
  }, async () => {
    const server = await scripted(ftpsScript({ files: new Map() }, async (s, line) => {
      if (!line.startsWith("RETR")) return false;
      // vsftpd's require_ssl_reuse: a full handshake in a scope of its own, then the verdict,
      // then the end of the session.
      await s.send("150 sending");
      const plain = s.track(await s.listener!.accept());
      await s.handshake(plain, {});
      await s.send("522 SSL connection failed: session reuse required");
      s.close();
      return true;
    }));
    const client = await connect(server.port);
    await client.login();
    const download = async () => await new Response(await client.downloadStream("f")).arrayBuffer();
    await assert.rejects(download(), (error) => {
      assert.ok(error instanceof TlsSessionReuseError, String(error));
      assert.match(error.message, /^The server requires TLS session reuse on data connections/);
      assert.equal(error.reply?.code, 522);
      if (!testNetwork().canResumeTlsSessions) {
        assert.match(error.message, /cannot do; use Node or Bun/);
      }
      return true;
    });
    client.close();
  });

  it("parses ftps:// (port 990) and ftpes:// (port 21) URLs", () => {
    assert.deepEqual(parseFtpUrl("ftps://u:p%40@[::1]/d%20x"), {
      scheme: "ftps",
      hostname: "::1",
      port: 990,
      user: "u",
      password: "p@",
      path: "d x",
    });
    assert.equal(parseFtpUrl("FTPS://host:21/").port, 21);
    assert.equal(parseFtpUrl("ftps://host:2990").port, 2990);
    assert.deepEqual(
      [parseFtpUrl("ftpes://host/").scheme, parseFtpUrl("ftpes://host/").port],
      ["ftpes", 21],
    );
    assert.equal(parseFtpUrl("ftp://host/").port, 21);
    assert.throws(() => parseFtpUrl("sftp://host/"), TypeError);
  });

  it("rejects contradictory options", { timeout: 10000 }, async () => {
    const network = testNetwork();
    await assert.rejects(
      Client.connect("ftps://127.0.0.1:1/", { network, secure: "explicit" }),
      TypeError,
    );
    await assert.rejects(
      Client.connect("ftps://127.0.0.1:1/", { network, secure: false }),
      TypeError,
    );
    await assert.rejects(
      Client.connect("ftpes://127.0.0.1:1/", { network, secure: "implicit" }),
      TypeError,
    );
    await assert.rejects(
      Client.connect("127.0.0.1", 1, { network, tls: { caCerts: [] } }),
      TypeError,
    );
  });
});
