/**
 * The TLS parts of the socket contract (lib/socket.ts) that go beyond a working handshake:
 * handshakes that fail, stall or are cancelled close their socket and reject; unusable
 * certificates and keys are errors; sessions resume within a session scope and only there.
 * Checked on real loopback sockets against the running runtime's adapter and against the
 * node:net adapter.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { connect as netConnect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import type { Conn, Listener, Network, TlsClientOptions, TlsServerOptions } from "../lib/socket.ts";
import { TEST_CA_CERT, TEST_SERVER_CERT, TEST_SERVER_KEY } from "./fixtures/tls.ts";
import { adapterNetworks, closedAfterTests, within } from "./_util.ts";

const T = { timeout: 20000 };

const serverTls: TlsServerOptions = {
  role: "server",
  cert: TEST_SERVER_CERT,
  key: TEST_SERVER_KEY,
};
const clientTls: TlsClientOptions = {
  role: "client",
  serverName: "localhost",
  caCerts: [TEST_CA_CERT],
};

/** A key in PEM armour whose content is no key. */
const BAD_KEY = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
/** No PEM at all. */
const BAD_CERT = "not a certificate";

const networks = adapterNetworks();

/** Everything a test opened, closed after the file's tests even when one failed. */
const { track } = closedAfterTests();

interface Pair {
  listener: Listener;
  /** The connected end. */
  client: Conn;
  /** The accepted end. */
  server: Conn;
}

async function connectedPair(network: Network): Promise<Pair> {
  const listener = track(await network.listen({ hostname: "127.0.0.1", port: 0 }));
  const [client, server] = await within(
    Promise.all([
      network.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
      listener.accept(),
    ]),
    5000,
    "connect and accept",
  );
  return { listener, client: track(client), server: track(server) };
}

/** Runs both handshakes at once; returns the secured ends in the order given. */
async function secure(
  first: Conn,
  firstTls: TlsClientOptions | TlsServerOptions,
  second: Conn,
  secondTls: TlsClientOptions | TlsServerOptions,
): Promise<[Conn, Conn]> {
  const secured = await within(
    Promise.all([first.startTls(firstTls), second.startTls(secondTls)]),
    10000,
    "handshake",
  );
  secured.forEach(track);
  return secured;
}

/**
 * Reads until the stream ends. Resolves once the peer closed the connection (EOF, or an error
 * such as a reset), which is what a closed socket looks like from the other end.
 */
async function peerClosed(conn: Conn): Promise<true> {
  const reader = conn.readable.getReader();
  try {
    while (!(await reader.read()).done);
  } catch {
    // A reset: closed as well.
  }
  return true;
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

async function write(conn: Conn, s: string): Promise<void> {
  const writer = conn.writable.getWriter();
  await writer.write(text(s));
  writer.releaseLock();
}

async function readText(conn: Conn): Promise<string> {
  const reader = conn.readable.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return new TextDecoder().decode(value);
}

/**
 * A greeting and a reply over a secured pair, as on an FTP control connection. The client's
 * read also takes in TLS 1.3 session tickets, which servers send after the handshake.
 */
async function converse(client: Conn, server: Conn): Promise<void> {
  await within(write(server, "220 Ready\r\n"), 5000, "greeting");
  assert.equal(await within(readText(client), 5000, "read greeting"), "220 Ready\r\n");
  await within(write(client, "PBSZ 0\r\n"), 5000, "command");
  assert.equal(await within(readText(server), 5000, "read command"), "PBSZ 0\r\n");
}

/** An accepted connection whose peer is a node:net socket, under node:tls when secured. */
interface RawPeer {
  listener: Listener;
  /** The accepted end, secured in the server role when asked. */
  server: Conn;
  /** The peer's TCP socket, which can send a reset even while TLS runs over it. */
  raw: Socket;
  /** The socket the peer writes to: `raw`, or the TLS socket over it. */
  socket: Socket;
}

async function rawPeer(network: Network, secured: boolean): Promise<RawPeer> {
  const listener = track(await network.listen({ hostname: "127.0.0.1", port: 0 }));
  const raw = netConnect({ host: "127.0.0.1", port: listener.addr.port, allowHalfOpen: true });
  raw.on("error", () => {});
  track({ close: () => raw.destroy() });
  const plain = track(await within(listener.accept(), 5000, "accept"));
  if (!secured) return { listener, server: plain, raw, socket: raw };
  const socket = tlsConnect({ socket: raw, servername: "localhost", ca: [TEST_CA_CERT] });
  socket.on("error", () => {});
  const [server] = await within(
    Promise.all([
      plain.startTls({ ...serverTls, sessionScope: {} }),
      once(socket, "secureConnect"),
    ]),
    10000,
    "handshake",
  );
  return { listener, server: track(server), raw, socket };
}

function writeAll(socket: Socket, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(data, (error) => (error ? reject(error) : resolve()));
  });
}

