/**
 * The cancellable wait (lib/stream/abort.ts): `abortable` settles with the work, gives up on an
 * abort (at once or after a grace period), and starts no timer, nor clears one, unless a grace
 * period needs it (Deno loads its timers on the first call of either, about 10 ms).
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { abortable, deferred } from "../lib/stream/abort.ts";

const T = { timeout: 20000 };

/** Counts the calls of the global timer functions while `body` runs, passing them through. */
async function countTimerCalls(body: () => Promise<void>): Promise<{ set: number; clear: number }> {
  const counts = { set: 0, clear: 0 };
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    counts.set++;
    return realSet(...args);
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((id?: Parameters<typeof clearTimeout>[0]) => {
    counts.clear++;
    return realClear(id);
  }) as typeof clearTimeout;
  try {
    await body();
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
  return counts;
}

describe("abortable", () => {
  it(
    "settles with the work's value or error and touches no timer without a grace period",
    T,
    async () => {
      const signal = new AbortController().signal;
      const counts = await countTimerCalls(async () => {
        assert.equal(await abortable(Promise.resolve(7), signal), 7);
        await assert.rejects(
          abortable(Promise.reject(new Error("work failed")), signal),
          /work failed/,
        );
      });
      assert.deepEqual(counts, { set: 0, clear: 0 });
    },
  );

  it(
    "gives up at once on an abort without a grace period, with the abort's reason",
    T,
    async () => {
      const work = deferred<number>();
      const controller = new AbortController();
      const waiting = abortable(work.promise, controller.signal);
      controller.abort(new Error("stop now"));
      await assert.rejects(waiting, /stop now/);
      work.resolve(1);
    },
  );

  it("lets work that ends within the grace period settle, and clears its timer", T, async () => {
    const work = deferred<string>();
    const controller = new AbortController();
    const counts = await countTimerCalls(async () => {
      const waiting = abortable(work.promise, controller.signal, { graceMs: 60_000 });
      controller.abort(new Error("stop"));
      work.resolve("done");
      assert.equal(await waiting, "done");
    });
    assert.deepEqual(counts, { set: 1, clear: 1 });
  });
});
