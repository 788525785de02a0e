/**
 * An explicit FTPS server (RFC 4217): clients connect in clear text on the usual port, send
 * `AUTH TLS` to secure the control connection, then `PBSZ 0` and `PROT P` to secure the data
 * connections. `alice` (password `secret`) must do all of that before she may log in, so her
 * password never crosses the network in clear; anonymous visitors may still come in clear text
 * and download. `examples/tls_client.ts` is the client side.
 *
 * Run: `deno run -A examples/tls_server.ts <cert.pem> <key.pem> [port]` (also `bun ...`):
 * `cert.pem` holds the server's certificate (then any intermediate ones), `key.pem` its private
 * key; the port defaults to 2121 (`0`: any free one). It prints its URL, then serves until
 * Ctrl+C (SIGINT) or SIGTERM. A certificate to try it with, valid for 127.0.0.1:
 *
 * ```sh
 * openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
 *   -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout key.pem -out cert.pem
 * ```
 *
 * Then, in another terminal:
 * `deno run -A examples/tls_client.ts ftp://alice:secret@127.0.0.1:2121/ cert.pem`.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import process from "node:process";
import { Permission, Server, User } from "../server.ts";

const [certPath, keyPath, port = "2121"] = process.argv.slice(2);
if (certPath === undefined || keyPath === undefined) {
  console.error("Usage: tls_server.ts <cert.pem> <key.pem> [port]");
  process.exit(2);
}

const server = new Server({
  // With a certificate, FEAT offers AUTH TLS, PBSZ and PROT. (implicitTls: true would speak
  // TLS from the first byte instead, conventionally on port 990.)
  tls: { cert: await readFile(certPath, "utf8"), key: await readFile(keyPath, "utf8") },
  // Every name but "anonymous" and "ftp" must send AUTH TLS before USER (else `530`), and
  // PROT P before a transfer or listing (else `521`).
  requireTls: "non-anonymous",
  users: [
    new User({ login: "alice", password: "secret" }),
    new User({ permissions: [new Permission("/", { writable: false })] }), // anonymous, read-only
  ],
});

const stop = () => void server.close();
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

await server.start("127.0.0.1", Number(port));
console.log(`ftp://127.0.0.1:${server.address.port}/`);
await server.serveForever();