/** Reads a connection to its end; returns how many bytes came. */
async function drain(conn: Conn): Promise<number> {
  const reader = conn.readable.getReader();
  let received = 0;
  while (true) {
    const { value, done } = await reader.read();
    if (done) return received;
    received += value.byteLength;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejections from the code under test, not from a `within` bound. */
function notTimedOut(error: Error): boolean {
  return !/took longer/.test(error.message);
}

for (const network of networks) {
  describe(`socket TLS (${network.name} adapter)`, () => {
    for (const role of ["client", "server"] as const) {
      it(
        `startTls (${role} role) with an aborted signal closes the socket and rejects`,
        T,
        async () => {
          const { listener, client, server } = await connectedPair(network);
          const [local, peer] = role === "client" ? [client, server] : [server, client];
          const controller = new AbortController();
          controller.abort(new Error("cancelled by test"));
          await assert.rejects(
            within(
              local.startTls(role === "client" ? clientTls : serverTls, controller.signal),
              5000,
              "startTls",
            ),
            /cancelled by test/,
          );
          assert.equal(await within(peerClosed(peer), 5000, "peer sees the close"), true);
          await listener.close();
        },
      );
    }

    it(
      "byte counts are of the plain text, and start anew on the secured connection",
      T,
      async () => {
        const { listener, client, server } = await connectedPair(network);
        try {
          await within(write(client, "AUTH TLS\r\n"), 5000, "command");
          assert.equal(await within(readText(server), 5000, "read command"), "AUTH TLS\r\n");
          assert.deepEqual([client.bytesWritten, server.bytesRead], [10, 10]);
          const [tlsClient, tlsServer] = await secure(client, clientTls, server, serverTls);
          assert.deepEqual([tlsClient.bytesWritten, tlsServer.bytesRead], [0, 0]);
          await converse(tlsClient, tlsServer);
          assert.deepEqual(
            [
              tlsServer.bytesWritten,
              tlsClient.bytesRead,
              tlsClient.bytesWritten,
              tlsServer.bytesRead,
            ],
            [11, 11, 8, 8],
          );
          tlsClient.close();
          tlsServer.close();
        } finally {
          client.close();
          server.close();
          await listener.close();
        }
      },
    );

    it("aborting a client handshake the peer never answers rejects and closes", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      const controller = new AbortController();
      const pending = client.startTls(clientTls, controller.signal);
      pending.catch(() => {});
      const reader = server.readable.getReader();
      const hello = await within(reader.read(), 5000, "ClientHello");
      assert.equal(hello.value?.[0], 0x16, "a TLS handshake record");
      reader.releaseLock();
      controller.abort(new Error("cancelled by test"));
      await assert.rejects(within(pending, 2000, "aborted startTls"), /cancelled by test/);
      assert.equal(await within(peerClosed(server), 5000, "peer sees the close"), true);
      await listener.close();
    });

    it(
      "a server handshake whose client stays silent ends at the signal's deadline",
      T,
      async () => {
        const { listener, client, server } = await connectedPair(network);
        await assert.rejects(
          within(server.startTls(serverTls, AbortSignal.timeout(200)), 3000, "startTls"),
          notTimedOut,
        );
        assert.equal(await within(peerClosed(client), 5000, "peer sees the close"), true);
        await listener.close();
      },
    );

    it(
      "aborting an implicit-TLS connect during its handshake closes the connection",
      T,
      async () => {
        // The Deno adapter used to leak the TLS connection here.
        const listener = track(await network.listen({ hostname: "127.0.0.1", port: 0 }));
        const controller = new AbortController();
        const connecting = network.connect({
          hostname: "127.0.0.1",
          port: listener.addr.port,
          tls: clientTls,
          signal: controller.signal,
        });
        connecting.catch(() => {});
        const server = track(await within(listener.accept(), 5000, "accept"));
        const reader = server.readable.getReader();
        const hello = await within(reader.read(), 5000, "ClientHello");
        assert.equal(hello.value?.[0], 0x16, "a TLS handshake record");
        reader.releaseLock();
        controller.abort(new Error("cancelled by test"));
        await assert.rejects(within(connecting, 2000, "aborted connect"), /cancelled by test/);
        assert.equal(await within(peerClosed(server), 5000, "server sees the close"), true);
        await listener.close();
      },
    );

    it("garbage instead of a ClientHello makes the server role reject", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      const serving = server.startTls(serverTls);
      await within(write(client, "USER anonymous\r\n"), 5000, "garbage");
      await assert.rejects(within(serving, 5000, "server-role startTls"), notTimedOut);
      assert.equal(await within(peerClosed(client), 5000, "peer sees the close"), true);
      await listener.close();
    });

    it("garbage instead of a ServerHello makes the client role reject", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      const connecting = client.startTls(clientTls);
      connecting.catch(() => {});
      assert.ok((await within(readText(server), 5000, "ClientHello")).length > 0);
      await within(write(server, "500 What?\r\n"), 5000, "garbage");
      await assert.rejects(within(connecting, 5000, "client-role startTls"), notTimedOut);
      assert.equal(await within(peerClosed(server), 5000, "peer sees the close"), true);
      await listener.close();
    });

    for (const scoped of [false, true]) {
      const how = scoped ? "with a session scope" : "without a session scope";
      it(`an unusable key or certificate rejects and closes the socket (${how})`, T, async () => {
        // Bun's adapter used to swallow such errors of its native upgrade and leak the socket.
        for (const [cert, key] of [[TEST_SERVER_CERT, BAD_KEY], [BAD_CERT, TEST_SERVER_KEY]]) {
          const { listener, client, server } = await connectedPair(network);
          const bad: TlsServerOptions = { role: "server", cert, key };
          if (scoped) bad.sessionScope = {};
          const connecting = client.startTls(clientTls);
          connecting.catch(() => {});
          await assert.rejects(within(server.startTls(bad), 5000, "startTls"), notTimedOut);
          await assert.rejects(within(connecting, 5000, "peer's startTls"), notTimedOut);
          await listener.close();
        }
      });
    }

    it("an implicit-TLS listener with an unusable key or certificate is refused", T, async () => {
      for (const [cert, key] of [[TEST_SERVER_CERT, BAD_KEY], [BAD_CERT, TEST_SERVER_KEY]]) {
        await assert.rejects(
          within(
            network.listen({ hostname: "127.0.0.1", port: 0, tls: { role: "server", cert, key } }),
            5000,
            "listen",
          ).then(track),
          notTimedOut,
        );
      }
    });

    it("plain connections report no session reuse; first handshakes report none", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      assert.equal(client.tlsSessionReused, undefined);
      assert.equal(server.tlsSessionReused, undefined);
      const [tlsClient, tlsServer] = await secure(client, clientTls, server, {
        ...serverTls,
        sessionScope: {},
      });
      assert.notEqual(tlsClient.tlsSessionReused, true);
      assert.equal(tlsServer.tlsSessionReused, false);
      await converse(tlsClient, tlsServer);
      tlsClient.close();
      tlsServer.close();
      await listener.close();
    });

    const resumes = network.canResumeTlsSessions === true;
    it(
      `data connections ${resumes ? "resume" : "cannot resume"} the control connection's session`,
      T,
      async () => {
        const scope = {};
        const control = await connectedPair(network);
        const [controlClient, controlServer] = await secure(
          control.client,
          clientTls,
          control.server,
          { ...serverTls, sessionScope: scope },
        );
        await converse(controlClient, controlServer);
        // Two data connections in turn, as for two transfers.
        for (let round = 1; round <= 2; round++) {
          const data = await connectedPair(network);
          const [dataClient, dataServer] = await secure(
            data.client,
            { ...clientTls, resumeSessionOf: controlClient },
            data.server,
            { ...serverTls, sessionScope: scope },
          );
          if (resumes) {
            assert.equal(dataClient.tlsSessionReused, true, `client, round ${round}`);
            assert.equal(dataServer.tlsSessionReused, true, `server, round ${round}`);
          } else {
            assert.notEqual(dataClient.tlsSessionReused, true, `client, round ${round}`);
            assert.equal(dataServer.tlsSessionReused, false, `server, round ${round}`);
          }
          await converse(dataClient, dataServer);
          dataClient.close();
          dataServer.close();
          await data.listener.close();
        }
        controlClient.close();
        controlServer.close();
        await control.listener.close();
      },
    );

    it("a session does not resume under another session scope", T, async () => {
      const control = await connectedPair(network);
      const [controlClient, controlServer] = await secure(
        control.client,
        clientTls,
        control.server,
        { ...serverTls, sessionScope: {} },
      );
      await converse(controlClient, controlServer);
      const data = await connectedPair(network);
      const [dataClient, dataServer] = await secure(
        data.client,
        { ...clientTls, resumeSessionOf: controlClient },
        data.server,
        { ...serverTls, sessionScope: {} },
      );
      assert.notEqual(dataClient.tlsSessionReused, true);
      assert.equal(dataServer.tlsSessionReused, false);
      await converse(dataClient, dataServer);
      for (const conn of [dataClient, dataServer, controlClient, controlServer]) conn.close();
      await data.listener.close();
      await control.listener.close();
    });

    it("close() settles a write the peer does not take (an aborted TLS transfer)", T, async () => {
      // Bun reported no close of a TLS socket with unsent data: the writer hung (ABOR).
      const { listener, client, server } = await connectedPair(network);
      const [tlsClient, tlsServer] = await secure(client, clientTls, server, {
        ...serverTls,
        sessionScope: {},
      });
      const writer = tlsServer.writable.getWriter();
      const writing = (async () => {
        for (let i = 0; i < 256; i++) await writer.write(new Uint8Array(256 * 1024));
      })();
      writing.catch(() => {});
      const reader = tlsClient.readable.getReader();
      await within(reader.read(), 5000, "first chunk");
      reader.releaseLock();
      tlsServer.close();
      await assert.rejects(within(writing, 5000, "pending write"), notTimedOut);
      assert.equal(await within(peerClosed(tlsClient), 5000, "peer sees the close"), true);
      await listener.close();
    });

    // Scoped server-role handshakes run with TLS options of their own (in Bun: a passphrase).
    it("a scoped server-role connection half-closes and applies backpressure", T, async () => {
      const { listener, client, server } = await connectedPair(network);
      const [tlsClient, tlsServer] = await secure(client, clientTls, server, {
        ...serverTls,
        sessionScope: {},
      });
      const chunk = new Uint8Array(64 * 1024);
      const total = 64 * 1024 * 1024;
      let written = 0;
      const writer = tlsClient.writable.getWriter();
      const writing = (async () => {
        for (let offset = 0; offset < total; offset += chunk.byteLength) {
          await writer.write(chunk.slice());
          written += chunk.byteLength;
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
      let received = 0;
      const reader = tlsServer.readable.getReader();
      const reading = (async () => {
        while (true) {
          const { value, done } = await reader.read();
          if (done) return;
          received += value.byteLength;
        }
      })();
      await within(Promise.all([reading, writing]), 15000, "upload to EOF");
      assert.equal(received, total);
      reader.releaseLock();
      await within(write(tlsServer, "226 Done\r\n"), 5000, "reply after EOF");
      assert.equal(await within(readText(tlsClient), 5000, "read reply"), "226 Done\r\n");
      tlsClient.close();
      tlsServer.close();
      await listener.close();
    });

    it(
      "active-mode data connections resume too (the accepted end is the TLS client)",
      T,
      async () => {
        const scope = {};
        const control = await connectedPair(network);
        const [controlClient, controlServer] = await secure(
          control.client,
          clientTls,
          control.server,
          { ...serverTls, sessionScope: scope },
        );
        await converse(controlClient, controlServer);
        // The FTP server connects and runs the TLS server role; the FTP client accepts.
        const data = await connectedPair(network);
        const [dataServer, dataClient] = await secure(
          data.client,
          { ...serverTls, sessionScope: scope },
          data.server,
          { ...clientTls, resumeSessionOf: controlClient },
        );
        if (resumes) {
          assert.equal(dataClient.tlsSessionReused, true);
          assert.equal(dataServer.tlsSessionReused, true);
        } else {
          assert.equal(dataServer.tlsSessionReused, false);
        }
        await converse(dataClient, dataServer);
        for (const conn of [dataClient, dataServer, controlClient, controlServer]) conn.close();
        await data.listener.close();
        await control.listener.close();
      },
    );

    for (const secured of [false, true]) {
      const kind = secured ? "TLS (server role)" : "plain";
      it(`${kind}: a reset that comes in with the last bytes fails the readable`, T, async () => {
        // Node's libuv took such a reset for the peer's FIN: an upload cut off by a reset
        // ended cleanly, as if complete. With these sizes, the accepted socket stops reading
        // (its buffer is full) before the reset comes in, and the read that resumes it takes
        // in the rest with the reset (each round failed before the fix, in plain TCP and TLS).
        const sizes = [66000, 70000, 100000, 140000, 200000];
        for (let round = 1; round <= sizes.length; round++) {
          const { listener, server, raw, socket } = await rawPeer(network, secured);
          const payload = new Uint8Array(sizes[round - 1]).fill(7);
          await within(writeAll(socket, payload), 5000, "peer's write");
          // The bytes reach the accepted socket, which does not read yet, and then the reset.
          await delay(20);
          const closed = once(raw, "close");
          raw.resetAndDestroy();
          await within(closed, 5000, "reset");
          await delay(20);
          await assert.rejects(
            within(drain(server), 5000, `read after the reset, round ${round}`),
            notTimedOut,
            `round ${round}: the reset must fail the readable`,
          );
          server.close();
          await listener.close();
        }
      });

      const end = secured ? "close_notify and FIN" : "FIN";
      it(`${kind}: the peer's ${end} after its last bytes still ends the readable`, T, async () => {
        const payload = new Uint8Array(100000).fill(9);
        for (let round = 1; round <= 3; round++) {
          const { listener, server, socket } = await rawPeer(network, secured);
          let reply = "";
          socket.on("data", (chunk: Uint8Array) => (reply += new TextDecoder().decode(chunk)));
          await within(writeAll(socket, payload), 5000, "peer's write");
          socket.end();
          await delay(20);
          assert.equal(await within(drain(server), 5000, "read to the end"), payload.byteLength);
          // Half-closed: the other direction goes on.
          await within(write(server, "226 Done\r\n"), 5000, "reply after the end");
          for (let i = 0; i < 100 && reply === ""; i++) await delay(20);
          assert.equal(reply, "226 Done\r\n", `round ${round}`);
          server.close();
          socket.destroy();
          await listener.close();
        }
      });
    }
  });
}
