/**
 * Child processes of the bench: every command runs in its own process group (so that a client
 * that forks, or a server that forks per session, is stopped whole), is tracked until it exits,
 * and has a deadline. {@linkcode stopAll} stops whatever is still running; the bench calls it on
 * exit and on SIGINT/SIGTERM ({@linkcode runBench}). Nothing is ever stopped by name.
 *
 * @module
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import process from "node:process";

const running = new Set<ChildProcess>();

/** Options of {@linkcode start} and {@linkcode runTimed}. */
export interface SpawnOptions {
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Keep stdin open as a pipe (servers that exit when it closes). */
  stdinPipe?: boolean;
}

/**
 * Starts a long-running process (a server) in its own process group. Its output is kept (the
 * last 64 KiB) for failure messages.
 *
 * @param command The executable.
 * @param args Its arguments.
 * @param options Directory, environment, stdin.
 * @returns The child and a function returning what it printed so far.
 */
export function start(
  command: string,
  args: string[],
  options: SpawnOptions = {},
): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: [options.stdinPipe ? "pipe" : "ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  child.once("error", () => running.delete(child));
  let output = "";
  const keep = (d: Uint8Array | string) => {
    output += d;
    if (output.length > 65536) output = output.slice(-32768);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  return { child, output: () => output };
}

/** Whether a child has exited. */
export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function signalGroup(child: ChildProcess, signal: "SIGTERM" | "SIGKILL"): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * Stops a child's process group: SIGTERM, then SIGKILL after `graceMs`. Resolves once the
 * child has exited (or 1 s after the SIGKILL).
 *
 * @param child The child.
 * @param graceMs Time between SIGTERM and SIGKILL.
 */
export async function stop(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (exited(child)) {
    // The leader is gone; its group (forked session processes) may not be.
    signalGroup(child, "SIGKILL");
    return;
  }
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  signalGroup(child, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      signalGroup(child, "SIGKILL");
      resolve();
    }, graceMs);
  });
  await Promise.race([gone, late]);
  clearTimeout(timer);
  await Promise.race([gone, new Promise((r) => setTimeout(r, 1000))]);
  signalGroup(child, "SIGKILL");
  running.delete(child);
}

/** Stops every child still running (servers, clients), in parallel. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => stop(child, 2000)));
}

/** Kills every child at once (signal handlers: no waiting). */
export function killAll(): void {
  for (const child of running) signalGroup(child, "SIGKILL");
}

/**
 * On SIGINT or SIGTERM: says so on stderr, kills every child, removes `tmp` and exits 130.
 *
 * @param tmp The run's temporary directory.
 * @returns A function that removes the handlers (at the end of a run).
 */
export function stopOnSignal(tmp: string): () => void {
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write("interrupted: stopping every child\n");
    killAll();
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

/** What {@linkcode runTimed} measured. */
export interface Timed {
  /** Wall-clock seconds from spawn to exit (process start-up included). */
  seconds: number;
  /** User + system CPU seconds of the command and everything it waited for. */
  cpu: number;
  /** Its standard output. */
  stdout: string;
  /** Its standard error. */
  stderr: string;
}

/** A command that failed, timed out or exited non-zero. */
export class CommandError extends Error {}

/**
 * Runs a command to its end within `timeoutMs` (its process group is killed then) and measures
 * its wall time and CPU time. The CPU time comes from bash's `times` (user + system of the
 * waited-for children, all threads), written to a file next to `timesFile`.
 *
 * @param command The executable.
 * @param args Its arguments.
 * @param timeoutMs The deadline.
 * @param timesFile A scratch path for the CPU times.
 * @param options Directory, environment.
 * @returns Wall and CPU seconds and the output.
 * @throws {CommandError} On a timeout or a non-zero exit.
 */
export async function runTimed(
  command: string,
  args: string[],
  timeoutMs: number,
  timesFile: string,
  options: SpawnOptions = {},
): Promise<Timed> {
  const script = '"$@"; status=$?; times > "$BENCH_TIMES_FILE"; exit $status';
  const started = performance.now();
  const child = spawn("bash", ["-c", script, "bash", command, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, BENCH_TIMES_FILE: timesFile },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => {
    stderr += d;
    if (stderr.length > 1e6) stderr = stderr.slice(-1e5);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    signalGroup(child, "SIGKILL");
  }, timeoutMs);
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>(
    (resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code, signal) => resolve({ code, signal }));
    },
  ).finally(() => {
    clearTimeout(timer);
    running.delete(child);
  });
  const seconds = (performance.now() - started) / 1000;
  // Whatever the command left in its group (a forked helper) goes too.
  signalGroup(child, "SIGKILL");
  const what = `${command} ${args.join(" ")}`.slice(0, 300);
  if (timedOut) throw new CommandError(`timed out after ${timeoutMs / 1000} s: ${what}`);
  if (code !== 0) {
    // Some tools (tsc) report on stdout.
    const tail = `${stderr.trim()}\n${stdout.trim().slice(-4000)}`.trim().split("\n").slice(-12)
      .join("\n");
    throw new CommandError(`exit ${code ?? signal}: ${what}\n${tail}`);
  }
  const times = await readFile(timesFile, "utf8").catch(() => "");
  await rm(timesFile, { force: true });
  // Two lines: the shell's own times, then its children's.
  const last = times.trim().split("\n").at(-1) ?? "";
  const cpu = [...last.matchAll(/(\d+)m([\d.]+)s/g)]
    .reduce((sum, [, m, s]) => sum + Number(m) * 60 + Number(s), 0);
  return { seconds, cpu, stdout, stderr };
}

/**
 * The first line a command prints (a version), or `"?"`.
 *
 * @param command The executable.
 * @param args Its arguments.
 * @returns The line.
 */
export function firstLine(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 10e3 });
  if (result.error) return "?";
  const text = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
  return text.split("\n")[0]?.trim() || "?";
}

/**
 * Runs a bench to its end, then exits with the code its `main` returned (1 if it threw, the
 * message on stderr). Until then SIGINT and SIGTERM stop it ({@linkcode stopOnSignal}); either
 * way every child is stopped and `tmp` removed first.
 *
 * @param main The bench; resolves to its exit code.
 * @param tmp The run's temporary directory.
 * @returns Never: the process exits.
 */
export async function runBench(main: () => Promise<number>, tmp: string): Promise<never> {
  const stopHandlingSignals = stopOnSignal(tmp);
  let code = 1;
  try {
    code = await main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
  } finally {
    await stopAll();
    await rm(tmp, { recursive: true, force: true });
    stopHandlingSignals();
  }
  process.exit(code);
}
