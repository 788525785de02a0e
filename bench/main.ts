/**
 * `deno task bench`: streamftp's server and client beside their peers, in one interleaved run.
 *
 * - Server side: our server (Deno, Bun, Node) beside vsftpd, pure-ftpd and pyftpdlib, driven
 *   by lftp, plus 1,000 idle logged-in sessions held by the bench itself.
 * - Client side: our client (Deno, Bun, Node) beside curl, lftp and ftplib, against vsftpd.
 *
 * Every server runs from the start to the end (an idle server costs nothing), each on its own
 * port with its own configuration and a tmpfs root. Repetition 1 of every (workload, pair)
 * runs, then repetition 2, the order rotated each time, so a slow period of the shared machine
 * hits every pair alike. Every transfer's files are checked (size and sha256; a listing's
 * names); a run that fails a check, exits non-zero or times out is no number: it is counted,
 * listed and makes the bench exit 1. See bench/README.md, and `--help` for the options.
 *
 * @module
 */

import { availableParallelism, cpus } from "node:os";
import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { type BenchClient, type ClientName, clientUnavailable, makeClient } from "./clients.ts";
import { type Fixtures, linkFixtures, makeFixtures, prewarm } from "./fixtures.ts";
import { nodeBuild } from "./npm_build.ts";
import { optionsOrExit, parseOptions } from "./options.ts";
import { machineBusy, PeakMemory, selfCpu, settleTree, treeCpu } from "./proc.ts";
import {
  type Cell,
  cellKey,
  type Columns,
  publishReport,
  reportHeading,
  type Results,
  type Sample,
  sideTables,
} from "./report.ts";
import {
  type BenchServer,
  pickPort,
  runtimeVersion,
  type ServerName,
  startServer,
  unavailable,
} from "./servers.ts";
import { runBench } from "./spawn.ts";
import { type Side, type WorkloadKey, WORKLOADS } from "./workloads.ts";

const options = optionsOrExit(parseOptions);
const startedAt = new Date();
const began = performance.now();
const tmp = await mkdtemp("/dev/shm/streamftp-bench-");
const notes: string[] = [];
const log = (line: string) => process.stderr.write(`${line}\n`);

/** One pair to measure: a server and a client (none for the idle sessions). */
interface Pair {
  side: Side;
  server: BenchServer;
  client?: BenchClient;
  /** The participant the cell belongs to. */
  who: string;
}

