/**
 * The Deno {@linkcode Network}: `Deno.connect`, `Deno.listen`, `Deno.listenTls`, and node:tls
 * for TLS on an existing connection.
 *
 * The streams are built on `conn.read`/`conn.write`/`conn.closeWrite`, not on `conn.readable`
 * and `conn.writable`: those close the whole connection at EOF and on `close()`, which breaks
 * half-close (an FTP data connection ends with a FIN while the other direction goes on).
 *
 * Native: plain TCP and implicit TLS listeners (`Deno.listenTls`). Through node:tls (loaded on
 * first use), over this adapter's own streams: both TLS roles on an existing connection,
 * implicit-TLS connects included. Deno has no native server role, and its client role
 * (`Deno.startTls`) cannot be called off: closing a connection whose handshake waits for a
 * silent peer leaves the socket open until the peer acts (measured in Deno 2.9.6), where
 * closing the streams under node:tls closes it at once. node:tls was measured no slower
 * either (downloads of 1 GiB: 415 to 470 MB/s against 325 to 370 natively, with less CPU).
 *
 * No TLS client in Deno resumes a session (measured in 2.9.6, natively and through
 * node:tls), so `resumeSessionOf` is ignored. The server role resumes sessions and says so in
 * `tlsSessionReused`, but across session scopes too: in Deno, `sessionScope` does not keep
 * sessions apart, so a resumed session proves only that this process issued it.
 *
 * @module
 */

import { ConnectionClosedError } from "../lib/errors.ts";
import type {
  Conn,
  ConnectOptions,
  Listener,
  ListenOptions,
  NetAddr,
  Network,
  TlsOptions,
} from "../lib/socket.ts";
import { toNetAddr } from "../lib/socket.ts";
import { abortable, abortError } from "../lib/stream/abort.ts";
import { AcceptQueue } from "./_listener.ts";
import { nodeTlsOverConn } from "./_node_tls.ts";

/** The socket contract this adapter implements. */
export type * from "../lib/socket.ts";

/**
 * Sizes of the buffers a default reader gets: a read that fills its buffer doubles the next
 * one, a read of less than a quarter halves it. A bulk transfer so moves in large chunks (each
 * read is an op whose fixed cost dominates at 64 KiB), while a control connection keeps small
 * buffers.
 */
const MIN_READ = 64 * 1024;
const MAX_READ = 1024 * 1024;

interface DenoAddr {
  hostname: string;
  port: number;
}

interface DenoConn {
  readonly localAddr: DenoAddr;
  readonly remoteAddr: DenoAddr;
  read(buffer: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
}

interface DenoListener extends AsyncIterable<DenoConn> {
  readonly addr: DenoAddr;
  close(): void;
}

interface DenoLike {
  connect(options: { hostname: string; port: number; signal?: AbortSignal }): Promise<DenoConn>;
  listen(options: { hostname: string; port: number }): DenoListener;
  listenTls(options: { hostname: string; port: number; cert: string; key: string }): DenoListener;
}

function deno(): DenoLike {
  return (globalThis as unknown as { Deno: DenoLike }).Deno;
}

/** Connections through Deno's own network APIs. */
export const denoNetwork: Network = {
  name: "deno",
  canResumeTlsSessions: false,
  connect,
  listen,
};

async function connect(options: ConnectOptions): Promise<Conn> {
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal.reason);
  const attempt = deno().connect({ hostname: options.hostname, port: options.port, signal });
  let tcp: DenoConn;
  try {
    tcp = await abortable(attempt, signal);
  } catch (error) {
    attempt.then((late) => late.close(), () => {});
    throw error;
  }
  const conn = new DenoSocketConn(tcp, false, options.hostname);
  if (!options.tls) return conn;
  return await conn.startTls(options.tls, signal);
}

// deno-lint-ignore require-await -- async, so that a failed bind rejects instead of throwing
async function listen(options: ListenOptions): Promise<Listener> {
  const { hostname, port, tls } = options;
  const listener = tls
    ? deno().listenTls({ hostname, port, cert: tls.cert, key: tls.key })
    : deno().listen({ hostname, port });
  const queue = new AcceptQueue(
    toNetAddr(listener.addr.hostname, listener.addr.port),
    () => listener.close(),
  );
  (async () => {
    try {
      // TLS handshakes run on the first read or write, so one slow client holds up nobody.
      for await (const conn of listener) queue.push(new DenoSocketConn(conn, !!tls, undefined));
    } catch {
      // The listener was closed, or failed for good; either way no more connections come.
    } finally {
      queue.close();
    }
  })();
  return queue;
}

