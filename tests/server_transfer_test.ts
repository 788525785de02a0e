import { describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  LocalFileSystem,
  MemoryFileSystem,
  type OpenReadOptions,
  type OpenWriteOptions,
  PathError,
  type Server,
  type ServerOptions,
  User,
} from "../server.ts";
import { parsePasvReply } from "../lib/protocol/address.ts";
import { RECENT_STAT_MS } from "../lib/server/recent_stat.ts";
import type { Conn } from "../lib/socket.ts";
import type { DirEntry } from "../lib/fs/file_system.ts";
import { randomBytes, sha256, tempDir, testNetwork, within } from "./_util.ts";
import {
  getFile,
  putFile,
  RawControl,
  readAll,
  text,
  withServer,
  withSession,
  writeAll,
} from "./server_raw.ts";

const T = { timeout: 20000 };
const BIG = randomBytes(1 << 20, 7);

async function memory(): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem();
  await fs.mkdir("/dir");
  await putFile(fs, "/big.bin", BIG);
  await putFile(fs, "/digits.txt", "0123456789");
  await putFile(fs, "/lines.txt", "a\nb\r\nc\n");
  return fs;
}

/** A server on a fresh memory file system, with a logged-in raw client. */
async function session(
  options: ServerOptions,
  fn: (c: RawControl, fs: MemoryFileSystem) => Promise<void>,
): Promise<void> {
  const fs = await memory();
  await withSession({ fileSystem: fs, ...options }, (c) => fn(c, fs));
}

/** A free port number (bound and released). */
async function freePort(): Promise<number> {
  const listener = await testNetwork().listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  await listener.close();
  return port;
}

/** Connects with node:net from a chosen local address (127.0.0.2 plays a foreign host). */
function connectFrom(localAddress: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress }, () => resolve(socket));
    socket.on("error", reject);
  });
}

