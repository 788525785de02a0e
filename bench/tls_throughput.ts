/**
 * FTPS throughput beside plain FTP: RETR and STOR of one large file, for streamftp's server in
 * each runtime (Deno, Bun, Node from the npm build) measured with curl as the client, and for
 * streamftp's client in each runtime (Deno, Bun) measured against streamftp's server. Plain
 * (`ftp://`, PROT C) and TLS (explicit `AUTH TLS` + `PBSZ 0` + `PROT P`, the test certificate of
 * `tests/fixtures/tls.ts`) runs are interleaved, alternating which goes first. Prints one
 * markdown table per direction with the median MB/s (10^6 bytes per second) of each, the
 * TLS ÷ plain ratio, and the median CPU seconds the server process (and our client process)
 * spent per transfer, read from `/proc/<pid>/stat`. Not part of the test suite; Linux only.
 *
 * Usage:
 *
 * ```sh
 * deno task bench:tls [--mib 256] [--runs 3] [--quick]
 * deno run -A bench/tls_throughput.ts [--mib N] [--runs N] [--quick] [--runtimes deno,bun,node]
 *   [--roles server,client] [--peer deno] [--timeout SECONDS]
 * ```
 *
 * - `--quick`: 64 MiB and 1 run (an explicit `--mib`/`--runs` wins).
 * - `--runtimes`: which runtimes to measure (default all three; Node needs the npm build, see
 *   below, and is skipped with a note without it).
 * - `--roles`: `server` (our server, curl as client) and/or `client` (our client against our
 *   server).
 * - `--peer`: the runtime of the server our clients talk to (default `deno`), the same server
 *   process for every client row so that those rows differ by the client only.
 * - `--timeout`: the limit of each transfer (default 60 s plus 1 s per 5 MB).
 *
 * Every server is a separate process running `bench/_tls_server.mjs` (a `LocalFileSystem` in a
 * tmpfs directory under `/dev/shm`, so no disk is measured); Node runs a `.mjs` copy of it
 * against `npm/server.js`, which `deno run -A build_npm.ts --no-test` builds (the build drops
 * `npm/tests` and `npm/examples` but keeps the library). Our client runs in a separate process
 * too: this file with `--client-worker`. Each transfer is timed from connecting to its end,
 * process start-up left out: curl's own `%{time_total}`, our client from `Client.connect` to the
 * end of `quit()`. The client CPU of the curl rows is curl's (bash's `times`).
 * Before each transfer a scratch file of the same size is written into and deleted from the
 * tmpfs, so every writer gets recently freed pages. After each transfer the written file's
 * size and sha256 are checked. A wrong byte, an error or a timeout is no number: that transfer
 * is left out of the medians, counted in its cell (`(1/3 failed)`, `FAILED` when none passed),
 * listed under the tables, and the bench exits 1. Every child process is killed at the end
 * (servers also exit when their stdin closes).
 *
 * @module
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";
import { link, mkdir, mkdtemp, open, readdir, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { TEST_CA_CERT, TEST_SERVER_CERT, TEST_SERVER_KEY } from "../tests/fixtures/tls.ts";

type Runtime = "deno" | "bun" | "node";
type Role = "server" | "client";
type Direction = "RETR" | "STOR";
type Security = "plain" | "tls";

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const SERVER_SCRIPT = join(REPO, "bench", "_tls_server.mjs");
const THIS_SCRIPT = fileURLToPath(import.meta.url);
const USER = "bench";
const PASSWORD = "bench";
const REMOTE_SOURCE = "src.bin";
/** Clock ticks per second of `/proc/<pid>/stat`'s times. */
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** CPU seconds (user + system, all threads) a process has used so far. */
function cpuSeconds(pid: number | "self"): number {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// ---------------------------------------------------------------------------------------------
// The client worker: `<runtime> tls_throughput.ts --client-worker RETR|STOR PORT plain|tls
// LOCAL REMOTE`. Prints one JSON line `{seconds, cpu}`.

async function clientWorker(args: string[]): Promise<void> {
  const [direction, port, security, local, remote] = args;
  const { Client } = await import("../client.ts");
  const cpuBefore = cpuSeconds("self");
  const started = performance.now();
  const client = await Client.connect(
    "127.0.0.1",
    Number(port),
    security === "tls" ? { secure: true, tls: { caCerts: [TEST_CA_CERT] } } : {},
  );
  try {
    await client.login(USER, PASSWORD);
    if (direction === "RETR") await client.download(remote, local, { writeInto: true });
    else await client.upload(local, remote, { writeInto: true });
  } finally {
    await client.quit();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds("self") - cpuBefore;
  process.stdout.write(`${JSON.stringify({ seconds, cpu })}\n`);
}

if (process.argv[2] === "--client-worker") {
  await clientWorker(process.argv.slice(3));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// The bench

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function listOption<T extends string>(name: string, all: readonly T[]): T[] {
  const value = option(name);
  if (value === undefined) return [...all];
  const chosen = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const item of chosen) {
    if (!all.includes(item as T)) throw new Error(`--${name}: unknown "${item}"`);
  }
  return chosen as T[];
}

const quick = process.argv.includes("--quick");
const mib = Number(option("mib") ?? (quick ? 64 : 256));
const runs = Number(option("runs") ?? (quick ? 1 : 3));
if (!(mib > 0) || !Number.isInteger(runs) || runs < 1) throw new Error("bad --mib or --runs");
const size = mib * 1024 * 1024;
const runtimes = listOption<Runtime>("runtimes", ["deno", "bun", "node"]);
const roles = listOption<Role>("roles", ["server", "client"]);
const peer = (option("peer") ?? "deno") as Runtime;
if (!["deno", "bun", "node"].includes(peer)) throw new Error(`--peer: unknown "${peer}"`);
const timeoutMs = Number(option("timeout") ?? (60 + size / 5e6)) * 1000;

const children = new Set<ChildProcess>();

function runtimeCommand(runtime: Runtime): string {
  // Under Deno, process.execPath is the deno binary itself (not a wrapper on PATH).
  if (runtime === "deno") return "Deno" in globalThis ? process.execPath : "deno";
  return runtime;
}

interface Finished {
  stdout: string;
  stderr: string;
}

/** Runs a command to its end within `timeoutMs`; rejects on a non-zero exit or the timeout. */
function run(command: string, args: string[], limitMs: number): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, limitMs);
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("error", (error) => {
      clearTimeout(timer);
      children.delete(child);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const what = `${command} ${args.join(" ")}`;
      if (timedOut) reject(new Error(`timed out after ${limitMs / 1000} s (${what})`));
      else if (code !== 0) {
        // The line that says what went wrong first (curl's "curl: (18) ...", a thrown
        // "ReplyError: ..."), the full output after it for the log.
        const lines = stderr.split("\n").map((l) => l.trim())
          .filter((l) => l && !/^\d+m[\d.]+s \d+m[\d.]+s$/.test(l));
        const cause = lines.find((l) => /^curl: \(|^(\w*Error|error)\b/.test(l)) ?? lines.at(-1);
        reject(new Error(`exit ${code ?? signal}: ${cause ?? "no output"}\n(${what})\n${stderr}`));
      } else resolve({ stdout, stderr });
    });
  });
}

