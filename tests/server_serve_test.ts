/** examples/serve.ts (`deno task serve`) run as a child process of the running runtime. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { type Reply, ReplyParser } from "../lib/protocol/reply.ts";
import { parsePasvReply } from "../lib/protocol/address.ts";
import type { Conn } from "../lib/socket.ts";
import { LineReader } from "../lib/stream/line_reader.ts";
import { run, runtime, tempDir, testNetwork, within } from "./_util.ts";
import { TEST_CA_CERT, TEST_SERVER_CERT, TEST_SERVER_KEY } from "./fixtures/tls.ts";
import { RawControl, readAll, text, writeAll } from "./server_raw.ts";

// Node runs the compiled suite, next to the compiled examples.
const script = new URL(`../examples/serve.${runtime === "node" ? "js" : "ts"}`, import.meta.url)
  .pathname;
const skip = existsSync(script) ? false : `${script} is missing`;
const command = (args: string[]) =>
  runtime === "deno" ? ["run", "-A", script, ...args] : [script, ...args];

/** Starts serve.ts and returns the child and the URL it printed. */
interface Served {
  child: ChildProcess;
  url: URL;
  /** The exit code, once the process is gone. */
  exit: Promise<number | null>;
}

function serve(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, command(args), { stdio: ["ignore", "pipe", "pipe"] });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let output = "";
  return within(
    new Promise((resolve, reject) => {
      child.stdout!.on("data", (chunk) => {
        output += chunk;
        const line = /^(ftps?:\/\/\S+)\n/.exec(output);
        if (line) resolve({ child, url: new URL(line[1]), exit });
      });
      exit.then((code) => reject(new Error(`serve.ts exited with ${code}: ${output}`)));
    }),
    20000,
    "serve.ts start",
  );
}

/**
 * Exit code 0 after the signal handler closed the server. Deno's node:child_process reports a
 * child that handled SIGTERM/SIGINT and exited 0 as killed by the signal (code null), while
 * Deno.Command sees code 0; under Deno only the absence of a non-zero code can be checked.
 */
function assertCleanExit(code: number | null): void {
  if (runtime === "deno" && code === null) return;
  assert.equal(code, 0);
}