class DenoSocketConn implements Conn {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  readonly secure: boolean;
  readonly tlsSessionReused: boolean | undefined = undefined;
  #conn: DenoConn;
  /** The name connected to, for certificate checks; absent on accepted connections. */
  #hostname: string | undefined;
  #readOpen = true;
  #writeOpen = true;
  #reading = false;
  #closed = false;
  #readSize = MIN_READ;

  constructor(conn: DenoConn, secure: boolean, hostname: string | undefined) {
    this.#conn = conn;
    this.#hostname = hostname;
    this.secure = secure;
    this.localAddr = toNetAddr(conn.localAddr.hostname, conn.localAddr.port);
    this.remoteAddr = toNetAddr(conn.remoteAddr.hostname, conn.remoteAddr.port);
    // A byte stream: BYOB readers fill their own buffers; default readers get buffers of an
    // adaptive size. High-water mark 0: nothing is read before someone asks, so a TLS upgrade
    // finds every byte the protocol has not consumed still in the socket.
    this.readable = new ReadableStream({
      type: "bytes",
      pull: (controller) => this.#pull(controller),
      cancel: () => {
        this.#readOpen = false;
        this.#releaseIfDone();
      },
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      write: async (chunk) => {
        for (let offset = 0; offset < chunk.byteLength;) {
          offset += await this.#conn.write(chunk.subarray(offset));
        }
      },
      close: async () => {
        await this.#conn.closeWrite();
        this.#writeOpen = false;
        this.#releaseIfDone();
      },
      // Deno cannot send a reset; closing at once is the nearest: the peer sees EOF, or a reset
      // when data it sent is still unread here.
      abort: () => {
        this.#writeOpen = false;
        this.close();
      },
    });
  }

  setNoDelay(on: boolean): void {
    this.#conn.setNoDelay?.(on);
  }

  async startTls(options: TlsOptions, signal?: AbortSignal): Promise<Conn> {
    if (this.secure) throw new TypeError("Connection already runs TLS");
    if (this.readable.locked || this.writable.locked) {
      throw new TypeError("Cannot start TLS while the streams are locked");
    }
    if (this.#reading) throw new TypeError("Cannot start TLS while a read is pending");
    if (this.#closed || !this.#readOpen || !this.#writeOpen) {
      throw new ConnectionClosedError("Cannot start TLS on a closed connection");
    }
    // This Conn is consumed: from here on its streams and close() leave the socket alone.
    this.#readOpen = false;
    this.#writeOpen = false;
    this.#closed = true;
    return await nodeTlsOverConn(
      new DenoSocketConn(this.#conn, false, this.#hostname),
      options,
      this.#hostname ?? this.remoteAddr.hostname,
      signal,
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already gone (both directions finished, or the runtime dropped it).
    }
  }

  async #pull(controller: ReadableByteStreamController): Promise<void> {
    const request = controller.byobRequest;
    const view = request?.view
      ? new Uint8Array(request.view.buffer, request.view.byteOffset, request.view.byteLength)
      : new Uint8Array(this.#readSize);
    let count: number | null;
    this.#reading = true;
    try {
      count = await this.#conn.read(view);
    } catch (error) {
      if (!this.#readOpen) return;
      this.#readOpen = false;
      // A read cut short by our own close() is an end, not a failure.
      if (this.#closed) {
        controller.close();
        request?.respond(0);
      } else {
        controller.error(error);
      }
      return;
    } finally {
      this.#reading = false;
    }
    if (!this.#readOpen) return;
    if (count === null) {
      this.#readOpen = false;
      controller.close();
      request?.respond(0);
      this.#releaseIfDone();
    } else if (request) {
      request.respond(count);
    } else {
      if (count === view.length) this.#readSize = Math.min(MAX_READ, this.#readSize * 2);
      else if (count < view.length / 4) this.#readSize = Math.max(MIN_READ, this.#readSize / 2);
      controller.enqueue(view.subarray(0, count));
    }
  }

  #releaseIfDone(): void {
    if (!this.#readOpen && !this.#writeOpen) this.close();
  }
}
