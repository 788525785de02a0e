/**
 * The socket contract (lib/socket.ts), checked on real loopback sockets against the running
 * runtime's adapter and against the node:net adapter (which users may pass under Bun or Deno).
 */

import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { describe, it } from "node:test";
import process from "node:process";
import { detectNetwork } from "../adapters/auto.ts";
import { ConnectionClosedError } from "../lib/errors.ts";
import type { Conn, Listener, Network, TlsOptions } from "../lib/socket.ts";
import { concatBytes } from "../lib/stream/bytes.ts";
import { TEST_CA_CERT, TEST_SERVER_CERT, TEST_SERVER_KEY } from "./fixtures/tls.ts";
import {
  adapterNetworks,
  closedAfterTests,
  randomBytes,
  runtime,
  sha256,
  testNetwork,
  within,
} from "./_util.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const T = { timeout: 20000 };

const serverTls: TlsOptions & { role: "server" } = {
  role: "server",
  cert: TEST_SERVER_CERT,
  key: TEST_SERVER_KEY,
};
const clientTls: TlsOptions & { role: "client" } = {
  role: "client",
  serverName: "localhost",
  caCerts: [TEST_CA_CERT],
};

const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) =>
  (list ?? []).some((a) => a.address === "::1")
);
if (!hasIpv6Loopback) console.warn("NOTICE: skipping IPv6 socket tests: this machine has no ::1");

const networks = adapterNetworks();

/** Everything a test opened, closed after the file's tests even when one failed. */
const { track, closeAll } = closedAfterTests();

interface Pair {
  listener: Listener;
  client: Conn;
  server: Conn;
}

async function connectedPair(
  network: Network,
  hostname = "127.0.0.1",
  connectHost = hostname,
): Promise<Pair> {
  const listener = track(await network.listen({ hostname, port: 0 }));
  const [client, server] = await within(
    Promise.all([
      network.connect({ hostname: connectHost, port: listener.addr.port }),
      listener.accept(),
    ]),
    5000,
    "connect and accept",
  );
  return { listener, client: track(client), server: track(server) };
}

/**
 * Reads a stream to its end. A `slow` reader yields to the event loop after every chunk, as
 * one writing to a disk would, so that the end of the stream arrives while it is not reading.
 */
async function readAll(readable: ReadableStream<Uint8Array>, slow = false): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = readable.getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    if (slow) await new Promise((resolve) => setTimeout(resolve, 1));
    chunks.push(value);
    length += value.byteLength;
  }
  reader.releaseLock();
  return concatBytes(chunks, length);
}

async function send(
  writable: WritableStream<Uint8Array>,
  data: Uint8Array,
  { chunkSize = 64 * KIB, close = true } = {},
): Promise<void> {
  const writer = writable.getWriter();
  for (let offset = 0; offset < data.byteLength; offset += chunkSize) {
    await writer.write(data.subarray(offset, offset + chunkSize));
  }
  if (close) await writer.close();
  else writer.releaseLock();
}