describe("server: data connections", () => {
  it("PASV and EPSV replies; EPSV 1 / 2 / garbage", T, async () => {
    await session({}, async (c) => {
      assert.match(await c.ask("PASV"), /^227 Entering Passive Mode \(127,0,0,1,\d+,\d+\)\.$/);
      assert.match(await c.ask("EPSV"), /^229 Entering Extended Passive Mode \(\|\|\|\d+\|\)$/);
      assert.match(await c.ask("EPSV 1"), /^229 /);
      assert.equal(await c.ask("EPSV 2"), "522 network protocol not supported, use (1)");
      assert.equal(await c.ask("EPSV x"), "501 syntax error in EPSV argument 'x'");
    });
  });

  it("the PASV address can be fixed or chosen per client (NAT)", T, async () => {
    await session({ passiveAddress: "10.1.2.3" }, async (c) => {
      assert.match(await c.ask("PASV"), /^227 Entering Passive Mode \(10,1,2,3,\d+,\d+\)\.$/);
    });
    await session({
      passiveAddress: (client) => client.hostname === "127.0.0.1" ? "192.0.2.7" : "x",
    }, async (c) => {
      assert.match(await c.ask("PASV"), /^227 Entering Passive Mode \(192,0,2,7,\d+,\d+\)\.$/);
    });
  });

  it("EPSV ALL: 200, then PASV/PORT/EPRT refused with 503 and the session kept", T, async () => {
    await session({}, async (c) => {
      assert.equal(await c.ask("EPSV ALL"), "200 EPSV ALL accepted");
      assert.equal(await c.ask("PASV"), "503 PASV not allowed after EPSV ALL");
      assert.equal(await c.ask("PORT 127,0,0,1,200,1"), "503 PORT not allowed after EPSV ALL");
      assert.equal(await c.ask("EPRT |1|127.0.0.1|51201|"), "503 EPRT not allowed after EPSV ALL");
      assert.match(await c.ask("EPSV"), /^229 /);
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
    });
  });

  it(
    "transfers without a data channel get 503; a client that never connects gets 425",
    T,
    async () => {
      await session({ dataConnectTimeout: 200 }, async (c) => {
        assert.equal(
          await c.ask("RETR big.bin"),
          "503 bad sequence of commands (use PASV, EPSV, PORT or EPRT first)",
        );
        assert.equal((await c.command("PASV")).code, 227);
        assert.equal(await c.ask("RETR big.bin"), "425 Can't open data connection");
        assert.equal(await c.ask("NOOP"), "200 NOOP ok");
      });
    },
  );

  it(
    "a data connection from a foreign address is closed; the client's own is used",
    T,
    async () => {
      await session({}, async (c, fs) => {
        const reply = await c.command("EPSV");
        const port = Number(/\|\|\|(\d+)\|/.exec(reply.lines[0])![1]);
        const foreign = await connectFrom("127.0.0.2", port);
        await within(new Promise((resolve) => foreign.on("close", resolve)), 5000, "foreign close");
        const data = await testNetwork().connect({ hostname: "127.0.0.1", port });
        assert.equal(await c.ask("RETR digits.txt"), "150 data transfer started");
        assert.equal(text(await readAll(data)), "0123456789");
        assert.equal(await c.next(), "226 transfer done");
        assert.ok(await fs.exists("/digits.txt"));
      });
    },
  );

  it("PORT/EPRT to a foreign address or a privileged port are refused (RFC 2577)", T, async () => {
    await session({}, async (c) => {
      assert.equal(
        await c.ask("PORT 127,0,0,2,200,0"),
        "504 PORT refused: address is not the client's",
      );
      assert.equal(await c.ask("PORT 127,0,0,1,0,21"), "504 PORT refused: privileged port 21");
      assert.equal(
        await c.ask("EPRT |1|10.0.0.1|5000|"),
        "504 EPRT refused: address is not the client's",
      );
      assert.equal(await c.ask("EPRT |2|::1|5000|"), "522 network protocol not supported, use (1)");
      assert.equal(await c.ask("PORT 1,2,3"), "501 syntax error in PORT argument");
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
    });
  });

  it("active mode: PORT and EPRT make the server connect to the client", T, async () => {
    await session({}, async (c) => {
      for (const verb of ["PORT", "EPRT"]) {
        const listener = await testNetwork().listen({ hostname: "127.0.0.1", port: 0 });
        try {
          const port = listener.addr.port;
          const arg = verb === "PORT"
            ? `127,0,0,1,${port >> 8},${port & 255}`
            : `|1|127.0.0.1|${port}|`;
          assert.equal(await c.ask(`${verb} ${arg}`), `200 ${verb} command successful`);
          await c.send("RETR big.bin");
          const data = await within(listener.accept(), 5000, "active connect");
          assert.equal(await c.next(), "150 data transfer started");
          assert.equal(sha256(await readAll(data)), sha256(BIG));
          assert.equal(await c.next(), "226 transfer done");
        } finally {
          await listener.close();
        }
      }
    });
  });

  it(
    "passive port range: a busy port is skipped, exhaustion answers 425 and keeps the session",
    T,
    async () => {
      const busy = await testNetwork().listen({ hostname: "127.0.0.1", port: 0 });
      const free = await freePort();
      const fs = await memory();
      try {
        const options = { fileSystem: fs, dataPorts: [busy.addr.port, free] };
        await withServer({ ...options, maxPassiveListenersPerIp: 2 }, async (server) => {
          const a = await RawControl.connect(server.address);
          const b = await RawControl.connect(server.address);
          await a.login();
          await b.login();
          const pasv = await a.command("EPSV");
          assert.equal(pasv.lines[0], `Entering Extended Passive Mode (|||${free}|)`);
          assert.equal(server.portPool.used, 1);
          assert.equal(await b.ask("PASV"), "425 no free passive port, try again later");
          assert.equal(await b.ask("NOOP"), "200 NOOP ok");
          // Once the first session's transfer is done, it keeps the port for its next one, but
          // gives it up when another session needs it.
          const data = await testNetwork().connect({ hostname: "127.0.0.1", port: free });
          assert.equal(await a.ask("RETR digits.txt"), "150 data transfer started");
          await readAll(data);
          assert.equal(await a.next(), "226 transfer done");
          assert.equal(server.portPool.used, 1);
          assert.match(await b.ask("EPSV"), new RegExp(`\\(\\|\\|\\|${free}\\|\\)`));
          assert.equal(server.portPool.used, 1);
          a.close();
          b.close();
        });
      } finally {
        await busy.close();
      }
    },
  );

  it("IPv6 control connections: PASV says to use EPSV, EPSV works", T, async (t) => {
    const fs = await memory();
    let server;
    try {
      server = new (await import("../server.ts")).Server({ fileSystem: fs });
      await server.start("::1", 0);
    } catch {
      t.skip("no IPv6 loopback");
      return;
    }
    try {
      const c = await RawControl.connect(server.address);
      await c.login();
      assert.equal(await c.ask("PASV"), "425 cannot use PASV on an IPv6 connection, use EPSV");
      const reply = await c.command("EPSV");
      const port = Number(/\|\|\|(\d+)\|/.exec(reply.lines[0])![1]);
      const data = await testNetwork().connect({ hostname: "::1", port });
      assert.equal(await c.ask("RETR digits.txt"), "150 data transfer started");
      assert.equal(text(await readAll(data)), "0123456789");
      assert.equal(await c.next(), "226 transfer done");
      c.close();
    } finally {
      await server.close();
    }
  });
});

