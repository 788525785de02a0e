/**
 * The CLI's progress bar: what one line shows, when it is drawn (only after a delay, at most
 * once per interval, erased at the end), and that `streamftp get` draws it on a terminal (a
 * pseudo-terminal from `script`) and stays silent on a pipe.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { formatBytes, formatProgressLine, ProgressBar } from "../lib/cli/progress_bar.ts";
import { LocalFileSystem, Server } from "../server.ts";
import { cliArgs, cliSkip, runCli } from "./_cli.ts";
import { peerSkip, randomBytes, run, sha256, tempDir } from "./_util.ts";

/** What the bar writes before each drawing, and alone to erase itself: CR, erase line. */
const CLEAR_LINE = "\r\u001b[K";

describe("progress bar", () => {
  it("a line: percentage, bar, bytes of the total, rate, time left", () => {
    const line = formatProgressLine(3 << 20, 12 << 20, 2000, 60);
    assert.equal(line, " 25% [=====>              ] 3.0/12.0 MiB 1.5 MiB/s ETA 0:06");
    assert.equal(line.length, 59);
    assert.equal(
      formatProgressLine(12 << 20, 12 << 20, 4000, 60),
      "100% [===================] 12.0/12.0 MiB 3.0 MiB/s ETA 0:00",
    );
  });

  it("without a total: bytes and rate; a narrow terminal gets no bar", () => {
    assert.equal(formatProgressLine(1536, undefined, 1000, 80), "1.5 KiB 1.5 KiB/s");
    assert.equal(
      formatProgressLine(5 << 20, 10 << 20, 1000, 40),
      " 50% 5.0/10.0 MiB 5.0 MiB/s ETA 0:01",
    );
    assert.equal(formatProgressLine(1, 3600 * 2, 1000, 80).endsWith("ETA 1:59:59"), true);
  });

  it("byte counts in binary units", () => {
    assert.deepEqual(
      [0, 1023, 1024, 1536, 5 << 20, 3 * 1024 ** 3].map(formatBytes),
      ["0 B", "1023 B", "1.0 KiB", "1.5 KiB", "5.0 MiB", "3.0 GiB"],
    );
  });

  it("draws only after the delay, at most once per interval, and erases itself", () => {
    let now = 0;
    const written: string[] = [];
    const bar = new ProgressBar({ columns: 60, write: (t) => written.push(t) }, {
      delay: 1000,
      interval: 200,
      now: () => now,
    });
    bar.update(0, 100);
    now = 999;
    bar.update(50, 100);
    assert.equal(written.length, 0);
    now = 1000;
    bar.update(60, 100);
    now = 1100;
    bar.update(70, 100);
    now = 1200;
    bar.update(80, 100);
    assert.equal(written.length, 2);
    assert.ok(written[0].startsWith(`${CLEAR_LINE} 60% [`), written[0]);
    assert.ok(written[1].startsWith(`${CLEAR_LINE} 80% [`), written[1]);
    bar.finish();
    assert.equal(written[2], CLEAR_LINE);
    const quiet: string[] = [];
    const short = new ProgressBar({ write: (t) => quiet.push(t) }, { now: () => 0 });
    short.update(10, 10);
    short.finish();
    assert.deepEqual(quiet, [], "a short transfer leaves no trace");
  });
});

const SCRIPT = "/usr/bin/script";

describe("streamftp get: progress on a terminal only", {
  skip: cliSkip || peerSkip("script", SCRIPT),
}, () => {
  it("a long download draws the bar on a terminal; on a pipe stderr stays empty", {
    timeout: 60000,
  }, async () => {
    const dir = await tempDir("streamftp-cli-progress-");
    const payload = randomBytes(1536 * 1024, 9);
    await writeFile(join(dir.path, "big.bin"), payload);
    const server = new Server({
      fileSystem: new LocalFileSystem(dir.path),
      downloadLimit: 1 << 20,
    });
    await server.start();
    try {
      const url = `ftp://127.0.0.1:${server.address.port}/big.bin`;
      const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
      const command = [process.execPath, ...cliArgs(["get", url, join(dir.path, "tty.bin")])]
        .map(quote).join(" ");
      const tty = await run(SCRIPT, ["-qec", command, "/dev/null"], { timeoutMs: 30000 });
      assert.equal(tty.code, 0, tty.stdout + tty.stderr);
      assert.equal(sha256(await readFile(join(dir.path, "tty.bin"))), sha256(payload));
      const drawn = tty.stdout.split(CLEAR_LINE);
      const bar = /^ +\d+% \[[=> ]+\] [\d.]+\/1\.5 MiB [\d.]+ [KM]iB\/s ETA \d+:\d\d$/;
      assert.ok(drawn.some((line) => bar.test(line)), JSON.stringify(tty.stdout));
      assert.equal(drawn[drawn.length - 1], "", "the bar is erased at the end");
      const piped = await runCli(["get", url, join(dir.path, "pipe.bin")]);
      assert.equal(piped.code, 0, piped.stderr);
      assert.equal(piped.stderr, "");
      assert.equal(piped.stdout, "");
      assert.equal(sha256(await readFile(join(dir.path, "pipe.bin"))), sha256(payload));
    } finally {
      await server.close();
      await dir.remove();
    }
  });
});