interface ServerProcess {
  runtime: Runtime;
  child: ChildProcess;
  port: number;
  pid: number;
  root: string;
  /** What curl reports of the TLS connection (`TLSv1.3 / TLS_AES_256_GCM_SHA384`). */
  cipher: string;
}

async function startServer(runtime: Runtime, root: string, scratch: string) {
  let command = runtimeCommand(runtime);
  const serverModule = runtime === "node"
    ? pathToFileURL(join(REPO, "npm", "server.js")).href
    : pathToFileURL(join(REPO, "server.ts")).href;
  let args = [SERVER_SCRIPT, serverModule, root];
  if (runtime === "deno") args = ["run", "-A", ...args];
  const child = spawn(command, args, {
    cwd: REPO,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, BENCH_TLS_CERT: TEST_SERVER_CERT, BENCH_TLS_KEY: TEST_SERVER_KEY },
  });
  children.add(child);
  command = `${runtime} server`;
  const { port, pid } = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`${command}: not listening after 30 s`)), 30e3);
    child.stderr!.on("data", (d) => {
      stderr += d;
      // Keep the server's later complaints visible, not buffered forever.
      if (stderr.length > 1e5) stderr = stderr.slice(-5e4);
    });
    child.stdout!.on("data", (d) => {
      stdout += d;
      const match = /^listening (\d+) (\d+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ port: Number(match[1]), pid: Number(match[2]) });
      }
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      reject(new Error(`${command} exited (${code ?? signal}):\n${stderr.trim()}`));
    });
  });
  // A listing over TLS: proves the server is ready and tells which cipher curl negotiated.
  const probe = await run("curl", [
    "-sS",
    "-v",
    "--ssl-reqd",
    "--cacert",
    join(scratch, "ca.pem"),
    "-u",
    `${USER}:${PASSWORD}`,
    "--list-only",
    `ftp://127.0.0.1:${port}/`,
  ], 30e3);
  const cipher = /SSL connection using (.+)$/m.exec(probe.stderr)?.[1].trim() ?? "?";
  return { runtime, child, port, pid, root, cipher } satisfies ServerProcess;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    child.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.end();
    child.kill("SIGTERM");
  });
}

