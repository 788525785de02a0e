import { describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { ConnectionLimiter } from "../lib/server/connection_limiter.ts";
import type { Conn, Listener, Network } from "../lib/socket.ts";
import { type Deferred, deferred } from "../lib/stream/abort.ts";
import type { Throttle } from "../lib/stream/throttle.ts";
import {
  ConnectionClosedError,
  type LogRecord,
  MemoryFileSystem,
  MemoryUserManager,
  Server,
  type ServerOptions,
  User,
} from "../server.ts";
import { testNetwork, within } from "./_util.ts";
import { getFile, putFile, RawControl, readAll, text, withServer, writeAll } from "./server_raw.ts";

const T = { timeout: 20000 };

async function memory(): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem();
  await fs.mkdir("/dir");
  await putFile(fs, "/digits.txt", "0123456789");
  return fs;
}

/** Collects a server's log records and waits for the one that matches. */
function logWatcher(): {
  seen: string[];
  log: (record: LogRecord) => void;
  next(pattern: RegExp): Promise<string>;
} {
  const seen: string[] = [];
  const waiters: { pattern: RegExp; found: Deferred<string> }[] = [];
  return {
    seen,
    log(record) {
      seen.push(record.message);
      for (const waiter of waiters.splice(0)) {
        if (waiter.pattern.test(record.message)) waiter.found.resolve(record.message);
        else waiters.push(waiter);
      }
    },
    next(pattern) {
      const found = deferred<string>();
      const earlier = seen.find((message) => pattern.test(message));
      if (earlier) found.resolve(earlier);
      else waiters.push({ pattern, found });
      return within(found.promise, 10000, `log record ${pattern}`);
    },
  };
}

/** Connects from a chosen loopback address (127.0.0.2 plays another host) and reads the greeting. */
function greetingFrom(
  localAddress: string,
  port: number,
): Promise<{ line: string; close(): void }> {
  return within(
    new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port, localAddress });
      let buffered = "";
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => {
        buffered += chunk;
        const end = buffered.indexOf("\r\n");
        if (end >= 0) resolve({ line: buffered.slice(0, end), close: () => socket.destroy() });
      });
      socket.on("error", reject);
    }),
    5000,
    `greeting to ${localAddress}`,
  );
}

/** A free port number (bound and released). */
async function freePort(): Promise<number> {
  const listener = await testNetwork().listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  await listener.close();
  return port;
}

function pasvPort(reply: string): number {
  const match = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(reply);
  assert.ok(match, `not a PASV reply: ${reply}`);
  return Number(match[5]) * 256 + Number(match[6]);
}

describe("server: safe defaults", () => {
  it("a default Server lets its anonymous user read, not write", T, async () => {
    const fs = await memory();
    const server = new Server({ fileSystem: fs });
    await server.start("127.0.0.1", 0);
    try {
      const c = await RawControl.connect(server.address);
      await c.login();
      const data = await c.pasv();
      assert.equal(await c.ask("RETR digits.txt"), "150 data transfer started");
      assert.equal(text(await readAll(data)), "0123456789");
      assert.equal(await c.next(), "226 transfer done");
      await c.pasv();
      assert.match(await c.ask("STOR new.txt"), /^550 permission denied/);
      assert.match(await c.ask("APPE digits.txt"), /^550 permission denied/);
      assert.match(await c.ask("DELE digits.txt"), /^550 permission denied/);
      assert.match(await c.ask("MKD x"), /^550 permission denied/);
      assert.equal(await fs.exists("/new.txt"), false);
      c.close();
    } finally {
      await server.close();
    }
  });

  it("writing is switched on by giving the users: [new User()] may write", T, async () => {
    const fs = await memory();
    const server = new Server({ fileSystem: fs, users: [new User()] });
    await server.start("127.0.0.1", 0);
    try {
      const c = await RawControl.connect(server.address);
      await c.login();
      const data = await c.pasv();
      assert.equal(await c.ask("STOR new.txt"), "150 data transfer started");
      await writeAll(data, new TextEncoder().encode("new"));
      assert.equal(await c.next(), "226 transfer done");
      assert.equal(text(await getFile(fs, "/new.txt")), "new");
      c.close();
    } finally {
      await server.close();
    }
  });
});

