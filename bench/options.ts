/**
 * The bench's command line, and the flag reading that `bench:ceilings` shares.
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
  /**
   * Repetitions run first and not measured, so that runtimes with a JIT are measured warm,
   * as a server that runs for long is (default 0).
   */
  warmup: number;
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

/** The usage, which `--help` prints. */
export const USAGE = `Usage: deno task bench [options]   (deno run -A bench/main.ts [options])
  --quick                 a one-minute look: small sizes, 1 repetition, fewer workloads
  --only server|client    one side only (default both)
  --runtimes LIST         our runtimes, of deno,bun,node (default all)
  --servers LIST          peer servers, of vsftpd,pure-ftpd,pyftpdlib (default all)
  --clients LIST          peer clients, of curl,lftp,ftplib (default all)
  --workloads LIST        of retr,stor,small,conc,list,logins,idle (default all, per side)
  --reps N                repetitions, interleaved (default 3; --quick 1)
  --warmup N              unmeasured repetitions first, for a warm JIT (default 0)
  --json FILE             write the raw results
  --timeout SECONDS       deadline of one run (default 300; --quick 60)
  --node-build MODE       auto (repo npm/ if fresh, else a private build), repo, fresh, skip
  --curl-small            measure curl on the small files too (it stalls, see README)
  --large-mib N --small-count N --small-kib N --conc-clients N --conc-mib N
  --list-entries N --logins N --idle-sessions N      sizes (defaults: the issue's tables)`;

/** A flag of the command line being read, and the arguments after it. */
export interface Flag {
  /** The flag, as given. */
  name: string;
  /**
   * Takes the next argument, the flag's value.
   *
   * @throws {Error} When there is none (with the usage).
   */
  value(): string;
  /**
   * Takes the flag's value (or reads `text`) as a positive integer.
   *
   * @throws {Error} When it is not one (with the usage).
   */
  positive(text?: string): number;
  /**
   * Takes the flag's value as a comma-separated list of some of `all`.
   *
   * @throws {Error} On an item not in `all` (with the usage).
   */
  list<T extends string>(all: readonly T[]): T[];
  /**
   * Rejects the command line.
   *
   * @throws {Error} Always: the message and the usage.
   */
  fail(message: string): never;
}

/** How {@linkcode readFlags} reads a command line. */
export interface ReadFlagsOptions<K extends string> {
  /** The usage: `--help` prints it, every error ends with it. */
  usage: string;
  /** The sizes that the size flags set (in place). */
  sizes: Record<K, number>;
  /** The size flags (`--logins`), each with the size it sets to a positive integer. */
  sizeFlags: Record<string, K>;
  /**
   * Reads any other flag but `--quick` (which the caller looks for first) and `--help`.
   *
   * @returns Whether it is a flag of the command line.
   */
  read(flag: Flag): boolean;
}

/**
 * Reads a bench's command line, flag by flag: the size flags, `--quick` (skipped),
 * `--help` / `-h` (prints the usage and exits 0), and the caller's own flags.
 *
 * @param args The arguments.
 * @param options The usage, the sizes and the caller's flags.
 * @throws {Error} On an unknown flag or a bad value (with the usage).
 */
export function readFlags<K extends string>(args: string[], options: ReadFlagsOptions<K>): void {
  const { usage, sizes, sizeFlags } = options;
  for (let i = 0; i < args.length; i++) {
    const name = args[i];
    const flag: Flag = {
      name,
      fail(message) {
        throw new Error(`${message}\n${usage}`);
      },
      value: () => args[++i] ?? flag.fail(`${name} needs a value`),
      positive(text = flag.value()) {
        const n = Number(text);
        if (!Number.isInteger(n) || n < 1) flag.fail(`${name} must be a positive integer`);
        return n;
      },
      list<T extends string>(all: readonly T[]) {
        const chosen = flag.value().split(",").map((s) => s.trim()).filter(Boolean);
        for (const item of chosen) {
          if (!all.includes(item as T)) flag.fail(`${name}: unknown "${item}"`);
        }
        return chosen as T[];
      },
    };
    if (name in sizeFlags) sizes[sizeFlags[name]] = flag.positive();
    else if (name === "--help" || name === "-h") {
      console.log(usage);
      process.exit(0);
    } else if (name !== "--quick" && !options.read(flag)) flag.fail(`unknown option "${name}"`);
  }
}

/**
 * Parses `process.argv` with `parse`, or exits 2 with its error (and the usage) on stderr.
 *
 * @param parse A bench's parser.
 * @returns The options.
 */
export function optionsOrExit<T>(parse: (args: string[]) => T): T {
  try {
    return parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : error}\n`);
    process.exit(2);
  }
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
    warmup: 0,
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
  readFlags(args, {
    usage: USAGE,
    sizes,
    sizeFlags,
    read(flag: Flag) {
      switch (flag.name) {
        case "--only": {
          const side = flag.value();
          if (side !== "server" && side !== "client") flag.fail("--only must be server or client");
          options.sides = [side];
          return true;
        }
        case "--runtimes":
          options.runtimes = flag.list(["deno", "bun", "node"] as const);
          return true;
        case "--servers":
          options.servers = flag.list(["vsftpd", "pure-ftpd", "pyftpdlib"] as const);
          return true;
        case "--clients":
          options.clients = flag.list(["curl", "lftp", "ftplib"] as const);
          return true;
        case "--workloads": {
          const chosen = flag.list(WORKLOAD_KEYS);
          options.workloads = {
            server: SERVER_WORKLOADS.filter((k) => chosen.includes(k)),
            client: CLIENT_WORKLOADS.filter((k) => chosen.includes(k)),
          };
          return true;
        }
        case "--reps":
          options.reps = flag.positive();
          return true;
        case "--warmup":
          options.warmup = flag.positive();
          return true;
        case "--json":
          options.json = flag.value();
          return true;
        case "--timeout":
          options.timeoutMs = flag.positive() * 1000;
          return true;
        case "--node-build": {
          const mode = flag.value();
          if (!["auto", "repo", "fresh", "skip"].includes(mode)) {
            flag.fail("--node-build must be auto, repo, fresh or skip");
          }
          options.nodeBuild = mode as NodeBuildMode;
          return true;
        }
        case "--curl-small":
          options.curlSmall = true;
          return true;
        default:
          return false;
      }
    },
  });
  return options;
}
