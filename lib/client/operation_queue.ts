/**
 * The client's one control channel carries one exchange at a time. Every public operation
 * takes its turn here, so concurrent calls on one client wait instead of interleaving their
 * commands and replies (aioftp raises "readuntil() called while another coroutine is already
 * waiting" in that case).
 *
 * @module
 */

import { abortError } from "../stream/abort.ts";

/**
 * Gives the turn to the next waiting operation. Calling it again does nothing.
 *
 * @example
 * ```ts
 * import { OperationQueue, type Release } from "./operation_queue.ts";
 *
 * const queue = new OperationQueue();
 * const release: Release = await queue.acquire();
 * release();
 * release(); // nothing more
 * ```
 */
export type Release = () => void;

/**
 * A first-in, first-out lock for control-channel operations. A free turn is taken without
 * waiting for anything (one settled promise), which is the usual case of a client used by one
 * caller at a time.
 *
 * @example
 * ```ts
 * import { OperationQueue } from "./operation_queue.ts";
 * import assert from "node:assert/strict";
 *
 * const queue = new OperationQueue();
 * const order: string[] = [];
 * async function operation(name: string): Promise<void> {
 *   const release = await queue.acquire();
 *   try {
 *     order.push(`${name} starts`);
 *     await new Promise((resolve) => setTimeout(resolve, 1)); // an exchange on the channel
 *     order.push(`${name} ends`);
 *   } finally {
 *     release();
 *   }
 * }
 * await Promise.all([operation("a"), operation("b")]);
 * assert.deepEqual(order, ["a starts", "a ends", "b starts", "b ends"]);
 * await assert.rejects(queue.acquire(AbortSignal.abort())); // gave up before its turn
 * ```
 */
export class OperationQueue {
  #busy = false;
  readonly #waiting: (() => void)[] = [];

  /**
   * Waits for the turn.
   *
   * @param signal Gives up waiting (the call then rejects and never gets the turn).
   * @returns The function that ends the turn.
   */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(abortError(signal.reason));
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve(this.#release());
    }
    return new Promise<Release>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(this.#release());
      };
      const onAbort = () => {
        const at = this.#waiting.indexOf(grant);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(abortError(signal?.reason));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(grant);
    });
  }

  #release(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#busy = false;
    };
  }
}
