/**
 * The server process of `bench/tls_throughput.ts`: streamftp's server with FTPS (explicit
 * `AUTH TLS`, the test certificate) on a {@linkcode LocalFileSystem} rooted in a tmpfs directory,
 * one user `bench`/`bench` with read+write on `/`, listening on a free loopback port.
 *
 * Usage: `<runtime> _tls_server.mjs SERVER_MODULE_URL ROOT`, with the PEM certificate and key in
 * the environment variables `BENCH_TLS_CERT` and `BENCH_TLS_KEY`. `SERVER_MODULE_URL` is the
 * repository's `server.ts` (Deno, Bun) or the npm build's `server.js` (Node).
 *
 * It prints one line, `listening PORT PID`, and serves until its stdin closes (so it cannot
 * outlive the bench) or it gets SIGTERM/SIGINT.
 *
 * Plain JavaScript, so that Node 20 runs it unchanged on the npm build.
 *
 * @module
 */

import process from "node:process";
import { serveUntilStopped } from "./_serve_until_stopped.mjs";

const [moduleUrl, root] = process.argv.slice(2);
const cert = process.env.BENCH_TLS_CERT;
const key = process.env.BENCH_TLS_KEY;
if (!moduleUrl || !root || !cert || !key) {
  process.stderr.write("usage: _tls_server.mjs SERVER_MODULE_URL ROOT (BENCH_TLS_CERT/KEY set)\n");
  process.exit(2);
}

const { LocalFileSystem, Server, User } = await import(moduleUrl);
const server = new Server({
  users: [new User({ login: "bench", password: "bench" })],
  fileSystem: new LocalFileSystem(root),
  tls: { cert, key },
});
await server.start("127.0.0.1", 0);

await serveUntilStopped(server, `listening ${server.address.port} ${process.pid}`);