describe("server: REST on uploads", () => {
  async function session(fn: (c: RawControl, fs: MemoryFileSystem) => Promise<void>) {
    const fs = await memory();
    await withServer({ fileSystem: fs }, async (server) => {
      const c = await RawControl.connect(server.address);
      try {
        await c.login();
        await fn(c, fs);
      } finally {
        c.close();
      }
    });
  }

  it(
    "STOR and APPE at a REST offset beyond the end of the file get 554; nothing is written",
    T,
    async () => {
      await session(async (c, fs) => {
        await c.pasv();
        assert.equal(await c.ask("REST 1048576"), "350 restarting at 1048576");
        const refusal = "554 invalid REST parameter: 1048576 is beyond the end of the file";
        assert.equal(await c.ask("STOR digits.txt"), refusal);
        assert.equal(await c.ask("APPE digits.txt"), refusal);
        assert.equal(await c.ask("STOR new.bin"), refusal);
        assert.equal(text(await getFile(fs, "/digits.txt")), "0123456789");
        assert.equal(await fs.exists("/new.bin"), false);
        // The data channel is still there for a valid upload.
        assert.equal(await c.ask("REST 10"), "350 restarting at 10");
        const data = await c.pasv();
        assert.equal(await c.ask("STOR digits.txt"), "150 data transfer started");
        await writeAll(data, new TextEncoder().encode("ab"));
        assert.equal(await c.next(), "226 transfer done");
        assert.equal(text(await getFile(fs, "/digits.txt")), "0123456789ab");
      });
    },
  );

  it("a refused STOR or APPE keeps the REST offset, as a refused RETR does", T, async () => {
    await session(async (c, fs) => {
      await c.pasv();
      assert.equal(await c.ask("REST 4"), "350 restarting at 4");
      assert.equal(await c.ask("RETR missing.txt"), "550 path does not exist");
      assert.equal(await c.ask("STOR nowhere/x"), "550 path unreachable");
      assert.equal(await c.ask("APPE dir"), "550 path is not a file");
      assert.equal(await c.ask("STOR dir"), "550 path is not a file");
      const data = await c.pasv();
      assert.equal(await c.ask("RETR digits.txt"), "150 data transfer started");
      assert.equal(text(await readAll(data)), "456789", "the REST offset was lost");
      assert.equal(await c.next(), "226 transfer done");
      // Consumed by the transfer that ran.
      const again = await c.pasv();
      assert.equal(await c.ask("STOR digits.txt"), "150 data transfer started");
      await writeAll(again, new TextEncoder().encode("x"));
      assert.equal(await c.next(), "226 transfer done");
      assert.equal(text(await getFile(fs, "/digits.txt")), "x");
    });
  });
});