async function main(): Promise<number> {
  const { sizes } = options;
  const wantsNode = options.runtimes.includes("node");
  let npmDir: string | undefined;
  if (wantsNode) {
    const build = await nodeBuild(options.nodeBuild, tmp);
    npmDir = build.dir;
    notes.push(build.note);
  }

  // Who takes part.
  const serverSide = options.sides.includes("server");
  const clientSide = options.sides.includes("client");
  const ours = options.runtimes.map((r) => `ours-${r}` as const);
  const serverNames = new Set<ServerName>();
  if (serverSide) { for (const name of [...ours, ...options.servers]) serverNames.add(name); }
  if (clientSide) serverNames.add("vsftpd");
  for (const name of [...serverNames]) {
    const why = unavailable(name, npmDir);
    if (why) {
      notes.push(`${name}: not measured (${why}).`);
      serverNames.delete(name);
    }
  }
  if (clientSide && !serverNames.has("vsftpd")) {
    notes.push("Client side skipped: it runs against vsftpd.");
  }
  const clientNames: ClientName[] = [];
  if (clientSide && serverNames.has("vsftpd")) clientNames.push(...ours, ...options.clients);
  if (serverSide && !clientNames.includes("lftp")) clientNames.push("lftp");
  const clients = new Map<ClientName, BenchClient>();
  for (const name of clientNames) {
    const why = clientUnavailable(name, npmDir);
    if (why) notes.push(`${name} client: not measured (${why}).`);
    else {clients.set(
        name,
        makeClient(name, { npmDir, curlSmall: options.curlSmall, runtimeVersion }),
      );}
  }

  // Files, made once, hard-linked into every server's root.
  const workloads = new Set([...options.workloads.server, ...options.workloads.client]);
  log(`making fixtures in ${tmp}...`);
  const fixtures: Fixtures = await makeFixtures(join(tmp, "fixtures"), sizes, {
    large: workloads.has("retr") || workloads.has("stor"),
    small: workloads.has("small"),
    conc: workloads.has("conc"),
    list: workloads.has("list"),
  });

  // Servers: control ports 61000-61099, above the kernel's ephemeral range, and passive ranges
  // after them: 400 ports each, but pure-ftpd takes at most half its range as sessions.
  const servers = new Map<ServerName, BenchServer>();
  const taken = new Set<number>();
  let nextPort = 61100;
  for (const name of serverNames) {
    const span = name === "pure-ftpd"
      ? Math.max(400, 2 * (sizes.idleSessions + Math.ceil(sizes.idleSessions / 20) + 50))
      : 400;
    const pasvMin = nextPort;
    nextPort += span;
    if (nextPort > 65536) {
      notes.push(`${name}: not measured (no ${span} passive ports left above 61100).`);
      continue;
    }
    log(`starting ${name}...`);
    try {
      const server = await startServer(name, {
        dir: join(tmp, "servers", name),
        port: await pickPort(61000, 61099, taken),
        pasvMin,
        pasvMax: pasvMin + span - 1,
        npmDir,
      });
      linkFixtures(fixtures, server.root);
      servers.set(name, server);
    } catch (error) {
      notes.push(`${name}: failed to start: ${error instanceof Error ? error.message : error}`);
    }
  }

  // The pairs of each workload.
  const pairs = new Map<WorkloadKey, Pair[]>();
  const results: Results = new Map();
  const lftp = clients.get("lftp");
  for (const key of workloads) {
    const list: Pair[] = [];
    const workload = WORKLOADS[key];
    if (serverSide && options.workloads.server.includes(key)) {
      for (const name of [...ours, ...options.servers]) {
        const server = servers.get(name);
        if (!server) continue;
        if (workload.op && !lftp) continue;
        list.push({ side: "server", server, client: workload.op ? lftp : undefined, who: name });
      }
    }
    const vsftpd = servers.get("vsftpd");
    if (clientSide && vsftpd && options.workloads.client.includes(key)) {
      for (const name of [...ours, ...options.clients]) {
        const client = clients.get(name);
        if (!client) continue;
        if (!client.supports(workload.op!)) {
          results.set(cellKey("client", key, name), {
            samples: [],
            failures: [],
            na: "unsupported",
          });
          continue;
        }
        list.push({ side: "client", server: vsftpd, client, who: name });
      }
    }
    pairs.set(key, list);
  }

  // The runs.
  const order = [...workloads].sort((a, b) =>
    ["idle", "logins", "list", "small", "retr", "stor", "conc"].indexOf(a) -
    ["idle", "logins", "list", "small", "retr", "stor", "conc"].indexOf(b)
  );
  const total = (options.warmup + options.reps) *
    order.reduce((n, k) => n + pairs.get(k)!.length, 0);
  let done = 0;
  const cores = availableParallelism();
  // Warm-up repetitions are numbered from 1 - warmup to 0, and only logged.
  for (let rep = 1 - options.warmup; rep <= options.reps; rep++) {
    for (const [w, key] of order.entries()) {
      const list = pairs.get(key)!;
      const shift = (rep - 1 + w) % Math.max(1, list.length);
      const rotated = [...list.slice(shift), ...list.slice(0, shift)];
      for (const pair of rotated) {
        done++;
        const cell: Cell = results.get(cellKey(pair.side, key, pair.who)) ??
          { samples: [], failures: [] };
        results.set(cellKey(pair.side, key, pair.who), cell);
        const label = `[${done}/${total}] ${
          rep < 1 ? "warm-up" : `rep ${rep}`
        } ${pair.side} ${key} ${pair.server.name} ← ${
          pair.client?.name ?? "bench (idle sessions)"
        }`;
        const sample = await runOnce(pair, key, rep, fixtures, cores).catch((error) => error);
        if (rep < 1) {
          const failed = sample instanceof Error ? `: FAILED ${sample.message}` : "";
          log(`${label}${failed}`);
          continue;
        }
        if (sample instanceof Error || !(typeof sample === "object" && "value" in sample)) {
          const message = sample instanceof Error ? sample.message : String(sample);
          cell.failures.push(`rep ${rep}: ${message.split("\n").slice(0, 4).join(" / ")}`);
          log(`${label}: FAILED ${message}`);
        } else {
          cell.samples.push(sample);
          log(
            `${label}: ${sample.value.toFixed(2)}${
              sample.foreign > 0.1 ? " (noisy)" : ""
            }, server CPU ${sample.serverCpu.toFixed(2)} s, client CPU ${
              sample.clientCpu.toFixed(2)
            } s`,
          );
        }
      }
    }
  }
  const elapsed = (performance.now() - began) / 1000;

  // The report.
  const heading = (who: string) =>
    who.startsWith("ours-")
      ? `ours, ${{ deno: "Deno", bun: "Bun", node: "Node" }[who.slice(5)]}`
      : who;
  const present = (names: string[], side: Side) =>
    names.filter((n) =>
      [...results.keys()].some((k) => k.startsWith(`${side}|`) && k.endsWith(`|${n}`))
    );
  const cpu = cpus()[0]?.model ?? "?";
  const out: string[] = [];
  out.push(reportHeading("streamftp bench", startedAt, options.quick ? "--quick" : undefined));
  out.push(
    `${cpu}, ${cores} CPUs, shared by servers, clients and the bench; 127.0.0.1; tmpfs on both ends. ` +
      `Median of ${options.reps} interleaved repetition${options.reps > 1 ? "s" : ""}${
        options.warmup > 0
          ? `, after ${options.warmup} unmeasured warm-up repetition${
            options.warmup > 1 ? "s" : ""
          }`
          : ""
      }; MB/s = 10^6 B/s. ` +
      `† = other work took more than 10% of the machine during a repetition of that cell. ` +
      `The run took ${(elapsed / 60).toFixed(1)} min.`,
  );
  const versions = new Map<string, string>();
  for (const server of servers.values()) versions.set(server.name, server.version);
  for (const client of clients.values()) versions.set(`${client.name} client`, client.version);
  out.push(`\nVersions: ${[...versions].map(([k, v]) => `${k}: ${v}`).join("; ")}.`);
  if (serverSide) {
    const columns: Columns = {
      ours: present(ours, "server"),
      peers: present(options.servers, "server"),
      heading,
    };
    out.push(
      `\n## Server side: our server beside ${columns.peers.join(", ")}; client ${
        lftp?.version ?? "lftp"
      }\n`,
    );
    out.push(sideTables(
      "server",
      order.filter((k) => options.workloads.server.includes(k))
        .sort(rowOrder),
      sizes,
      columns,
      results,
    ));
  }
  if (clientSide && servers.has("vsftpd")) {
    const columns: Columns = {
      ours: present(ours, "client"),
      peers: present(options.clients, "client"),
      heading,
    };
    out.push(
      `\n## Client side: our client beside ${columns.peers.join(", ")}; server ${
        servers.get("vsftpd")!.version
      }\n`,
    );
    out.push(
      "Every client is timed as a whole process (start-up included) and its CPU is the process's.\n",
    );
    out.push(sideTables(
      "client",
      order.filter((k) => options.workloads.client.includes(k))
        .sort(rowOrder),
      sizes,
      columns,
      results,
    ));
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
      versions: Object.fromEntries(versions),
      cells: [...results].map(([key, cell]) => {
        const [side, workload, who] = key.split("|");
        return { side, workload, who, ...cell };
      }),
    }),
  });
}

