/**
 * streamftp's server as the bench runs it, in Deno, Bun and Node alike: plain JavaScript, so
 * Node 20 runs it unchanged on the npm build. It is `streamftp serve --root DIR --user U
 * --pass P --data-ports MIN-MAX --port N` (the same `Server`, `LocalFileSystem` and `User`)
 * with the two connection caps raised, which `serve` has no flag for: the defaults (512 at
 * once, 64 per IP) would refuse the 1,000 idle sessions, all from 127.0.0.1.
 *
 * Usage: `<runtime> bench/_server.mjs SERVER_MODULE_URL --root DIR --user U --pass P
 * --port N --data-ports MIN-MAX`, where the module is the repository's `server.ts` (Deno, Bun)
 * or the npm build's `server.js` (Node).
 *
 * It prints `ftp://127.0.0.1:PORT` once listening and serves until SIGTERM, SIGINT or the end
 * of its stdin.
 *
 * @module
 */

import process from "node:process";
import { serveUntilStopped } from "./_serve_until_stopped.mjs";

const [moduleUrl, ...rest] = process.argv.slice(2);
const options = {};
for (let i = 0; i < rest.length; i += 2) options[rest[i].replace(/^--/, "")] = rest[i + 1];
const ports = /^(\d+)-(\d+)$/.exec(options["data-ports"] ?? "");
if (!moduleUrl || !options.root || !options.user || !options.pass || !options.port || !ports) {
  process.stderr.write(
    "usage: _server.mjs MODULE_URL --root DIR --user U --pass P --port N --data-ports MIN-MAX\n",
  );
  process.exit(2);
}

const { LocalFileSystem, Server, User } = await import(moduleUrl);
const server = new Server({
  users: [new User({ login: options.user, password: options.pass })],
  fileSystem: new LocalFileSystem(options.root),
  dataPorts: { min: Number(ports[1]), max: Number(ports[2]) },
  maxConnections: 5000,
  maxConnectionsPerIp: 5000,
});
await server.start("127.0.0.1", Number(options.port));

await serveUntilStopped(server, `ftp://127.0.0.1:${server.address.port}`);
