/**
 * A first look at the client's bulk download speed: one large file from vsftpd (started by the
 * tests' peer helper on a loopback port), fetched by streamftp's client and by curl, the same
 * file, several interleaved runs each. Prints a markdown table with the median MB/s (10^6 bytes
 * per second) and the ratio. Not part of the test suite; needs root (vsftpd chroots).
 *
 * Each run is timed from connect to the end of QUIT (curl: the whole process), into a tmpfs
 * (`/dev/shm`) so the disk is not measured. Before each run a scratch file of the same size is
 * written and deleted, so both clients write into recently freed pages (the largest source of
 * noise on this VM, see the bench README).
 *
 * Usage: `deno run -A bench/client_first_look.ts [--mib 256] [--runs 3]`
 *
 * @module
 */

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { Client } from "../client.ts";
import { runtime, testNetwork } from "../tests/_util.ts";
import { startVsftpd } from "../tests/peers/vsftpd.ts";

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const mib = option("mib", 256);
const runs = option("runs", 3);
const size = mib * 1024 * 1024;
const adapter = process.env.STREAMFTP_ADAPTER ?? runtime;
const label = `${runtime} ${process.versions[runtime]}, ${adapter} adapter`;

async function writePattern(path: string, bytes: number): Promise<void> {
  const handle = await open(path, "w");
  const block = new Uint8Array(4 * 1024 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24;
  for (let done = 0; done < bytes; done += block.length) {
    await handle.write(block, 0, Math.min(block.length, bytes - done));
  }
  await handle.close();
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk);
  return hash.digest("hex");
}

function runCurl(url: string, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("curl", ["-sS", "-o", out, url], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`curl: ${stderr}`))));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const peer = await startVsftpd();
const scratch = await mkdtemp("/dev/shm/streamftp-bench-");
try {
  const source = join(peer.root, "bench.bin");
  await writePattern(source, size);
  const expected = await sha256File(source);
  const remote = `${peer.base}/bench.bin`;
  const url = `ftp://127.0.0.1:${peer.port}${remote}`;
  const results: Record<"streamftp" | "curl", number[]> = { streamftp: [], curl: [] };
  for (let run = 0; run < runs; run++) {
    const order: ("streamftp" | "curl")[] = run % 2 ? ["curl", "streamftp"] : ["streamftp", "curl"];
    for (const who of order) {
      const target = join(scratch, who);
      await rm(target, { recursive: true, force: true });
      await writePattern(join(scratch, "prewarm"), size);
      await rm(join(scratch, "prewarm"));
      const started = performance.now();
      if (who === "curl") {
        await runCurl(url, join(scratch, "curl.bin"));
      } else {
        const client = await Client.connect(peer.host, peer.port, { network: testNetwork() });
        await client.login(peer.user, peer.password);
        await client.download(remote, target);
        await client.quit();
      }
      const seconds = (performance.now() - started) / 1000;
      const file = who === "curl" ? join(scratch, "curl.bin") : join(target, "bench.bin");
      if ((await stat(file)).size !== size || await sha256File(file) !== expected) {
        throw new Error(`${who} produced a wrong file`);
      }
      await rm(file);
      results[who].push(size / seconds / 1e6);
      console.error(`run ${run + 1} ${who}: ${(size / seconds / 1e6).toFixed(0)} MB/s`);
    }
  }
  const ours = median(results.streamftp);
  const curl = median(results.curl);
  const fmt = (v: number[]) => v.map((x) => x.toFixed(0)).join(", ");
  console.log(`\nRETR of ${mib} MiB from vsftpd on 127.0.0.1 into tmpfs, ${runs} runs each\n`);
  console.log("| client | median MB/s | runs (MB/s) |");
  console.log("|---|---|---|");
  console.log(
    `| streamftp (${label}) | ${ours.toFixed(0)} | ${fmt(results.streamftp)} |`,
  );
  console.log(`| curl | ${curl.toFixed(0)} | ${fmt(results.curl)} |`);
  console.log(`\nstreamftp / curl = ${(ours / curl).toFixed(2)}`);
} finally {
  await rm(scratch, { recursive: true, force: true });
  await peer.stop();
}