describe("server: transfers", () => {
  async function retr(c: RawControl, path: string): Promise<Uint8Array> {
    const data = await c.pasv();
    assert.equal(await c.ask(`RETR ${path}`), "150 data transfer started");
    const bytes = await readAll(data);
    assert.equal(await c.next(), "226 transfer done");
    return bytes;
  }

  async function stor(
    c: RawControl,
    verb: string,
    path: string,
    bytes: Uint8Array,
  ): Promise<string> {
    const data = await c.pasv();
    const opening = await c.ask(`${verb} ${path}`.trim());
    await writeAll(data, bytes);
    assert.equal(await c.next(), "226 transfer done");
    return opening;
  }

  it("RETR, STOR, APPE, STOU move exact bytes", T, async () => {
    await session({}, async (c, fs) => {
      assert.equal(sha256(await retr(c, "big.bin")), sha256(BIG));
      assert.equal(await stor(c, "STOR", "up.bin", BIG), "150 data transfer started");
      assert.equal(sha256(await getFile(fs, "/up.bin")), sha256(BIG));
      await stor(c, "APPE", "digits.txt", new TextEncoder().encode("abc"));
      assert.equal(text(await getFile(fs, "/digits.txt")), "0123456789abc");
      assert.equal(await stor(c, "STOU", "", Uint8Array.of(1)), "150 FILE: stou");
      assert.equal(await stor(c, "STOU", "", Uint8Array.of(2)), "150 FILE: stou.1");
      assert.equal(await stor(c, "STOU", "dir/x", Uint8Array.of(3)), "150 FILE: x");
      assert.deepEqual(await getFile(fs, "/stou.1"), Uint8Array.of(2));
      assert.deepEqual(await getFile(fs, "/dir/x"), Uint8Array.of(3));
    });
  });

  it(
    "REST survives PASV, EPSV, TYPE and PORT, is honoured by RETR and STOR, then cleared",
    T,
    async () => {
      await session({}, async (c, fs) => {
        assert.equal(await c.ask("REST 3abc"), "501 syntax error, can't restart at '3abc'");
        assert.equal(await c.ask("REST 100"), "350 restarting at 100");
        assert.equal((await c.command("TYPE I")).code, 200);
        assert.equal((await c.command("PORT 127,0,0,1,200,1")).code, 200);
        assert.equal((await c.command("EPSV")).code, 229);
        assert.deepEqual(await retr(c, "big.bin"), BIG.subarray(100));
        assert.equal(sha256(await retr(c, "big.bin")), sha256(BIG), "REST was not cleared");
        assert.equal(await c.ask("REST 4"), "350 restarting at 4");
        await stor(c, "STOR", "digits.txt", new TextEncoder().encode("abc"));
        assert.ok(text(await getFile(fs, "/digits.txt")).startsWith("0123abc"));
        assert.equal(await c.ask("REST 2"), "350 restarting at 2");
        await stor(c, "APPE", "lines.txt", new TextEncoder().encode("z"));
        assert.equal(text(await getFile(fs, "/lines.txt")), "a\nb\r\nc\nz");
      });
    },
  );

  it("TYPE A converts line ends both ways", T, async () => {
    await session({}, async (c, fs) => {
      assert.equal((await c.command("TYPE A")).code, 200);
      assert.equal(text(await retr(c, "lines.txt")), "a\r\nb\r\nc\r\n");
      await stor(c, "STOR", "ascii.txt", new TextEncoder().encode("x\r\ny\r\nz\r"));
      assert.equal(text(await getFile(fs, "/ascii.txt")), "x\ny\nz\r");
      assert.equal((await c.command("TYPE I")).code, 200);
      assert.equal(text(await retr(c, "lines.txt")), "a\nb\r\nc\n");
    });
  });

  it("failures: missing file, directory, unreachable target", T, async () => {
    await session({}, async (c) => {
      await c.pasv();
      assert.equal(await c.ask("RETR missing"), "550 path does not exist");
      assert.equal(await c.ask("RETR dir"), "550 path is not a file");
      assert.equal(await c.ask("STOR nowhere/x"), "550 path unreachable");
      assert.equal(await c.ask("STOR dir"), "550 path is not a file");
      assert.equal(await c.ask("RETR a\0b"), "501 invalid path");
      assert.equal(await c.ask("STOR a\0b"), "553 file name not allowed");
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
    });
  });

  it(
    "ABOR: 225 with a prepared channel, 226 with nothing, 426+226 during a large RETR",
    T,
    async () => {
      await session({ writeSpeedLimitPerConnection: 256 * 1024 }, async (c) => {
        assert.equal(await c.ask("ABOR"), "226 nothing to abort");
        const data = await c.pasv();
        assert.equal(await c.ask("ABOR"), "225 data connection open; no transfer in progress");
        assert.equal(await c.ask("RETR big.bin"), "150 data transfer started");
        const reader = data.readable.getReader();
        assert.ok((await reader.read()).value!.length > 0);
        assert.equal(await c.ask("ABOR"), "426 transfer aborted");
        assert.equal(await c.next(), "226 abort successful");
        let received = 0;
        while (true) {
          const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
          if (chunk.done) break;
          received += chunk.value?.length ?? 0;
        }
        assert.ok(received < BIG.length, "the whole file arrived despite ABOR");
        assert.equal(await c.ask("NOOP"), "200 NOOP ok");
      });
    },
  );

  it("STAT and NOOP are answered during a transfer; the idle timeout waits for it", T, async () => {
    await session({ writeSpeedLimit: 1 << 20, idleTimeout: 300 }, async (c) => {
      const data = await c.pasv();
      const started = Date.now();
      assert.equal(await c.ask("RETR big.bin"), "150 data transfer started");
      const bytes = readAll(data);
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
      assert.match(await c.ask("STAT"), /^213 status: RETR \/big\.bin, \d+ bytes transferred$/);
      assert.equal(sha256(await bytes), sha256(BIG));
      assert.ok(Date.now() - started >= 600, "the throttle did not slow the transfer down");
      assert.equal(await c.next(), "226 transfer done");
      assert.equal(await c.next(2000), "421 idle timeout, closing control connection");
    });
  });

  it(
    "speed limits: the server's read limit slows uploads, a user's write limit downloads",
    T,
    async () => {
      const fs = await memory();
      const limited = new User({ login: "slow", writeSpeedLimit: 1 << 20 });
      await withServer(
        { fileSystem: fs, users: [limited], readSpeedLimit: 1 << 20 },
        async (server) => {
          const c = await RawControl.connect(server.address);
          await c.login("slow");
          let started = Date.now();
          assert.equal(sha256(await retr(c, "big.bin")), sha256(BIG));
          assert.ok(
            Date.now() - started >= 800,
            `1 MiB at 1 MiB/s took ${Date.now() - started} ms`,
          );
          started = Date.now();
          await stor(c, "STOR up.bin", "", BIG.subarray(0, 512 * 1024));
          assert.ok(
            Date.now() - started >= 350,
            `512 KiB at 1 MiB/s took ${Date.now() - started} ms`,
          );
          server.readThrottle.limit = undefined;
          started = Date.now();
          await stor(c, "STOR up.bin", "", BIG);
          assert.ok(Date.now() - started < 800, "the lifted limit still applies");
          c.close();
        },
      );
    },
  );

  it("ABOR ends a RETR whose client reads nothing (the socket is full)", T, async () => {
    await session({}, async (c, fs) => {
      await putFile(fs, "/huge.bin", new Uint8Array(64 << 20));
      const data = await c.pasv();
      assert.equal(await c.ask("RETR huge.bin"), "150 data transfer started");
      // Bytes are counted as they go, with no stream in between: STAT sees them move.
      while (true) {
        const stat = await c.ask("STAT");
        assert.match(stat, /^213 status: RETR \/huge\.bin, \d+ bytes transferred$/);
        if (!stat.includes(" 0 bytes")) break;
      }
      assert.equal(await c.ask("ABOR"), "426 transfer aborted");
      assert.equal(await c.next(), "226 abort successful");
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
      data.close();
    });
  });

  it("ABOR during STOR keeps the partial file and says so", T, async () => {
    await session({}, async (c, fs) => {
      const data = await c.pasv();
      assert.equal(await c.ask("STOR part.bin"), "150 data transfer started");
      const writer = data.writable.getWriter();
      await writer.write(BIG.subarray(0, 4096));
      while (true) {
        const stat = await c.ask("STAT");
        if (!stat.includes(" 0 bytes")) break;
      }
      assert.equal(await c.ask("ABOR"), "426 transfer aborted, partial file kept");
      assert.equal(await c.next(), "226 abort successful");
      assert.ok(await fs.exists("/part.bin"));
      assert.deepEqual(await getFile(fs, "/part.bin"), BIG.subarray(0, 4096));
      writer.releaseLock();
      data.close();
    });
  });

  it("QUIT during a transfer aborts it (426) before 221", T, async () => {
    await session({ writeSpeedLimitPerConnection: 64 * 1024 }, async (c) => {
      const data: Conn = await c.pasv();
      assert.equal(await c.ask("RETR big.bin"), "150 data transfer started");
      assert.equal(await c.ask("QUIT"), "426 transfer aborted");
      assert.equal(await c.next(), "221 bye");
      assert.equal(await c.waitClosed(), true);
      data.close();
    });
  });

  it("a command pipelined after RETR is answered after the 150", T, async () => {
    await session({}, async (c) => {
      const data = await c.pasv();
      await c.sendRaw("RETR digits.txt\r\nNOOP\r\n");
      assert.equal(await c.next(), "150 data transfer started");
      assert.equal(text(await readAll(data)), "0123456789");
      const rest = [await c.next(), await c.next()].sort();
      assert.deepEqual(rest, ["200 NOOP ok", "226 transfer done"]);
    });
  });

  it("read-only users cannot upload", T, async () => {
    const fs = await memory();
    const { Permission } = await import("../server.ts");
    const reader = new User({ permissions: [new Permission("/", { writable: false })] });
    await withServer({ fileSystem: fs, users: [reader] }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login();
      await c.pasv();
      assert.equal(await c.ask("STOR x"), "550 permission denied");
      assert.equal(await c.ask("APPE digits.txt"), "550 permission denied");
      assert.equal(await c.ask("STOU"), "550 permission denied");
      c.close();
    });
  });
});

