/**
 * Rate limiting (lib/stream/throttle.ts) and byte counting (lib/stream/progress.ts). Throttling
 * is a timing feature, so some tests measure elapsed time, always with generous bounds.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { concatBytes } from "../lib/stream/bytes.ts";
import { progressStream } from "../lib/stream/progress.ts";
import { Throttle, throttleStream } from "../lib/stream/throttle.ts";

const KIB = 1024;
const T = { timeout: 20000 };

/** Pushes chunks through a transform and collects what comes out. */
async function pump(
  transform: TransformStream<Uint8Array, Uint8Array>,
  chunks: Uint8Array[],
): Promise<Uint8Array[]> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const out: Uint8Array[] = [];
  await source.pipeThrough(transform).pipeTo(
    new WritableStream({
      write(chunk) {
        out.push(chunk);
      },
    }),
  );
  return out;
}

function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

/** Whether a promise has settled after the pending microtasks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  await Promise.resolve();
  return done;
}

/** Takes the throttle's whole burst so that the next wait must wait. */
async function drain(throttle: Throttle): Promise<void> {
  await throttle.wait(throttle.limit! / 10);
}

describe("Throttle", () => {
  it("is unlimited without a limit, with 0 and with Infinity", async () => {
    assert.equal(new Throttle().limit, undefined);
    assert.equal(new Throttle(0).limit, undefined);
    assert.equal(new Throttle(Infinity).limit, undefined);
    const throttle = new Throttle();
    for (let i = 0; i < 1000; i++) {
      assert.equal(await settled(throttle.wait(1024 * 1024)), true);
    }
  });

  it("refuses negative and NaN limits", () => {
    assert.throws(() => new Throttle(-1), RangeError);
    assert.throws(() => new Throttle(NaN), RangeError);
    const throttle = new Throttle(100);
    assert.throws(() => (throttle.limit = -5), RangeError);
    assert.equal(throttle.limit, 100);
  });

  it("lets the first burst pass at once and makes the next bytes wait", T, async () => {
    const throttle = new Throttle(10 * KIB);
    assert.equal(await settled(throttle.wait(KIB)), true);
    const next = throttle.wait(KIB);
    assert.equal(await settled(next), false);
    await next;
  });

  it("keeps a measured rate of about 200 KiB/s over 100 KiB", T, async () => {
    const throttle = new Throttle(200 * KIB);
    const start = performance.now();
    for (let sent = 0; sent < 100 * KIB; sent += 16 * KIB) {
      await throttle.wait(Math.min(16 * KIB, 100 * KIB - sent));
    }
    const seconds = (performance.now() - start) / 1000;
    // 100 KiB less the 20 KiB burst at 200 KiB/s is 0.4 s.
    assert.ok(seconds > 0.3 && seconds < 0.9, `took ${seconds} s`);
  });

  it("keeps the rate with chunks bigger than the bucket", T, async () => {
    const throttle = new Throttle(200 * KIB);
    const start = performance.now();
    for (let i = 0; i < 3; i++) await throttle.wait(64 * KIB);
    const seconds = (performance.now() - start) / 1000;
    // The first chunk passes on a full bucket; each of the others pays 64 KiB less the burst
    // it waited for, then the burst: about 0.55 s in all.
    assert.ok(seconds > 0.4 && seconds < 1.0, `took ${seconds} s`);
  });

  it("serves concurrent waiters in order at the shared rate", T, async () => {
    const throttle = new Throttle(200 * KIB);
    await drain(throttle);
    const order: number[] = [];
    const start = performance.now();
    await Promise.all(
      [0, 1, 2, 3].map((i) => throttle.wait(20 * KIB).then(() => order.push(i))),
    );
    const seconds = (performance.now() - start) / 1000;
    assert.deepEqual(order, [0, 1, 2, 3]);
    assert.ok(seconds > 0.3 && seconds < 0.9, `took ${seconds} s`);
  });

  it("releases waiters at once when the limit is removed", T, async () => {
    const throttle = new Throttle(KIB);
    await drain(throttle);
    const start = performance.now();
    const waiting = throttle.wait(64 * KIB);
    assert.equal(await settled(waiting), false);
    throttle.limit = undefined;
    await waiting;
    assert.ok(performance.now() - start < 500);
    assert.equal(await settled(throttle.wait(1e9)), true);
  });

  it("speeds up waiters when the limit is raised", T, async () => {
    const throttle = new Throttle(KIB);
    await drain(throttle);
    // A big chunk passes once the bucket is full and leaves a debt of about a minute.
    await throttle.wait(64 * KIB);
    const start = performance.now();
    const waiting = throttle.wait(1);
    assert.equal(await settled(waiting), false);
    throttle.limit = 100 * 1024 * KIB;
    await waiting;
    assert.ok(performance.now() - start < 500);
  });

  it("slows down when the limit is lowered", T, async () => {
    const throttle = new Throttle(1024 * KIB);
    await drain(throttle);
    throttle.limit = 100 * KIB;
    const start = performance.now();
    await throttle.wait(10 * KIB);
    await throttle.wait(10 * KIB);
    const seconds = (performance.now() - start) / 1000;
    assert.ok(seconds > 0.1 && seconds < 0.8, `took ${seconds} s`);
  });

  it("starts limiting when a limit is set on an unlimited throttle", T, async () => {
    const throttle = new Throttle();
    throttle.limit = 10 * KIB;
    await throttle.wait(KIB);
    assert.equal(await settled(throttle.wait(KIB)), false);
    throttle.limit = undefined;
  });

  it("stops waiting when the signal aborts, and serves the next waiter", T, async () => {
    const throttle = new Throttle(10 * KIB);
    await drain(throttle);
    const controller = new AbortController();
    const aborted = throttle.wait(100 * KIB, controller.signal);
    const next = throttle.wait(KIB);
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(aborted, (error) => error === reason);
    const start = performance.now();
    await next;
    assert.ok(performance.now() - start < 1000);
  });

  it("rejects at once on an already aborted signal", async () => {
    const reason = new Error("gone");
    await assert.rejects(new Throttle().wait(1, AbortSignal.abort(reason)), (e) => e === reason);
    await assert.rejects(new Throttle(KIB).wait(1, AbortSignal.abort(reason)), (e) => e === reason);
  });
});