describe("server: sessions that have not logged in", () => {
  it(
    "a session that does not log in within loginTimeout gets 421, however busy it keeps",
    T,
    async () => {
      await withServer({ loginTimeout: 300 }, async (server) => {
        const loggedIn = await RawControl.connect(server.address);
        await loggedIn.login();
        const c = await RawControl.connect(server.address);
        const answered = new Set<string>();
        for (const command of ["FEAT", "HELP", "STAT", "SYST"]) {
          answered.add(String((await c.command(command)).code));
        }
        let last;
        while (true) {
          last = await c.command("NOOP");
          if (last.code !== 200) break;
        }
        assert.deepEqual(last, { code: 421, lines: ["login timeout, closing control connection"] });
        assert.equal(await c.waitClosed(), true);
        assert.ok(!answered.has("421"));
        // The session that logged in before is older, and not timed.
        assert.equal(await loggedIn.ask("NOOP"), "200 NOOP ok");
        loggedIn.close();
      });
    },
  );

  it("sessions not logged in are capped per address; a login frees the place", T, async () => {
    await withServer({ maxPreLoginConnectionsPerIp: 2 }, async (server) => {
      const a = await RawControl.connect(server.address);
      const b = await RawControl.connect(server.address);
      const c = await RawControl.connect(server.address);
      assert.deepEqual(c.greeting, {
        code: 421,
        lines: ["Too many connections waiting to log in from your address"],
      });
      assert.equal(await c.waitClosed(), true);
      const other = await greetingFrom("127.0.0.2", server.address.port);
      assert.match(other.line, /^220 /, "another address is not refused");
      other.close();
      await a.login();
      const d = await RawControl.connect(server.address);
      assert.equal(d.greeting.code, 220);
      for (const control of [a, b, d]) control.close();
    });
  });

  it("sessions not logged in are capped in total, across addresses", T, async () => {
    await withServer({ maxPreLoginConnections: 2 }, async (server) => {
      const port = server.address.port;
      const a = await greetingFrom("127.0.0.2", port);
      const b = await greetingFrom("127.0.0.3", port);
      const c = await greetingFrom("127.0.0.4", port);
      assert.match(a.line, /^220 /);
      assert.match(b.line, /^220 /);
      assert.equal(c.line, "421 Too many connections waiting to log in");
      for (const control of [a, b, c]) control.close();
    });
  });

  it("per-address limits count an IPv6 /64 as one address", () => {
    const limiter = new ConnectionLimiter({
      maxConnectionsPerIp: 1,
      maxPreLoginConnectionsPerIp: 1,
    });
    const first = limiter.acquire("2001:db8:1:2::1");
    assert.equal(typeof first, "object");
    assert.equal(limiter.acquire("2001:db8:1:2:ffff::9"), "ip");
    assert.equal(typeof limiter.acquire("2001:db8:1:3::1"), "object");
    assert.equal(typeof limiter.acquire("192.0.2.1"), "object");
    assert.equal(limiter.acquire("192.0.2.1"), "ip");
    assert.equal(typeof limiter.acquire("192.0.2.2"), "object");
    if (typeof first === "object") first.release();
    assert.equal(typeof limiter.acquire("2001:db8:1:2::abcd"), "object");
    assert.equal(limiter.total, 4);
  });
});

describe("server: slots are freed when the peer closes", () => {
  it(
    "a session's slot is free once its peer closed, though its cleanup still runs",
    T,
    async () => {
      const logoutStarted = deferred<void>();
      const logoutMayEnd = deferred<void>();
      class SlowLogout extends MemoryUserManager {
        override async notifyLogout(user: User): Promise<void> {
          logoutStarted.resolve();
          await logoutMayEnd.promise;
          await super.notifyLogout(user);
        }
      }
      const users = new SlowLogout([new User()]);
      await withServer({ users, maxConnectionsPerIp: 1 }, async (server) => {
        try {
          const a = await RawControl.connect(server.address);
          await a.login();
          a.close();
          await within(logoutStarted.promise, 5000, "logout");
          const b = await RawControl.connect(server.address);
          assert.deepEqual(b.greeting, { code: 220, lines: ["welcome"] });
          await b.login();
          b.close();
        } finally {
          logoutMayEnd.resolve();
        }
      });
    },
  );

  it("500 quick connects and closes from one address: each next one is served", T, async () => {
    await withServer({ maxConnectionsPerIp: 1 }, async (server) => {
      const refused: number[] = [];
      for (let i = 0; i < 500; i++) {
        const quick = await RawControl.connect(server.address);
        if (quick.greeting.code !== 220) refused.push(i);
        quick.close();
      }
      assert.deepEqual(refused, [], "connections refused while the last one was closed");
      const c = await RawControl.connect(server.address);
      assert.deepEqual(c.greeting, { code: 220, lines: ["welcome"] });
      await c.login();
      c.close();
    });
  });
});

