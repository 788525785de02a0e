/**
 * Writing to stdout and stderr with backpressure, so that a large `cat` waits for a slow pipe
 * instead of filling memory, and output is flushed before the process exits. A reader that
 * goes away (`streamftp cat URL | head`) ends the output quietly.
 *
 * @module
 */

import process from "node:process";

type Output = typeof process.stdout | typeof process.stderr;
type WriteError = Error & { code?: string };

/** Outputs whose reader went away (EPIPE): later output to them is dropped. */
const gone = new Set<Output>();
/** Outputs with an "error" listener, so that an error event is not an uncaught exception. */
const watched = new Set<Output>();

/**
 * Writes and waits for the write's callback. A reader gone away (EPIPE, reported to the
 * callback or, by Deno and Bun, thrown at once) ends that output quietly; any other error is
 * thrown. Errors also come as "error" events, which the callbacks already answer.
 */
function write(output: Output, chunk: string | Uint8Array): Promise<void> {
  if (gone.has(output)) return Promise.resolve();
  if (!watched.has(output)) {
    watched.add(output);
    output.on("error", () => {});
  }
  return new Promise((resolve, reject) => {
    const settle = (error?: WriteError | null) => {
      if (!error) return resolve();
      if (error.code !== "EPIPE" && !/\bEPIPE\b/.test(error.message)) return reject(error);
      gone.add(output);
      resolve();
    };
    try {
      output.write(chunk, settle);
    } catch (error) {
      settle(error as WriteError);
    }
  });
}

/**
 * Writes to stdout and waits until the bytes are handed on.
 *
 * @example
 * ```ts
 * import { writeStdout } from "./output.ts";
 *
 * await writeStdout("written before this line goes on\n");
 * ```
 *
 * @param chunk Text or bytes.
 */
export function writeStdout(chunk: string | Uint8Array): Promise<void> {
  return write(process.stdout, chunk);
}

/**
 * Writes to stderr and waits until the bytes are handed on.
 *
 * @example
 * ```ts
 * import { writeStderr } from "./output.ts";
 *
 * await writeStderr(new TextEncoder().encode("a warning, as bytes\n"));
 * ```
 *
 * @param chunk Text or bytes.
 */
export function writeStderr(chunk: string | Uint8Array): Promise<void> {
  return write(process.stderr, chunk);
}

/**
 * Tells on stderr which paths a tree transfer or mirror left out (links, special files, a
 * file where the target has a directory...), one line each.
 *
 * @example
 * ```ts
 * import { warnLeftOut } from "./output.ts";
 *
 * await warnLeftOut(["site/link-to-dir", "site/fifo"]); // two lines on stderr
 * ```
 *
 * @param paths The paths.
 */
export async function warnLeftOut(paths: readonly string[]): Promise<void> {
  for (const path of paths) await writeStderr(`streamftp: left out: ${path}\n`);
}

/**
 * Copies a stream to stdout, chunk by chunk, each written before the next is read. When
 * stdout's reader goes away, the stream is cancelled (which aborts a transfer).
 *
 * @example
 * ```ts
 * import { pipeToStdout } from "./output.ts";
 *
 * await pipeToStdout(new Blob(["what `streamftp cat` prints\n"]).stream());
 * ```
 *
 * @param readable The bytes.
 */
export async function pipeToStdout(readable: ReadableStream<Uint8Array>): Promise<void> {
  const reader = readable.getReader();
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      await writeStdout(value);
      if (gone.has(process.stdout)) {
        await reader.cancel();
        return;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
