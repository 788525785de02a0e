/**
 * `deno task bench:load`: our server under load, in Deno, Bun and Node (issue 9). Per runtime it
 * starts the server as the bench does (`bench/_server.mjs`, see servers.ts) and runs a warm-up
 * round and measured rounds of: N logged-in idle sessions, then T transfers at once (half RETR,
 * half STOR of one file, each checked by sha256), while one more session, driven from a worker
 * thread, sends NOOP and records each reply's latency (with the idle sessions only, then during
 * the transfers). Each round ends with everything disconnected (the idle sessions without QUIT);
 * then the server's open descriptors (`/proc/PID/fd`) must be back to those of the server just
 * started, and its resident memory (`/proc/PID/smaps_rollup`) within a tolerance of where the
 * warm-up round left it: a collector keeps the heap it grew once, a leak grows round after round.
 *
 * ```sh
 * deno task bench:load
 * deno task bench:load --runtimes deno,bun --sessions 500 --transfers 32 --mib 32 --rounds 3
 * ```
 *
 * Linux only (it reads `/proc`). Exits 1 when a check fails.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { readdirSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { sha256File, writeRandomFile } from "./fixtures.ts";
import { openIdleSessions } from "./idle_sessions.ts";
import { nodeBuild, type NodeBuildMode } from "./npm_build.ts";
import { PeakMemory, treeMemory } from "./proc.ts";
import { median } from "./report.ts";
import {
  type BenchServer,
  pickPort,
  type Runtime,
  runtimeVersion,
  startServer,
  unavailable,
} from "./servers.ts";
import { killAll, stopAll } from "./spawn.ts";

const USAGE = `Usage: deno task bench:load [options]
  --runtimes LIST     deno,bun,node (default all three)
  --sessions N        logged-in idle sessions (default 500)
  --transfers N       transfers at once, half RETR and half STOR (default 32)
  --mib N             size of each transferred file in MiB (default 32)
  --rounds N          measured rounds after the warm-up round (default 3)
  --node-build MODE   auto | repo | fresh | skip (see bench/README.md; default auto)
  --help              this text`;

interface Options {
  runtimes: Runtime[];
  sessions: number;
  transfers: number;
  mib: number;
  rounds: number;
  nodeBuild: NodeBuildMode;
}

/**
 * The lowest resident memory the measured rounds end with may be this much above where the
 * warm-up round ended. The lowest, because when a collector gives memory back varies (Deno's
 * figure after the same round moved by some 40 MiB from run to run), while a leak raises the
 * end of every round.
 */
const RSS_TOLERANCE_MIB = 32;
/**
 * Logins in flight at once from the bench. The server counts password checks in flight from
 * one address against its failed-login budget (20 by default), so more would be refused.
 */
const LOGINS_AT_ONCE = 16;
/** How often NOOP is sent. */
const NOOP_EVERY_MS = 10;
/** How long memory may take to come back after a round. */
const SETTLE_MS = 30_000;
/** Opening the sessions, or the transfers, may take no longer. */
const PHASE_LIMIT_MS = 120_000;

