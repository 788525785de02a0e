/**
 * `deno task bench:ceilings`: each runtime's raw ceilings, measured the way the main bench's
 * rows are but with no FTP and none of our code: what Deno, Bun and Node can do at best with
 * plain sockets and file calls, so that a row of ours that misses its target can be read
 * against the most its runtime could do.
 *
 * - `bulk`: a plain TCP server in the runtime sends (the RETR ceiling) or receives (STOR)
 *   BULK MiB over 127.0.0.1 from one reused buffer; the peer is Python (`recv_into` and
 *   `sendall` of a 1 MiB buffer, about 3.4 GB/s here). MB/s and the runtime's CPU seconds.
 * - `small`: per file, bind a listener on port 0 (or reuse one), connect to it from the same
 *   process, accept, stat + open + read the file + close it, write it to the socket, close,
 *   read it to the end on the other side: files/s and CPU seconds, async and sync file calls.
 * - `list`: readdir + lstat of every entry + one `ls -l` line each into one buffer: ms and CPU
 *   seconds, with the sync calls, promises one after the other, and batches of promises.
 * - `logins`: three round trips per fresh connection (220, USER/331, PASS/230, close), a
 *   server and a client process of the same runtime, one session after the other: per second,
 *   and both processes' CPU seconds.
 * - `idle`: the growth of the server process's RSS from idle to N held connections (each
 *   greeted, then waiting with a pending read), held by the bench process: MiB.
 *
 * Each figure is timed inside the measuring process (`bench/_ceiling_*.mjs`, plain JavaScript
 * that Deno, Bun and Node 20 run unchanged), start-up left out, and its CPU is that process's
 * (`process.cpuUsage()`: user + system, every thread).
 * Repetitions are interleaved (repetition 1 of every row and runtime, then 2, the runtimes'
 * order rotated), medians are shown. See bench/README.md, and `--help`.
 *
 * @module
 */