describe("server: passive ports", () => {
  async function fileServer(
    options: ServerOptions,
    fn: (server: Server) => Promise<void>,
  ): Promise<void> {
    await withServer({ fileSystem: await memory(), ...options }, fn);
  }

  it("passive ports are drawn at random from the range, not in sequence", T, async () => {
    const base = Math.min(await freePort(), 65535 - 39);
    await fileServer({ dataPorts: { min: base, max: base + 39 } }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login();
      const ports: number[] = [];
      for (let i = 0; i < 10; i++) ports.push(pasvPort(await c.ask("PASV")));
      assert.ok(ports.every((p) => p >= base && p <= base + 39), `outside the range: ${ports}`);
      const ascending = ports.every((p, i) => i === 0 || p > ports[i - 1]);
      assert.ok(!ascending, `handed out in sequence: ${ports}`);
      c.close();
    });
  });

  it("an address holds at most maxPassiveListenersPerIp listeners; more get 425", T, async () => {
    await fileServer({ maxPassiveListenersPerIp: 2 }, async (server) => {
      const [a, b, c] = await Promise.all([1, 2, 3].map(() => RawControl.connect(server.address)));
      for (const control of [a, b, c]) await control.login();
      const port = pasvPort(await a.ask("PASV"));
      assert.match(await b.ask("EPSV"), /^229 /);
      assert.equal(await c.ask("PASV"), "425 too many passive listeners for your address");
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
      // A listener that got its connection is no longer counted.
      const data = await testNetwork().connect({ hostname: "127.0.0.1", port });
      assert.equal(await a.ask("RETR digits.txt"), "150 data transfer started");
      assert.equal(text(await readAll(data)), "0123456789");
      assert.equal(await a.next(), "226 transfer done");
      assert.match(await c.ask("PASV"), /^227 /);
      for (const control of [a, b, c]) control.close();
    });
  });

  it("with a port range, one address may hold half of it by default", T, async () => {
    const ports = await Promise.all([1, 2, 3, 4].map(freePort));
    await fileServer({ dataPorts: ports }, async (server) => {
      assert.equal(server.portPool.maxPerIp, 2);
      const [a, b, c] = await Promise.all([1, 2, 3].map(() => RawControl.connect(server.address)));
      for (const control of [a, b, c]) await control.login();
      assert.match(await a.ask("PASV"), /^227 /);
      assert.match(await b.ask("PASV"), /^227 /);
      assert.equal(await c.ask("PASV"), "425 too many passive listeners for your address");
      for (const control of [a, b, c]) control.close();
    });
  });

  it("a full passive range gets 425", T, async () => {
    const port = await freePort();
    await fileServer({ dataPorts: [port], maxPassiveListenersPerIp: 2 }, async (server) => {
      const a = await RawControl.connect(server.address);
      const b = await RawControl.connect(server.address);
      await a.login();
      await b.login();
      assert.equal(pasvPort(await a.ask("PASV")), port);
      assert.equal(await b.ask("PASV"), "425 no free passive port, try again later");
      assert.equal(await b.ask("NOOP"), "200 NOOP ok");
      a.close();
      b.close();
    });
  });

  it(
    "a passive listener nobody connects to within dataConnectTimeout is closed and its port reused",
    T,
    async () => {
      const port = await freePort();
      const watcher = logWatcher();
      const options = { dataPorts: [port], dataConnectTimeout: 300, log: watcher.log };
      await fileServer(options, async (server) => {
        const a = await RawControl.connect(server.address);
        const b = await RawControl.connect(server.address);
        await a.login();
        await b.login();
        assert.equal(pasvPort(await a.ask("PASV")), port);
        await watcher.next(new RegExp(`^Closed passive port ${port}: no data connection`));
        assert.equal(server.portPool.used, 0);
        assert.equal(pasvPort(await b.ask("PASV")), port);
        assert.equal(await a.ask("RETR digits.txt"), "425 Can't open data connection");
        assert.equal(await a.ask("NOOP"), "200 NOOP ok");
        a.close();
        b.close();
      });
    },
  );

  it(
    "the port a session keeps after its transfer is closed when no transfer uses it in time",
    T,
    async () => {
      const port = await freePort();
      const watcher = logWatcher();
      const options = { dataPorts: [port], dataConnectTimeout: 300, log: watcher.log };
      await fileServer(options, async (server) => {
        const c = await RawControl.connect(server.address);
        await c.login();
        const data = await testNetwork().connect({
          hostname: "127.0.0.1",
          port: pasvPort(await c.ask("PASV")),
        });
        assert.equal(await c.ask("RETR digits.txt"), "150 data transfer started");
        assert.equal(text(await readAll(data)), "0123456789");
        assert.equal(await c.next(), "226 transfer done");
        assert.equal(server.portPool.used, 1);
        await watcher.next(new RegExp(`^Closed passive port ${port}: no transfer used it again`));
        assert.equal(server.portPool.used, 0);
        assert.equal(pasvPort(await c.ask("PASV")), port);
        c.close();
      });
    },
  );
});