describe("examples/serve.ts", { skip }, () => {
  it("--help prints the usage", { timeout: 30000 }, async () => {
    const result = await run(process.execPath, command(["--help"]), { timeoutMs: 20000 });
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^Usage: serve \[options\]/);
    assert.match(result.stdout, /--data-ports MIN-MAX/);
    for (const flag of ["--tls-cert FILE", "--tls-key FILE", "--implicit-tls", "--require-tls"]) {
      assert.match(result.stdout, new RegExp(`^  ${flag} `, "m"), flag);
    }
  });

  it("memory, anonymous read-only: prints one ftp:// line, serves, stops on SIGTERM", {
    timeout: 30000,
  }, async () => {
    const { child, url, exit } = await serve([
      "--port",
      "0",
      "--memory",
      "--data-ports",
      "40000-40100",
    ]);
    try {
      assert.equal(url.hostname, "127.0.0.1");
      const c = await RawControl.connect({
        hostname: "127.0.0.1",
        port: Number(url.port),
        family: "IPv4",
      });
      assert.equal(await c.ask("USER anonymous"), "230 anonymous login");
      const pasv = await c.command("EPSV");
      const port = Number(/\|\|\|(\d+)\|/.exec(pasv.lines[0])![1]);
      assert.ok(port >= 40000 && port <= 40100, `data port ${port} outside the range`);
      assert.equal(await c.ask("MKD x"), "550 permission denied");
      assert.equal(await c.ask("QUIT"), "221 bye");
      c.close();
    } finally {
      child.kill("SIGTERM");
    }
    assertCleanExit(await within(exit, 10000, "exit"));
  });

  it("--host binds that address; --pasv-address goes into PASV replies", {
    timeout: 30000,
  }, async () => {
    const { child, url, exit } = await serve([
      "--host",
      "127.0.0.2",
      "--port",
      "0",
      "--pasv-address",
      "127.0.0.9",
    ]);
    try {
      assert.equal(url.hostname, "127.0.0.2");
      const addr = { hostname: "127.0.0.2", port: Number(url.port), family: "IPv4" } as const;
      await assert.rejects(RawControl.connect({ ...addr, hostname: "127.0.0.1" }));
      const c = await RawControl.connect(addr);
      await c.login();
      assert.match(await c.ask("PASV"), /^227 Entering Passive Mode \(127,0,0,9,\d+,\d+\)\.$/);
      assert.equal(await c.ask("QUIT"), "221 bye");
      c.close();
    } finally {
      child.kill("SIGTERM");
    }
    assertCleanExit(await within(exit, 10000, "exit"));
  });

  it(
    "--root with --user/--pass: the user reads and writes the directory",
    { timeout: 30000 },
    async () => {
      const dir = await tempDir("streamftp-serve-");
      const { child, url, exit } = await serve([
        "--port",
        "0",
        "--root",
        dir.path,
        "--user",
        "alice",
        "--pass",
        "pw",
      ]);
      try {
        const c = await RawControl.connect({
          hostname: "127.0.0.1",
          port: Number(url.port),
          family: "IPv4",
        });
        await c.login("alice", "pw");
        const up = await c.pasv();
        assert.equal(await c.ask("STOR hello.txt"), "150 data transfer started");
        await writeAll(up, new TextEncoder().encode("hi"));
        assert.equal(await c.next(), "226 transfer done");
        assert.equal(await readFile(join(dir.path, "hello.txt"), "utf8"), "hi");
        const down = await c.pasv();
        assert.equal(await c.ask("NLST"), "150 list transfer started");
        assert.equal(text(await readAll(down)), "hello.txt\r\n");
        assert.equal(await c.next(), "226 list transfer done");
        c.close();
      } finally {
        child.kill("SIGINT");
        await dir.remove().catch(() => {});
      }
      assertCleanExit(await within(exit, 10000, "exit"));
    },
  );
});

/** A control connection read reply by reply, that can turn to TLS (AUTH TLS) in place. */
class TlsControl {
  conn: Conn;
  #lines: LineReader;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #parser = new ReplyParser();

  constructor(conn: Conn) {
    this.conn = conn;
    this.#lines = new LineReader(conn.readable, { stripTelnet: false });
    this.#writer = conn.writable.getWriter();
  }

  /** Connects in clear text (`tls: false`) or with TLS from the first byte. */
  static async connect(port: number, tls: boolean): Promise<TlsControl> {
    const conn = await testNetwork().connect({
      hostname: "127.0.0.1",
      port,
      tls: tls ? { role: "client", caCerts: [TEST_CA_CERT] } : undefined,
    });
    return new TlsControl(conn);
  }

  read(): Promise<Reply> {
    return within(
      (async () => {
        while (true) {
          const line = await this.#lines.readLine();
          if (line === null) throw new Error("connection closed while a reply was awaited");
          const reply = this.#parser.push(line);
          if (reply) return reply;
        }
      })(),
      5000,
      "reply",
    );
  }

