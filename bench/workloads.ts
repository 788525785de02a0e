/**
 * The workloads: what each one asks a client to do, how its result is checked (every file's
 * size and sha256, every name of a listing: a wrong byte is a failure, not a number) and which
 * figure it yields.
 *
 * @module
 */

import { readdirSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { BenchClient, ClientContext, ClientRun, Operation } from "./clients.ts";
import { CheckError, checkFile, checkListing, type Fixtures, type Sizes } from "./fixtures.ts";
import { openIdleSessions } from "./idle_sessions.ts";
import { settleTree, treeMemory } from "./proc.ts";
import { type BenchServer, remotePath } from "./servers.ts";

/** The workloads' keys, in the order each repetition runs them. */
export const WORKLOAD_KEYS = ["idle", "logins", "list", "small", "retr", "stor", "conc"] as const;
/** A workload's key. */
export type WorkloadKey = typeof WORKLOAD_KEYS[number];
/** Which side of the bench a workload measures. */
export type Side = "server" | "client";

/** What one run of a workload measured. */
export interface RunResult {
  /** The figure (MB/s, files/s, s, logins/s, MiB). */
  value: number;
  /** Wall seconds of the client process (0 for the idle sessions). */
  seconds: number;
  /** CPU seconds of the client process. */
  clientCpu: number;
  /** Our driver's own timing, start-up left out. */
  inProcess?: number;
}

/** Everything one run needs. */
export interface RunContext {
  /** The server. */
  server: BenchServer;
  /** The client (none for the idle sessions). */
  client?: BenchClient;
  /** The files. */
  fixtures: Fixtures;
  /** The sizes. */
  sizes: Sizes;
  /** An empty client-side directory for this run (removed after it). */
  work: string;
  /** Scratch for scripts, lists and the client context. */
  context: ClientContext;
  /** A name unique to this run (for uploads). */
  tag: string;
}

/** A workload. */
export interface Workload {
  /** Its key. */
  key: WorkloadKey;
  /** The sides it is run on. */
  sides: readonly Side[];
  /** The client operation it needs (`undefined`: no client). */
  op?: Operation["op"];
  /** Whether a higher figure is better. */
  higherIsBetter: boolean;
  /** Its table row, e.g. `RETR 256 MiB, MB/s`. */
  title(sizes: Sizes): string;
  /** Bytes written by the receiving side (prewarmed before each run). */
  written(sizes: Sizes): number;
  /** Runs it once. */
  run(context: RunContext): Promise<RunResult>;
}

const MIB = 1024 * 1024;

function figure(value: number, run: ClientRun): RunResult {
  return { value, seconds: run.seconds, clientCpu: run.cpu, inProcess: run.inProcess };
}

async function clientRun(context: RunContext, operation: Operation) {
  return await context.client!.run(context.server, operation, context.context);
}

/** Every workload by key. */
export const WORKLOADS: Record<WorkloadKey, Workload> = {
  retr: {
    key: "retr",
    sides: ["server", "client"],
    op: "retr",
    higherIsBetter: true,
    title: (s) => `RETR ${s.largeMiB} MiB, MB/s`,
    written: (s) => s.largeMiB * MIB,
    async run(context) {
      const { large } = context.fixtures;
      const local = join(context.work, "big.bin");
      const result = await clientRun(context, {
        op: "retr",
        remote: remotePath(context.server, large.path),
        local,
      });
      await checkFile(local, large);
      return figure(large.size / result.seconds / 1e6, result);
    },
  },
  stor: {
    key: "stor",
    sides: ["server", "client"],
    op: "stor",
    higherIsBetter: true,
    title: (s) => `STOR ${s.largeMiB} MiB, MB/s`,
    written: (s) => s.largeMiB * MIB,
    async run(context) {
      const { large } = context.fixtures;
      const name = `up-${context.tag}.bin`;
      const stored = join(context.server.root, name);
      try {
        const result = await clientRun(context, {
          op: "stor",
          local: join(context.fixtures.dir, large.path),
          remote: remotePath(context.server, name),
        });
        await checkFile(stored, large);
        return figure(large.size / result.seconds / 1e6, result);
      } finally {
        await rm(stored, { force: true });
      }
    },
  },
  small: {
    key: "small",
    sides: ["server", "client"],
    op: "mretr",
    higherIsBetter: true,
    title: (s) =>
      `${s.smallCount.toLocaleString("en")} × ${s.smallKiB} KiB RETR on one session, files/s`,
    written: () => 0,
    async run(context) {
      const files = context.fixtures.small;
      const result = await clientRun(context, {
        op: "mretr",
        remotes: files.map((f) => remotePath(context.server, f.path)),
        localDir: context.work,
      });
      for (const file of files) await checkFile(join(context.work, file.path.split("/")[1]), file);
      const extra = readdirSync(context.work).length - files.length;
      if (extra) throw new CheckError(`${extra} unexpected files written`);
      return figure(files.length / result.seconds, result);
    },
  },
  conc: {
    key: "conc",
    sides: ["server", "client"],
    op: "pretr",
    higherIsBetter: true,
    title: (s) => `${s.concClients} clients × ${s.concMiB} MiB RETR, MB/s total`,
    written: (s) => s.concClients * s.concMiB * MIB,
    async run(context) {
      const files = context.fixtures.conc;
      const result = await clientRun(context, {
        op: "pretr",
        remotes: files.map((f) => remotePath(context.server, f.path)),
        localDir: context.work,
      });
      for (const file of files) await checkFile(join(context.work, file.path.split("/")[1]), file);
      const bytes = files.reduce((sum, f) => sum + f.size, 0);
      return figure(bytes / result.seconds / 1e6, result);
    },
  },
  list: {
    key: "list",
    sides: ["server", "client"],
    op: "list",
    higherIsBetter: false,
    title: (s) => `LIST of ${s.listEntries.toLocaleString("en")} entries, s`,
    written: () => 0,
    async run(context) {
      const out = join(context.work, "listing.txt");
      const result = await clientRun(context, {
        op: "list",
        remote: remotePath(context.server, "list"),
        out,
      });
      checkListing(await readFile(out, "utf8"), context.fixtures.listNames);
      return figure(result.seconds, result);
    },
  },
  logins: {
    key: "logins",
    sides: ["server"],
    op: "logins",
    higherIsBetter: true,
    title: () => "connect + login + QUIT, per s",
    written: () => 0,
    async run(context) {
      const count = context.sizes.logins;
      const result = await clientRun(context, { op: "logins", count });
      return figure(count / result.seconds, result);
    },
  },
  idle: {
    key: "idle",
    sides: ["server"],
    higherIsBetter: false,
    title: (s) => `${s.idleSessions.toLocaleString("en")} idle logged-in sessions, MiB over idle`,
    written: () => 0,
    async run(context) {
      const { server } = context;
      // A few sessions first, so that the measured ones pay for sessions, not for loading and
      // compiling the session code; then a pause, so the runtimes' collectors settle.
      const warm = await openIdleSessions(
        server,
        Math.max(1, Math.ceil(context.sizes.idleSessions / 20)),
        context.context.timeoutMs,
      );
      warm.close();
      await settleTree(server.pid, 1, 20000);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const baseline = treeMemory(server.pid);
      const sessions = await openIdleSessions(
        server,
        context.sizes.idleSessions,
        context.context.timeoutMs,
      );
      try {
        // Let forked session processes finish their set-up and lazy allocations.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const held = treeMemory(server.pid);
        return { value: (held.pss - baseline.pss) / MIB, seconds: 0, clientCpu: 0 };
      } finally {
        sessions.close();
        await settleTree(server.pid, baseline.processes, 20000);
      }
    },
  },
};