function rowOrder(a: WorkloadKey, b: WorkloadKey): number {
  const rows = ["retr", "stor", "small", "conc", "list", "logins", "idle"];
  return rows.indexOf(a) - rows.indexOf(b);
}

let runSerial = 0;

/** One run of one pair, with the server's CPU and memory and the machine's other load. */
async function runOnce(
  pair: Pair,
  key: WorkloadKey,
  rep: number,
  fixtures: Fixtures,
  cores: number,
): Promise<Sample> {
  const { server } = pair;
  const workload = WORKLOADS[key];
  if (server.child.exitCode !== null || server.child.signalCode !== null) {
    throw new Error(`${server.name} is not running: ${server.output().slice(-500)}`);
  }
  const written = workload.written(options.sizes);
  if (written > 0) await prewarm(tmp, written);
  const tag = `${pair.side}-${pair.who}-${key}-${rep}-${++runSerial}`;
  const work = join(tmp, "work", tag);
  mkdirSync(work, { recursive: true });
  const scratch = join(tmp, "scratch");
  mkdirSync(scratch, { recursive: true });
  const cpu0 = treeCpu(server.pid);
  const busy0 = machineBusy();
  const self0 = selfCpu();
  const t0 = performance.now();
  const peak = key === "conc" && pair.side === "server" ? new PeakMemory(server.pid) : undefined;
  try {
    const result = await workload.run({
      server,
      client: pair.client,
      fixtures,
      sizes: options.sizes,
      work,
      context: { scratch, timeoutMs: options.timeoutMs },
      tag,
    });
    const memory = peak?.stop();
    // Forked session processes exit after QUIT; their CPU counts once they are reaped.
    await settleTree(server.pid, 1, 3000);
    const serverCpu = treeCpu(server.pid) - cpu0;
    const wall = (performance.now() - t0) / 1000;
    const others = machineBusy() - busy0 - serverCpu - result.clientCpu - (selfCpu() - self0);
    return {
      rep,
      value: result.value,
      seconds: result.seconds,
      serverCpu,
      clientCpu: result.clientCpu,
      inProcess: result.inProcess,
      peak: memory,
      foreign: Math.max(0, others / (wall * cores)),
    };
  } finally {
    peak?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await runBench(main, tmp);