  async send(line: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(`${line}\r\n`));
  }

  async next(): Promise<string> {
    const reply = await this.read();
    return `${reply.code} ${reply.lines[0]}`;
  }

  async ask(line: string): Promise<string> {
    await this.send(line);
    return await this.next();
  }

  /** Runs the TLS client handshake on the connection (after `234`), trusting the test CA. */
  async upgrade(): Promise<void> {
    assert.equal(this.#lines.releaseLock().length, 0, "nothing after 234");
    this.#writer.releaseLock();
    this.conn = await within(
      this.conn.startTls({ role: "client", caCerts: [TEST_CA_CERT] }),
      5000,
      "TLS handshake",
    );
    this.#lines = new LineReader(this.conn.readable, { stripTelnet: false });
    this.#writer = this.conn.writable.getWriter();
  }

  /**
   * Runs one transfer command under PROT P: PASV, then the command; the data connection's TLS
   * handshake completes once the server has answered `150`. Returns the `150` line and the
   * secured data connection.
   */
  async protectedTransfer(command: string): Promise<{ opening: string; data: Conn }> {
    await this.send("PASV");
    const pasv = await this.read();
    assert.equal(pasv.code, 227, pasv.lines.join(" "));
    const { hostname, port } = parsePasvReply(pasv.lines.join(" "));
    const data = testNetwork().connect({
      hostname,
      port,
      tls: { role: "client", caCerts: [TEST_CA_CERT] },
    });
    data.catch(() => {});
    const opening = await this.ask(command);
    return { opening, data: await within(data, 5000, "data TLS handshake") };
  }

  close(): void {
    this.conn.close();
  }
}