/** Reads one chunk and returns it as text, leaving the stream unlocked. */
async function readSome(readable: ReadableStream<Uint8Array>): Promise<string> {
  const reader = readable.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return new TextDecoder().decode(value);
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

describe("adapter detection", () => {
  it("picks the running runtime's adapter unless STREAMFTP_ADAPTER names one", () => {
    const expected = process.env.STREAMFTP_ADAPTER || runtime;
    assert.equal(detectNetwork().name, expected);
    assert.equal(testNetwork(), detectNetwork());
  });
});

for (const network of networks) {
  describe(`socket contract (${network.name} adapter)`, () => {
    it("port 0 listens on a real port and both ends report IPv4 addresses", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      try {
        assert.ok(listener.addr.port > 0);
        assert.deepEqual(listener.addr, {
          hostname: "127.0.0.1",
          port: listener.addr.port,
          family: "IPv4",
        });
        assert.deepEqual(client.remoteAddr, listener.addr);
        assert.deepEqual(server.localAddr, listener.addr);
        assert.deepEqual(server.remoteAddr, client.localAddr);
        assert.equal(client.localAddr.family, "IPv4");
        assert.equal(client.secure, false);
        assert.equal(server.secure, false);
        client.setNoDelay(true);
        server.setNoDelay(false);
      } finally {
        await closeAll(client, server, listener);
      }
    });

    it("IPv6 connections on ::1", { ...T, skip: !hasIpv6Loopback && "no ::1" }, async () => {
      const { listener, client, server } = await connectedPair(network, "::1");
      try {
        assert.deepEqual(listener.addr, {
          hostname: "::1",
          port: listener.addr.port,
          family: "IPv6",
        });
        assert.deepEqual(client.remoteAddr, listener.addr);
        assert.deepEqual(server.remoteAddr, client.localAddr);
        assert.equal(server.remoteAddr.family, "IPv6");
        await send(client.writable, text("over IPv6"));
        assert.equal(new TextDecoder().decode(await readAll(server.readable)), "over IPv6");
      } finally {
        await closeAll(client, server, listener);
      }
    });

    it(
      "a :: listener reports an IPv4 client without the ::ffff: prefix",
      { ...T, skip: !hasIpv6Loopback && "no IPv6" },
      async () => {
        const listener = track(await network.listen({ hostname: "::", port: 0 }));
        let client: Conn | undefined;
        let server: Conn | undefined;
        try {
          try {
            client = track(
              await within(
                network.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
                5000,
                "connect",
              ),
            );
          } catch (error) {
            console.warn(`NOTICE: no dual-stack sockets here (${error}); skipping`);
            return;
          }
          server = track(await within(listener.accept(), 5000, "accept"));
          assert.equal(listener.addr.family, "IPv6");
          assert.deepEqual(server.remoteAddr, client.localAddr);
          assert.deepEqual(server.remoteAddr, {
            hostname: "127.0.0.1",
            port: client.localAddr.port,
            family: "IPv4",
          });
          assert.equal(server.localAddr.hostname, "127.0.0.1");
        } finally {
          await closeAll(client, server, listener);
        }
      },
    );

    it("echoes 4 MiB intact in both directions", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      try {
        const payload = randomBytes(4 * MIB, 7);
        const echo = server.readable.pipeTo(server.writable);
        const [, received] = await within(
          Promise.all([send(client.writable, payload), readAll(client.readable), echo]),
          15000,
          "echo",
        );
        assert.equal(received.byteLength, payload.byteLength);
        assert.equal(sha256(received), sha256(payload));
      } finally {
        await closeAll(client, server, listener);
      }
    });

    it("counts the bytes each end read and wrote", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      try {
        assert.deepEqual([client.bytesRead, client.bytesWritten], [0, 0]);
        const payload = randomBytes(3 * MIB + 17, 11);
        const echo = server.readable.pipeTo(server.writable);
        const [, received] = await within(
          Promise.all([send(client.writable, payload), readAll(client.readable), echo]),
          15000,
          "echo",
        );
        assert.equal(sha256(received), sha256(payload));
        const size = payload.byteLength;
        assert.deepEqual(
          [client.bytesWritten, server.bytesRead, server.bytesWritten, client.bytesRead],
          [size, size, size, size],
        );
      } finally {
        await closeAll(client, server, listener);
      }
    });

    it("short reads come as chunks of their own, which later reads leave intact", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      try {
        const reader = client.readable.getReader();
        const chunks: Uint8Array[] = [];
        for (const word of ["one", "two", "three"]) {
          await send(server.writable, text(word), { close: false });
          const { value } = await within(reader.read(), 5000, `read ${word}`);
          assert.ok(value);
          chunks.push(value);
        }
        reader.releaseLock();
        assert.deepEqual(chunks.map((c) => new TextDecoder().decode(c)), ["one", "two", "three"]);
        assert.equal(client.bytesRead, 11);
      } finally {
        await closeAll(client, server, listener);
      }
    });

    it(
      "connections one after another keep each other's short reads and bulk reads intact",
      T,
      async () => {
        // A connection whose first read is short gives its first buffer to the next connection's
        // first read (where reads are on demand): what each got earlier must stay as it was.
        const kept: { word: string; chunk: Uint8Array }[] = [];
        for (let i = 0; i < 12; i++) {
          const { listener, client, server } = await connectedPair(network);
          try {
            const reader = client.readable.getReader();
            const word = `word ${i}`;
            await send(server.writable, text(word), { close: false });
            const { value } = await within(reader.read(), 5000, `read ${word}`);
            assert.ok(value);
            kept.push({ word, chunk: value });
            const bulk = new Uint8Array(100_000).fill(i);
            await send(server.writable, bulk);
            const rest: Uint8Array[] = [];
            while (true) {
              const { done, value: more } = await within(reader.read(), 5000, "bulk");
              if (done) break;
              rest.push(more);
            }
            assert.deepEqual(concatBytes(rest), bulk);
          } finally {
            await closeAll(client, server, listener);
          }
        }
        assert.deepEqual(
          kept.map((k) => new TextDecoder().decode(k.chunk)),
          kept.map((k) => k.word),
        );
      },
    );

    it(
      "a read that waits after short reads waits on a small buffer",
      { ...T, skip: network.name !== "deno" && "only sockets read on demand have read buffers" },
      async () => {
        const { listener, client, server } = await connectedPair(network);
        try {
          const reader = server.readable.getReader();
          await send(client.writable, text("USER anonymous\r\n"), { close: false });
          const first = await within(reader.read(), 5000, "read the command");
          assert.equal(first.value?.byteLength, 16);
          // Sent at once, these arrive at once on loopback: a read gets as much as fits.
          const burst = randomBytes(3 * KIB, 5);
          await send(client.writable, burst, { close: false });
          const chunks: Uint8Array[] = [];
          let length = 0;
          while (length < burst.byteLength) {
            const { value } = await within(reader.read(), 5000, "read the burst");
            assert.ok(value);
            chunks.push(value);
            length += value.byteLength;
          }
          reader.releaseLock();
          assert.ok(chunks[0].byteLength <= KIB, `the read took ${chunks[0].byteLength} bytes`);
          assert.equal(sha256(concatBytes(chunks, length)), sha256(burst));
        } finally {
          await closeAll(client, server, listener);
        }
      },
    );

    it(
      "after the peer's FIN and close(), writes fail with ConnectionClosedError",
      { ...T, skip: network.name === "deno" && "Deno reports its own BadResource" },
      async () => {
        // A writer taken before, and a writable first asked for after.
        for (const early of [true, false]) {
          const { listener, client, server } = await connectedPair(network);
          try {
            const held = early ? server.writable.getWriter() : undefined;
            await client.writable.close();
            const reader = server.readable.getReader();
            assert.equal((await within(reader.read(), 5000, "peer FIN")).done, true);
            server.close();
            const writer = held ?? server.writable.getWriter();
            await assert.rejects(
              within(writer.closed, 5000, "writer closed"),
              ConnectionClosedError,
            );
            await assert.rejects(writer.write(text("late")), ConnectionClosedError);
          } finally {
            await closeAll(client, server, listener);
          }
        }
      },
    );

    it(
      "a write waiting for the peer fails with ConnectionClosedError on close()",
      { ...T, skip: network.name !== "bun" && "other adapters report the runtime's error" },
      async () => {
        const { listener, client, server } = await connectedPair(network);
        try {
          const writer = server.writable.getWriter();
          const waiting = writer.write(new Uint8Array(64 * MIB));
          waiting.catch(() => {});
          // Bytes flow, so the write is under way; no socket buffers 64 MiB for a peer that
          // stops reading.
          const reader = client.readable.getReader();
          assert.ok((await within(reader.read(), 5000, "first bytes")).value);
          server.close();
          await assert.rejects(within(waiting, 5000, "write"), ConnectionClosedError);
        } finally {
          await closeAll(client, server, listener);
        }
      },
    );

    it("accept() takes a connection that was made before it was called", T, async () => {
      const listener = track(await network.listen({ hostname: "127.0.0.1", port: 0 }));
      const client = track(
        await network.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
      );
      const server = track(await within(listener.accept(), 5000, "accept"));
      try {
        await send(client.writable, text("early"));
        assert.equal(new TextDecoder().decode(await readAll(server.readable)), "early");
      } finally {
        await closeAll(client, server, listener);
      }
    });

    it("a listener closed with connections nobody accepted ends them", T, async () => {
      const listener = track(await network.listen({ hostname: "127.0.0.1", port: 0 }));
      const client = track(
        await network.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
      );
      try {
        await closeAll(listener);
        // EOF or a reset, as the runtime has it; either way the stream ends.
        const ended = await within(
          readAll(client.readable).then((bytes) => bytes.byteLength, () => 0),
          5000,
          "client end",
        );
        assert.equal(ended, 0);
        await assert.rejects(listener.accept());
      } finally {
        await closeAll(client);
      }
    });

    it("streams first asked for after close() end at once", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      try {
        server.close();
        const read = await within(
          server.readable.getReader().read().then(({ done }) => done, () => true),
          5000,
          "read after close",
        );
        assert.equal(read, true);
        await assert.rejects(within(send(server.writable, text("late")), 5000, "write"));
        assert.equal(
          await within(readAll(client.readable), 5000, "peer EOF").then((b) => b.length, () => 0),
          0,
        );
      } finally {
        await closeAll(client, server, listener);
      }
    });

    it("half-close: the server reads to EOF, then still replies", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      try {
        await send(client.writable, text("request"));
        const request = await within(readAll(server.readable), 5000, "read to EOF");
        assert.equal(new TextDecoder().decode(request), "request");
        await send(server.writable, text("reply after FIN"));
        const reply = await within(readAll(client.readable), 5000, "read reply");
        assert.equal(new TextDecoder().decode(reply), "reply after FIN");
      } finally {
        await closeAll(client, server, listener);
      }
    });

    for (const secure of [false, true]) {
      for (const direction of ["client to server", "server to client"] as const) {
        const name = `${secure ? "TLS " : ""}backpressure stalls a writer whose reader is slow`;
        it(`${name} (${direction})`, T, async () => {
          const { listener, client, server } = await connectedPair(network);
          const pair = secure
            ? await within(
              Promise.all([client.startTls(clientTls), server.startTls(serverTls)]),
              10000,
              "handshake",
            )
            : [client, server];
          pair.forEach(track);
          const [from, to] = direction === "client to server" ? pair : [pair[1], pair[0]];
          try {
            const chunk = 64 * KIB;
            const total = 64 * MIB;
            const payload = randomBytes(total, 3);
            let written = 0;
            const writing = (async () => {
              const writer = from.writable.getWriter();
              for (let offset = 0; offset < total; offset += chunk) {
                await writer.write(payload.subarray(offset, offset + chunk));
                written += chunk;
              }
              await writer.close();
            })();
            writing.catch(() => {});
            // Polling is the point here: the writer must stop making progress on its own.
            let last = -1;
            for (let round = 0; round < 100 && written !== last; round++) {
              last = written;
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
            assert.equal(written, last, "the writer never stalled");
            assert.ok(written < total / 4, `the writer got ${written} bytes ahead of the reader`);
            const received = await within(readAll(to.readable), 15000, "read all");
            await within(writing, 5000, "writer finishing");
            assert.equal(received.byteLength, total);
            assert.equal(sha256(received), sha256(payload));
          } finally {
            await closeAll(...pair, client, server, listener);
          }
        });
      }
    }

    it(
      "STARTTLS: client role on the connected socket, server role on the accepted one",
      T,
      async () => {
        const { listener, client, server } = await connectedPair(network);
        let tlsClient: Conn | undefined;
        let tlsServer: Conn | undefined;
        try {
          await send(client.writable, text("AUTH TLS\r\n"), { close: false });
          assert.equal(await readSome(server.readable), "AUTH TLS\r\n");
          await send(server.writable, text("234 Go ahead\r\n"), { close: false });
          assert.equal(await readSome(client.readable), "234 Go ahead\r\n");
          [tlsClient, tlsServer] = await within(
            Promise.all([client.startTls(clientTls), server.startTls(serverTls)]),
            10000,
            "handshake",
          );
          track(tlsClient);
          track(tlsServer);
          assert.equal(tlsClient.secure, true);
          assert.equal(tlsServer.secure, true);
          assert.deepEqual(tlsClient.remoteAddr, client.remoteAddr);
          assert.deepEqual(tlsServer.remoteAddr, server.remoteAddr);
          const payload = randomBytes(1 * MIB, 11);
          await within(
            Promise.all([
              send(tlsClient.writable, text("USER anonymous\r\n"), { close: false }),
              send(tlsServer.writable, payload, { close: false }),
            ]),
            10000,
            "exchange",
          );
          assert.equal(await readSome(tlsServer.readable), "USER anonymous\r\n");
          const reader = tlsClient.readable.getReader();
          const received = new Uint8Array(payload.byteLength);
          let length = 0;
          while (length < payload.byteLength) {
            const { value, done } = await within(reader.read(), 5000, "read");
            assert.ok(!done, "early EOF");
            received.set(value, length);
            length += value.byteLength;
          }
          reader.releaseLock();
          assert.equal(sha256(received), sha256(payload));
        } finally {
          await closeAll(tlsClient, tlsServer, client, server, listener);
        }
      },
    );

    it(
      "role inversion: the accepted socket runs the TLS client (active-mode FTPS)",
      T,
      async () => {
        const { listener, client, server } = await connectedPair(network);
        let tlsClient: Conn | undefined;
        let tlsServer: Conn | undefined;
        try {
          // No server name: the accepting side checks the certificate against the peer's address.
          [tlsServer, tlsClient] = await within(
            Promise.all([
              client.startTls(serverTls),
              server.startTls({ role: "client", caCerts: [TEST_CA_CERT] }),
            ]),
            10000,
            "handshake",
          );
          track(tlsClient);
          track(tlsServer);
          assert.equal(tlsClient.secure, true);
          assert.equal(tlsServer.secure, true);
          const payload = randomBytes(2 * MIB, 5);
          const [, received] = await within(
            Promise.all([
              send(tlsServer.writable, payload, { close: false }),
              readN(tlsClient, payload.byteLength),
            ]),
            10000,
            "transfer",
          );
          assert.equal(sha256(received), sha256(payload));
        } finally {
          await closeAll(tlsClient, tlsServer, client, server, listener);
        }
      },
    );

    it("implicit TLS: listen and connect with TLS from the first byte", T, async () => {
      const listener = track(
        await network.listen({ hostname: "127.0.0.1", port: 0, tls: serverTls }),
      );
      let client: Conn | undefined;
      let server: Conn | undefined;
      try {
        [client, server] = await within(
          Promise.all([
            network.connect({ hostname: "127.0.0.1", port: listener.addr.port, tls: clientTls }),
            listener.accept(),
          ]),
          10000,
          "connect and accept",
        );
        track(client);
        track(server);
        assert.equal(client.secure, true);
        assert.equal(server.secure, true);
        assert.deepEqual(client.remoteAddr, listener.addr);
        const payload = randomBytes(1 * MIB, 9);
        const [, received] = await within(
          Promise.all([
            send(client.writable, payload, { close: false }),
            readN(server, payload.byteLength),
          ]),
          10000,
          "transfer",
        );
        assert.equal(sha256(received), sha256(payload));
      } finally {
        await closeAll(client, server, listener);
      }
    });

    it("TLS refuses an unknown authority unless rejectUnauthorized is false", T, async () => {
      const listener = track(
        await network.listen({ hostname: "127.0.0.1", port: 0, tls: serverTls }),
      );
      const accepted: Conn[] = [];
      const accepting = (async () => {
        for await (const conn of listener) accepted.push(track(conn));
      })();
      try {
        await assert.rejects(
          within(
            network.connect({
              hostname: "127.0.0.1",
              port: listener.addr.port,
              tls: { role: "client", serverName: "localhost" },
            }),
            10000,
            "refused connect",
          ),
          (error: Error) => !/took longer/.test(error.message),
        );
        const client = track(
          await within(
            network.connect({
              hostname: "127.0.0.1",
              port: listener.addr.port,
              tls: { role: "client", serverName: "localhost", rejectUnauthorized: false },
            }),
            10000,
            "unverified connect",
          ),
        );
        assert.equal(client.secure, true);
        await send(client.writable, text("hello"), { close: false });
        await closeAll(client);
      } finally {
        await closeAll(listener, ...accepted);
        await within(accepting, 5000, "iteration end");
      }
    });

    it("TLS refuses a certificate issued for another name", T, async () => {
      const listener = track(
        await network.listen({ hostname: "127.0.0.1", port: 0, tls: serverTls }),
      );
      const accepted: Conn[] = [];
      const accepting = (async () => {
        for await (const conn of listener) accepted.push(track(conn));
      })();
      try {
        await assert.rejects(
          within(
            network.connect({
              hostname: "127.0.0.1",
              port: listener.addr.port,
              tls: { role: "client", serverName: "other.example", caCerts: [TEST_CA_CERT] },
            }),
            10000,
            "mismatched connect",
          ),
          (error: Error) => !/took longer/.test(error.message),
        );
      } finally {
        await closeAll(listener, ...accepted);
        await within(accepting, 5000, "iteration end");
      }
    });

    it("TLS half-close: close() ends the peer's stream, which still replies", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      let tlsClient: Conn | undefined;
      let tlsServer: Conn | undefined;
      try {
        [tlsClient, tlsServer] = await within(
          Promise.all([client.startTls(clientTls), server.startTls(serverTls)]),
          10000,
          "handshake",
        );
        track(tlsClient);
        track(tlsServer);
        const upload = randomBytes(1 * MIB, 13);
        const [, received] = await within(
          Promise.all([send(tlsClient.writable, upload), readAll(tlsServer.readable, true)]),
          10000,
          "upload to EOF",
        );
        assert.equal(sha256(received), sha256(upload));
        await send(tlsServer.writable, text("226 Transfer complete\r\n"));
        const reply = await within(readAll(tlsClient.readable), 5000, "reply");
        assert.equal(new TextDecoder().decode(reply), "226 Transfer complete\r\n");
      } finally {
        await closeAll(tlsClient, tlsServer, client, server, listener);
      }
    });

    it("startTls refuses while a stream is locked", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      try {
        const reader = client.readable.getReader();
        await assert.rejects(client.startTls(clientTls), TypeError);
        reader.releaseLock();
      } finally {
        await closeAll(client, server, listener);
      }
    });

    it("close() is idempotent and the peer sees EOF", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      try {
        client.close();
        client.close();
        const rest = await within(readAll(server.readable), 5000, "peer EOF");
        assert.equal(rest.byteLength, 0);
        const ended = await within(
          readAll(client.readable).then((rest) => rest.byteLength, () => 0),
          5000,
          "local end",
        );
        assert.equal(ended, 0);
        await assert.rejects(send(client.writable, text("late")));
      } finally {
        await closeAll(client, server, listener);
      }
    });

    it("close() ends a read pending on the same connection", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      try {
        const reader = client.readable.getReader();
        const pending = reader.read();
        client.close();
        const result = await within(pending, 5000, "pending read");
        assert.equal(result.done, true);
      } finally {
        await closeAll(client, server, listener);
      }
    });

    it("writable.abort() resets: the peer sees an error or EOF", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      try {
        const writer = client.writable.getWriter();
        await writer.write(text("partial"));
        await writer.abort(new Error("stop"));
        const outcome = await within(
          readAll(server.readable).then(() => "eof", () => "error"),
          5000,
          "peer notices",
        );
        assert.ok(outcome === "eof" || outcome === "error");
      } finally {
        await closeAll(client, server, listener);
      }
    });

    it("connect with an already aborted signal rejects", T, async () => {
      const listener = track(await network.listen({ hostname: "127.0.0.1", port: 0 }));
      try {
        const controller = new AbortController();
        controller.abort(new Error("cancelled by test"));
        await assert.rejects(
          network.connect({
            hostname: "127.0.0.1",
            port: listener.addr.port,
            signal: controller.signal,
          }),
          /cancelled by test/,
        );
      } finally {
        await closeAll(listener);
      }
    });

    it("closing a listener ends its iteration and rejects pending accepts", T, async () => {
      const listener = track(await network.listen({ hostname: "127.0.0.1", port: 0 }));
      const seen: Conn[] = [];
      const iterating = (async () => {
        for await (const conn of listener) seen.push(track(conn));
      })();
      const pending = listener.accept();
      pending.catch(() => {});
      const client = track(
        await network.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
      );
      await closeAll(listener);
      await listener.close();
      await within(iterating, 5000, "iteration end");
      await assert.rejects(within(pending, 5000, "pending accept"));
      await assert.rejects(listener.accept());
      await closeAll(client, ...seen);
    });
  });
}

/** Reads exactly `length` bytes without waiting for EOF. */
async function readN(conn: Conn, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let offset = 0;
  const reader = conn.readable.getReader();
  while (offset < length) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`EOF after ${offset} of ${length} bytes`);
    out.set(value, offset);
    offset += value.byteLength;
  }
  reader.releaseLock();
  return out;
}