function parseOptions(args: string[]): Options {
  const options: Options = {
    runtimes: ["deno", "bun", "node"],
    sessions: 500,
    transfers: 32,
    mib: 32,
    rounds: 3,
    nodeBuild: "auto",
  };
  const count = (flag: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    switch (flag) {
      case "--help":
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      case "--runtimes": {
        const list = (args[++i] ?? "").split(",").filter(Boolean);
        const bad = list.find((r) => !["deno", "bun", "node"].includes(r));
        if (bad || list.length === 0) throw new Error(`--runtimes: unknown runtime "${bad}"`);
        options.runtimes = list as Runtime[];
        break;
      }
      case "--sessions":
        options.sessions = count(flag, args[++i], 0);
        break;
      case "--transfers":
        options.transfers = count(flag, args[++i], 0);
        break;
      case "--mib":
        options.mib = count(flag, args[++i], 1);
        break;
      case "--rounds":
        options.rounds = count(flag, args[++i], 1);
        break;
      case "--node-build": {
        const mode = args[++i];
        if (!["auto", "repo", "fresh", "skip"].includes(mode)) {
          throw new Error(`--node-build: "${mode}" is not auto, repo, fresh or skip`);
        }
        options.nodeBuild = mode as NodeBuildMode;
        break;
      }
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return options;
}

/** A control connection driven command by command (the bench's own minimal FTP client). */
class Control {
  readonly socket: Socket;
  #buffered = "";
  #finals: string[] = [];
  #waiting: ((line: string) => void) | undefined;
  #failure: Error | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.#buffered += chunk;
      let end;
      while ((end = this.#buffered.indexOf("\n")) >= 0) {
        const line = this.#buffered.slice(0, end).replace(/\r$/, "");
        this.#buffered = this.#buffered.slice(end + 1);
        if (/^\d{3} /.test(line)) this.#finals.push(line);
      }
      this.#pump();
    });
    const fail = (error: Error) => {
      this.#failure ??= error;
      this.#pump();
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("control connection closed")));
  }

  /** Connects, reads the greeting and logs in. */
  static async open(server: Login): Promise<Control> {
    const control = new Control(connect({ host: "127.0.0.1", port: server.port, noDelay: true }));
    await control.expect("220", "greeting");
    const user = await control.command(`USER ${server.user}`);
    if (user.startsWith("331")) await control.ask(`PASS ${server.password}`, "230");
    else if (!user.startsWith("230")) throw new Error(`USER: ${user}`);
    await control.ask("TYPE I", "200");
    return control;
  }

  #pump(): void {
    const waiting = this.#waiting;
    if (!waiting) return;
    const line = this.#finals.shift();
    if (line !== undefined) {
      this.#waiting = undefined;
      waiting(line);
    } else if (this.#failure) {
      this.#waiting = undefined;
      waiting(`!${this.#failure.message}`);
    }
  }

  /** The next final reply line (`!message` when the connection failed). */
  next(): Promise<string> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#pump();
    });
  }

  async expect(prefix: string, what: string): Promise<string> {
    const line = await this.next();
    if (!line.startsWith(prefix)) throw new Error(`${what}: ${line}`);
    return line;
  }

  command(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.next();
  }

  async ask(line: string, prefix: string): Promise<string> {
    const reply = await this.command(line);
    if (!reply.startsWith(prefix)) throw new Error(`${line.split(" ")[0]}: ${reply}`);
    return reply;
  }

  /** PASV, then the data connection. */
  async passive(): Promise<Socket> {
    const reply = await this.ask("PASV", "227");
    const n = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(reply);
    if (!n) throw new Error(`PASV: ${reply}`);
    const data = connect({ host: `${n[1]}.${n[2]}.${n[3]}.${n[4]}`, port: +n[5] * 256 + +n[6] });
    await new Promise<void>((resolve, reject) => {
      data.once("connect", resolve);
      data.once("error", reject);
    });
    return data;
  }

  async quit(): Promise<void> {
    await this.command("QUIT");
    this.socket.destroy();
  }
}

/**
 * Logs `count` sessions in, {@linkcode LOGINS_AT_ONCE} at a time.
 *
 * @returns The sessions, once all are logged in.
 */
async function openControls(server: BenchServer, count: number): Promise<Control[]> {
  const controls: Control[] = [];
  try {
    while (controls.length < count) {
      const batch = Math.min(LOGINS_AT_ONCE, count - controls.length);
      controls.push(
        ...await Promise.all(Array.from({ length: batch }, () => Control.open(server))),
      );
    }
  } catch (error) {
    for (const control of controls) control.socket.destroy();
    throw error;
  }
  return controls;
}

/** RETR `name` on a logged-in session, which it then ends: the bytes must hash to `sha256`. */
async function retrieve(control: Control, name: string, sha256: string): Promise<void> {
  try {
    const data = await control.passive();
    const hash = createHash("sha256");
    const received = new Promise<void>((resolve, reject) => {
      data.on("data", (chunk: Uint8Array) => hash.update(chunk));
      data.once("end", resolve);
      data.once("error", reject);
    });
    await control.ask(`RETR ${name}`, "150");
    await received;
    await control.expect("226", `RETR ${name}`);
    const got = hash.digest("hex");
    if (got !== sha256) throw new Error(`RETR ${name}: sha256 ${got}, ${sha256} expected`);
  } finally {
    await control.quit().catch(() => control.socket.destroy());
  }
}

/** STOR `name` with `bytes`; the file in the server's root must hash to theirs. */
async function store(
  control: Control,
  server: BenchServer,
  name: string,
  bytes: Uint8Array,
): Promise<void> {
  try {
    const data = await control.passive();
    await control.ask(`STOR ${name}`, "150");
    await new Promise<void>((resolve, reject) => {
      data.once("error", reject);
      data.end(bytes, resolve);
    });
    await control.expect("226", `STOR ${name}`);
  } finally {
    await control.quit().catch(() => control.socket.destroy());
  }
  const want = createHash("sha256").update(bytes).digest("hex");
  const got = await sha256File(join(server.root, name));
  if (got !== want) throw new Error(`STOR ${name}: sha256 ${got} on disk, ${want} sent`);
}

