/**
 * Runs the examples the way a newcomer does: as a child process of the runtime under test
 * (Node, which runs the compiled suite, runs the compiled `.js` beside it). A server example
 * is started, the URL it prints read, and stopped with SIGTERM.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { run, type RunOptions, type RunResult, runtime, within } from "./_util.ts";

/**
 * The file of an example for the running runtime.
 *
 * @param name The example's name without extension (`"memory_server"`).
 * @returns Its absolute path.
 */
export function examplePath(name: string): string {
  const extension = runtime === "node" ? "js" : "ts";
  return new URL(`../examples/${name}.${extension}`, import.meta.url).pathname;
}

/** The arguments that make the running runtime's executable run `script`. */
function scriptArgs(script: string, args: string[]): string[] {
  return runtime === "deno" ? ["run", "-A", script, ...args] : [script, ...args];
}

/**
 * Runs an example to its end.
 *
 * @param name The example's name without extension.
 * @param args Its arguments.
 * @param options Input, time limit (default 20 s), directory, environment.
 * @returns Its exit code and output.
 */
export function runExample(
  name: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return run(process.execPath, scriptArgs(examplePath(name), args), {
    timeoutMs: 20000,
    ...options,
  });
}

/** A server example that printed its URL. */
export interface ServingExample {
  /** The URL it printed first. */
  url: URL;
  /** The port in that URL. */
  port: number;
  /**
   * Sends SIGTERM and waits until the example exited (it is killed after 10 s).
   *
   * @returns Its exit code and what it wrote to stderr.
   */
  stop(): Promise<{ code: number | null; stderr: string }>;
}

/**
 * Starts a server example and waits for the URL it prints on its first line of stdout.
 *
 * @param name The example's name without extension.
 * @param args Its arguments.
 * @returns The running example.
 * @throws {Error} When it exits first, or prints nothing within 20 s.
 */
export function startExample(name: string, args: string[]): Promise<ServingExample> {
  const child = spawn(process.execPath, scriptArgs(examplePath(name), args), {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const stop = async () => {
    // Not child.kill(): Deno's child_process then reports the signal as the cause of the
    // exit even when the example caught it and exited by itself.
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid!, "SIGTERM");
      } catch {
        // It exited in the meantime.
      }
    }
    const killer = setTimeout(() => child.kill("SIGKILL"), 10000);
    const code = await exited.finally(() => clearTimeout(killer));
    return { code, stderr };
  };
  const started = new Promise<ServingExample>((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const end = stdout.indexOf("\n");
      if (end < 0) return;
      const line = stdout.slice(0, end).trim();
      if (!URL.canParse(line)) {
        reject(new Error(`examples/${name} printed "${line}", not a URL`));
        return;
      }
      const url = new URL(line);
      resolve({ url, port: Number(url.port), stop });
    });
    exited.then((code) => reject(new Error(`examples/${name} exited (${code}): ${stderr}`)));
  });
  return within(started, 20000, `examples/${name} start`).catch(async (error) => {
    await stop();
    throw error;
  });
}
