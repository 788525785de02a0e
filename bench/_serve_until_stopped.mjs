/**
 * The end of the bench's server processes (`_server.mjs`, `_tls_server.mjs`): serve until
 * SIGTERM, SIGINT or the end of stdin (so a server cannot outlive the bench), then close within
 * 2 s. Plain JavaScript, so that Node 20 runs it unchanged.
 *
 * @module
 */

import process from "node:process";

/**
 * Prints `announcement` once the server listens, serves, and stops on a signal or at the end of
 * stdin.
 *
 * @param {{ close(): Promise<void>, serveForever(): Promise<void> }} server A started server.
 * @param {string} announcement The line the bench waits for.
 */
export async function serveUntilStopped(server, announcement) {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // A bounded close: the bench kills the process anyway if this hangs.
    const timer = setTimeout(() => process.exit(0), 2000);
    server.close().finally(() => {
      clearTimeout(timer);
      process.exit(0);
    });
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.on("data", () => {});
  process.stdin.resume();
  process.stdout.write(`${announcement}\n`);
  await server.serveForever();
}
