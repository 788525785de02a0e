/**
 * The bulk socket ceiling of one runtime: a plain TCP server that, on its one connection,
 * sends BYTES from one reused buffer of CHUNK bytes (`send`: the RETR ceiling) or receives and
 * discards BYTES, reading into a CHUNK buffer where the API takes one (`receive`: the STOR
 * ceiling of the socket alone), or receives BYTES into the file FILE (`store`: the STOR ceiling
 * with the disk; Deno reads into one CHUNK buffer and writes it through `Deno.FsFile`, Bun
 * writes each chunk into a `Bun.file` writer, Node pipes the socket into `fs.createWriteStream`,
 * its fastest in a measurement of plain ways: 355–426 MB/s against 168–187 awaiting a
 * `FileHandle.write` per chunk). The peer is another process (the bench uses Python).
 *
 * Usage: `<runtime> bench/_ceiling_bulk.mjs send|receive|store BYTES CHUNK [FILE]`. It prints
 * `{"port": P}` once listening on 127.0.0.1, then `{"seconds", "cpu", "bytes"}` and exits.
 * Timed from the accept: `send` until the peer's one-byte acknowledgement after it read to the
 * end (the server half-closes after the last byte), `receive` until the peer's end of stream,
 * `store` until the file is closed.
 * `cpu` is this process's, over the same span. A count other than BYTES received exits 1.
 *
 * @module
 */

import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import process from "node:process";
import { api, args, cpuSeconds, denoWriteAll, fail, positive, report } from "./_ceiling_common.mjs";

const [mode, bytesArg, chunkArg, file] = args(
  "_ceiling_bulk.mjs send|receive|store BYTES CHUNK [FILE]",
  3,
);
if (!["send", "receive", "store"].includes(mode)) fail(`unknown mode "${mode}"`);
if (mode === "store" && !file) fail("store: no FILE");
const total = positive(bytesArg, "BYTES");
const chunk = positive(chunkArg, "CHUNK");
const buffer = new Uint8Array(chunk).fill(0x61);

/** A stopwatch started at the accept. */
function startClock() {
  const started = performance.now();
  const cpu = cpuSeconds();
  return (bytes) => ({
    seconds: (performance.now() - started) / 1000,
    cpu: cpuSeconds() - cpu,
    bytes,
  });
}

async function denoBulk() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  report({ port: listener.addr.port });
  const conn = await listener.accept();
  listener.close();
  const stop = startClock();
  let bytes = 0;
  if (mode === "send") {
    while (bytes < total) {
      const left = total - bytes;
      await denoWriteAll(conn, left >= chunk ? buffer : buffer.subarray(0, left));
      bytes += Math.min(left, chunk);
    }
    await conn.closeWrite();
    await conn.read(new Uint8Array(1));
  } else if (mode === "receive") {
    let n;
    while ((n = await conn.read(buffer)) !== null) bytes += n;
  } else {
    const out = await Deno.open(file, { write: true, create: true, truncate: true });
    let n;
    while ((n = await conn.read(buffer)) !== null) {
      await denoWriteAll(out, buffer.subarray(0, n));
      bytes += n;
    }
    out.close();
  }
  const result = stop(bytes);
  conn.close();
  return result;
}

function bunBulk() {
  return new Promise((resolve) => {
    let stop;
    let bytes = 0;
    let finished = false;
    const sink = mode === "store" ? Bun.file(file).writer({ highWaterMark: chunk }) : undefined;
    const pump = (socket) => {
      while (bytes < total) {
        const length = Math.min(chunk, total - bytes);
        const written = socket.write(buffer, 0, length);
        // The buffer's bytes are all alike, so a short write resumes from its start.
        if (written > 0) bytes += written;
        if (written < length) return;
      }
      if (!finished) {
        finished = true;
        socket.shutdown();
      }
    };
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      allowHalfOpen: true,
      socket: {
        open(socket) {
          listener.stop();
          stop = startClock();
          if (mode === "send") pump(socket);
        },
        drain(socket) {
          if (mode === "send") pump(socket);
        },
        data(socket, data) {
          if (mode !== "send") {
            bytes += data.length;
            sink?.write(data);
          } else {
            resolve(stop(bytes));
            socket.end();
          }
        },
        async end(socket) {
          if (mode !== "send") {
            await sink?.end();
            resolve(stop(bytes));
            socket.end();
          }
        },
      },
    });
    report({ port: listener.port });
  });
}

function nodeBulk() {
  return new Promise((resolve) => {
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    server.once("connection", (socket) => {
      server.close();
      const stop = startClock();
      let bytes = 0;
      if (mode === "send") {
        const pump = () => {
          while (bytes < total) {
            const length = Math.min(chunk, total - bytes);
            bytes += length;
            // No copy is made of `buffer`, whose bytes never change.
            if (!socket.write(length === chunk ? buffer : buffer.subarray(0, length))) {
              socket.once("drain", pump);
              return;
            }
          }
          socket.end();
        };
        socket.once("data", () => {
          resolve(stop(bytes));
          socket.destroy();
        });
        pump();
      } else if (mode === "receive") {
        socket.on("data", (data) => (bytes += data.length));
        socket.once("end", () => {
          resolve(stop(bytes));
          socket.end();
        });
      } else {
        const out = createWriteStream(file, { highWaterMark: chunk });
        socket.on("data", (data) => (bytes += data.length));
        socket.pipe(out);
        out.once("finish", () => resolve(stop(bytes)));
      }
    });
    server.listen(0, "127.0.0.1", () => report({ port: server.address().port }));
  });
}

const result = await (api === "deno" ? denoBulk() : api === "bun" ? bunBulk() : nodeBulk());
if (result.bytes !== total) fail(`${mode}: ${result.bytes} bytes, expected ${total}`);
report(result);
process.exit(0);