async function writePattern(path: string, bytes: number): Promise<void> {
  const handle = await open(path, "w");
  const block = new Uint8Array(4 * 1024 * 1024);
  let state = 0x9e3779b9;
  try {
    for (let done = 0; done < bytes; done += block.length) {
      // xorshift32: incompressible and different in every block, so a misplaced block shows.
      for (let i = 0; i < block.length; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        block[i] = state & 0xff;
      }
      await handle.write(block, 0, Math.min(block.length, bytes - done));
    }
  } finally {
    await handle.close();
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk);
  return hash.digest("hex");
}

async function checkFile(path: string, expected: string, what: string): Promise<void> {
  const found = await stat(path).then((s) => s.size, () => -1);
  if (found !== size) throw new Error(`${what}: ${path} has ${found} bytes, expected ${size}`);
  if (await sha256File(path) !== expected) throw new Error(`${what}: ${path} has a wrong sha256`);
}

interface Row {
  runtime: Runtime;
  role: Role;
  server: ServerProcess;
}

interface Sample {
  mbps: number[];
  serverCpu: number[];
  clientCpu: number[];
  failed: number;
}

function uploadName(row: Row): string {
  return `up-${row.runtime}-${row.role}.bin`;
}

/** The file a transfer writes: the download on the client side, the upload in the server's root. */
function writtenPath(row: Row, direction: Direction, clientDir: string): string {
  return direction === "RETR"
    ? join(clientDir, `down-${row.runtime}-${row.role}.bin`)
    : join(row.server.root, uploadName(row));
}

async function transfer(
  row: Row,
  direction: Direction,
  security: Security,
  dirs: { scratch: string; client: string },
): Promise<{ seconds: number; clientCpu: number }> {
  const { server } = row;
  const upName = uploadName(row);
  const localSource = join(dirs.client, REMOTE_SOURCE);
  const localOut = writtenPath(row, "RETR", dirs.client);
  if (row.role === "server") {
    const tls = security === "tls" ? ["--ssl-reqd", "--cacert", join(dirs.scratch, "ca.pem")] : [];
    const url = `ftp://127.0.0.1:${server.port}/`;
    const io = direction === "RETR"
      ? ["-o", localOut, `${url}${REMOTE_SOURCE}`]
      : ["-T", localSource, `${url}${upName}`];
    // bash's `times` tells curl's CPU time (user+system of its children), on stderr.
    const script = 'curl "$@"; status=$?; times >&2; exit $status';
    const { stdout, stderr } = await run("bash", [
      "-c",
      script,
      "curl",
      "-sS",
      "--max-time",
      String(Math.ceil(timeoutMs / 1000)),
      "-u",
      `${USER}:${PASSWORD}`,
      ...tls,
      "-w",
      "%{time_total}",
      ...io,
    ], timeoutMs + 5000);
    const times = [...stderr.trim().split("\n").at(-1)!.matchAll(/(\d+)m([\d.]+)s/g)];
    const clientCpu = times.reduce((sum, [, m, s]) => sum + Number(m) * 60 + Number(s), 0);
    return { seconds: Number(stdout.trim()), clientCpu };
  }
  const args = [
    THIS_SCRIPT,
    "--client-worker",
    direction,
    String(server.port),
    security,
    direction === "RETR" ? localOut : localSource,
    direction === "RETR" ? REMOTE_SOURCE : upName,
  ];
  const { stdout } = await run(
    runtimeCommand(row.runtime),
    row.runtime === "deno" ? ["run", "-A", ...args] : args,
    timeoutMs,
  );
  const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as { seconds: number; cpu: number };
  return { seconds: result.seconds, clientCpu: result.cpu };
}

