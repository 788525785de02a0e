/**
 * The server's control connection on real loopback sockets: replies in call order around a
 * multi-write reply, and the reply timeout (one timer per connection, moved on while writes
 * make progress, firing only when a write waited the whole timeout).
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ControlConnection } from "../lib/server/control_connection.ts";
import type { Conn, Listener } from "../lib/socket.ts";
import { closedAfterTests, testNetwork, within } from "./_util.ts";

const T = { timeout: 20000 };

const { track } = closedAfterTests();

interface Pair {
  listener: Listener;
  /** The client's end, read raw. */
  client: Conn;
  /** The server's end, under a ControlConnection. */
  control: ControlConnection;
  /** How often the reply timeout fired. */
  timeouts: { count: number };
}

async function controlPair(replyTimeout: number): Promise<Pair> {
  const network = testNetwork();
  const listener = track(await network.listen({ hostname: "127.0.0.1", port: 0 }));
  const [client, server] = await within(
    Promise.all([
      network.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
      listener.accept(),
    ]),
    5000,
    "connect and accept",
  );
  track(client);
  track(server);
  const timeouts = { count: 0 };
  const control = new ControlConnection(server, {
    maxLineLength: 1024,
    replyTimeout,
    onReplyTimeout: () => timeouts.count++,
  });
  return { listener, client, control: track(control), timeouts };
}

/** Reads the client's end until it ends with `text`; returns everything read. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  text: string,
): Promise<string> {
  const decoder = new TextDecoder();
  let got = "";
  while (!got.endsWith(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`EOF before ${JSON.stringify(text)}; got ${got.length} characters`);
    got += decoder.decode(value, { stream: true });
  }
  return got;
}

/** Reads the client's end until it ends (EOF or reset). */
async function readToEnd(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<number> {
  let bytes = 0;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return bytes;
      bytes += value.byteLength;
    }
  } catch {
    return bytes;
  }
}

describe("ControlConnection replies", () => {
  it(
    "leave in call order; a multi-line reply stays whole around replies made meanwhile",
    T,
    async () => {
      const { listener, client, control } = await controlPair(5000);
      try {
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const body = async function* (): AsyncGenerator<string> {
          yield "first entry";
          await gate;
          // Past one 64 KiB batch, so that the reply takes several writes.
          for (let i = 0; i < 3000; i++) yield `entry ${i} ${"x".repeat(20)}`;
        };
        const sent = [
          control.reply(200, "before"),
          control.replyLines(211, { first: "Status:", body: body(), last: "End" }),
          control.reply(200, "after"),
        ];
        release();
        await within(Promise.all(sent), 5000, "replies");
        const reader = client.readable.getReader();
        const text = await within(readUntil(reader, "200 after\r\n"), 5000, "read replies");
        reader.releaseLock();
        const lines = text.split("\r\n");
        assert.equal(lines[0], "200 before");
        assert.equal(lines[1], "211-Status:");
        assert.equal(lines[2], " first entry");
        assert.equal(lines[3002], " entry 2999 xxxxxxxxxxxxxxxxxxxx");
        assert.equal(lines[4], " entry 1 xxxxxxxxxxxxxxxxxxxx");
        assert.deepEqual(lines.slice(-3), ["211 End", "200 after", ""]);
        assert.equal(lines.length, 3006);
      } finally {
        control.close();
        await listener.close();
      }
    },
  );

  it(
    "a client that stops reading is cut off after the reply timeout, also after idle time",
    T,
    async () => {
      const timeout = 300;
      const { listener, client, control, timeouts } = await controlPair(timeout);
      try {
        const reader = client.readable.getReader();
        // Replies read at once, for longer than the timeout: its timer lapses meanwhile.
        const started = performance.now();
        for (let round = 0; performance.now() - started < 2 * timeout; round++) {
          const sent = control.reply(200, `round ${round}`);
          await within(readUntil(reader, `200 round ${round}\r\n`), 5000, `round ${round}`);
          await within(sent, 5000, "reply written");
        }
        // Then replies that the client does not read, until the socket buffers are full and a
        // write waits: the timeout must end that wait (the cap only bounds a failing test).
        const line = "y".repeat(1024 * 1024);
        let written = 0;
        const stalled = (async () => {
          try {
            while (written < 512) {
              await control.reply(211, line);
              written++;
            }
            return false;
          } catch {
            return true;
          }
        })();
        assert.equal(await within(stalled, 10000, "the stalled replies"), true);
        assert.equal(timeouts.count, 1);
        const bytes = await within(readToEnd(reader), 10000, "the client's end");
        assert.ok(bytes < written * line.length + 1e6, `the client got ${bytes} bytes`);
      } finally {
        control.close();
        await listener.close();
      }
    },
  );

  it(
    "the reply timeout spares a slow client that keeps reading, however long it takes",
    T,
    async () => {
      const timeout = 500;
      const { listener, client, control, timeouts } = await controlPair(timeout);
      try {
        const reply = "x".repeat(64 * 1024);
        let sent = 0;
        const writing = (async () => {
          // Replies back to back for four timeouts: the socket is full, each write waits.
          const started = performance.now();
          while (performance.now() - started < 4 * timeout) {
            await control.reply(200, reply);
            sent += reply.length + 6;
          }
          await control.reply(221, "done");
        })();
        const reader = client.readable.getReader();
        const decoder = new TextDecoder();
        let received = 0;
        let tail = "";
        while (!tail.endsWith("221 done\r\n")) {
          const { value, done } = await within(reader.read(), 5000, "a read");
          if (done) break;
          received += value.byteLength;
          tail = (tail + decoder.decode(value, { stream: true })).slice(-20);
          // A slow reader (a busy client): it yields to the event loop after every chunk.
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await within(writing, 5000, "the writer");
        reader.releaseLock();
        assert.equal(timeouts.count, 0);
        assert.equal(received, sent + "221 done\r\n".length);
      } finally {
        control.close();
        await listener.close();
      }
    },
  );

  it(
    "a reply after finish() is a rejection, in every runtime (Node's streams would throw)",
    T,
    async () => {
      const { client, control, listener } = await controlPair(5000);
      try {
        const reader = client.readable.getReader();
        await control.reply(220, "ready");
        await control.finish();
        const late = control.reply(421, "too late");
        assert.ok(late instanceof Promise, "reply() returned a promise");
        await assert.rejects(late);
        const seen = await readUntil(reader, "220 ready\r\n");
        assert.equal(seen, "220 ready\r\n");
        assert.equal(
          (await within(reader.read(), 5000, "the end")).done,
          true,
          "FIN, nothing more",
        );
      } finally {
        await listener.close();
      }
    },
  );
});
