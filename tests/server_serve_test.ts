/** examples/serve.ts (`deno task serve`) run as a child process of the running runtime. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { run, runtime, tempDir, within } from "./_util.ts";
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
        const line = /^(ftp:\/\/\S+)\n/.exec(output);
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
      assert.equal(await c.ask("USER anyone"), "230 anonymous login");
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
