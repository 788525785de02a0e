/**
 * examples/serve.ts run as a child process: its event log (`--log json`, `--log text`,
 * `--quiet`) read line by line from its stdout, and hashed accounts (`--hash-password`,
 * `--pass-hash`).
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { verifyPassword } from "../server.ts";
import { run, runtime, within } from "./_util.ts";
import { RawControl, readAll, text, writeAll } from "./server_raw.ts";

// Node runs the compiled suite, next to the compiled examples.
const script = new URL(`../examples/serve.${runtime === "node" ? "js" : "ts"}`, import.meta.url)
  .pathname;
const skip = existsSync(script) ? false : `${script} is missing`;
const command = (args: string[]) =>
  runtime === "deno" ? ["run", "-A", script, ...args] : [script, ...args];
const T = { timeout: 60000 };

/** serve.ts running, its stdout split into lines as they come. */
interface Served {
  child: ChildProcess;
  port: number;
  /** Every line printed so far, the URL first. */
  lines: string[];
  /** Resolves with the first line (after the URL) that `match` accepts. */
  line(match: (line: string) => boolean): Promise<string>;
  /** Stops the server and resolves once it exited. */
  stop(): Promise<void>;
}

function serve(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, command(["--port", "0", ...args]), {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exit = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const lines: string[] = [];
  const waiting: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let partial = "";
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  return within(
    new Promise((resolve, reject) => {
      child.stdout!.on("data", (chunk) => {
        partial += chunk;
        const complete = partial.split("\n");
        partial = complete.pop()!;
        for (const line of complete) {
          lines.push(line);
          if (lines.length === 1) {
            resolve({
              child,
              port: Number(new URL(line).port),
              lines,
              line(match) {
                const found = lines.slice(1).find(match);
                if (found !== undefined) return Promise.resolve(found);
                return within(
                  new Promise((r) => waiting.push({ match, resolve: r })),
                  20000,
                  "line",
                );
              },
              async stop() {
                child.kill("SIGTERM");
                await within(exit, 10000, "serve.ts exit");
              },
            });
            continue;
          }
          for (const w of waiting.filter((w) => w.match(line))) {
            waiting.splice(waiting.indexOf(w), 1);
            w.resolve(line);
          }
        }
      });
      exit.then(() => reject(new Error(`serve.ts exited: ${stderr}`)));
    }),
    20000,
    "serve.ts start",
  );
}

/** One session that fails a login, logs in, and uploads, downloads, renames, deletes. */
async function busySession(port: number): Promise<void> {
  const c = await RawControl.connect({ hostname: "127.0.0.1", port, family: "IPv4" });
  assert.equal(await c.ask("USER mallory"), "331 password required");
  assert.equal(await c.ask("PASS guess"), "530 login incorrect");
  await c.login("alice", "pw");
  assert.equal(await c.ask("MKD d"), '257 "/d" created');
  let data = await c.pasv();
  assert.equal(await c.ask("STOR d/a.txt"), "150 data transfer started");
  await writeAll(data, new TextEncoder().encode("hello"));
  assert.equal(await c.next(), "226 transfer done");
  data = await c.pasv();
  assert.equal(await c.ask("RETR d/a.txt"), "150 data transfer started");
  assert.equal(text(await readAll(data)), "hello");
  assert.equal(await c.next(), "226 transfer done");
  assert.equal(await c.ask("RNFR d/a.txt"), "350 rename from accepted");
  assert.equal(await c.ask("RNTO d/b.txt"), "250 rename successful");
  assert.equal(await c.ask("DELE d/b.txt"), "250 file deleted");
  assert.equal(await c.ask("RMD d"), "250 directory removed");
  assert.equal(await c.ask("QUIT"), "221 bye");
  await c.waitClosed();
}

describe("examples/serve.ts: event log", { skip }, () => {
  it("--log json: one JSON object per event, with the fields that apply", T, async () => {
    const served = await serve(["--user", "alice", "--pass", "pw", "--log", "json"]);
    try {
      await busySession(served.port);
      await served.line((l) => l.includes('"event":"disconnect"'));
    } finally {
      await served.stop();
    }
    const entries = served.lines.slice(1).map((line) => JSON.parse(line));
    assert.deepEqual(entries.map((e) => e.event), [
      "connect",
      "login-failed",
      "login",
      "mkdir",
      "upload",
      "download",
      "rename",
      "delete",
      "rmdir",
      "logout",
      "disconnect",
    ]);
    for (const e of entries) {
      assert.deepEqual(Object.keys(e).slice(0, 5), ["time", "event", "session", "ip", "user"]);
      assert.equal(e.session, entries[0].session);
      assert.equal(e.ip, "127.0.0.1");
      assert.equal(new Date(e.time).toISOString(), e.time);
    }
    const by = (event: string) => entries.find((e) => e.event === event);
    assert.equal(by("connect").user, null);
    assert.deepEqual([by("login-failed").user, by("login-failed").reason], [
      "mallory",
      "unknown-user",
    ]);
    assert.equal(by("login").user, "alice");
    for (const direction of ["upload", "download"]) {
      const t = by(direction);
      assert.deepEqual([t.path, t.bytes, t.complete, t.code], ["/d/a.txt", 5, true, 226]);
      assert.equal(typeof t.ms, "number");
    }
    assert.deepEqual([by("rename").from, by("rename").path], ["/d/a.txt", "/d/b.txt"]);
    assert.equal(by("delete").path, "/d/b.txt");
    assert.equal(by("mkdir").path, "/d");
    assert.equal(by("rmdir").path, "/d");
    assert.equal(typeof by("disconnect").ms, "number");
  });

  it("--log text (the default): one readable line per event", T, async () => {
    const served = await serve(["--user", "alice", "--pass", "pw"]);
    try {
      await busySession(served.port);
      await served.line((l) => / disconnect \d+ ms$/.test(l));
    } finally {
      await served.stop();
    }
    const lines = served.lines.slice(1);
    assert.equal(lines.length, 11, lines.join("\n"));
    const who = String.raw`^\S+Z #(\d+) 127\.0\.0\.1`;
    const expected = [
      `${who} - connect$`,
      `${who} mallory login-failed \\(unknown-user\\)$`,
      `${who} alice login$`,
      `${who} alice mkdir /d$`,
      `${who} alice upload /d/a.txt 5 bytes \\d+ ms 226$`,
      `${who} alice download /d/a.txt 5 bytes \\d+ ms 226$`,
      `${who} alice rename /d/a.txt -> /d/b.txt$`,
      `${who} alice delete /d/b.txt$`,
      `${who} alice rmdir /d$`,
      `${who} alice logout$`,
      `${who} alice disconnect \\d+ ms$`,
    ];
    lines.forEach((line, i) => assert.match(line, new RegExp(expected[i]), line));
  });

  it("--quiet prints only the URL", T, async () => {
    const served = await serve(["--user", "alice", "--pass", "pw", "--quiet"]);
    try {
      await busySession(served.port);
    } finally {
      await served.stop();
    }
    assert.deepEqual(served.lines, [`ftp://127.0.0.1:${served.port}`]);
  });
});

describe("examples/serve.ts: hashed accounts", { skip }, () => {
  it("--hash-password prints a hash of stdin that --pass-hash takes", T, async () => {
    const made = await run(process.execPath, command(["--hash-password"]), {
      input: "pa$$ word\n",
      timeoutMs: 20000,
    });
    assert.equal(made.code, 0, made.stderr);
    const hash = made.stdout.trim();
    assert.match(hash, /^scrypt\$16384\$8\$1\$\S+\$\S+$/);
    assert.equal(await verifyPassword("pa$$ word", hash), true);
    const served = await serve(["--user", "alice", "--pass-hash", hash, "--quiet"]);
    try {
      const c = await RawControl.connect({
        hostname: "127.0.0.1",
        port: served.port,
        family: "IPv4",
      });
      assert.equal(await c.ask("USER alice"), "331 password required");
      assert.equal(await c.ask("PASS pa$$ word"), "230 normal login");
      c.close();
    } finally {
      await served.stop();
    }
  });

  it("refuses account and log flags that do not fit, with exit code 2", T, async () => {
    const cases: [string[], string][] = [
      [["--user", "alice"], "serve: --user needs --pass or --pass-hash"],
      [["--pass", "x"], "serve: --pass and --pass-hash need --user"],
      [["--user", "a", "--pass", "x", "--pass-hash", "y"], "serve: --pass and --pass-hash exclude"],
      [["--user", "a", "--pass-hash", "scrypt$1$2"], "serve: --pass-hash: Password hash"],
      [["--log", "xml"], "serve: --log must be text or json"],
      [["--root", ".", "--memory"], "serve: --root and --memory exclude each other"],
      [["--bogus"], "serve: Unknown option '--bogus'"],
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
});
