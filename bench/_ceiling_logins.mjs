/**
 * The connection/login ceiling of one runtime: three round trips on a fresh TCP connection,
 * the shape of connect + USER + PASS + QUIT, without FTP. The server writes a `220` line, reads
 * a line, writes `331`, reads a line, writes `230` and closes; the client connects, reads the
 * `220`, writes `USER`, reads the `331`, writes `PASS`, reads the `230` and the end of the
 * stream, and closes.
 *
 * Usage:
 * - `<runtime> bench/_ceiling_logins.mjs server`: prints `{"port": P}` once listening on
 *   127.0.0.1 and serves until its stdin ends; a `cpu` line on stdin is answered with
 *   `{"cpu": seconds}`, its CPU time so far.
 * - `<runtime> bench/_ceiling_logins.mjs client PORT COUNT WARMUP`: WARMUP sessions untimed,
 *   then COUNT timed, one after the other; each reply's code is checked. Prints
 *   `{"seconds", "cpu", "sessions"}`.
 *
 * @module
 */

import { connect, createServer } from "node:net";
import process from "node:process";
import {
  api,
  args,
  cpuSeconds,
  denoWriteAll,
  fail,
  positive,
  report,
  serveStdin,
} from "./_ceiling_common.mjs";

const HOST = "127.0.0.1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** The server's replies, in order; the last one is followed by the close. */
const REPLIES = ["220 ceiling ready\r\n", "331 password please\r\n", "230 logged in\r\n"]
  .map((line) => encoder.encode(line));
/** The client's lines, each after the reply of the same index. */
const LINES = ["USER bench\r\n", "PASS bench\r\n"].map((line) => encoder.encode(line));
const CODES = ["220", "331", "230"];

function countNewlines(bytes) {
  let lines = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) lines++;
  return lines;
}

/** Reads from a Deno connection until a line end; `null` at the end of the stream. */
async function denoReadLine(conn, buffer) {
  let text = "";
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) return text === "" ? null : text;
    text += decoder.decode(buffer.subarray(0, n));
    if (text.includes("\n")) return text;
  }
}

function serveDeno() {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  report({ port: listener.addr.port });
  const session = async (conn) => {
    const buffer = new Uint8Array(1024);
    try {
      await denoWriteAll(conn, REPLIES[0]);
      for (let step = 1; step < REPLIES.length; step++) {
        if (await denoReadLine(conn, buffer) === null) return;
        await denoWriteAll(conn, REPLIES[step]);
      }
    } catch {
      // A client gone early is its own failure (it checks every reply).
    } finally {
      conn.close();
    }
  };
  (async () => {
    for await (const conn of listener) session(conn);
  })();
}

function serveBun() {
  const listener = Bun.listen({
    hostname: HOST,
    port: 0,
    socket: {
      open(socket) {
        socket.data = { step: 1 };
        socket.write(REPLIES[0]);
      },
      data(socket, bytes) {
        for (let lines = countNewlines(bytes); lines > 0; lines--) {
          socket.write(REPLIES[socket.data.step++]);
          if (socket.data.step === REPLIES.length) {
            socket.end();
            return;
          }
        }
      },
    },
  });
  report({ port: listener.port });
}

function serveNode() {
  const server = createServer({ noDelay: true }, (socket) => {
    let step = 1;
    socket.on("error", () => {});
    socket.write(REPLIES[0]);
    socket.on("data", (bytes) => {
      for (let lines = countNewlines(bytes); lines > 0 && step < REPLIES.length; lines--) {
        if (step === REPLIES.length - 1) socket.end(REPLIES[step]);
        else socket.write(REPLIES[step]);
        step++;
      }
    });
  });
  server.listen(0, HOST, () => report({ port: server.address().port }));
}

function checkReply(step, text) {
  if (!text?.startsWith(CODES[step])) fail(`expected ${CODES[step]}, got ${JSON.stringify(text)}`);
}

/** One client session in each API; resolves after the server's close. */
const sessions = {
  async deno(port) {
    const conn = await Deno.connect({ hostname: HOST, port });
    const buffer = new Uint8Array(1024);
    try {
      for (let step = 0; step < CODES.length; step++) {
        checkReply(step, await denoReadLine(conn, buffer));
        if (step < LINES.length) await denoWriteAll(conn, LINES[step]);
      }
      if (await conn.read(buffer) !== null) fail("data after the 230 reply");
    } finally {
      conn.close();
    }
  },
  bun(port) {
    return new Promise((resolve) => {
      let step = 0;
      let text = "";
      Bun.connect({
        hostname: HOST,
        port,
        socket: {
          data(socket, bytes) {
            text += decoder.decode(bytes);
            if (!text.includes("\n")) return;
            checkReply(step, text);
            text = "";
            if (step < LINES.length) socket.write(LINES[step]);
            step++;
          },
          close() {
            if (step !== CODES.length) fail(`closed after ${step} replies`);
            resolve();
          },
          connectError: (_socket, error) => fail(`connect: ${error}`),
        },
      });
    });
  },
  node(port) {
    return new Promise((resolve) => {
      let step = 0;
      let text = "";
      const socket = connect({ host: HOST, port, noDelay: true });
      socket.setEncoding("latin1");
      socket.on("data", (chunk) => {
        text += chunk;
        if (!text.includes("\n")) return;
        checkReply(step, text);
        text = "";
        if (step < LINES.length) socket.write(LINES[step]);
        step++;
      });
      socket.once("error", (error) => fail(`session: ${error.message}`));
      socket.once("end", () => {
        if (step !== CODES.length) fail(`closed after ${step} replies`);
        socket.destroy();
        resolve();
      });
    });
  },
};

const [role] = args("_ceiling_logins.mjs server | client PORT COUNT WARMUP", 1);
if (role === "server") {
  serveStdin();
  if (api === "deno") serveDeno();
  else if (api === "bun") serveBun();
  else serveNode();
} else if (role === "client") {
  const [, portArg, countArg, warmArg] = args(
    "_ceiling_logins.mjs client PORT COUNT WARMUP",
    4,
  );
  const port = positive(portArg, "PORT");
  const count = positive(countArg, "COUNT");
  const session = sessions[api];
  for (let i = 0; i < Number(warmArg); i++) await session(port);
  const started = performance.now();
  const cpu = cpuSeconds();
  for (let i = 0; i < count; i++) await session(port);
  report({
    seconds: (performance.now() - started) / 1000,
    cpu: cpuSeconds() - cpu,
    sessions: count,
  });
  process.exit(0);
} else {
  fail(`unknown role "${role}"`);
}