describe("throttleStream", () => {
  it("passes chunks untouched while unlimited", T, async () => {
    const chunks = [pattern(100 * KIB), pattern(3)];
    const out = await pump(throttleStream([new Throttle(), new Throttle()]), chunks);
    assert.equal(out.length, 2);
    assert.equal(out[0], chunks[0]);
    assert.equal(out[1], chunks[1]);
  });

  it("limits to the slowest throttle and keeps the bytes", T, async () => {
    const data = pattern(100 * KIB);
    const throttles = [new Throttle(), new Throttle(200 * KIB), new Throttle(1024 * KIB)];
    const start = performance.now();
    const out = await pump(throttleStream(throttles), [data]);
    const seconds = (performance.now() - start) / 1000;
    assert.deepEqual(concatBytes(out), data);
    assert.ok(seconds > 0.3 && seconds < 0.9, `took ${seconds} s`);
    assert.ok(out.length > 1, "a big chunk is split");
    for (const piece of out.slice(0, -1)) assert.ok(piece.length >= 16 * KIB);
  });

  it("follows a limit change between chunks", T, async () => {
    const throttle = new Throttle(KIB);
    await drain(throttle);
    throttle.limit = undefined;
    const out = await pump(throttleStream([throttle]), [pattern(64 * KIB)]);
    assert.equal(out.length, 1);
  });

  it("errors with the signal's reason when aborted while waiting", T, async () => {
    const throttle = new Throttle(KIB);
    await drain(throttle);
    const controller = new AbortController();
    const reason = new Error("abort transfer");
    const result = pump(throttleStream([throttle], { signal: controller.signal }), [
      pattern(64 * KIB),
    ]);
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(result, (e) => e === reason);
  });
});

describe("progressStream", () => {
  it("reports every chunk's size and passes the chunks on", T, async () => {
    const seen: number[] = [];
    const chunks = [pattern(10), pattern(0), pattern(70000)];
    const out = await pump(progressStream((n) => seen.push(n)), chunks);
    assert.deepEqual(seen, [10, 0, 70000]);
    assert.equal(out.length, 3);
    assert.equal(out[2], chunks[2]);
  });

  it("errors the stream when the callback throws", T, async () => {
    const boom = new Error("boom");
    await assert.rejects(
      pump(
        progressStream(() => {
          throw boom;
        }),
        [pattern(1)],
      ),
      (e) => e === boom,
    );
  });
});