import { type ChildProcess, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { type Flag, optionsOrExit, readFlags } from "./options.ts";
import { machineBusy, selfCpu, treeMemory } from "./proc.ts";
import { formatNumber, median, publishReport, reportHeading } from "./report.ts";
import { PYTHON } from "./servers.ts";
import { firstLine, runBench, runTimed, start, stop } from "./spawn.ts";

type Runtime = "deno" | "bun" | "node";
type MeasurementKey = "bulk" | "small" | "list" | "logins" | "idle";

const RUNTIMES: readonly Runtime[] = ["deno", "bun", "node"];
const MEASUREMENTS: readonly MeasurementKey[] = ["bulk", "small", "list", "logins", "idle"];
/** The Bun that `npx` fetches when no `bun` is on PATH. */
const BUN_PACKAGE = "bun@1.4.5";
const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
const MIB = 1024 * 1024;
const NOISY = 0.1;

/** The sizes of one run. */
interface CeilingSizes {
  /** Bytes of each bulk transfer, MiB. */
  bulkMiB: number;
  /** The bulk senders' buffer sizes (and Deno's read buffer), KiB. */
  chunksKiB: number[];
  /** Files of the small-file loop. */
  smallCount: number;
  /** Their size, KiB. */
  smallKiB: number;
  /** Entries of the listed directory. */
  listEntries: number;
  /** Sessions of the login loop. */
  logins: number;
  /** Connections held idle. */
  idleConnections: number;
}

/** The command line. */
interface CeilingOptions {
  quick: boolean;
  reps: number;
  runtimes: Runtime[];
  measurements: MeasurementKey[];
  /** `native`: each runtime's own API; `node`: node:net and node:fs everywhere. */
  api: "native" | "node";
  timeoutMs: number;
  json?: string;
  sizes: CeilingSizes;
}

const FULL: CeilingSizes = {
  bulkMiB: 256,
  chunksKiB: [64, 256],
  smallCount: 500,
  smallKiB: 4,
  listEntries: 10000,
  logins: 500,
  idleConnections: 1000,
};

const QUICK: CeilingSizes = {
  ...FULL,
  bulkMiB: 16,
  smallCount: 50,
  listEntries: 1000,
  logins: 50,
  idleConnections: 100,
};

const USAGE = `Usage: deno task bench:ceilings [options]   (deno run -A bench/ceilings.ts [options])
  --quick                 tiny sizes and 1 repetition: proves it runs, measures nothing
  --reps N                repetitions, interleaved (default 3; --quick 1)
  --runtimes LIST         of deno,bun,node (default all)
  --measurements LIST     of bulk,small,list,logins,idle (default all)
  --api native|node       each runtime's own sockets and files (default), or node:net and
                          node:fs in every runtime
  --timeout SECONDS       deadline of one run (default 120; --quick 60)
  --json FILE             write the raw results
  --bulk-mib N --chunks-kib 64,256 --small-count N --small-kib N --list-entries N
  --logins N --idle-connections N           sizes (defaults: the main bench's full sizes)`;

function parseOptions(args: string[]): CeilingOptions {
  const quick = args.includes("--quick");
  const sizes: CeilingSizes = { ...(quick ? QUICK : FULL) };
  const options: CeilingOptions = {
    quick,
    reps: quick ? 1 : 3,
    runtimes: [...RUNTIMES],
    measurements: [...MEASUREMENTS],
    api: "native",
    timeoutMs: (quick ? 60 : 120) * 1000,
    sizes,
  };
  const sizeFlags: Record<string, Exclude<keyof CeilingSizes, "chunksKiB">> = {
    "--bulk-mib": "bulkMiB",
    "--small-count": "smallCount",
    "--small-kib": "smallKiB",
    "--list-entries": "listEntries",
    "--logins": "logins",
    "--idle-connections": "idleConnections",
  };
  readFlags(args, {
    usage: USAGE,
    sizes,
    sizeFlags,
    read(flag: Flag) {
      switch (flag.name) {
        case "--reps":
          options.reps = flag.positive();
          return true;
        case "--runtimes":
          options.runtimes = flag.list(RUNTIMES);
          return true;
        case "--measurements":
          options.measurements = flag.list(MEASUREMENTS);
          return true;
        case "--api": {
          const api = flag.value();
          if (api !== "native" && api !== "node") flag.fail("--api must be native or node");
          options.api = api;
          return true;
        }
        case "--timeout":
          options.timeoutMs = flag.positive() * 1000;
          return true;
        case "--json":
          options.json = flag.value();
          return true;
        case "--chunks-kib":
          sizes.chunksKiB = flag.value().split(",").map((kib) => flag.positive(kib));
          return true;
        default:
          return false;
      }
    },
  });
  return options;
}

const options = optionsOrExit(parseOptions);
const { sizes } = options;
const log = (line: string) => process.stderr.write(`${line}\n`);
const startedAt = new Date();
const began = performance.now();
const tmp = await mkdtemp("/dev/shm/streamftp-ceilings-");

// ---------------------------------------------------------------------------------------------
// Runtimes

/** How to run a script in a runtime. */
interface RuntimeCommand {
  runtime: Runtime;
  /** The executable and the arguments before the script. */
  prefix: string[];
  /** Name and version, for the header. */
  version: string;
  /** The table heading. */
  heading: string;
}

/** The Bun binary: `bun` on PATH, else the one `npx` fetches (its path, not npx's process). */
function bunExecutable(): string | undefined {
  if (firstLine("bun", ["--version"]) !== "?") return "bun";
  log(`no bun on PATH: fetching ${BUN_PACKAGE} with npx...`);
  const probe = spawnSync("npx", ["-y", BUN_PACKAGE, "-e", "console.log(process.execPath)"], {
    encoding: "utf8",
    timeout: 180e3,
  });
  const path = probe.stdout?.trim().split("\n").at(-1);
  return probe.status === 0 && path && existsSync(path) ? path : undefined;
}

function resolveRuntime(runtime: Runtime): RuntimeCommand | string {
  const api = options.api === "node" ? "node:net, node:fs" : undefined;
  const heading = (name: string, version: string) =>
    `${name} ${version}${api && runtime !== "node" ? ` (${api})` : ""}`;
  switch (runtime) {
    case "deno": {
      // Under Deno, process.execPath is the deno binary itself.
      const deno = "Deno" in globalThis ? process.execPath : "deno";
      const version = firstLine(deno, ["--version"]).replace(/^deno (\S+).*/, "$1");
      if (version === "?") return "deno not found";
      return {
        runtime,
        prefix: [deno, "run", "-A"],
        version: `Deno ${version}`,
        heading: heading("Deno", version),
      };
    }
    case "bun": {
      const bun = bunExecutable();
      if (!bun) return `no bun on PATH and \`npx -y ${BUN_PACKAGE}\` failed`;
      const version = firstLine(bun, ["--version"]);
      return {
        runtime,
        prefix: [bun],
        version: `Bun ${version}`,
        heading: heading("Bun", version),
      };
    }
    case "node": {
      const version = firstLine("node", ["--version"]).replace(/^v/, "");
      if (version === "?") return "node not found";
      return {
        runtime,
        prefix: ["node"],
        version: `Node ${version}`,
        heading: heading("Node", version),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running the scripts

/** The command line that runs a ceiling script in a runtime. */
function scriptArgv(command: RuntimeCommand, script: string, args: (string | number)[]) {
  return [...command.prefix, join(BENCH_DIR, script), ...args.map(String)];
}

const scriptEnv = (): Record<string, string> =>
  options.api === "node" ? { CEILING_API: "node" } : {};

type Figures = Record<string, number>;

let scratchSerial = 0;

/** Runs a script to its end and returns the last JSON line it printed. */
async function runScript(command: RuntimeCommand, script: string, args: (string | number)[]) {
  const [executable, ...rest] = scriptArgv(command, script, args);
  const { stdout } = await runTimed(
    executable,
    rest,
    options.timeoutMs,
    join(tmp, `times-${++scratchSerial}`),
    { cwd: tmp, env: scriptEnv() },
  );
  const line = stdout.trim().split("\n").filter((l) => l.startsWith("{")).at(-1);
  if (!line) throw new Error(`${script} printed no result: ${stdout.slice(-300)}`);
  return JSON.parse(line) as Figures;
}

/** A script running in the background, and the JSON lines it prints, one at a time. */
interface Background {
  child: ChildProcess;
  /** The next JSON line (waits for it, at most the run's deadline). */
  next(what: string): Promise<Figures>;
  /** The script's CPU seconds so far, which it reports when asked on its stdin. */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

function startScript(
  command: RuntimeCommand,
  script: string,
  args: (string | number)[],
): Background {
  const [executable, ...rest] = scriptArgv(command, script, args);
  // The long-running scripts exit when their stdin ends, should the bench die.
  const { child, output } = start(executable, rest, {
    cwd: tmp,
    env: scriptEnv(),
    stdinPipe: true,
  });
  const lines: Figures[] = [];
  let pending = "";
  let closed = false;
  let wake: (() => void) | undefined;
  child.stdout!.on("data", (data: Uint8Array | string) => {
    pending += data;
    let end;
    while ((end = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, end).trim();
      pending = pending.slice(end + 1);
      if (line.startsWith("{")) lines.push(JSON.parse(line));
    }
    wake?.();
  });
  child.once("close", () => {
    closed = true;
    wake?.();
  });
  return {
    child,
    async next(what) {
      const deadline = Date.now() + options.timeoutMs;
      while (lines.length === 0) {
        if (closed) {
          throw new Error(
            `${script} exited (${child.exitCode ?? child.signalCode}) before ${what}: ${
              output().slice(-600)
            }`,
          );
        }
        if (Date.now() > deadline) throw new Error(`${script}: no ${what} in time`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 200);
        });
        wake = undefined;
      }
      return lines.shift()!;
    },
    async cpu() {
      child.stdin!.write("cpu\n");
      return (await this.next("its CPU time")).cpu;
    },
    stop: () => stop(child),
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// The measurements

/** One figure of a row: a key of what the run returns, and its title. */
interface Figure {
  key: string;
  title: string;
}

/** One row group of a table: a variant of a measurement, run once per repetition. */
interface Variant {
  id: string;
  measurement: MeasurementKey;
  label: string;
  figures: Figure[];
  run(command: RuntimeCommand): Promise<Figures>;
}

/** Python's half of a bulk transfer: `read` to the end then acknowledge, or `write` BYTES. */
const BULK_PEER = `
import socket, sys
mode, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
view = memoryview(bytearray(b"b" * (1 << 20)))
if mode == "read":
    got = 0
    while True:
        n = s.recv_into(view)
        if n == 0:
            break
        got += n
    s.sendall(b"k")
    s.close()
    if got != total:
        sys.exit(f"received {got} bytes, expected {total}")
else:
    left = total
    while left:
        n = min(left, len(view))
        s.sendall(view[:n])
        left -= n
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    s.close()
`;

async function bulkRun(
  command: RuntimeCommand,
  mode: "send" | "receive" | "store",
  chunkKiB: number,
) {
  const bytes = sizes.bulkMiB * MIB;
  const file = join(tmp, `stored-${++scratchSerial}`);
  const server = startScript(command, "_ceiling_bulk.mjs", [mode, bytes, chunkKiB * 1024, file]);
  try {
    const { port } = await server.next("its port");
    await runTimed(
      PYTHON,
      [join(tmp, "bulk_peer.py"), mode === "send" ? "read" : "write", String(port), String(bytes)],
      options.timeoutMs,
      join(tmp, `times-${++scratchSerial}`),
    );
    const result = await server.next("its result");
    if (mode === "store" && statSync(file).size !== bytes) {
      throw new Error(`store: the file has ${statSync(file).size} bytes, expected ${bytes}`);
    }
    return { rate: result.bytes / result.seconds / 1e6, cpu: result.cpu };
  } finally {
    await server.stop();
    rmSync(file, { force: true });
  }
}

async function loginsRun(command: RuntimeCommand) {
  const server = startScript(command, "_ceiling_logins.mjs", ["server"]);
  try {
    const { port } = await server.next("its port");
    const cpu0 = await server.cpu();
    const warmup = Math.ceil(sizes.logins / 10);
    const result = await runScript(command, "_ceiling_logins.mjs", [
      "client",
      port,
      sizes.logins,
      warmup,
    ]);
    const serverCpu = await server.cpu() - cpu0;
    return { rate: result.sessions / result.seconds, serverCpu, clientCpu: result.cpu };
  } finally {
    await server.stop();
  }
}

/** Opens `count` connections to a port, 100 at a time, each until its greeting came. */
async function holdConnections(port: number, count: number, sockets: Socket[]): Promise<void> {
  const openOne = () =>
    new Promise<void>((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port });
      sockets.push(socket);
      const timer = setTimeout(() => reject(new Error("no greeting in time")), 30e3);
      let text = "";
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => {
        text += chunk;
        if (text.includes("\n")) {
          clearTimeout(timer);
          resolve();
        }
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  for (let opened = 0; opened < count; opened += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - opened) }, openOne));
  }
}

/** Closes connections and waits until the server closed its ends too. */
async function release(sockets: Socket[]): Promise<void> {
  await Promise.all(sockets.map((socket) =>
    new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      const timer = setTimeout(() => {
        socket.destroy();
        resolve();
      }, 10e3);
      socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    })
  ));
}

async function idleRun(command: RuntimeCommand) {
  const server = startScript(command, "_ceiling_idle.mjs", []);
  const sockets: Socket[] = [];
  try {
    const { port } = await server.next("its port");
    const pid = server.child.pid!;
    // A few first, so that the held ones pay for connections, not for loading and compiling
    // the code that serves them; then a pause, so that the collector settles.
    const warm: Socket[] = [];
    await holdConnections(port, Math.max(1, Math.ceil(sizes.idleConnections / 20)), warm);
    await release(warm);
    await pause(1000);
    const baseline = treeMemory(pid).rss;
    await holdConnections(port, sizes.idleConnections, sockets);
    await pause(1500);
    const held = treeMemory(pid).rss;
    const grown = held - baseline;
    return { mib: grown / MIB, perConnection: grown / 1024 / sizes.idleConnections };
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.stop();
  }
}

/** The fixtures' directories. */
interface Dirs {
  small: string;
  list: string;
}

function variants(dirs: Dirs): Variant[] {
  const out: Variant[] = [];
  const want = new Set(options.measurements);
  const cpu = (title: string): Figure => ({ key: "cpu", title });
  if (want.has("bulk")) {
    for (const mode of ["send", "receive", "store"] as const) {
      for (const kib of sizes.chunksKiB) {
        out.push({
          id: `bulk-${mode}-${kib}`,
          measurement: "bulk",
          label: mode === "send"
            ? `send ${sizes.bulkMiB} MiB from one ${kib} KiB buffer (RETR)`
            : mode === "receive"
            ? `receive ${sizes.bulkMiB} MiB and discard, ${kib} KiB read buffer (STOR)`
            : `receive ${sizes.bulkMiB} MiB into a file, ${kib} KiB buffers (STOR with the disk)`,
          figures: [
            { key: "rate", title: "MB/s" },
            cpu(mode === "send" ? "sender CPU s" : "receiver CPU s"),
          ],
          run: (command) => bulkRun(command, mode, kib),
        });
      }
    }
  }
  if (want.has("small")) {
    for (const listener of ["per-file", "reused"] as const) {
      for (const files of ["async", "sync"] as const) {
        out.push({
          id: `small-${listener}-${files}`,
          measurement: "small",
          label: `${sizes.smallCount.toLocaleString("en")} × ${sizes.smallKiB} KiB, ${
            listener === "per-file" ? "a listener bound per file" : "one listener"
          }, ${files} file calls`,
          figures: [{ key: "rate", title: "files/s" }, cpu("CPU s")],
          run: async (command) => {
            const result = await runScript(command, "_ceiling_small.mjs", [
              dirs.small,
              sizes.smallCount,
              listener,
              files,
              Math.ceil(sizes.smallCount / 10),
            ]);
            return { rate: result.files / result.seconds, cpu: result.cpu };
          },
        });
      }
    }
  }
  if (want.has("list")) {
    const how = {
      sync: "sync calls",
      serial: "promises one after the other",
      batched: "promises in batches of 64",
    };
    for (const mode of ["sync", "serial", "batched"] as const) {
      out.push({
        id: `list-${mode}`,
        measurement: "list",
        label: `${sizes.listEntries.toLocaleString("en")} entries, ${how[mode]}`,
        figures: [{ key: "ms", title: "ms" }, cpu("CPU s")],
        run: async (command) => {
          const result = await runScript(command, "_ceiling_list.mjs", [
            dirs.list,
            sizes.listEntries,
            mode,
          ]);
          return { ms: result.seconds * 1000, cpu: result.cpu };
        },
      });
    }
  }
  if (want.has("logins")) {
    out.push({
      id: "logins",
      measurement: "logins",
      label: `${sizes.logins.toLocaleString("en")} × connect + 3 round trips + close`,
      figures: [
        { key: "rate", title: "per s" },
        { key: "serverCpu", title: "server CPU s" },
        { key: "clientCpu", title: "client CPU s" },
      ],
      run: loginsRun,
    });
  }
  if (want.has("idle")) {
    out.push({
      id: "idle",
      measurement: "idle",
      label: `${sizes.idleConnections.toLocaleString("en")} idle accepted connections`,
      figures: [
        { key: "mib", title: "MiB RSS over idle" },
        { key: "perConnection", title: "KiB per connection" },
      ],
      run: idleRun,
    });
  }
  return out;
}

/** The title of each measurement's table, and the main bench's rows it bounds. */
const TABLES: Record<MeasurementKey, string> = {
  bulk: "Bulk socket throughput over 127.0.0.1, Python on the other end " +
    "(bounds `RETR` and `STOR` of one large file; the read buffer is Deno's, Bun and node:net " +
    "read in sizes of their own)",
  small: "Small files: listen + connect + accept + stat/open/read/close + write + close, " +
    "one process (bounds `small`, many small files RETR'd on one session)",
  list: "Listing: readdir + lstat + one `ls -l` line each into a buffer (bounds `LIST`)",
  logins: "Connections: 220, USER/331, PASS/230, close; server and client processes of the " +
    "runtime (bounds `connect + login + QUIT`)",
  idle: "Idle connections: the server's RSS growth, held by the bench process " +
    "(bounds the idle logged-in sessions)",
};

// ---------------------------------------------------------------------------------------------
// The run and the report

/** One repetition of one variant in one runtime. */
interface Sample {
  rep: number;
  figures: Figures;
  /** Share of the machine (all cores) busy with other work during the run. */
  foreign: number;
}

/** The repetitions of one variant in one runtime. */
interface Cell {
  samples: Sample[];
  failures: string[];
}

/** Runs a variant once, with the machine's other load over the same span. */
async function measure(variant: Variant, command: RuntimeCommand, rep: number, cores: number) {
  // The children are reaped when a run ends, so this process's CPU (its reaped children's
  // included) is everything the run cost.
  const busy0 = machineBusy();
  const self0 = selfCpu();
  const t0 = performance.now();
  const figures = await variant.run(command);
  const wall = (performance.now() - t0) / 1000;
  const others = machineBusy() - busy0 - (selfCpu() - self0);
  return { rep, figures, foreign: Math.max(0, others / (wall * cores)) };
}

function cellText(cell: Cell | undefined, key: string): string {
  if (!cell) return "–";
  const values = cell.samples.map((s) => s.figures[key]).filter((v) => Number.isFinite(v));
  if (values.length === 0) return cell.failures.length ? "FAILED" : "–";
  const noisy = cell.samples.some((s) => s.foreign > NOISY) ? "†" : "";
  const total = cell.samples.length + cell.failures.length;
  const failed = cell.failures.length ? ` (${cell.failures.length}/${total} failed)` : "";
  return `${formatNumber(median(values))}${noisy}${failed}`;
}

function makeFixtures(dirs: Dirs): void {
  if (options.measurements.includes("bulk")) writeFileSync(join(tmp, "bulk_peer.py"), BULK_PEER);
  if (options.measurements.includes("small")) {
    mkdirSync(dirs.small);
    for (let i = 0; i < sizes.smallCount; i++) {
      writeFileSync(join(dirs.small, `${i}.bin`), randomBytes(sizes.smallKiB * 1024));
    }
  }
  if (options.measurements.includes("list")) {
    mkdirSync(dirs.list);
    for (let i = 0; i < sizes.listEntries; i++) {
      writeFileSync(join(dirs.list, `entry-${String(i).padStart(6, "0")}.txt`), "");
    }
  }
}

async function main(): Promise<number> {
  const notes: string[] = [];
  const commands: RuntimeCommand[] = [];
  for (const runtime of options.runtimes) {
    const command = resolveRuntime(runtime);
    if (typeof command === "string") notes.push(`${runtime}: not measured (${command}).`);
    else commands.push(command);
  }
  if (options.measurements.includes("bulk") && !existsSync(PYTHON)) {
    notes.push(`bulk: not measured (${PYTHON}, its peer, is missing).`);
    options.measurements = options.measurements.filter((m) => m !== "bulk");
  }
  const dirs: Dirs = { small: join(tmp, "small"), list: join(tmp, "list") };
  log(`making fixtures in ${tmp}...`);
  makeFixtures(dirs);

  const rows = variants(dirs);
  const results = new Map<string, Cell>();
  const cores = availableParallelism();
  const total = options.reps * rows.length * commands.length;
  let done = 0;
  for (let rep = 1; rep <= options.reps; rep++) {
    for (const [index, variant] of rows.entries()) {
      const shift = (rep - 1 + index) % Math.max(1, commands.length);
      for (const command of [...commands.slice(shift), ...commands.slice(0, shift)]) {
        const key = `${variant.id}|${command.runtime}`;
        const cell = results.get(key) ?? { samples: [], failures: [] };
        results.set(key, cell);
        const label = `[${++done}/${total}] rep ${rep} ${command.runtime} ${variant.label}`;
        try {
          const sample = await measure(variant, command, rep, cores);
          cell.samples.push(sample);
          log(
            `${label}: ${
              variant.figures.map((f) => `${formatNumber(sample.figures[f.key])} ${f.title}`)
                .join(", ")
            }${sample.foreign > NOISY ? " (noisy)" : ""}`,
          );
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          cell.failures.push(`rep ${rep}: ${message.split("\n").slice(0, 4).join(" / ")}`);
          log(`${label}: FAILED ${message}`);
        }
      }
    }
  }
  const elapsed = (performance.now() - began) / 1000;

  const versions = commands.map((c) => c.version);
  if (options.measurements.includes("bulk")) {
    versions.push(`${firstLine(PYTHON, ["--version"])} (the bulk peer)`);
  }
  const cpu = cpus()[0]?.model ?? "?";
  const out: string[] = [
    reportHeading(
      "streamftp ceilings",
      startedAt,
      options.quick ? "--quick: tiny sizes, no figure to quote" : undefined,
    ),
    `${cpu}, ${cores} CPUs; 127.0.0.1; fixtures in tmpfs. No FTP and none of our code: each ` +
    `runtime's ${options.api === "node" ? "node:net and node:fs" : "own sockets and files"}. ` +
    `Median of ${options.reps} interleaved repetition${options.reps > 1 ? "s" : ""}, each ` +
    `timed inside the measuring process (start-up left out); MB/s = 10^6 B/s; CPU s = user + ` +
    `system of the measuring process, every thread. † = other work took more than 10% of the ` +
    `machine during a repetition of that cell. The run took ${elapsed.toFixed(0)} s.`,
    `\nVersions: ${versions.join("; ")}.`,
  ];
  for (const measurement of options.measurements) {
    const group = rows.filter((v) => v.measurement === measurement);
    if (group.length === 0) continue;
    out.push(`\n## ${TABLES[measurement]}\n`);
    out.push(`| | ${commands.map((c) => c.heading).join(" | ")} |`);
    out.push(`|---|${commands.map(() => "---|").join("")}`);
    for (const variant of group) {
      for (const figure of variant.figures) {
        const cells = commands.map((c) =>
          cellText(results.get(`${variant.id}|${c.runtime}`), figure.key)
        );
        out.push(`| ${variant.label}, ${figure.title} | ${cells.join(" | ")} |`);
      }
    }
  }
  return publishReport({
    lines: out,
    notes,
    results,
    json: options.json,
    raw: () => ({
      startedAt,
      seconds: elapsed,
      machine: { cpu, cores },
      options,
      versions,
      cells: rows.flatMap((variant) =>
        commands.map((c) => ({
          id: variant.id,
          measurement: variant.measurement,
          label: variant.label,
          runtime: c.runtime,
          ...results.get(`${variant.id}|${c.runtime}`),
        }))
      ),
    }),
  });
}

await runBench(main, tmp);
