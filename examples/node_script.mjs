/**
 * A Node script that uses the npm package: it starts a server on 127.0.0.1, uploads a file to
 * it with the client, downloads it back and compares the checksums. Everything it needs is in
 * this file, so it runs in any project that installed the package.
 *
 * Run, in a project of your own (Node 20.3 or later):
 *
 * ```sh
 * npm install streamftp
 * node node_script.mjs
 * ```
 *
 * It prints one line and exits 0, or 1 when the bytes that came back differ. (The package's
 * two halves are also importable alone: "streamftp/client" and "streamftp/server".)
 *
 * @module
 */

import { createHash, randomBytes } from "node:crypto";
import process from "node:process";
import { Client, MemoryFileSystem, Server, User } from "streamftp";

/** @param {Uint8Array} bytes */
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

// The server: files in memory, one user who may do everything. Port 0 picks a free port.
const fileSystem = new MemoryFileSystem();
const server = new Server({
  fileSystem,
  users: [new User({ login: "alice", password: "secret" })],
});
await server.start("127.0.0.1", 0);

let client;
try {
  // The URL's user and password log in; connect() returns once the session is ready.
  client = await Client.connect(`ftp://alice:secret@127.0.0.1:${server.address.port}/`);

  const sent = new Uint8Array(randomBytes(512 * 1024));
  const upload = (await client.uploadStream("node_script.bin")).getWriter();
  await upload.write(sent);
  await upload.close(); // resolves once the server confirmed the transfer (226)

  const download = await client.downloadStream("node_script.bin"); // a web ReadableStream
  const received = new Uint8Array(await new Response(download).arrayBuffer());

  const ok = sha256(received) === sha256(sent);
  console.log(
    `streamftp ${ok ? "ok" : "FAILED"}: ${sent.length} bytes up, ${received.length} down, ` +
      `sha256 ${sha256(received)}${ok ? "" : ` (sent ${sha256(sent)})`}`,
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  await client?.quit(); // QUIT, then close
  await server.close(); // 421 to any session left, then stop listening
}
