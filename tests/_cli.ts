/**
 * The `streamftp` command line as a child process of the runtime running the tests (Deno and
 * Bun run `lib/cli/main.ts`, Node the compiled `main.js`): one command run to its end, or
 * `streamftp serve` running, its stdout read line by line. Not a test file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { Buffer } from "node:buffer";
import { existsSync } from "node:fs";
import process from "node:process";
import { run, type RunOptions, type RunResult, runtime, within } from "./_util.ts";

/** The CLI's entry point: the source, or under Node (the compiled suite) the compiled file. */
export const CLI_SCRIPT = new URL(
  `../lib/cli/main.${runtime === "node" ? "js" : "ts"}`,
  import.meta.url,
).pathname;

/** A `skip` value for the CLI's tests: false, or why the entry point is missing. */
export const cliSkip: false | string = existsSync(CLI_SCRIPT) ? false : `${CLI_SCRIPT} is missing`;

/**
 * The arguments that make the running runtime run `streamftp`.
 *
 * @param args The command line after `streamftp`.
 * @returns The arguments of `process.execPath`.
 */
export function cliArgs(args: string[]): string[] {
  return runtime === "deno" ? ["run", "-A", CLI_SCRIPT, ...args] : [CLI_SCRIPT, ...args];
}

/**
 * Runs `streamftp` to its end.
 *
 * @param args The command line after `streamftp`.
 * @param options Input, time limit (default 20 s), directory.
 * @returns Exit code and output.
 */
export function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, cliArgs(args), { timeoutMs: 20000, ...options });
}

/**
 * Runs `streamftp` to its end and keeps its stdout as bytes (for files written to stdout).
 *
 * @param args The command line after `streamftp`.
 * @returns Exit code, stdout's bytes, stderr's text.
 */
export function runCliBytes(
  args: string[],
): Promise<{ code: number | null; stdout: Uint8Array; stderr: string }> {
  return within(
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, cliArgs(args), { stdio: ["ignore", "pipe", "pipe"] });
      const chunks: Uint8Array[] = [];
      let stderr = "";
      child.stdout.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      child.stderr.on("data", (chunk) => (stderr += chunk));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout: Buffer.concat(chunks), stderr }));
    }),
    20000,
    `streamftp ${args.join(" ")}`,
  );
}

/**
 * Runs `streamftp` and asserts that it succeeded.
 *
 * @param args The command line after `streamftp`.
 * @param options Input, time limit, directory.
 * @returns Its stdout.
 */
export async function cliOk(args: string[], options: RunOptions = {}): Promise<string> {
  const result = await runCli(args, options);
  assert.equal(result.code, 0, `streamftp ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** `streamftp serve` running. */
export interface ServedCli {
  /** The process. */
  child: ChildProcess;
  /** The URL it printed first. */
  url: URL;
  /** Its port. */
  port: number;
  /** Every line printed so far, the URL first. */
  lines: string[];
  /** Everything printed on stderr so far. */
  stderr(): string;
  /** Resolves with the first line (after the URL) that `match` accepts. */
  line(match: (line: string) => boolean): Promise<string>;
  /** Resolves with the exit code once the process is gone (`null`: killed by a signal). */
  exit: Promise<number | null>;
  /** Sends a signal (default SIGTERM) and resolves with the exit code. */
  stop(signal?: "SIGTERM" | "SIGINT"): Promise<number | null>;
}

/**
 * Starts `streamftp serve --port 0 ...` and waits for its URL line.
 *
 * @param args Flags after `serve --port 0`.
 * @returns The running server.
 */
export function serveCli(args: string[]): Promise<ServedCli> {
  const child = spawn(process.execPath, cliArgs(["serve", "--port", "0", ...args]), {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const lines: string[] = [];
  const waiting: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let partial = "";
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const started = new Promise<ServedCli>((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      partial += chunk;
      const complete = partial.split("\n");
      partial = complete.pop()!;
      for (const line of complete) {
        lines.push(line);
        if (lines.length === 1) {
          const url = new URL(line);
          resolve({
            child,
            url,
            port: Number(url.port),
            lines,
            stderr: () => stderr,
            exit,
            line(match) {
              const found = lines.slice(1).find(match);
              if (found !== undefined) return Promise.resolve(found);
              return within(new Promise((r) => waiting.push({ match, resolve: r })), 20000, "line");
            },
            async stop(signal = "SIGTERM") {
              child.kill(signal);
              return await within(exit, 10000, "streamftp serve exit");
            },
          });
          continue;
        }
        for (const w of waiting.filter((w) => w.match(line))) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
    exit.then((code) => reject(new Error(`streamftp serve exited with ${code}: ${stderr}`)));
  });
  return within(started, 20000, "streamftp serve start");
}

/**
 * Asserts exit code 0 after a signal handler closed the server. Deno's node:child_process
 * reports a child that handled SIGTERM/SIGINT and exited 0 as killed by the signal (code
 * `null`), so under Deno only the absence of a non-zero code can be checked.
 *
 * @param code The exit code.
 */
export function assertCleanExit(code: number | null): void {
  if (runtime === "deno" && code === null) return;
  assert.equal(code, 0);
}