/** Where and as whom the probe logs in. */
interface Login {
  port: number;
  user: string;
  password: string;
}

/** What the main thread tells the probe worker, and what it answers. */
type ProbeRequest = { kind: "start"; login: Login } | { kind: "take" } | { kind: "stop" };
type ProbeAnswer =
  | { kind: "ready" }
  | { kind: "samples"; samples: number[] }
  | { kind: "failed"; message: string };

/** This module, loaded as the probe's worker. */
const PROBE_MARK = "?noop-probe";

/**
 * Keeps one session sending NOOP and records each reply's latency in milliseconds. It runs in a
 * worker thread, so that the main thread's transfers (hashing, writing) do not delay the
 * reading of its replies: the figures are the server's, plus the loopback.
 */
class NoopProbe {
  readonly #worker: Worker;
  #answered: ((answer: ProbeAnswer) => void) | undefined;

  private constructor() {
    this.#worker = new Worker(new URL(PROBE_MARK, import.meta.url), { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<ProbeAnswer>) => {
      const answered = this.#answered;
      this.#answered = undefined;
      answered?.(event.data);
    };
  }

  #ask(request: ProbeRequest): Promise<ProbeAnswer> {
    return new Promise((resolve) => {
      this.#answered = resolve;
      this.#worker.postMessage(request);
    }).then((answer) => {
      if ((answer as ProbeAnswer).kind === "failed") {
        throw new Error(`NOOP probe: ${(answer as { message: string }).message}`);
      }
      return answer as ProbeAnswer;
    });
  }

  static async start(server: BenchServer): Promise<NoopProbe> {
    const probe = new NoopProbe();
    const { port, user, password } = server;
    try {
      await probe.#ask({ kind: "start", login: { port, user, password } });
    } catch (error) {
      probe.#worker.terminate();
      throw error;
    }
    return probe;
  }

  /** The latencies since the last call. */
  async take(): Promise<number[]> {
    const answer = await this.#ask({ kind: "take" });
    return answer.kind === "samples" ? answer.samples : [];
  }

  /** Ends the session (QUIT) and the worker. */
  async stop(): Promise<void> {
    try {
      await this.#ask({ kind: "stop" });
    } finally {
      this.#worker.terminate();
    }
  }
}

/** The probe's side, in its worker: the NOOP loop. */
function runProbeWorker(): void {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent<ProbeRequest>) => void) | null;
    postMessage(answer: ProbeAnswer): void;
  };
  let control: Control | undefined;
  let samples: number[] = [];
  let running = false;
  let loop: Promise<void> = Promise.resolve();
  let failure: string | undefined;
  const answer = (reply: ProbeAnswer) =>
    scope.postMessage(failure ? { kind: "failed", message: failure } : reply);
  scope.onmessage = async ({ data }) => {
    if (data.kind === "start") {
      try {
        control = await Control.open(data.login);
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
      running = true;
      loop = (async () => {
        while (running && control && !failure) {
          const started = performance.now();
          try {
            await control.ask("NOOP", "200");
          } catch (error) {
            failure = error instanceof Error ? error.message : String(error);
            return;
          }
          samples.push(performance.now() - started);
          await sleep(NOOP_EVERY_MS);
        }
      })();
      answer({ kind: "ready" });
    } else if (data.kind === "take") {
      answer({ kind: "samples", samples });
      samples = [];
    } else {
      running = false;
      await loop;
      await control?.quit().catch(() => {});
      answer({ kind: "samples", samples });
    }
  };
}

function openDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