/** A memory file system whose `/locked*` files cannot be opened and whose disk fills up. */
class TroubledFileSystem extends MemoryFileSystem {
  /** Whether `/locked*` files refuse to open. */
  locked = false;
  /** Bytes a write may still store before the disk is full. */
  room = Infinity;

  override openRead(path: string, options?: OpenReadOptions): Promise<ReadableStream<Uint8Array>> {
    if (this.locked && path.startsWith("/locked")) throw new PathError("permission-denied", path);
    return super.openRead(path, options);
  }

  override async openWrite(
    path: string,
    options?: OpenWriteOptions,
  ): Promise<WritableStream<Uint8Array>> {
    if (this.locked && path.startsWith("/locked")) throw new PathError("permission-denied", path);
    const writer = (await super.openWrite(path, options)).getWriter();
    return new WritableStream({
      write: async (chunk) => {
        const fits = Math.min(chunk.length, this.room);
        this.room -= fits;
        await writer.write(chunk.subarray(0, fits));
        if (fits < chunk.length) {
          await writer.close();
          throw new PathError("no-space", path);
        }
      },
      close: () => writer.close(),
      abort: (reason) => writer.abort(reason),
    });
  }
}

describe("server: transfer failures", () => {
  async function troubled(
    options: ServerOptions,
    fn: (c: RawControl, fs: TroubledFileSystem) => Promise<void>,
  ): Promise<void> {
    const fs = new TroubledFileSystem();
    await putFile(fs, "/locked.bin", "secret");
    await putFile(fs, "/digits.txt", "0123456789");
    fs.locked = true;
    await withSession({ fileSystem: fs, ...options }, (c) => fn(c, fs));
  }

  it("a file that cannot be opened is refused before 150; the data channel stays", T, async () => {
    await troubled({}, async (c) => {
      const data = await c.pasv();
      assert.equal(await c.ask("RETR locked.bin"), "550 permission denied");
      assert.equal(await c.ask("STOR locked.new"), "550 permission denied");
      assert.equal(await c.ask("RETR digits.txt"), "150 data transfer started");
      assert.equal(text(await readAll(data)), "0123456789");
      assert.equal(await c.next(), "226 transfer done");
    });
  });

  it("a full disk during STOR is 452 after 150, and the partial file is kept", T, async () => {
    await troubled({}, async (c, fs) => {
      fs.room = 1000;
      const data = await c.pasv();
      assert.equal(await c.ask("STOR big.bin"), "150 data transfer started");
      await writeAll(data, BIG).catch(() => {});
      assert.equal(await c.next(), "452 insufficient storage space, partial file kept");
      assert.deepEqual(await getFile(fs, "/big.bin"), BIG.subarray(0, 1000));
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
    });
  });

  it(
    "a transfer that moves nothing for dataTimeout ends with 426; the session goes on",
    T,
    async () => {
      await troubled({ dataTimeout: 200 }, async (c, fs) => {
        const data = await c.pasv();
        assert.equal(await c.ask("STOR silent.bin"), "150 data transfer started");
        assert.equal(await c.next(), "426 data connection timed out");
        assert.equal(await fs.exists("/silent.bin"), true);
        assert.equal(await c.ask("NOOP"), "200 NOOP ok");
        data.close();
      });
    },
  );
});

