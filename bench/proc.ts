/**
 * What a server costs, read from Linux's `/proc`: CPU seconds and memory of a process together
 * with all its descendants (vsftpd and pure-ftpd fork per session), the machine's busy time
 * (to tell when other work shared the two cores), and a sampler for peak memory.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of `/proc/<pid>/stat`'s times. */
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;

interface Stat {
  ppid: number;
  /** utime + stime + cutime + cstime, in ticks. */
  ticks: number;
}

function readStat(pid: number | "self"): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // After the command name (which may hold spaces and parentheses): state is field 3, ppid 4,
  // utime 14, stime 15, cutime 16, cstime 17.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return {
    ppid: Number(fields[1]),
    ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
  };
}

/**
 * A process and all its live descendants.
 *
 * @param root The process id.
 * @returns The ids, `root` first (empty when it is gone).
 */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  if (!readStat(root)) return [];
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/**
 * CPU seconds (user + system, all threads) a process tree has used: each live process's own
 * and its reaped children's. A session process that exited and was reaped moves its time into
 * its parent's, so the sum only grows.
 *
 * @param root The tree's root process.
 * @returns The seconds.
 */
export function treeCpu(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) ticks += readStat(pid)?.ticks ?? 0;
  return ticks / CLK_TCK;
}

/** CPU seconds this process (the bench itself) has used. */
export function selfCpu(): number {
  const stat = readStat("self");
  return stat ? stat.ticks / CLK_TCK : 0;
}

/** Memory of a process tree, in bytes, summed over its processes. */
export interface Memory {
  /** Resident set size (a page shared by two processes counts twice). */
  rss: number;
  /** Proportional set size (a page shared by n processes counts 1/n in each). */
  pss: number;
  /** Anonymous resident memory (heap, stacks). */
  anon: number;
  /** How many processes. */
  processes: number;
}

/**
 * Reads the memory of a process tree from each process's `smaps_rollup`.
 *
 * @param root The tree's root process.
 * @returns The sums.
 */
export function treeMemory(root: number): Memory {
  const memory: Memory = { rss: 0, pss: 0, anon: 0, processes: 0 };
  for (const pid of processTree(root)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    } catch {
      continue;
    }
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
    memory.rss += kib("Rss") * 1024;
    memory.pss += kib("Pss") * 1024;
    memory.anon += kib("Anonymous") * 1024;
    memory.processes++;
  }
  return memory;
}

/** Samples a process tree's memory every `intervalMs` and keeps the peaks. */
export class PeakMemory {
  readonly #root: number;
  readonly #timer: ReturnType<typeof setInterval>;
  /** The highest sums seen so far (each field on its own). */
  readonly peak: Memory = { rss: 0, pss: 0, anon: 0, processes: 0 };

  /**
   * Starts sampling.
   *
   * @param root The tree's root process.
   * @param intervalMs The period.
   */
  constructor(root: number, intervalMs = 50) {
    this.#root = root;
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Takes one sample now. */
  sample(): void {
    const now = treeMemory(this.#root);
    this.peak.rss = Math.max(this.peak.rss, now.rss);
    this.peak.pss = Math.max(this.peak.pss, now.pss);
    this.peak.anon = Math.max(this.peak.anon, now.anon);
    this.peak.processes = Math.max(this.peak.processes, now.processes);
  }

  /**
   * Stops sampling (after a last sample).
   *
   * @returns The peaks.
   */
  stop(): Memory {
    clearInterval(this.#timer);
    this.sample();
    return this.peak;
  }
}

/**
 * The machine's busy CPU seconds so far, all cores (user, nice, system, irq, softirq, steal:
 * everything but idle and iowait), from `/proc/stat`.
 *
 * @returns The seconds.
 */
export function machineBusy(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0];
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/)
    .slice(1).map(Number);
  void idle;
  void iowait;
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/**
 * Waits until a process tree has at most `count` processes (forked sessions exited and were
 * reaped), polling, at most `limitMs`.
 *
 * @param root The tree's root process.
 * @param count The number to wait for.
 * @param limitMs The most to wait.
 */
export async function settleTree(root: number, count: number, limitMs = 3000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (processTree(root).length > count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
