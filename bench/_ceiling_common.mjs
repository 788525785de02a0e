/**
 * What the ceiling scripts (`bench/_ceiling_*.mjs`, run by `bench/ceilings.ts`) share: which
 * runtime runs them, which API they measure, their CPU time, how they report, and how a
 * long-running one ends. Plain JavaScript on `node:` modules, so that Deno, Bun and Node 20 run
 * the scripts unchanged.
 *
 * @module
 */

import process from "node:process";

/** The runtime running this script: `deno`, `bun` or `node`. */
export const runtime = typeof globalThis.Deno !== "undefined"
  ? "deno"
  : typeof globalThis.Bun !== "undefined"
  ? "bun"
  : "node";

/**
 * The API measured: the runtime's own (`deno`: `Deno.*`, `bun`: `Bun.*` sockets) or `node`
 * (node:net and node:fs), which Node always uses and `CEILING_API=node` forces elsewhere.
 */
export const api = process.env.CEILING_API === "node" ? "node" : runtime;

/**
 * CPU seconds (user + system, every thread) this process has used so far.
 *
 * @returns The seconds.
 */
export function cpuSeconds() {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * Prints one result as a JSON line on stdout (the bench reads nothing else there).
 *
 * @param {Record<string, number | string>} fields The result.
 */
export function report(fields) {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
}

/**
 * Ends the process with a message on stderr and exit status 1.
 *
 * @param {string} message What went wrong.
 * @returns {never}
 */
export function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/**
 * The positional arguments, checked against a usage line.
 *
 * @param {string} usage The usage line (printed when an argument is missing).
 * @param {number} count How many arguments there must be.
 * @returns {string[]} The arguments.
 */
export function args(usage, count) {
  const values = process.argv.slice(2);
  if (values.length < count) {
    process.stderr.write(`usage: ${usage}\n`);
    process.exit(2);
  }
  return values;
}

/**
 * A positive integer argument.
 *
 * @param {string} value The argument.
 * @param {string} name Its name, for the message.
 * @returns {number} The integer.
 */
export function positive(value, name) {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) fail(`${name} must be a positive integer`);
  return number;
}

/**
 * Lets a long-running script be asked for its CPU time and end with its stdin: each `cpu` line
 * on stdin is answered with `{"cpu": seconds}` on stdout, and the end of stdin (the bench closes
 * it, or dies) ends the process.
 */
export function serveStdin() {
  let pending = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (text) => {
    pending += text;
    let end;
    while ((end = pending.indexOf("\n")) >= 0) {
      if (pending.slice(0, end).trim() === "cpu") report({ cpu: cpuSeconds() });
      pending = pending.slice(end + 1);
    }
  });
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("close", () => process.exit(0));
}

/**
 * Writes all of `bytes` to a Deno connection (its `write` may take fewer).
 *
 * @param {{ write(bytes: Uint8Array): Promise<number> }} conn The connection.
 * @param {Uint8Array} bytes What to write.
 */
export async function denoWriteAll(conn, bytes) {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await conn.write(offset === 0 ? bytes : bytes.subarray(offset));
  }
}

/**
 * Writes all of `bytes` to a Bun socket, waiting for `drain` when it takes fewer. The socket's
 * handlers must call `socket.data.drained?.()` from `drain`.
 *
 * @param {{ write(b: Uint8Array, offset: number, length: number): number,
 *   data: { drained?: () => void } }} socket The socket.
 * @param {Uint8Array} bytes What to write.
 * @returns {Promise<void> | undefined} Nothing when it was written at once.
 */
export function bunWriteAll(socket, bytes) {
  let offset = Math.max(0, socket.write(bytes, 0, bytes.length));
  if (offset >= bytes.length) return undefined;
  return new Promise((resolve) => {
    socket.data.drained = () => {
      offset += Math.max(0, socket.write(bytes, offset, bytes.length - offset));
      if (offset < bytes.length) return;
      socket.data.drained = undefined;
      resolve();
    };
  });
}