/**
 * A memory file system that never answers: listings, `/stuck*` reads and `/sink*` writes wait
 * forever.
 */
class HungFileSystem extends MemoryFileSystem {
  override list(_path: string): AsyncIterable<DirEntry> {
    return { [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => {}) }) };
  }

  override async openRead(path: string, options?: OpenReadOptions) {
    if (!path.startsWith("/stuck")) return await super.openRead(path, options);
    return new ReadableStream<Uint8Array>({ pull: () => new Promise<never>(() => {}) });
  }

  override async openWrite(path: string, options?: OpenWriteOptions) {
    if (!path.startsWith("/sink")) return await super.openWrite(path, options);
    return new WritableStream<Uint8Array>({ write: () => new Promise<never>(() => {}) });
  }
}

describe("server: a file system that never answers does not hold the session", () => {
  async function hung(options: ServerOptions, fn: (c: RawControl) => Promise<void>) {
    const fs = new HungFileSystem();
    await putFile(fs, "/stuck.bin", "never read");
    await putFile(fs, "/digits.txt", "0123456789");
    await withSession({ fileSystem: fs, ...options }, fn);
  }

  for (const command of ["LIST", "NLST", "MLSD", "RETR stuck.bin"]) {
    it(`ABOR during ${command} is answered (426, then 226); the session goes on`, T, async () => {
      await hung({}, async (c) => {
        const data = await c.pasv();
        assert.match(await c.ask(command), /^150 /);
        assert.equal(await c.ask("ABOR"), "426 transfer aborted");
        assert.equal(await c.next(), "226 abort successful");
        data.close();
        const next = await c.pasv();
        assert.equal(await c.ask("RETR digits.txt"), "150 data transfer started");
        assert.equal(text(await readAll(next)), "0123456789");
        assert.equal(await c.next(), "226 transfer done");
      });
    });
  }

  it("ABOR during a STOR whose writes never end is answered; the session goes on", T, async () => {
    await hung({}, async (c) => {
      const data = await c.pasv();
      assert.equal(await c.ask("STOR sink.bin"), "150 data transfer started");
      const writer = data.writable.getWriter();
      await writer.write(new Uint8Array(1000));
      assert.equal(await c.ask("ABOR"), "426 transfer aborted, partial file kept");
      assert.equal(await c.next(), "226 abort successful");
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
      data.close();
    });
  });

  it("the data timeout ends a listing that never comes with 426", T, async () => {
    await hung({ dataTimeout: 200 }, async (c) => {
      const data = await c.pasv();
      assert.equal(await c.ask("LIST"), "150 list transfer started");
      assert.equal(await c.next(), "426 data connection timed out");
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
      data.close();
    });
  });

  it("QUIT during a hung listing ends the session", T, async () => {
    await hung({}, async (c) => {
      const data = await c.pasv();
      assert.equal(await c.ask("LIST"), "150 list transfer started");
      const replies = [await c.ask("QUIT")];
      for (let line = await c.next().catch(() => ""); line; line = await c.next().catch(() => "")) {
        replies.push(line);
      }
      assert.ok(replies.some((reply) => reply.startsWith("221 ")), replies.join(" | "));
      data.close();
    });
  });
});

