/**
 * Our client against our server over FTPS: explicit and implicit TLS, passive and active data
 * connections under PROT P, transfers of several MiB with checksums, listings, REST, ABOR during
 * a protected transfer, session reuse demanded and not, and the refusals (a plain client where
 * TLS is required, an untrusted certificate, AUTH on a server without TLS).
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Client,
  type ClientOptions,
  ReplyError,
  TlsHandshakeError,
  TlsRefusedError,
  TlsSessionReuseError,
} from "../client.ts";
import { MemoryFileSystem, type ServerOptions, User } from "../server.ts";
import { TEST_CA_CERT, TEST_SERVER_CERT, TEST_SERVER_KEY } from "./fixtures/tls.ts";
import { getFile, putFile, withServer } from "./server_raw.ts";
import { randomBytes, sha256, testNetwork, within } from "./_util.ts";

const T = { timeout: 60000 };
const TLS = { cert: TEST_SERVER_CERT, key: TEST_SERVER_KEY };
const TRUST: ClientOptions = { tls: { caCerts: [TEST_CA_CERT], serverName: "localhost" } };
const canResume = testNetwork().canResumeTlsSessions === true;
const BIG = randomBytes(6 * 1024 * 1024 + 77, 5);

async function bytes(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await within(new Response(stream).arrayBuffer(), 30000, "download"));
}

async function upload(client: Client, path: string, data: Uint8Array): Promise<void> {
  const writer = (await client.uploadStream(path)).getWriter();
  await writer.write(data);
  await within(writer.close(), 30000, "upload");
}

/** A server with TLS and one user, and a logged-in FTPS client of it. */
async function withTlsPair(
  server: ServerOptions,
  client: ClientOptions,
  fn: (client: Client, fs: MemoryFileSystem) => Promise<void>,
): Promise<void> {
  const fs = new MemoryFileSystem();
  const users = [new User({ login: "alice", password: "secret" })];
  await withServer({ fileSystem: fs, tls: TLS, users, ...server }, async (s) => {
    const scheme = server.implicitTls ? "ftps" : "ftp";
    const url = `${scheme}://alice:secret@127.0.0.1:${s.address.port}/`;
    const c = await Client.connect(url, { ...TRUST, ...client });
    try {
      assert.equal(c.connection.secure, true);
      await fn(c, fs);
    } finally {
      await c.quit();
    }
  });
}

for (const implicitTls of [false, true]) {
  for (const mode of ["passive", "active"] as const) {
    describe(`client ↔ server FTPS (${implicitTls ? "implicit" : "explicit"}, ${mode})`, () => {
      const secure = implicitTls ? undefined : true;
      it("uploads and downloads several MiB with matching checksums, and lists", T, async () => {
        await withTlsPair({ implicitTls }, { secure, mode }, async (client, fs) => {
          await upload(client, "big.bin", BIG);
          assert.equal(sha256(await getFile(fs, "/big.bin")), sha256(BIG));
          assert.equal(sha256(await bytes(await client.downloadStream("big.bin"))), sha256(BIG));
          const names = (await client.listAll()).map((item) => item.info.name);
          assert.deepEqual(names, ["big.bin"]);
          assert.equal((await client.stat("big.bin")).size, BIG.length);
        });
      });

      it("resumes a download at an offset (REST)", T, async () => {
        await withTlsPair({ implicitTls }, { secure, mode }, async (client, fs) => {
          await putFile(fs, "/big.bin", BIG);
          const tail = await bytes(await client.downloadStream("big.bin", { offset: 1_000_003 }));
          assert.equal(sha256(tail), sha256(BIG.subarray(1_000_003)));
        });
      });
    });
  }
}

describe("client ↔ server FTPS: abort, session reuse, refusals", () => {
  it("aborts a protected download mid-way and stays usable", T, async () => {
    await withTlsPair({}, { secure: true }, async (client, fs) => {
      await putFile(fs, "/huge.bin", randomBytes(48 * 1024 * 1024, 9));
      const stream = await client.getStream("RETR huge.bin");
      const reader = stream.readable.getReader();
      await reader.read();
      reader.releaseLock();
      await within(stream.abort(), 10000, "abort");
      await putFile(fs, "/small.txt", "still here");
      const text = new TextDecoder().decode(await bytes(await client.downloadStream("small.txt")));
      assert.equal(text, "still here");
    });
  });

  it(
    "requireTlsSessionReuse: data connections resume the control session where the runtime can",
    T,
    async () => {
      const fs = new MemoryFileSystem();
      await putFile(fs, "/a.txt", "resumed");
      await withServer(
        { fileSystem: fs, tls: TLS, requireTlsSessionReuse: true },
        async (s) => {
          const client = await Client.connect("127.0.0.1", s.address.port, {
            ...TRUST,
            secure: true,
          });
          try {
            await client.login();
            if (canResume) {
              const stream = await client.getStream("RETR a.txt");
              assert.equal(stream.tlsSessionReused, true);
              assert.equal(new TextDecoder().decode(await bytes(stream.readable)), "resumed");
              await stream.finish("2xx");
            } else {
              await assert.rejects(
                async () => await bytes(await client.downloadStream("a.txt")),
                (error) => {
                  assert.ok(error instanceof TlsSessionReuseError, String(error));
                  assert.match(error.message, /Deno cannot/);
                  return true;
                },
              );
            }
          } finally {
            await client.quit();
          }
        },
      );
    },
  );

  it("without requireTlsSessionReuse every runtime transfers over TLS", T, async () => {
    await withTlsPair({ requireTlsSessionReuse: false }, { secure: true }, async (client, fs) => {
      await putFile(fs, "/a.txt", "fresh or resumed");
      const stream = await client.getStream("RETR a.txt");
      assert.equal(stream.secure, true);
      assert.equal(new TextDecoder().decode(await bytes(stream.readable)), "fresh or resumed");
      await stream.finish("2xx");
    });
  });

  it("a plain client against a TLS-required server gets 530, not a hang", T, async () => {
    await withServer({ tls: TLS, requireTls: "all" }, async (s) => {
      await assert.rejects(
        within(Client.connect(`ftp://127.0.0.1:${s.address.port}/`), 10000, "connect"),
        (error) => {
          assert.ok(error instanceof ReplyError, String(error));
          assert.equal(error.code, 530);
          assert.match(error.message, /TLS required/);
          return true;
        },
      );
    });
  });

  it("secure: true against a server without TLS fails with TlsRefusedError (502)", T, async () => {
    await withServer({}, async (s) => {
      await assert.rejects(
        Client.connect(`ftp://127.0.0.1:${s.address.port}/`, { ...TRUST, secure: true }),
        (error) => {
          assert.ok(error instanceof TlsRefusedError, String(error));
          assert.equal(error.code, 502);
          return true;
        },
      );
    });
  });

  it(
    "an untrusted certificate fails with an error that says so; rejectUnauthorized: false works",
    T,
    async () => {
      await withServer({ tls: TLS }, async (s) => {
        const url = `ftp://127.0.0.1:${s.address.port}/`;
        await assert.rejects(Client.connect(url, { secure: true }), (error) => {
          assert.ok(error instanceof TlsHandshakeError, String(error));
          assert.equal(error.reason, "untrusted");
          assert.match(error.message, /not trusted/);
          return true;
        });
        const insecure = await Client.connect(url, {
          secure: true,
          tls: { rejectUnauthorized: false },
        });
        assert.equal(insecure.connection.secure, true);
        assert.equal(await insecure.pwd(), "/");
        await insecure.quit();
      });
    },
  );
});
