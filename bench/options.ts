/**
 * The bench's command line.
 *
 * ```sh
 * deno task bench [--quick] [--only server|client] [--runtimes deno,bun,node] [--reps N]
 *   [--json FILE] [--servers vsftpd,pure-ftpd,pyftpdlib] [--clients curl,lftp,ftplib]
 *   [--workloads retr,stor,small,conc,list,logins,idle] [--timeout SECONDS]
 *   [--node-build auto|repo|fresh|skip] [--curl-small] [--large-mib N] [--small-count N]
 *   [--small-kib N] [--conc-clients N] [--conc-mib N] [--list-entries N] [--logins N]
 *   [--idle-sessions N]
 * ```
 *
 * @module
 */

import process from "node:process";
import type { ClientName } from "./clients.ts";
import type { Sizes } from "./fixtures.ts";
import type { NodeBuildMode } from "./npm_build.ts";
import type { PeerServerName, Runtime } from "./servers.ts";
import { type Side, WORKLOAD_KEYS, type WorkloadKey } from "./workloads.ts";

/** The parsed command line. */
export interface BenchOptions {
  /** The one-minute look. */
  quick: boolean;
  /** The sides to measure. */
  sides: Side[];
  /** Our runtimes. */
  runtimes: Runtime[];
  /** The peer servers (server side). */
  servers: PeerServerName[];
  /** The peer clients (client side). */
  clients: Extract<ClientName, "curl" | "lftp" | "ftplib">[];
  /** The workloads of each side. */
  workloads: Record<Side, WorkloadKey[]>;
  /** Repetitions. */
  reps: number;
  /** Where to write the raw results. */
  json?: string;
  /** Deadline of one run, ms. */
  timeoutMs: number;
  /** How Node gets its npm build. */
  nodeBuild: NodeBuildMode;
  /** Measure curl on the small files too (see clients.ts). */
  curlSmall: boolean;
  /** The sizes. */
  sizes: Sizes;
}

/** Sizes of the full run: the tables. */
export const FULL_SIZES: Sizes = {
  largeMiB: 256,
  smallCount: 500,
  smallKiB: 4,
  concClients: 32,
  concMiB: 16,
  listEntries: 10000,
  logins: 300,
  idleSessions: 1000,
};

/** Sizes of `--quick`. */
export const QUICK_SIZES: Sizes = {
  largeMiB: 32,
  smallCount: 100,
  smallKiB: 4,
  concClients: 8,
  concMiB: 4,
  listEntries: 2000,
  logins: 30,
  idleSessions: 200,
};

const SERVER_WORKLOADS: WorkloadKey[] = ["retr", "stor", "small", "conc", "list", "logins", "idle"];
const CLIENT_WORKLOADS: WorkloadKey[] = ["retr", "stor", "small", "conc", "list"];
const QUICK_SERVER_WORKLOADS: WorkloadKey[] = ["retr", "small", "conc", "list", "logins", "idle"];
const QUICK_CLIENT_WORKLOADS: WorkloadKey[] = ["retr", "small", "list"];

export const USAGE = `Usage: deno task bench [options]   (deno run -A bench/main.ts [options])
  --quick                 a one-minute look: small sizes, 1 repetition, fewer workloads
  --only server|client    one side only (default both)
  --runtimes LIST         our runtimes, of deno,bun,node (default all)
  --servers LIST          peer servers, of vsftpd,pure-ftpd,pyftpdlib (default all)
  --clients LIST          peer clients, of curl,lftp,ftplib (default all)
  --workloads LIST        of retr,stor,small,conc,list,logins,idle (default all, per side)
  --reps N                repetitions, interleaved (default 3; --quick 1)
  --json FILE             write the raw results
  --timeout SECONDS       deadline of one run (default 300; --quick 60)
  --node-build MODE       auto (repo npm/ if fresh, else a private build), repo, fresh, skip
  --curl-small            measure curl on the small files too (it stalls, see README)
  --large-mib N --small-count N --small-kib N --conc-clients N --conc-mib N
  --list-entries N --logins N --idle-sessions N      sizes (defaults: the issue's tables)`;

function fail(message: string): never {
  throw new Error(`${message}\n${USAGE}`);
}

function list<T extends string>(flag: string, value: string, all: readonly T[]): T[] {
  const chosen = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const item of chosen) if (!all.includes(item as T)) fail(`${flag}: unknown "${item}"`);
  return chosen as T[];
}

/**
 * Parses the command line.
 *
 * @param args The arguments.
 * @returns The options.
 * @throws {Error} On an unknown flag or a bad value (with the usage).
 */
export function parseOptions(args: string[]): BenchOptions {
  const quick = args.includes("--quick");
  const sizes: Sizes = { ...(quick ? QUICK_SIZES : FULL_SIZES) };
  const options: BenchOptions = {
    quick,
    sides: ["server", "client"],
    runtimes: ["deno", "bun", "node"],
    servers: ["vsftpd", "pure-ftpd", "pyftpdlib"],
    clients: ["curl", "lftp", "ftplib"],
    workloads: {
      server: quick ? QUICK_SERVER_WORKLOADS : SERVER_WORKLOADS,
      client: quick ? QUICK_CLIENT_WORKLOADS : CLIENT_WORKLOADS,
    },
    reps: quick ? 1 : 3,
    timeoutMs: (quick ? 60 : 300) * 1000,
    nodeBuild: "auto",
    curlSmall: false,
    sizes,
  };
  const sizeFlags: Record<string, keyof Sizes> = {
    "--large-mib": "largeMiB",
    "--small-count": "smallCount",
    "--small-kib": "smallKiB",
    "--conc-clients": "concClients",
    "--conc-mib": "concMiB",
    "--list-entries": "listEntries",
    "--logins": "logins",
    "--idle-sessions": "idleSessions",
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = () => args[++i] ?? fail(`${flag} needs a value`);
    const positive = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) fail(`${flag} must be a positive integer`);
      return n;
    };
    if (flag in sizeFlags) {
      sizes[sizeFlags[flag]] = positive();
      continue;
    }
    switch (flag) {
      case "--quick":
        break;
      case "--help":
      case "-h":
        console.log(USAGE);
        process.exit(0);
        break;
      case "--only": {
        const side = value();
        if (side !== "server" && side !== "client") fail("--only must be server or client");
        options.sides = [side];
        break;
      }
      case "--runtimes":
        options.runtimes = list(flag, value(), ["deno", "bun", "node"] as const);
        break;
      case "--servers":
        options.servers = list(flag, value(), ["vsftpd", "pure-ftpd", "pyftpdlib"] as const);
        break;
      case "--clients":
        options.clients = list(flag, value(), ["curl", "lftp", "ftplib"] as const);
        break;
      case "--workloads": {
        const chosen = list(flag, value(), WORKLOAD_KEYS);
        options.workloads = {
          server: SERVER_WORKLOADS.filter((k) => chosen.includes(k)),
          client: CLIENT_WORKLOADS.filter((k) => chosen.includes(k)),
        };
        break;
      }
      case "--reps":
        options.reps = positive();
        break;
      case "--json":
        options.json = value();
        break;
      case "--timeout":
        options.timeoutMs = positive() * 1000;
        break;
      case "--node-build": {
        const mode = value();
        if (!["auto", "repo", "fresh", "skip"].includes(mode)) {
          fail("--node-build must be auto, repo, fresh or skip");
        }
        options.nodeBuild = mode as NodeBuildMode;
        break;
      }
      case "--curl-small":
        options.curlSmall = true;
        break;
      default:
        fail(`unknown option ${flag}`);
    }
  }
  return options;
}