/** A memory file system that counts its lookups and remembers the stat `openRead` was given. */
class CountingFileSystem extends MemoryFileSystem {
  lookups: string[] = [];
  stats: unknown[] = [];
  openedWith: unknown[] = [];

  override async stat(path: string) {
    this.lookups.push(`stat ${path}`);
    const stat = await super.stat(path);
    this.stats.push(stat);
    return stat;
  }
  override exists(path: string) {
    this.lookups.push(`exists ${path}`);
    return super.exists(path);
  }
  override isFile(path: string) {
    this.lookups.push(`isFile ${path}`);
    return super.isFile(path);
  }
  override isDir(path: string) {
    this.lookups.push(`isDir ${path}`);
    return super.isDir(path);
  }
  override openRead(path: string, options?: OpenReadOptions) {
    this.openedWith.push(options?.stat);
    return super.openRead(path, options);
  }
}

describe("server: one lookup per command", () => {
  it("RETR, SIZE, MDTM and LIST stat their path once; RETR opens with that stat", T, async () => {
    const fs = new CountingFileSystem();
    await putFile(fs, "/digits.txt", "0123456789");
    await putFile(fs, "/other.txt", "abc");
    await fs.mkdir("/dir");
    await withSession({ fileSystem: fs }, async (c) => {
      fs.lookups = [];
      fs.stats = [];
      const data = await c.pasv();
      assert.equal(await c.ask("RETR digits.txt"), "150 data transfer started");
      assert.equal(text(await readAll(data)), "0123456789");
      assert.equal(await c.next(), "226 transfer done");
      assert.deepEqual(fs.lookups, ["stat /digits.txt"]);
      assert.equal(fs.openedWith.length, 1);
      assert.equal(fs.openedWith[0], fs.stats[0], "openRead did not get the path check's stat");
      fs.lookups = [];
      const listing = await c.pasv();
      assert.equal(await c.ask("LIST dir"), "150 list transfer started");
      assert.equal(text(await readAll(listing)), "");
      assert.equal(await c.next(), "226 list transfer done");
      assert.deepEqual(fs.lookups, ["stat /dir"]);
      fs.lookups = [];
      const started = performance.now();
      assert.equal(await c.ask("SIZE other.txt"), "213 3");
      assert.match(await c.ask("MDTM other.txt"), /^213 \d{14}$/);
      // MDTM answers from SIZE's lookup (recent_stat.ts), unless the two took longer than that.
      if (performance.now() - started < RECENT_STAT_MS) {
        assert.deepEqual(fs.lookups, ["stat /other.txt"]);
      }
    });
  });

  it(
    "a transfer command while another transfer runs is 450, checked before the path",
    T,
    async () => {
      await session({ writeSpeedLimitPerConnection: 64 * 1024 }, async (c) => {
        const first = await c.pasv();
        assert.equal(await c.ask("RETR big.bin"), "150 data transfer started");
        await c.pasv();
        assert.equal(await c.ask("RETR digits.txt"), "450 another transfer is in progress");
        assert.equal(await c.ask("RETR missing"), "450 another transfer is in progress");
        assert.equal(await c.ask("ABOR"), "426 transfer aborted");
        assert.equal(await c.next(), "226 abort successful");
        first.close();
      });
    },
  );
});

