/**
 * The idle-connection ceiling of one runtime: a plain TCP server that greets every accepted
 * connection with one `220` line and then holds it with one pending read (Deno: a 1 KiB
 * buffer per connection, which its `read` needs; Bun and node:net read into buffers of their
 * own only when data comes), closing it at the peer's end of stream. The bench reads this
 * process's memory while another process holds the connections.
 *
 * Usage: `<runtime> bench/_ceiling_idle.mjs`. Prints `{"port": P}` once listening on 127.0.0.1
 * and serves until its stdin ends.
 *
 * @module
 */

import { createServer } from "node:net";
import { api, denoWriteAll, report, serveStdin } from "./_ceiling_common.mjs";

const HOST = "127.0.0.1";
const GREETING = new TextEncoder().encode("220 ceiling ready\r\n");

function serveDeno() {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  report({ port: listener.addr.port });
  const hold = async (conn) => {
    try {
      await denoWriteAll(conn, GREETING);
      const buffer = new Uint8Array(1024);
      while (await conn.read(buffer) !== null);
    } catch {
      // A reset is the peer leaving too.
    } finally {
      conn.close();
    }
  };
  (async () => {
    for await (const conn of listener) hold(conn);
  })();
}

function serveBun() {
  const listener = Bun.listen({
    hostname: HOST,
    port: 0,
    socket: {
      open: (socket) => socket.write(GREETING),
      data() {},
      end: (socket) => socket.end(),
    },
  });
  report({ port: listener.port });
}

function serveNode() {
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on("error", () => {});
    socket.on("data", () => {});
    socket.write(GREETING);
  });
  server.listen(0, HOST, () => report({ port: server.address().port }));
}

serveStdin();
if (api === "deno") serveDeno();
else if (api === "bun") serveBun();
else serveNode();