const MiB = 1024 * 1024;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `done()` or `limitMs`; returns whether it got there. */
async function waitFor(done: () => boolean, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * The least resident memory seen within {@linkcode SETTLE_MS} after a round: collectors give
 * freed memory back late (V8's memory reducer after some 10 to 25 s of quiet), so the figure
 * right after a disconnect says little.
 */
async function settledRss(pid: number): Promise<number> {
  let least = treeMemory(pid).rss;
  const deadline = Date.now() + SETTLE_MS;
  while (Date.now() < deadline) {
    await sleep(500);
    least = Math.min(least, treeMemory(pid).rss);
  }
  return least;
}

/** One round's figures. */
interface Round {
  /** `"warm-up"`, or the round's number. */
  name: string;
  noopIdle: number[];
  noopBusy: number[];
  transfersOk: number;
  transferSeconds: number;
  rssBefore: number;
  peakRss: number;
  rssAfter: number;
  fdsBefore: number;
  peakFds: number;
  fdsAfter: number;
}

/** Everything one runtime's server gave. */
interface Outcome {
  version: string;
  /** Resident memory and descriptors of the server just started. */
  cold: { rss: number; fds: number };
  /** The warm-up round first, then the measured ones. */
  rounds: Round[];
  failures: string[];
}

async function within<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: over ${PHASE_LIMIT_MS / 1000} s`)),
      PHASE_LIMIT_MS,
    );
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** What one round works with. */
interface RoundSetup {
  server: BenchServer;
  options: Options;
  /** The STOR payload. */
  upload: Uint8Array;
  /** sha256 of the file RETR fetches. */
  sha256: string;
  /** Descriptors the server must come back to. */
  fds: number;
}

async function runRound(setup: RoundSetup, name: string): Promise<Round> {
  const { server, options } = setup;
  const { pid } = server;
  const rssBefore = treeMemory(pid).rss;
  const fdsBefore = openDescriptors(pid);
  const peak = new PeakMemory(pid);
  let peakFds = fdsBefore;
  const fdSampler = setInterval(() => (peakFds = Math.max(peakFds, openDescriptors(pid))), 100);
  try {
    const idle = await openIdleSessions(
      server,
      options.sessions,
      PHASE_LIMIT_MS,
      LOGINS_AT_ONCE,
    );
    const probe = await NoopProbe.start(server);
    const controls = await within(openControls(server, options.transfers), "transfer logins");
    await sleep(2000);
    const noopIdle = await probe.take();
    const started = performance.now();
    const results = await within(
      Promise.allSettled(
        controls.map((control, i) =>
          i % 2 === 0
            ? retrieve(control, "load.bin", setup.sha256)
            : store(control, server, `up-${name}-${i}.bin`, setup.upload)
        ),
      ),
      "transfers",
    );
    const transferSeconds = (performance.now() - started) / 1000;
    const noopBusy = await probe.take();
    await probe.stop();
    idle.close();
    for (let i = 1; i < options.transfers; i += 2) {
      await rm(join(server.root, `up-${name}-${i}.bin`), { force: true });
    }
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length) {
      throw new Error(
        `${failed.length} transfer(s) failed: ${failed[0].reason?.message ?? failed[0].reason}`,
      );
    }
    await waitFor(() => openDescriptors(pid) <= setup.fds, 10_000);
    const rssAfter = await settledRss(pid);
    return {
      name,
      noopIdle,
      noopBusy,
      transfersOk: results.length,
      transferSeconds,
      rssBefore,
      peakRss: peak.stop().rss,
      rssAfter,
      fdsBefore,
      peakFds,
      fdsAfter: openDescriptors(pid),
    };
  } finally {
    peak.stop();
    clearInterval(fdSampler);
  }
}

async function measure(
  runtime: Runtime,
  options: Options,
  place: { dir: string; port: number; pasvMin: number; pasvMax: number; npmDir?: string },
): Promise<Outcome> {
  const root = join(place.dir, "root");
  await mkdir(root, { recursive: true });
  const bytes = options.mib * MiB;
  const sha256 = await writeRandomFile(join(root, "load.bin"), bytes);
  const upload = new Uint8Array(bytes);
  for (let i = 0; i < upload.length; i += 4096) upload[i] = (i / 4096) & 0xff;
  process.stderr.write(`starting ours-${runtime}...\n`);
  const server = await startServer(`ours-${runtime}`, place);
  await sleep(1000);
  const outcome: Outcome = {
    version: runtimeVersion(runtime),
    cold: { rss: treeMemory(server.pid).rss, fds: openDescriptors(server.pid) },
    rounds: [],
    failures: [],
  };
  const setup: RoundSetup = { server, options, upload, sha256, fds: outcome.cold.fds };
  try {
    // The warm-up round takes the heap and the runtime's buffers to their working size, so
    // that what the measured rounds keep is what they leaked.
    for (let i = 0; i <= options.rounds; i++) {
      const name = i === 0 ? "warm-up" : String(i);
      process.stderr.write(`ours-${runtime}: round ${name} of ${options.rounds}...\n`);
      outcome.rounds.push(await runRound(setup, name));
    }
  } catch (error) {
    outcome.failures.push(error instanceof Error ? error.message : String(error));
  } finally {
    await server.stop();
  }
  const [warm, ...measured] = outcome.rounds;
  for (const round of outcome.rounds) {
    if (round.fdsAfter > outcome.cold.fds) {
      outcome.failures.push(
        `round ${round.name}: ${round.fdsAfter} descriptors open after disconnecting, ` +
          `${outcome.cold.fds} at the start`,
      );
    }
  }
  const lowest = Math.min(...measured.map((round) => round.rssAfter));
  if (measured.length > 0 && lowest - warm.rssAfter > RSS_TOLERANCE_MIB * MiB) {
    outcome.failures.push(
      `every measured round ended with at least ${mib(lowest)} MiB resident, ` +
        `${mib(warm.rssAfter)} after the warm-up (tolerance ${RSS_TOLERANCE_MIB} MiB)`,
    );
  }
  return outcome;
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function latency(values: number[]): string {
  if (values.length === 0) return "–";
  const ms = (v: number) => v.toFixed(v < 10 ? 2 : 1);
  return `${ms(median(values))} / ${ms(percentile(values, 99))} / ${
    ms(Math.max(...values))
  } (${values.length})`;
}

function table(outcomes: Outcome[], options: Options): string {
  const lines = [
    `Load check: ${options.sessions} logged-in idle sessions, then ${options.transfers} ` +
    `transfers at once (half RETR, half STOR, ${options.mib} MiB each), while one more ` +
    `session sends NOOP every ${NOOP_EVERY_MS} ms; a warm-up round and ${options.rounds} ` +
    `measured one(s), each ending with every session disconnected.`,
    "",
    "| server | round | NOOP ms, idle sessions: median / p99 / max (n) | NOOP ms, during the transfers | transfers (s) | RSS MiB: before → peak → after | fds: before → peak → after |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const outcome of outcomes) {
    for (const round of outcome.rounds) {
      lines.push(
        `| ${outcome.version} | ${round.name} | ${latency(round.noopIdle)} | ` +
          `${latency(round.noopBusy)} | ` +
          `${round.transfersOk} ok (${round.transferSeconds.toFixed(1)}) | ` +
          `${mib(round.rssBefore)} → ${mib(round.peakRss)} → ${mib(round.rssAfter)} | ` +
          `${round.fdsBefore} → ${round.peakFds} → ${round.fdsAfter} |`,
      );
    }
    if (outcome.rounds.length === 0) lines.push(`| ${outcome.version} | – | FAILED | | | | |`);
  }
  lines.push(
    "",
    `RSS after: the least within ${
      SETTLE_MS / 1000
    } s of the disconnect (collectors give memory back late). ` +
      "Leak checks: after each round the server's descriptors are back to those of the server " +
      `just started; the least resident memory a measured round ends with is within ` +
      `${RSS_TOLERANCE_MIB} MiB of what the warm-up round ended with.`,
  );
  for (const outcome of outcomes) {
    const cold = `just started: ${mib(outcome.cold.rss)} MiB, ${outcome.cold.fds} fds`;
    lines.push(
      outcome.failures.length
        ? `- ${outcome.version} (${cold}): FAILED: ${outcome.failures.join("; ")}`
        : `- ${outcome.version} (${cold}): ok`,
    );
  }
  return lines.join("\n");
}

async function main(tmp: string): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const notes: string[] = [];
  let npmDir: string | undefined;
  if (options.runtimes.includes("node")) {
    const build = await nodeBuild(options.nodeBuild, tmp);
    npmDir = build.dir;
    notes.push(build.note);
  }
  const outcomes: Outcome[] = [];
  const taken = new Set<number>();
  for (const [i, runtime] of options.runtimes.entries()) {
    const why = unavailable(`ours-${runtime}`, npmDir);
    if (why) {
      notes.push(`ours-${runtime}: not measured (${why}).`);
      continue;
    }
    const pasvMin = 61100 + i * 400;
    outcomes.push(
      await measure(runtime, options, {
        dir: join(tmp, runtime),
        port: await pickPort(61000, 61099, taken),
        pasvMin,
        pasvMax: pasvMin + 399,
        npmDir,
      }),
    );
  }
  console.log(table(outcomes, options));
  if (notes.length) console.log(`\n${notes.map((n) => `- ${n}`).join("\n")}`);
  return outcomes.some((o) => o.failures.length) || outcomes.length === 0 ? 1 : 0;
}

if (import.meta.url.endsWith(PROBE_MARK)) {
  runProbeWorker();
} else {
  const tmp = await mkdtemp("/dev/shm/streamftp-load-");
  const onSignal = () => {
    killAll();
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let code = 1;
  try {
    code = await main(tmp);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    code = 2;
  } finally {
    await stopAll();
    await rm(tmp, { recursive: true, force: true });
  }
  process.exit(code);
}
