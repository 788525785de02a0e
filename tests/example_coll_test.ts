/**
 * The aioftp tutorial's `COLL` example (`examples/coll.ts`) end to end: the subclassed client's
 * `collect()` over `getStream` against the subclassed server, in passive and active mode.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CollClient, CollServer } from "../examples/coll.ts";
import { runtime, testNetwork, within } from "./_util.ts";
import { runExample } from "./_examples.ts";

describe("example: COLL", () => {
  for (const mode of ["passive", "active"] as const) {
    it(`CollClient.collect() against CollServer (${mode})`, { timeout: 20000 }, async () => {
      const server = new CollServer({ network: testNetwork() });
      await server.start("127.0.0.1", 0);
      try {
        const client = await CollClient.connect("127.0.0.1", server.address.port, {
          network: testNetwork(),
          mode,
        });
        assert.ok(client instanceof CollClient);
        assert.equal((await client.command("NOOP")).lines[0], "boring");
        await client.login();
        assert.deepEqual(await client.collect(20), Array.from({ length: 20 }, (_, i) => i));
        // Past one 64 KiB block of the server's writer.
        const many = await client.collect(100_000);
        assert.equal(many.length, 100_000);
        assert.ok(many.every((value, i) => value === i));
        assert.deepEqual(await client.collect(0), []);
        // A refused COLL leaves the client in step.
        await assert.rejects(client.collect(-1), { name: "ReplyError", code: 501 });
        assert.equal(await client.pwd(), "/");
        await within(client.quit(), 10000);
      } finally {
        await within(server.close(), 10000);
      }
    });
  }

  it("run as a script, prints the NOOP reply and the counters", {
    timeout: 20000,
    skip: runtime === "node" ? "Node 20 has no import.meta.main, which the script checks" : false,
  }, async () => {
    const result = await runExample("coll", ["5"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "boring\n0 1 2 3 4\n");
  });
});
