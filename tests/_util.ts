/**
 * Shared helpers for the test suite, which runs unchanged under `deno test`, `bun test` and
 * `node --test` (on the npm build). Importing this module registers the running runtime's
 * network adapter.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import process from "node:process";
import { after } from "node:test";
import "../adapters/auto_file_access.ts";
import { nodeNetwork } from "../adapters/node.ts";
import { defaultNetwork } from "../lib/network_registry.ts";
import type { Network } from "../lib/socket.ts";
import type { FakeSession } from "./peers/fake_server.ts";

/** The runtime running the tests. */
export const runtime: "deno" | "bun" | "node" = "Bun" in globalThis
  ? "bun"
  : "Deno" in globalThis
  ? "deno"
  : "node";

/** The network adapter under test (the running runtime's, unless STREAMFTP_ADAPTER says). */
export function testNetwork(): Network {
  return defaultNetwork();
}

/** The adapters a socket test covers: the runtime's own, and node:net where that is another. */
export function adapterNetworks(): Network[] {
  const own = testNetwork();
  return own.name === nodeNetwork.name ? [own] : [own, nodeNetwork];
}

/** Anything a test opens and must close. */
export interface Closable {
  close(): unknown;
}

/**
 * Registers, at a test file's top level, the closing of what its tests open: `track(item)`
 * returns the item and closes it after the file's tests, even when one failed; `closeAll()`
 * closes items now.
 *
 * @returns `track` and `closeAll`.
 */
export function closedAfterTests(): {
  track<T extends Closable>(item: T): T;
  closeAll(...items: (Closable | undefined)[]): Promise<void>;
} {
  const open = new Set<Closable>();
  after(async () => {
    for (const item of open) await item.close();
  });
  return {
    track(item) {
      open.add(item);
      return item;
    },
    async closeAll(...items) {
      for (const item of items) {
        if (!item) continue;
        open.delete(item);
        await item.close();
      }
    },
  };
}

/** Whether peers are mandatory (CI sets STREAMFTP_REQUIRE_PEERS=1). */
export const requirePeers = process.env.STREAMFTP_REQUIRE_PEERS === "1";

/**
 * Decides whether a peer's tests run. A missing peer skips them with a visible notice, unless
 * STREAMFTP_REQUIRE_PEERS=1, where it is an error.
 *
 * @param name The peer's name, for the notice.
 * @param paths Executables or files that must exist.
 * @returns A `skip` value for `describe`/`it`: `false` to run, or the reason to skip.
 */
export function peerSkip(name: string, ...paths: string[]): false | string {
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length === 0) return false;
  const reason = `peer ${name} not installed (${missing.join(", ")})`;
  if (requirePeers) throw new Error(`STREAMFTP_REQUIRE_PEERS=1 but ${reason}`);
  console.warn(`NOTICE: skipping ${name} tests: ${reason}`);
  return reason;
}

/** The result of {@linkcode run}. */
export interface RunResult {
  /** Exit code (null when killed). */
  code: number | null;
  /** Captured standard output. */
  stdout: string;
  /** Captured standard error. */
  stderr: string;
}

/** Options of {@linkcode run}. */
export interface RunOptions {
  /** Text written to standard input, which is then closed. */
  input?: string;
  /** Kill the process after this many milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/**
 * Runs a program to completion, bounded in time.
 *
 * @param command The executable.
 * @param args Its arguments.
 * @param options Input, time limit, directory, environment.
 * @returns Exit code and output.
 */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${options.timeoutMs ?? 30000} ms]`;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 30000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/**
 * Creates a temporary directory, returning its path and a function that removes it.
 *
 * @param prefix Name prefix.
 * @returns The path and its cleanup.
 */
export async function tempDir(
  prefix = "streamftp-",
): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * SHA-256 of bytes, as hex.
 *
 * @param data The bytes.
 * @returns The hex digest.
 */
export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The SHA-256 of every file under `root`, keyed by its path relative to `root`. */
export async function treeDigests(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const parent = entry.parentPath ?? (entry as unknown as { path: string }).path;
    out.set(
      relative(root, join(parent, entry.name)),
      sha256(await readFile(join(parent, entry.name))),
    );
  }
  return out;
}

/**
 * Deterministic pseudo-random bytes (for transfer tests).
 *
 * @param length How many bytes.
 * @param seed Seed.
 * @returns The bytes.
 */
export function randomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Rejects if `promise` takes longer than `ms` (tests must be bounded in time).
 *
 * @param promise The awaited work.
 * @param ms Limit in milliseconds.
 * @param what What is awaited, for the message.
 * @returns The work's result.
 */
export function within<T>(promise: Promise<T>, ms: number, what = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/**
 * A fake-server session that greets, asks for a password (331) and then an account (332),
 * whatever it is sent, logs in (230), and answers every later line with 221.
 *
 * @param s The session.
 */
export async function accountLogin(s: FakeSession): Promise<void> {
  await s.send("220 ready");
  await s.read();
  await s.send("331 password");
  await s.read();
  await s.send("332 account");
  await s.read();
  await s.send("230 in");
  while ((await s.read()) !== null) await s.send("221 bye");
}

/** Path of the system Python that has Debian's ftplib, pyftpdlib and aioftp. */
export const systemPython = "/usr/bin/python3";
