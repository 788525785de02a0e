/**
 * The small-file ceiling of one runtime: what a RETR of a small file costs without FTP. Per
 * file, in one process: listen on 127.0.0.1 port 0 (`per-file`; `reused`: one listener for
 * the whole run), connect to it, accept, stat + open + read the file + close it (`async`:
 * promises, as a server does, Bun's through `Bun.file`; `sync`: the blocking calls), write it
 * to the accepted socket, close that, and read it to the end on the connecting side, then
 * close that (and the listener). One file after the other.
 *
 * Usage: `<runtime> bench/_ceiling_small.mjs DIR COUNT per-file|reused async|sync WARMUP`,
 * with the files `DIR/0.bin` ... `DIR/<COUNT-1>.bin`. First WARMUP files untimed (the first
 * files again when WARMUP > COUNT), whose received bytes are compared with the file; then the
 * COUNT files timed, each received length checked. Prints `{"seconds", "cpu", "files"}`.
 *
 * @module
 */

import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import { connect, createServer } from "node:net";
import process from "node:process";
import {
  api,
  args,
  bunWriteAll,
  cpuSeconds,
  denoWriteAll,
  fail,
  positive,
  report,
} from "./_ceiling_common.mjs";

const [dir, countArg, listenerMode, fileMode, warmArg] = args(
  "_ceiling_small.mjs DIR COUNT per-file|reused async|sync WARMUP",
  5,
);
const count = positive(countArg, "COUNT");
const warmup = Number(warmArg);
if (listenerMode !== "per-file" && listenerMode !== "reused") fail(`unknown "${listenerMode}"`);
if (fileMode !== "async" && fileMode !== "sync") fail(`unknown "${fileMode}"`);
const HOST = "127.0.0.1";

let fileBuffer = new Uint8Array(64 * 1024);
const readBuffer = new Uint8Array(64 * 1024);

function room(size) {
  if (size > fileBuffer.length) fileBuffer = new Uint8Array(size);
}