/** The real network, whose listeners can be made to fail `failures` accepts first. */
function failingNetwork(failures: number): Network & { listeners: Listener[] } {
  const real = testNetwork();
  const listeners: Listener[] = [];
  let left = failures;
  return {
    name: `${real.name} (failing accepts)`,
    listeners,
    connect: (options) => real.connect(options),
    async listen(options) {
      const listener = await real.listen(options);
      listeners.push(listener);
      const accept = (): Promise<Conn> => {
        if (left <= 0) return listener.accept();
        left--;
        const error = new Error("accept: too many open files") as Error & { code: string };
        error.code = "EMFILE";
        return Promise.reject(error);
      };
      return {
        addr: listener.addr,
        accept,
        close: () => listener.close(),
        async *[Symbol.asyncIterator]() {
          while (true) yield await accept();
        },
      };
    },
  };
}

describe("server: a failing listener", () => {
  it("a listener that is gone ends serveForever() with its error", T, async () => {
    const network = failingNetwork(0);
    const server = new Server({ network, log: () => {} });
    await server.start("127.0.0.1", 0);
    try {
      const served = server.serveForever();
      await network.listeners[0].close();
      const error = await within(served.then(() => "resolved", (e) => e), 5000, "serveForever");
      assert.ok(error instanceof ConnectionClosedError, `serveForever: ${error}`);
    } finally {
      await within(server.close(), 5000, "close");
    }
  });

  it(
    "failed accepts are retried after waits that double up to 1 s; then it serves",
    T,
    async () => {
      const network = failingNetwork(8);
      const watcher = logWatcher();
      const server = new Server({ network, log: watcher.log });
      await server.start("127.0.0.1", 0);
      try {
        await watcher.next(/retrying in 1000 ms/);
        const c = await RawControl.connect(server.address);
        assert.equal(c.greeting.code, 220);
        c.close();
        const waits = watcher.seen.map((m) => /retrying in (\d+) ms/.exec(m)?.[1]).filter(Boolean);
        assert.deepEqual(waits.map(Number), [10, 20, 40, 80, 160, 320, 640, 1000]);
      } finally {
        await within(server.close(), 5000, "close");
      }
    },
  );
});

/** Counts the bytes a throttle is asked to let through (its limit still applies). */
function countPassing(throttle: Throttle): { bytes: number } {
  const counted = { bytes: 0 };
  const wait = throttle.wait.bind(throttle);
  throttle.wait = (bytes, signal) => {
    counted.bytes += bytes;
    return wait(bytes, signal);
  };
  return counted;
}

async function download(c: RawControl, command: string): Promise<Uint8Array> {
  const data = await c.pasv();
  assert.match(await c.ask(command), /^150 /);
  const bytes = await readAll(data);
  assert.match(await c.next(), /^226 /);
  return bytes;
}

async function upload(c: RawControl, path: string, bytes: Uint8Array): Promise<void> {
  const data = await c.pasv();
  assert.equal(await c.ask(`STOR ${path}`), "150 data transfer started");
  await writeAll(data, bytes);
  assert.equal(await c.next(), "226 transfer done");
}

