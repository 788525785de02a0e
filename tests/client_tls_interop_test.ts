/**
 * The client's FTPS against real servers: vsftpd with TLS forced on logins and data
 * (`require_ssl_reuse=YES` under Node and Bun, whose TLS resumes sessions; `NO` under Deno,
 * whose TLS cannot, plus the clear `TlsSessionReuseError` Deno gets from a server that insists),
 * vsftpd with implicit TLS, and pure-ftpd with `--tls=3`. Over protected data connections:
 * upload, download, listing (vsftpd has no MLSD: the LIST fallback), offset download, active
 * mode, abort, throttling and tree transfers, with sha256 checksums. And the refusals: a server
 * without TLS, an untrusted certificate, and `rejectUnauthorized: false`.
 *
 * @module
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  Client,
  type ClientOptions,
  TlsHandshakeError,
  TlsRefusedError,
  TlsSessionReuseError,
} from "../client.ts";
import {
  peerSkip,
  randomBytes,
  requirePeers,
  runtime,
  sha256,
  tempDir,
  testNetwork,
  within,
} from "./_util.ts";
import { TEST_CA_CERT } from "./fixtures/tls.ts";
import { isRoot, type PeerServer } from "./peers/peer.ts";
import { PURE_FTPD, PURE_PW, startPureFtpd } from "./peers/pure_ftpd.ts";
import { startVsftpd, VSFTPD } from "./peers/vsftpd.ts";

function rootSkip(name: string): false | string {
  if (isRoot) return false;
  if (requirePeers) throw new Error(`STREAMFTP_REQUIRE_PEERS=1 but ${name} needs root`);
  console.warn(`NOTICE: skipping ${name} TLS tests: they need root (chroot, the ftp account)`);
  return `${name} needs root`;
}

const vsftpdSkip = peerSkip("vsftpd", VSFTPD) || rootSkip("vsftpd");
const pureSkip = peerSkip("pure-ftpd", PURE_FTPD, PURE_PW, "/usr/bin/openssl") ||
  rootSkip("pure-ftpd");
/** Deno's TLS cannot resume sessions, so only there vsftpd runs without require_ssl_reuse. */
const requireReuse = runtime !== "deno";
const canResume = testNetwork().canResumeTlsSessions === true;

const BIG = randomBytes(5 * 1024 * 1024 + 123, 21);
const TREE: Record<string, Uint8Array> = {
  "a.txt": new TextEncoder().encode("hello over TLS\n"),
  "empty.bin": new Uint8Array(0),
  "sub/b.bin": randomBytes(700_001, 22),
  "sub/deep/c.txt": new TextEncoder().encode("deep\n"),
};

async function digests(root: string, prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) Object.assign(out, await digests(root, rel));
    else out[rel] = sha256(await readFile(join(root, rel)));
  }
  return out;
}

const treeDigests = () => Object.fromEntries(Object.entries(TREE).map(([p, d]) => [p, sha256(d)]));

const trusted: ClientOptions["tls"] = { caCerts: [TEST_CA_CERT] };

function secureOptions(extra: ClientOptions = {}): ClientOptions {
  return { network: testNetwork(), socketTimeout: 15000, secure: true, tls: trusted, ...extra };
}

async function openClient(peer: PeerServer, extra: ClientOptions = {}): Promise<Client> {
  const client = await within(
    Client.connect(peer.host, peer.port, secureOptions(extra)),
    15000,
    "connect",
  );
  await client.login(peer.user, peer.password);
  await client.cd(peer.base);
  return client;
}