describe("server: a session keeps its passive port between transfers", () => {
  /** Three free ports, for a passive range whose ports the pool counts. */
  const range = () => Promise.all([1, 2, 3].map(freePort));
  const epsvPort = (reply: string) => Number(/\|\|\|(\d+)\|/.exec(reply)![1]);

  /** EPSV, then RETR digits.txt to its 226; returns the EPSV port. */
  async function retrieve(c: RawControl): Promise<number> {
    const port = epsvPort(await c.ask("EPSV"));
    const data = await testNetwork().connect({ hostname: "127.0.0.1", port });
    assert.equal(await c.ask("RETR digits.txt"), "150 data transfer started");
    assert.equal(text(await readAll(data)), "0123456789");
    assert.equal(await c.next(), "226 transfer done");
    return port;
  }

  async function withRange(
    options: ServerOptions,
    fn: (server: Server, c: RawControl) => Promise<void>,
  ): Promise<void> {
    const fileSystem = await memory();
    await withServer({ fileSystem, dataPorts: await range(), ...options }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login();
      try {
        await fn(server, c);
      } finally {
        c.close();
      }
    });
  }

  it("after a clean transfer, the next EPSV or PASV answers with the same port", T, async () => {
    await withRange({}, async (server, c) => {
      const port = await retrieve(c);
      assert.equal(server.portPool.used, 1);
      assert.equal(await retrieve(c), port);
      const pasv = await c.command("PASV");
      assert.equal(parsePasvReply(pasv.lines.join(" ")).port, port);
      const data = await testNetwork().connect({ hostname: "127.0.0.1", port });
      assert.equal(await c.ask("RETR lines.txt"), "150 data transfer started");
      assert.equal(text(await readAll(data)), "a\nb\r\nc\n");
      assert.equal(await c.next(), "226 transfer done");
      assert.equal(server.portPool.used, 1);
    });
  });

  it("a port a foreign peer tried is not kept after its transfer", T, async () => {
    await withRange({}, async (server, c) => {
      const port = epsvPort(await c.ask("EPSV"));
      const foreign = await connectFrom("127.0.0.2", port);
      await within(new Promise((resolve) => foreign.on("close", resolve)), 5000, "foreign close");
      const data = await testNetwork().connect({ hostname: "127.0.0.1", port });
      assert.equal(await c.ask("RETR digits.txt"), "150 data transfer started");
      assert.equal(text(await readAll(data)), "0123456789");
      assert.equal(await c.next(), "226 transfer done");
      assert.equal(server.portPool.used, 0);
    });
  });

  it(
    "a connection to the kept port while no transfer waits is closed, and so is the port",
    T,
    async () => {
      await withRange({}, async (server, c) => {
        const port = await retrieve(c);
        const stray = await testNetwork().connect({ hostname: "127.0.0.1", port });
        assert.equal((await readAll(stray)).length, 0);
        assert.equal(await c.ask("NOOP"), "200 NOOP ok");
        assert.equal(server.portPool.used, 0);
        await retrieve(c);
      });
    },
  );

  it("an aborted transfer does not keep its port", T, async () => {
    await withRange({ writeSpeedLimitPerConnection: 64 * 1024 }, async (server, c) => {
      const port = epsvPort(await c.ask("EPSV"));
      const data = await testNetwork().connect({ hostname: "127.0.0.1", port });
      assert.equal(await c.ask("RETR big.bin"), "150 data transfer started");
      assert.equal(await c.ask("ABOR"), "426 transfer aborted");
      assert.equal(await c.next(), "226 abort successful");
      assert.equal(server.portPool.used, 0);
      data.close();
    });
  });

  it(
    "an address at its listener limit takes back a kept port, not one a transfer waits on",
    T,
    async () => {
      await withRange({ maxPassiveListenersPerIp: 1 }, async (server, a) => {
        await retrieve(a);
        const b = await RawControl.connect(server.address);
        await b.login();
        assert.match(await b.ask("EPSV"), /^229 /);
        // b's listener waits for its connection: it is not a's to take back.
        assert.equal(await a.ask("EPSV"), "425 too many passive listeners for your address");
        b.close();
      });
    },
  );
});