/** The latest modification time among files and directory trees. */
async function newestMtime(paths: string[]): Promise<number> {
  let newest = 0;
  for (const path of paths) {
    const info = await stat(path);
    newest = Math.max(newest, info.mtimeMs);
    if (info.isDirectory()) {
      const entries = await readdir(path);
      newest = Math.max(newest, await newestMtime(entries.map((name) => join(path, name))));
    }
  }
  return newest;
}

function versionOf(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 10e3 });
  return result.status === 0 ? String(result.stdout).split("\n")[0].trim() : "?";
}

async function main(): Promise<number> {
  const scratch = await mkdtemp("/dev/shm/streamftp-tls-bench-");
  const notes: string[] = [];
  const servers = new Map<Runtime, ServerProcess>();
  const cleanup = async () => {
    await Promise.all([...children].map(stopChild));
    await rm(scratch, { recursive: true, force: true });
  };
  const onSignal = () => {
    for (const child of children) child.kill("SIGKILL");
    rm(scratch, { recursive: true, force: true }).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const dirs = { scratch, client: join(scratch, "client") };
    const serverRoot = (runtime: Runtime) => join(scratch, `server-${runtime}`);
    await mkdir(dirs.client);
    await writeFile(join(scratch, "ca.pem"), TEST_CA_CERT);
    const source = join(scratch, REMOTE_SOURCE);
    console.error(`writing ${mib} MiB source file...`);
    await writePattern(source, size);
    const expected = await sha256File(source);
    await link(source, join(dirs.client, REMOTE_SOURCE));

    const wanted = new Set<Runtime>();
    if (roles.includes("server")) { for (const r of runtimes) wanted.add(r); }
    if (roles.includes("client")) wanted.add(peer);
    if (wanted.has("node")) {
      const built = join(REPO, "npm", "lib", "server", "tls_policy.js");
      const ok = await stat(built).then(() => true, () => false);
      if (!ok) {
        notes.push(
          "Node skipped: no npm build with TLS (npm/lib/server/tls_policy.js); run `deno run -A build_npm.ts --no-test`.",
        );
        wanted.delete("node");
      } else {
        const builtAt = (await stat(join(REPO, "npm", "server.js"))).mtimeMs;
        const sourceAt = await newestMtime(
          ["server.ts", "adapters", "lib"].map((p) => join(REPO, p)),
        );
        if (sourceAt > builtAt) {
          notes.push("Node: the npm build is older than the sources (server.ts, adapters/, lib/).");
        }
      }
    }
    if (roles.includes("client") && !wanted.has(peer)) {
      throw new Error(`--peer ${peer} is not available`);
    }
    for (const runtime of wanted) {
      const root = serverRoot(runtime);
      await mkdir(root);
      await link(source, join(root, REMOTE_SOURCE));
      console.error(`starting the ${runtime} server...`);
      servers.set(runtime, await startServer(runtime, root, scratch));
    }

    const rows: Row[] = [];
    if (roles.includes("server")) {
      for (const runtime of runtimes) {
        const server = servers.get(runtime);
        if (server) rows.push({ runtime, role: "server", server });
      }
    }
    if (roles.includes("client")) {
      for (const runtime of runtimes) {
        if (runtime === "node") continue;
        rows.push({ runtime, role: "client", server: servers.get(peer)! });
      }
    }

    const samples = new Map<string, Sample>();
    const failures: string[] = [];
    const key = (row: Row, direction: Direction, security: Security) =>
      `${row.runtime}|${row.role}|${direction}|${security}`;
    const prewarm = join(scratch, "prewarm");
    for (let run = 0; run < runs; run++) {
      for (const [index, row] of rows.entries()) {
        for (const direction of ["RETR", "STOR"] as const) {
          const order: Security[] = (run + index) % 2 ? ["tls", "plain"] : ["plain", "tls"];
          for (const security of order) {
            await writePattern(prewarm, size);
            await rm(prewarm);
            const what = `${row.runtime} ${row.role} ${direction} ${security}`;
            const sample = samples.get(key(row, direction, security)) ??
              { mbps: [], serverCpu: [], clientCpu: [], failed: 0 };
            samples.set(key(row, direction, security), sample);
            if (row.server.child.exitCode !== null || row.server.child.signalCode !== null) {
              throw new Error(`the ${row.server.runtime} server died`);
            }
            const serverBefore = cpuSeconds(row.server.pid);
            const written = writtenPath(row, direction, dirs.client);
            try {
              const result = await transfer(row, direction, security, dirs);
              const serverCpu = cpuSeconds(row.server.pid) - serverBefore;
              await checkFile(written, expected, what);
              const mbps = size / result.seconds / 1e6;
              sample.mbps.push(mbps);
              sample.serverCpu.push(serverCpu);
              sample.clientCpu.push(result.clientCpu);
              console.error(
                `run ${run + 1}/${runs} ${what}: ${mbps.toFixed(0)} MB/s, server CPU ${
                  serverCpu.toFixed(2)
                } s, client CPU ${result.clientCpu.toFixed(2)} s`,
              );
            } catch (error) {
              // A failed or wrong transfer is no number: it is counted, listed and fails the
              // bench (exit 1) once the other measurements are printed.
              sample.failed++;
              const message = error instanceof Error ? error.message : String(error);
              failures.push(`run ${run + 1} ${what}: ${message.split("\n")[0]}`);
              console.error(`run ${run + 1}/${runs} ${what}: FAILED ${message}`);
            } finally {
              await rm(written, { force: true });
            }
          }
        }
      }
    }

    const versions: Record<Runtime, string> = {
      deno: `Deno ${process.versions.deno ?? versionOf("deno", ["--version"])}`,
      bun: `Bun ${versionOf("bun", ["--version"])}`,
      node: `Node ${versionOf("node", ["--version"]).replace(/^v/, "")}`,
    };
    const curl = versionOf("curl", ["--version"]).split(" ").slice(0, 2).join(" ");
    const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1];
    console.log(
      `\n${mib} MiB over 127.0.0.1, tmpfs on both ends, median of ${runs} run${
        runs > 1 ? "s" : ""
      }; MB/s = 10^6 B/s; ${curl}; ${cpu ?? "?"}, ${availableParallelism()} CPUs.`,
    );
    console.log(
      `TLS: explicit AUTH TLS + PROT P. Cipher curl negotiated per server: ${
        [...servers.values()].map((s) => `${s.runtime} ${s.cipher}`).join("; ")
      }.`,
    );
    console.log(
      "CPU: user+system seconds per transfer of the whole process, all threads (the client is curl in the server rows).",
    );
    for (const direction of ["RETR", "STOR"] as const) {
      console.log(
        `\n### ${direction} (${
          direction === "RETR" ? "download from the server" : "upload to the server"
        })\n`,
      );
      console.log(
        "| runtime | role | plain MB/s | TLS MB/s | TLS ÷ plain | server CPU s plain / TLS | client CPU s plain / TLS |",
      );
      console.log("|---|---|---|---|---|---|---|");
      for (const row of rows) {
        const plain = samples.get(key(row, direction, "plain"))!;
        const tls = samples.get(key(row, direction, "tls"))!;
        const rate = (sample: Sample) => {
          if (sample.mbps.length === 0) return "FAILED";
          const value = median(sample.mbps).toFixed(0);
          const total = sample.mbps.length + sample.failed;
          return sample.failed ? `${value} (${sample.failed}/${total} failed)` : value;
        };
        const ratio = plain.mbps.length && tls.mbps.length
          ? (median(tls.mbps) / median(plain.mbps)).toFixed(2)
          : "–";
        const seconds = (values: number[]) => values.length ? median(values).toFixed(2) : "–";
        const role = row.role === "server"
          ? "server (curl client)"
          : `client (vs ${versions[row.server.runtime].split(" ")[0]} server)`;
        console.log(
          `| ${versions[row.runtime]} | ${role} | ${rate(plain)} | ${rate(tls)} | ${ratio} | ${
            seconds(plain.serverCpu)
          } / ${seconds(tls.serverCpu)} | ${seconds(plain.clientCpu)} / ${
            seconds(tls.clientCpu)
          } |`,
        );
      }
    }
    for (const note of notes) console.log(`\n${note}`);
    if (failures.length) {
      console.log(`\n**${failures.length} transfer(s) FAILED** (not counted above):\n`);
      for (const failure of failures) console.log(`- ${failure}`);
    }
    return failures.length ? 1 : 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await cleanup();
  }
}

process.exit(await main());