describe("server: speed limits by direction", () => {
  // Limits so high that nothing waits: what is measured is which throttle the bytes pass.
  const HIGH = 1 << 30;

  it("uploadLimit meters STOR; downloadLimit meters RETR and listings", T, async () => {
    await withServer(
      { fileSystem: await memory(), uploadLimit: HIGH, downloadLimit: HIGH },
      async (server) => {
        const up = countPassing(server.uploadThrottle);
        const down = countPassing(server.downloadThrottle);
        const c = await RawControl.connect(server.address);
        await c.login();
        await upload(c, "up.bin", new Uint8Array(100_000));
        assert.deepEqual([up.bytes, down.bytes], [100_000, 0]);
        assert.equal((await download(c, "RETR digits.txt")).length, 10);
        assert.deepEqual([up.bytes, down.bytes], [100_000, 10]);
        const listing = await download(c, "LIST");
        assert.deepEqual([up.bytes, down.bytes], [100_000, 10 + listing.length]);
        c.close();
      },
    );
  });

  it("a user's uploadLimit and downloadLimit meter that user's transfers", T, async () => {
    const slow = new User({ login: "slow", uploadLimit: HIGH, downloadLimit: HIGH });
    await withServer({ fileSystem: await memory(), users: [slow, new User()] }, async (server) => {
      const up = countPassing(server.userThrottles(slow).upload);
      const down = countPassing(server.userThrottles(slow).download);
      const other = await RawControl.connect(server.address);
      await other.login();
      await upload(other, "other.bin", new Uint8Array(1000));
      await download(other, "RETR digits.txt");
      assert.deepEqual([up.bytes, down.bytes], [0, 0], "another user's bytes were metered");
      const c = await RawControl.connect(server.address);
      await c.login("slow");
      await upload(c, "up.bin", new Uint8Array(5000));
      await download(c, "RETR digits.txt");
      assert.deepEqual([up.bytes, down.bytes], [5000, 10]);
      c.close();
      other.close();
    });
  });

  it("the aioftp names are aliases (read = upload, write = download); new names win", () => {
    const aliased = new Server({
      readSpeedLimit: 1000,
      writeSpeedLimit: 2000,
      readSpeedLimitPerConnection: 3000,
      writeSpeedLimitPerConnection: 4000,
    });
    assert.equal(aliased.uploadThrottle.limit, 1000);
    assert.equal(aliased.downloadThrottle.limit, 2000);
    assert.equal(aliased.readThrottle, aliased.uploadThrottle);
    assert.equal(aliased.writeThrottle, aliased.downloadThrottle);
    assert.equal(aliased.options.uploadLimitPerConnection, 3000);
    assert.equal(aliased.options.downloadLimitPerConnection, 4000);
    const both = new Server({
      uploadLimit: 10,
      readSpeedLimit: 1000,
      downloadLimit: 20,
      writeSpeedLimit: 2000,
      uploadLimitPerConnection: 30,
      readSpeedLimitPerConnection: 3000,
      downloadLimitPerConnection: 40,
      writeSpeedLimitPerConnection: 4000,
    });
    assert.deepEqual(
      [both.uploadThrottle.limit, both.downloadThrottle.limit],
      [10, 20],
    );
    assert.deepEqual(
      [both.options.uploadLimitPerConnection, both.options.downloadLimitPerConnection],
      [30, 40],
    );
    const user = new User({
      readSpeedLimit: 1000,
      downloadLimit: 20,
      writeSpeedLimit: 2000,
      readSpeedLimitPerConnection: 3000,
      downloadLimitPerConnection: 40,
      writeSpeedLimitPerConnection: 4000,
    });
    assert.deepEqual(
      [user.uploadLimit, user.downloadLimit, user.uploadLimitPerConnection],
      [1000, 20, 3000],
    );
    assert.equal(user.downloadLimitPerConnection, 40);
    assert.deepEqual(
      [user.readSpeedLimit, user.writeSpeedLimit, user.writeSpeedLimitPerConnection],
      [1000, 20, 40],
    );
  });

  // The per-connection throttles belong to the session: their effect is measured, with a
  // wide bound (256 KiB at 128 KiB/s takes about 2 s; a tenth of a second may pass at once).
  const SIZE = 256 * 1024;
  const RATE = 128 * 1024;

  it("uploadLimitPerConnection slows a STOR: 256 KiB at 128 KiB/s take >= 1.5 s", T, async () => {
    await withServer({ uploadLimitPerConnection: RATE }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login();
      const started = performance.now();
      await upload(c, "up.bin", new Uint8Array(SIZE));
      const took = performance.now() - started;
      assert.ok(took >= 1500, `256 KiB at 128 KiB/s took ${took.toFixed(0)} ms`);
      c.close();
    });
  });

  it("downloadLimitPerConnection slows a RETR: 256 KiB at 128 KiB/s take >= 1.5 s", T, async () => {
    const fs = new MemoryFileSystem();
    await putFile(fs, "/big.bin", new Uint8Array(SIZE));
    await withServer({ fileSystem: fs, downloadLimitPerConnection: RATE }, async (server) => {
      const c = await RawControl.connect(server.address);
      await c.login();
      const started = performance.now();
      assert.equal((await download(c, "RETR big.bin")).length, SIZE);
      const took = performance.now() - started;
      assert.ok(took >= 1500, `256 KiB at 128 KiB/s took ${took.toFixed(0)} ms`);
      c.close();
    });
  });
});