/** The operations every FTPS peer gets, over protected data connections only. */
function protectedTransfers(
  start: () => Promise<PeerServer>,
  options: { active: boolean; reuse: boolean },
): void {
  let peer: PeerServer;
  let client: Client;
  let local: { path: string; remove(): Promise<void> };
  const at = (path: string) => (peer.base.endsWith("/") ? peer.base : `${peer.base}/`) + path;

  before(async () => {
    peer = await start();
    local = await tempDir("streamftp-tls-interop-");
    await writeFile(join(local.path, "big.bin"), BIG);
    for (const [path, data] of Object.entries(TREE)) {
      const full = join(local.path, "src", ...path.split("/"));
      await mkdir(join(full, ".."), { recursive: true });
      await writeFile(full, data);
    }
    client = await openClient(peer);
  });

  after(async () => {
    await client?.quit();
    await peer?.stop();
    await local?.remove();
  });

  it("secures the control connection in place", { timeout: 20000 }, async () => {
    assert.equal(client.connection.secure, true);
    assert.equal(await client.pwd(), peer.base);
  });

  it("uploads and downloads with matching sha256, data over TLS", {
    timeout: 30000,
  }, async () => {
    const stream = await client.getStream(`STOR ${at("big.bin")}`);
    assert.equal(stream.secure, true);
    if (options.reuse && canResume) assert.notEqual(stream.tlsSessionReused, false);
    const writer = stream.writable.getWriter();
    for (let offset = 0; offset < BIG.length; offset += 256 * 1024) {
      await writer.write(BIG.subarray(offset, offset + 256 * 1024));
    }
    await writer.close();
    assert.equal((await stream.finish()).code, 226);
    assert.equal(sha256(await readFile(join(peer.root, "big.bin"))), sha256(BIG));
    const body = await new Response(await client.downloadStream(at("big.bin"))).arrayBuffer();
    assert.equal(sha256(new Uint8Array(body)), sha256(BIG));
  });

  it("lists a directory", { timeout: 20000 }, async () => {
    const items = await client.listAll(peer.base);
    const big = items.find((item) => item.info.name === "big.bin");
    assert.ok(big, JSON.stringify(items.map((i) => i.info.name)));
    assert.deepEqual([big.info.type, big.info.size], ["file", BIG.length]);
  });

  it("downloads from an offset (REST)", { timeout: 20000 }, async () => {
    const offset = 3_000_001;
    const tail = await new Response(await client.downloadStream(at("big.bin"), { offset }))
      .arrayBuffer();
    assert.equal(sha256(new Uint8Array(tail)), sha256(BIG.subarray(offset)));
  });

  it("uploads and downloads a tree", { timeout: 40000 }, async () => {
    const up = await client.upload(join(local.path, "src"), at("tree"));
    assert.equal(up.files, Object.keys(TREE).length);
    assert.deepEqual(await digests(join(peer.root, "tree", "src")), treeDigests());
    const listed = await client.listAll(at("tree/src"), { recursive: true });
    assert.equal(listed.filter((i) => i.info.type === "file").length, Object.keys(TREE).length);
    const down = await client.download(at("tree/src"), join(local.path, "down"));
    assert.equal(down.files, Object.keys(TREE).length);
    assert.deepEqual(await digests(join(local.path, "down", "src")), treeDigests());
  });

  it("aborts a download mid-way and stays usable", { timeout: 30000 }, async () => {
    const stream = await client.downloadStream(at("big.bin"));
    const reader = stream.getReader();
    const first = await reader.read();
    assert.ok(!first.done && first.value.length > 0);
    await within(client.abort(), 15000, "abort");
    await assert.rejects(reader.read());
    assert.equal(await client.pwd(), peer.base);
    const small = await new Response(await client.downloadStream(at("tree/src/a.txt"))).text();
    assert.equal(small, "hello over TLS\n");
  });

  it("throttles a protected download", { timeout: 30000 }, async () => {
    client.downloadLimit = 2 * 1024 * 1024;
    try {
      const started = Date.now();
      const body = await new Response(
        await client.downloadStream(at("big.bin"), { offset: BIG.length - 3 * 1024 * 1024 }),
      ).arrayBuffer();
      const seconds = (Date.now() - started) / 1000;
      // 3 MiB at 2 MiB/s: at least ~1 s after the first burst.
      assert.ok(seconds > 0.7 && seconds < 15, `took ${seconds} s`);
      assert.equal(
        sha256(new Uint8Array(body)),
        sha256(BIG.subarray(BIG.length - 3 * 1024 * 1024)),
      );
    } finally {
      client.downloadLimit = undefined;
    }
  });

  it("transfers in active mode (the client accepts, then runs the TLS client)", {
    timeout: 30000,
    skip: options.active ? false : "not tested against this peer",
  }, async () => {
    const active = await openClient(peer, { mode: "active" });
    try {
      const data = randomBytes(1024 * 1024 + 9, 23);
      const sink = await active.uploadStream(at("active.bin"));
      const writer = sink.getWriter();
      await writer.write(data);
      await writer.close();
      assert.equal(sha256(await readFile(join(peer.root, "active.bin"))), sha256(data));
      const body = await new Response(await active.downloadStream(at("active.bin")))
        .arrayBuffer();
      assert.equal(sha256(new Uint8Array(body)), sha256(data));
      const items = await active.listAll(peer.base);
      assert.ok(items.some((i) => i.info.name === "active.bin"));
    } finally {
      await active.quit();
    }
  });
}

describe(
  `client FTPS against vsftpd (explicit, require_ssl_reuse=${requireReuse ? "YES" : "NO"})`,
  { skip: vsftpdSkip },
  () => {
    protectedTransfers(() => startVsftpd({ tls: { requireReuse } }), {
      active: true,
      reuse: requireReuse,
    });
  },
);

