import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type CommandSpec, type CommandTable, Server } from "../server.ts";
import { within } from "./_util.ts";
import { RawControl, readAll, withServer } from "./server_raw.ts";

/** The aioftp developer tutorial's NOOP, by subclassing. */
class BoringServer extends Server {
  protected override buildCommands(): CommandTable {
    const table = super.buildCommands();
    table.set("NOOP", { handler: (session) => session.reply(200, "boring") });
    table.set("COLL", coll);
    return table;
  }
}

/**
 * The tutorial's COLL: streams `count` 8-byte big-endian counters over the data connection,
 * as a worker (the dispatcher keeps reading commands), then says 200.
 */
const coll: CommandSpec = {
  requires: ["login", "data-channel"],
  help: "<SP> <count>",
  async handler(session, { argument }) {
    const count = Number(argument);
    if (!Number.isSafeInteger(count) || count < 0) {
      await session.reply(501, "syntax error, COLL needs a count");
      return;
    }
    await session.startTransfer({
      description: `COLL ${count}`,
      opening: "coll transfer started",
      async run(data) {
        const writer = data.writable.getWriter();
        // 8192 counters (64 KiB) per write: awaiting millions of 8-byte writes would keep the
        // event loop busy with already-resolved writes until the socket buffer is full.
        for (let start = 0; start < count; start += 8192) {
          const block = new Uint8Array(Math.min(8192, count - start) * 8);
          const view = new DataView(block.buffer);
          for (let i = 0; i * 8 < block.length; i++) view.setBigUint64(i * 8, BigInt(start + i));
          await writer.write(block);
        }
        await writer.close();
        return { code: 200, text: "coll transfer done" };
      },
    });
  },
};

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
      const server = new BoringServer();
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
