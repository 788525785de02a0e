import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { collCommand as coll, CollServer } from "../examples/coll.ts";
import { within } from "./_util.ts";
import { RawControl, readAll, withServer } from "./server_raw.ts";

function counters(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 8 <= bytes.length; i += 8) out.push(Number(view.getBigUint64(i)));
  return out;
}

describe("server: extension API", () => {
  it(
    "a subclass overrides NOOP and adds COLL through buildCommands()",
    { timeout: 20000 },
    async () => {
      const server = new CollServer();
      await server.start();
      try {
        const c = await RawControl.connect(server.address);
        assert.equal(await c.ask("NOOP"), "200 boring");
        await c.login();
        const data = await c.pasv();
        assert.equal(await c.ask("COLL 20"), "150 coll transfer started");
        const received = await readAll(data);
        assert.deepEqual(counters(received), Array.from({ length: 20 }, (_, i) => i));
        assert.equal(await c.next(), "200 coll transfer done");
        assert.equal(
          await c.ask("COLL x"),
          "503 bad sequence of commands (use PASV, EPSV, PORT or EPRT first)",
        );
        c.close();
      } finally {
        await within(server.close(), 10000);
      }
    },
  );

  it("commands registered on server.commands; the dispatcher reads on during COLL", {
    timeout: 20000,
  }, async () => {
    await withServer({}, async (server) => {
      server.commands.set("noop", { handler: (session) => session.reply(200, "boring too") });
      server.commands.set("COLL", coll);
      const c = await RawControl.connect(server.address);
      assert.equal(await c.ask("NOOP"), "200 boring too");
      await c.login();
      assert.equal(
        await c.ask("COLL 1"),
        "503 bad sequence of commands (use PASV, EPSV, PORT or EPRT first)",
      );
      const data = await c.pasv();
      // A million counters (8 MB) that nobody reads yet: the worker is stuck on backpressure.
      assert.equal(await c.ask("COLL 1000000"), "150 coll transfer started");
      assert.equal(await c.ask("NOOP"), "200 boring too");
      const stat = await c.command("STAT");
      assert.equal(stat.code, 213);
      assert.match(stat.lines[0], /^status: COLL 1000000, \d+ bytes transferred$/);
      const received = await readAll(data);
      assert.equal(received.length, 8_000_000);
      assert.deepEqual(counters(received.subarray(-16)), [999998, 999999]);
      assert.equal(await c.next(), "200 coll transfer done");
      server.commands.delete("COLL");
      assert.equal(await c.ask("COLL 1"), "500 unknown command 'COLL'");
      c.close();
    });
  });

  it("startTransfer() answers 503 itself for a handler that does not require a channel", {
    timeout: 20000,
  }, async () => {
    await withServer({}, async (server) => {
      let discarded = false;
      server.commands.set("SEND", {
        requires: ["login"],
        handler: (session) =>
          session.startTransfer({
            description: "SEND",
            opening: "sending",
            run: () => Promise.resolve(),
            discard: () => Promise.resolve(void (discarded = true)),
          }),
      });
      const c = await RawControl.connect(server.address);
      await c.login();
      assert.equal(
        await c.ask("SEND"),
        "503 bad sequence of commands (use PASV, EPSV, PORT or EPRT first)",
      );
      assert.equal(discarded, true);
      c.close();
    });
  });

  it("ABOR stops a running COLL with 426 then 226", { timeout: 20000 }, async () => {
    await withServer({}, async (server) => {
      server.commands.set("COLL", coll);
      const c = await RawControl.connect(server.address);
      await c.login();
      const data = await c.pasv();
      assert.equal(await c.ask("COLL 100000000"), "150 coll transfer started");
      assert.equal(await c.ask("ABOR"), "426 transfer aborted");
      assert.equal(await c.next(), "226 abort successful");
      data.close();
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
      c.close();
    });
  });
});
