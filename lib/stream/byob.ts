/**
 * BYOB readers where a stream is a byte stream. There is no way to ask a `ReadableStream`
 * whether it is one but to try `getReader({ mode: "byob" })`, which throws a `TypeError` when
 * it is not: a cost a small file's transfer notices. A socket's kind is its `Conn` class's
 * (Deno's sockets are byte streams, Bun's and node:net's push their own chunks), so for a
 * socket the answer is kept per class and asked once.
 *
 * @module
 */

import type { Conn } from "../socket.ts";

/**
 * A BYOB reader of `source` when it is a byte stream, else nothing (`source` stays unlocked).
 *
 * @example
 * ```ts
 * import { byobReaderOf } from "./byob.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(byobReaderOf(new Blob(["x"]).stream().pipeThrough(new TransformStream())), undefined);
 * const bytes = new ReadableStream({ type: "bytes", pull: (c) => c.close() });
 * assert.ok(byobReaderOf(bytes));
 * ```
 *
 * @param source The stream.
 * @returns Its BYOB reader, or `undefined`.
 */
export function byobReaderOf(
  source: ReadableStream<Uint8Array>,
): ReadableStreamBYOBReader | undefined {
  try {
    return source.getReader({ mode: "byob" });
  } catch {
    return undefined;
  }
}

/** The `Conn` classes whose sockets turned out not to be byte streams. */
const pushingClasses = new WeakSet<object>();

/**
 * A BYOB reader of a socket's readable when its `Conn` class makes byte streams (and the
 * readable is not locked); a class found not to is not asked again.
 *
 * @example
 * ```ts
 * import { socketByobReader } from "./byob.ts";
 * import { nodeNetwork } from "../../adapters/node.ts";
 * import assert from "node:assert/strict";
 *
 * const listener = await nodeNetwork.listen({ hostname: "127.0.0.1", port: 0 });
 * const conn = await nodeNetwork.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * assert.equal(socketByobReader(conn), undefined); // node:net pushes its own chunks
 * conn.close();
 * await listener.close();
 * ```
 *
 * @param conn The socket.
 * @returns Its readable's BYOB reader, or `undefined`.
 */
export function socketByobReader(conn: Conn): ReadableStreamBYOBReader | undefined {
  const kind = conn.constructor;
  // A locked stream says nothing of its kind.
  if (pushingClasses.has(kind) || conn.readable.locked) return undefined;
  const reader = byobReaderOf(conn.readable);
  if (!reader) pushingClasses.add(kind);
  return reader;
}