describe("server: downloads from a local directory reuse their read buffers", () => {
  it(
    "three RETRs at once, read one after the other, each arrive byte for byte",
    T,
    async () => {
      // Each file spans many 256 KiB buffers; the later downloads wait on full socket buffers
      // while the first is read, so a buffer read into again before its write ended would show.
      const files = [1, 2, 3].map((seed) => randomBytes(4 << 20, 100 + seed));
      const dir = await tempDir();
      try {
        for (const [i, bytes] of files.entries()) await writeFile(join(dir.path, `f${i}`), bytes);
        await withServer({ fileSystem: new LocalFileSystem(dir.path) }, async (server) => {
          const controls = await Promise.all(files.map(() => RawControl.connect(server.address)));
          try {
            const downloads = [];
            for (const [i, c] of controls.entries()) {
              await c.login();
              const data = await c.pasv();
              assert.equal(await c.ask(`RETR f${i}`), "150 data transfer started");
              downloads.push(data);
            }
            for (const [i, data] of downloads.entries()) {
              assert.equal(sha256(await readAll(data)), sha256(files[i]), `f${i} differs`);
              assert.equal(await controls[i].next(), "226 transfer done");
            }
          } finally {
            await Promise.all(controls.map((c) => c.close()));
          }
        });
      } finally {
        await dir.remove();
      }
    },
  );
});