describe("client FTPS against vsftpd: refusals and certificates", { skip: vsftpdSkip }, () => {
  let plain: PeerServer;
  let secure: PeerServer;

  before(async () => {
    plain = await startVsftpd();
    secure = await startVsftpd({ tls: { requireReuse } });
  });

  after(async () => {
    await plain?.stop();
    await secure?.stop();
  });

  it("fails with TlsRefusedError against vsftpd without TLS", { timeout: 20000 }, async () => {
    await assert.rejects(
      within(Client.connect(plain.host, plain.port, secureOptions()), 15000),
      (error) => {
        assert.ok(error instanceof TlsRefusedError, String(error));
        assert.equal(error.command, "AUTH TLS");
        assert.ok(error.code >= 500, error.message);
        return true;
      },
    );
  });

  it("says the certificate is not trusted without the test authority", {
    timeout: 20000,
  }, async () => {
    await assert.rejects(
      within(Client.connect(secure.host, secure.port, secureOptions({ tls: {} })), 15000),
      (error) => {
        assert.ok(error instanceof TlsHandshakeError, String(error));
        assert.equal(error.reason, "untrusted", error.message);
        assert.match(
          error.message,
          new RegExp(
            `^TLS handshake with 127\\.0\\.0\\.1:${secure.port} failed: certificate not trusted`,
          ),
        );
        assert.ok(error.cause !== undefined);
        return true;
      },
    );
  });

  it("connects and transfers with rejectUnauthorized: false", { timeout: 20000 }, async () => {
    const client = await openClient(secure, { tls: { rejectUnauthorized: false } });
    try {
      const data = randomBytes(200_000, 24);
      const sink = await client.uploadStream("/pub/unverified.bin");
      const writer = sink.getWriter();
      await writer.write(data);
      await writer.close();
      const body = await new Response(await client.downloadStream("/pub/unverified.bin"))
        .arrayBuffer();
      assert.equal(sha256(new Uint8Array(body)), sha256(data));
    } finally {
      await client.quit();
    }
  });
});

describe("client FTPS against vsftpd requiring session reuse, where TLS cannot resume", {
  skip: vsftpdSkip || (canResume ? "this runtime's TLS resumes sessions" : false),
}, () => {
  let peer: PeerServer;

  before(async () => {
    peer = await startVsftpd({ tls: { requireReuse: true } });
    await writeFile(join(peer.root, "there.bin"), randomBytes(100_000, 27));
  });

  after(async () => {
    await peer?.stop();
  });

  for (const what of ["list", "upload", "download"] as const) {
    it(`fails a ${what} with TlsSessionReuseError that names the cause`, {
      timeout: 20000,
    }, async () => {
      const client = await openClient(peer);
      try {
        const attempt = async () => {
          if (what === "list") return await client.listAll(peer.base);
          if (what === "download") {
            return await new Response(await client.downloadStream("/pub/there.bin"))
              .arrayBuffer();
          }
          const sink = await client.uploadStream("/pub/refused.bin");
          const writer = sink.getWriter();
          await writer.write(randomBytes(100_000, 25));
          await writer.close();
        };
        await assert.rejects(within(attempt(), 15000, what), (error) => {
          assert.ok(error instanceof TlsSessionReuseError, String(error));
          assert.match(
            error.message,
            /^The server requires TLS session reuse on data connections, which \S+ cannot do; use Node or Bun/,
          );
          assert.equal(error.reply?.code, 522);
          assert.equal(error.runtimeCanResume, false);
          return true;
        });
      } finally {
        client.close();
      }
    });
  }
});

describe("client FTPS against vsftpd with implicit TLS", { skip: vsftpdSkip }, () => {
  let peer: PeerServer;

  before(async () => {
    peer = await startVsftpd({ tls: { requireReuse, implicit: true } });
  });

  after(async () => {
    await peer?.stop();
  });

  it("connects by ftps:// URL and transfers", { timeout: 30000 }, async () => {
    const url = `ftps://anonymous:anon%40@127.0.0.1:${peer.port}/pub`;
    const client = await within(
      Client.connect(url, { network: testNetwork(), socketTimeout: 15000, tls: trusted }),
      15000,
      "connect",
    );
    try {
      assert.equal(client.connection.secure, true);
      assert.equal(await client.pwd(), "/pub");
      const data = randomBytes(1024 * 1024 + 1, 26);
      const sink = await client.uploadStream("implicit.bin");
      const writer = sink.getWriter();
      await writer.write(data);
      await writer.close();
      assert.equal(sha256(await readFile(join(peer.root, "implicit.bin"))), sha256(data));
      const body = await new Response(await client.downloadStream("implicit.bin")).arrayBuffer();
      assert.equal(sha256(new Uint8Array(body)), sha256(data));
      assert.ok((await client.listAll("")).some((i) => i.info.name === "implicit.bin"));
    } finally {
      await client.quit();
    }
  });

  it('connects with secure: "implicit"', { timeout: 20000 }, async () => {
    const client = await openClient(peer, { secure: "implicit" });
    try {
      assert.equal(client.connection.secure, true);
      const body = await new Response(await client.downloadStream("/pub/implicit.bin"))
        .arrayBuffer();
      assert.equal(body.byteLength, 1024 * 1024 + 1);
    } finally {
      await client.quit();
    }
  });
});

describe("client FTPS against pure-ftpd (--tls=3)", { skip: pureSkip }, () => {
  protectedTransfers(() => startPureFtpd({ tls: true }), { active: true, reuse: false });
});