/** stat + open + read + close with the API's file calls; returns the file's bytes. */
const fileReaders = {
  deno: {
    async async(path) {
      const info = await Deno.stat(path);
      room(info.size);
      const file = await Deno.open(path);
      let offset = 0;
      while (offset < info.size) {
        const n = await file.read(fileBuffer.subarray(offset, info.size));
        if (n === null) break;
        offset += n;
      }
      file.close();
      return fileBuffer.subarray(0, offset);
    },
    sync(path) {
      const info = Deno.statSync(path);
      room(info.size);
      const file = Deno.openSync(path);
      let offset = 0;
      while (offset < info.size) {
        const n = file.readSync(fileBuffer.subarray(offset, info.size));
        if (n === null) break;
        offset += n;
      }
      file.close();
      return fileBuffer.subarray(0, offset);
    },
  },
  bun: {
    // Bun.file's stat and whole-file read beat node:fs/promises' stat + open + read + close
    // (about 18 against 30 µs a file here); Bun has no blocking calls of its own.
    async async(path) {
      const file = Bun.file(path);
      await file.stat();
      return await file.bytes();
    },
  },
  node: {
    async async(path) {
      const info = await stat(path);
      room(info.size);
      const handle = await open(path, "r");
      let offset = 0;
      while (offset < info.size) {
        const { bytesRead } = await handle.read(fileBuffer, offset, info.size - offset, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
      }
      await handle.close();
      return fileBuffer.subarray(0, offset);
    },
    sync(path) {
      const info = statSync(path);
      room(info.size);
      const fd = openSync(path, "r");
      let offset = 0;
      while (offset < info.size) {
        const n = readSync(fd, fileBuffer, offset, info.size - offset, offset);
        if (n === 0) break;
        offset += n;
      }
      closeSync(fd);
      return fileBuffer.subarray(0, offset);
    },
  },
};

/** An accept queue over a listener that announces connections by callback. */
function acceptQueue(wrap) {
  const ready = [];
  const waiting = [];
  return {
    push(socket) {
      const next = waiting.shift();
      if (next) next(wrap(socket));
      else ready.push(socket);
    },
    accept() {
      if (ready.length) return Promise.resolve(wrap(ready.shift()));
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** What a connecting side received: its length, and its chunks when asked to keep them. */
function receiver(keep) {
  const received = { total: 0, chunks: [] };
  return {
    received,
    add(bytes) {
      received.total += bytes.length;
      if (keep) received.chunks.push(new Uint8Array(bytes));
    },
  };
}

/**
 * The sockets of each API, behind the same small shape: `listen()` → `{ port, accept(),
 * close() }`, `accept()` → `{ write(bytes), close() }`, `connect(port, keep)` → `{ received,
 * close() }` where `received` settles at the end of the stream.
 */
const networks = {
  deno: {
    listen() {
      const listener = Deno.listen({ hostname: HOST, port: 0 });
      return Promise.resolve({
        port: listener.addr.port,
        accept: async () => {
          const conn = await listener.accept();
          return { write: (bytes) => denoWriteAll(conn, bytes), close: () => conn.close() };
        },
        close: () => listener.close(),
      });
    },
    async connect(port, keep) {
      const conn = await Deno.connect({ hostname: HOST, port });
      const sink = receiver(keep);
      const received = (async () => {
        let n;
        while ((n = await conn.read(readBuffer)) !== null) sink.add(readBuffer.subarray(0, n));
        return sink.received;
      })();
      return { received, close: () => conn.close() };
    },
  },
  bun: {
    listen() {
      const queue = acceptQueue((socket) => ({
        write: (bytes) => bunWriteAll(socket, bytes),
        close: () => socket.end(),
      }));
      const listener = Bun.listen({
        hostname: HOST,
        port: 0,
        socket: {
          open(socket) {
            socket.data = {};
            queue.push(socket);
          },
          drain: (socket) => socket.data.drained?.(),
          data() {},
        },
      });
      return Promise.resolve({
        port: listener.port,
        accept: () => queue.accept(),
        close: () => listener.stop(true),
      });
    },
    async connect(port, keep) {
      const sink = receiver(keep);
      let settle;
      const received = new Promise((resolve) => (settle = () => resolve(sink.received)));
      const socket = await Bun.connect({
        hostname: HOST,
        port,
        socket: {
          data: (_socket, bytes) => sink.add(bytes),
          end: () => settle(),
          close: () => settle(),
        },
      });
      return { received, close: () => socket.end() };
    },
  },
  node: {
    listen() {
      const server = createServer({ noDelay: true });
      const queue = acceptQueue((socket) => ({
        write: (bytes) =>
          socket.write(bytes) ? undefined : new Promise((r) => socket.once("drain", r)),
        close: () => socket.end(),
      }));
      server.on("connection", (socket) => queue.push(socket));
      return new Promise((resolve) => {
        server.listen(0, HOST, () =>
          resolve({
            port: server.address().port,
            accept: () => queue.accept(),
            close: () => server.close(),
          }));
      });
    },
    connect(port, keep) {
      const sink = receiver(keep);
      return new Promise((resolve, reject) => {
        const socket = connect({ host: HOST, port, noDelay: true });
        const received = new Promise((settle) => socket.once("end", () => settle(sink.received)));
        socket.on("data", (bytes) => sink.add(bytes));
        socket.once("error", reject);
        socket.once("connect", () => resolve({ received, close: () => socket.destroy() }));
      });
    },
  },
};

const network = networks[api];
const readFile = fileReaders[api]?.[fileMode] ?? fileReaders.node[fileMode];
const shared = listenerMode === "reused" ? await network.listen() : undefined;

/** One file sent and received; returns what the connecting side received. */
async function sendOne(path, keep) {
  const listener = shared ?? await network.listen();
  const [client, server] = await Promise.all([
    network.connect(listener.port, keep),
    listener.accept(),
  ]);
  const bytes = await readFile(path);
  await server.write(bytes);
  server.close();
  const received = await client.received;
  client.close();
  if (!shared) listener.close();
  if (received.total !== bytes.length) {
    fail(`${path}: received ${received.total} of ${bytes.length} bytes`);
  }
  return received;
}

const path = (i) => `${dir}/${i % count}.bin`;
for (let i = 0; i < warmup; i++) {
  const { chunks } = await sendOne(path(i), true);
  const expected = readFileSync(path(i));
  const got = new Uint8Array(expected.length);
  let offset = 0;
  for (const chunk of chunks) {
    got.set(chunk, offset);
    offset += chunk.length;
  }
  if (!got.every((byte, at) => byte === expected[at])) fail(`${path(i)}: different bytes`);
}
const started = performance.now();
const cpu = cpuSeconds();
for (let i = 0; i < count; i++) await sendOne(path(i), false);
report({ seconds: (performance.now() - started) / 1000, cpu: cpuSeconds() - cpu, files: count });
shared?.close();
process.exit(0);
