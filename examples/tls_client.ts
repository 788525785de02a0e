/**
 * The client side of `examples/tls_server.ts`: connects with explicit FTPS (`AUTH TLS`, then
 * `PBSZ 0` + `PROT P` after login, all done by `Client.connect`), trusting the authority whose
 * certificate is given, and round-trips a file over protected data connections.
 *
 * Run: `deno run -A examples/tls_client.ts ftp://alice:secret@127.0.0.1:2121/ <ca.pem>` (also
 * `bun ...`). For a self-signed server certificate, `<ca.pem>` is that certificate itself. It
 * prints one line and exits 0, or exits 1 when the bytes that came back differ.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import process from "node:process";
import { Client } from "../client.ts";

const [url, caPath] = process.argv.slice(2);
if (url === undefined || caPath === undefined) {
  console.error("Usage: tls_client.ts <ftp://user:password@host:port/> <ca.pem>");
  process.exit(2);
}

// The certificate is verified against the runtime's authorities and these; the name checked is
// the URL's host (or `tls.serverName`). A failed check is a TlsHandshakeError: the client
// never falls back to clear text. (`ftps://` URLs mean implicit FTPS.)
await using client = await Client.connect(url, {
  secure: true,
  tls: { caCerts: [await readFile(caPath, "utf8")] },
});

const sent = new TextEncoder().encode(`sent over TLS at ${new Date().toISOString()}\n`);
const upload = (await client.uploadStream("tls_client.txt")).getWriter();
await upload.write(sent);
await upload.close(); // resolves once the server confirmed the transfer
const received = new Uint8Array(
  await new Response(await client.downloadStream("tls_client.txt")).arrayBuffer(),
);

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const ok = sha256(received) === sha256(sent);
console.log(
  `secure: ${client.connection.secure}, ${received.length} bytes back, sha256 ${
    ok ? "matches" : "DIFFERS"
  }`,
);
process.exitCode = ok ? 0 : 1;