describe("examples/serve.ts with TLS", { skip }, () => {
  let dir: { path: string; remove(): Promise<void> };
  let cert: string;
  let key: string;

  before(async () => {
    dir = await tempDir("streamftp-serve-tls-");
    cert = join(dir.path, "cert.pem");
    key = join(dir.path, "key.pem");
    await writeFile(cert, TEST_SERVER_CERT);
    await writeFile(key, TEST_SERVER_KEY);
    await writeFile(join(dir.path, "ca.pem"), TEST_CA_CERT);
  });
  after(async () => {
    await dir.remove();
  });

  it("refuses TLS flags that do not fit together, with exit code 2", {
    timeout: 60000,
  }, async () => {
    const cases: [string[], string][] = [
      [["--implicit-tls"], "serve: --implicit-tls needs --tls-cert"],
      [["--require-tls"], "serve: --require-tls needs --tls-cert"],
      [["--tls-cert", cert], "serve: --tls-cert and --tls-key go together"],
      [["--tls-key", key], "serve: --tls-cert and --tls-key go together"],
      [["--tls-cert", join(dir.path, "ca.pem"), "--tls-key", key], "serve: --tls-key "],
      [["--tls-cert", join(dir.path, "none.pem"), "--tls-key", key], "serve: --tls-cert "],
    ];
    for (const [args, message] of cases) {
      const result = await run(process.execPath, command(["--port", "0", ...args]), {
        timeoutMs: 20000,
      });
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.ok(result.stderr.startsWith(message), `${args.join(" ")}: ${result.stderr}`);
      assert.equal(result.stdout, "");
    }
  });

  it("--tls-cert/--tls-key --require-tls: ftp:// URL, plain USER refused, TLS login and PROT P", {
    timeout: 30000,
  }, async () => {
    const root = await tempDir("streamftp-serve-root-");
    const served = await serve([
      "--port",
      "0",
      "--root",
      root.path,
      "--user",
      "alice",
      "--pass",
      "pw",
      "--tls-cert",
      cert,
      "--tls-key",
      key,
      "--require-tls",
    ]);
    try {
      assert.equal(served.url.protocol, "ftp:");
      const port = Number(served.url.port);
      const plain = await TlsControl.connect(port, false);
      assert.equal(await plain.next(), "220 welcome");
      await plain.send("FEAT");
      const feat = await plain.read();
      for (const line of [" AUTH TLS", " PBSZ", " PROT"]) {
        assert.ok(feat.lines.includes(line), line);
      }
      assert.equal(await plain.ask("USER alice"), "530 TLS required: send AUTH TLS before USER");
      assert.equal(await plain.ask("QUIT"), "221 bye");
      plain.close();

      const c = await TlsControl.connect(port, false);
      assert.equal(await c.next(), "220 welcome");
      assert.equal(await c.ask("AUTH TLS"), "234 AUTH TLS successful, starting the TLS handshake");
      await c.upgrade();
      assert.equal(c.conn.secure, true);
      assert.equal(await c.ask("USER alice"), "331 password required");
      assert.equal(await c.ask("PASS pw"), "230 normal login");
      // Data connections must be protected too.
      assert.equal(await c.ask("PASV").then((r) => r.slice(0, 4)), "227 ");
      assert.equal(
        await c.ask("NLST"),
        "521 data connections must be protected: send PBSZ 0 and PROT P",
      );
      assert.equal(await c.ask("PBSZ 0"), "200 PBSZ=0");
      assert.equal(await c.ask("PROT P"), "200 protection level set to P");
      const up = await c.protectedTransfer("STOR hello.txt");
      assert.equal(up.opening, "150 data transfer started");
      assert.equal(up.data.secure, true);
      await writeAll(up.data, new TextEncoder().encode("over tls"));
      assert.equal(await c.next(), "226 transfer done");
      assert.equal(await readFile(join(root.path, "hello.txt"), "utf8"), "over tls");
      const down = await c.protectedTransfer("RETR hello.txt");
      assert.equal(down.opening, "150 data transfer started");
      assert.equal(text(await readAll(down.data)), "over tls");
      assert.equal(await c.next(), "226 transfer done");
      assert.equal(await c.ask("QUIT"), "221 bye");
      c.close();
    } finally {
      served.child.kill("SIGTERM");
      await root.remove().catch(() => {});
    }
    assertCleanExit(await within(served.exit, 10000, "exit"));
  });

  it("--require-tls spares anonymous names only: USER anonymous plain is served, USER bob not", {
    timeout: 30000,
  }, async () => {
    const served = await serve([
      "--port",
      "0",
      "--tls-cert",
      cert,
      "--tls-key",
      key,
      "--require-tls",
    ]);
    try {
      const c = await TlsControl.connect(Number(served.url.port), false);
      assert.equal(await c.next(), "220 welcome");
      assert.equal(await c.ask("USER bob"), "530 TLS required: send AUTH TLS before USER");
      assert.equal(await c.ask("USER anonymous"), "230 anonymous login");
      assert.equal(await c.ask("QUIT"), "221 bye");
      c.close();
    } finally {
      served.child.kill("SIGTERM");
    }
    assertCleanExit(await within(served.exit, 10000, "exit"));
  });

  it("--implicit-tls: prints an ftps:// URL; TLS from the first byte, a protected listing", {
    timeout: 30000,
  }, async () => {
    const root = await tempDir("streamftp-serve-root-");
    await writeFile(join(root.path, "shared.txt"), "implicit");
    const served = await serve([
      "--port",
      "0",
      "--root",
      root.path,
      "--tls-cert",
      cert,
      "--tls-key",
      key,
      "--implicit-tls",
    ]);
    try {
      assert.equal(served.url.protocol, "ftps:");
      assert.equal(served.url.hostname, "127.0.0.1");
      const c = await TlsControl.connect(Number(served.url.port), true);
      assert.equal(c.conn.secure, true);
      assert.equal(await c.next(), "220 welcome");
      assert.equal(await c.ask("USER anonymous"), "230 anonymous login");
      assert.equal(await c.ask("PBSZ 0"), "200 PBSZ=0");
      assert.equal(await c.ask("PROT P"), "200 protection level set to P");
      const list = await c.protectedTransfer("NLST");
      assert.equal(list.opening, "150 list transfer started");
      assert.equal(text(await readAll(list.data)), "shared.txt\r\n");
      assert.equal(await c.next(), "226 list transfer done");
      const down = await c.protectedTransfer("RETR shared.txt");
      assert.equal(text(await readAll(down.data)), "implicit");
      assert.equal(await c.next(), "226 transfer done");
      assert.equal(await c.ask("QUIT"), "221 bye");
      c.close();
    } finally {
      served.child.kill("SIGTERM");
      await root.remove().catch(() => {});
    }
    assertCleanExit(await within(served.exit, 10000, "exit"));
  });
});
