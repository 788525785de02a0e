/**
 * The client's one control channel carries one exchange at a time. Every public operation
 * takes its turn here, so concurrent calls on one client wait instead of interleaving their
 * commands and replies (aioftp raises "readuntil() called while another coroutine is already
 * waiting" in that case).
 *
 * @module
 */

import { abortable, deferred } from "../stream/abort.ts";

/** Gives the turn to the next waiting operation. Calling it again does nothing. */
export type Release = () => void;

/** A first-in, first-out lock for control-channel operations. */
export class OperationQueue {
  #tail: Promise<void> = Promise.resolve();

  /**
   * Waits for the turn.
   *
   * @param signal Gives up waiting; the turn, when it comes, is passed on at once.
   * @returns The function that ends the turn.
   */
  acquire(signal?: AbortSignal): Promise<Release> {
    const previous = this.#tail;
    const done = deferred<void>();
    this.#tail = previous.then(() => done.promise);
    let released = false;
    const release: Release = () => {
      if (released) return;
      released = true;
      done.resolve();
    };
    const turn = previous.then(() => release);
    if (!signal) return turn;
    return abortable(turn, signal).catch((error) => {
      turn.then((r) => r());
      throw error;
    });
  }
}
