/**
 * The aioftp developer tutorial's custom data command, on both sides: a `COLL n` command that
 * streams `n` 8-byte big-endian counters over a data connection, a server that adds it (and
 * overrides `NOOP`) by subclassing, and a client that adds a `collect(n)` method on top of
 * `getStream`.
 *
 * Run: `deno run -A examples/coll.ts [count]` (also `bun examples/coll.ts`): it starts the
 * server, connects the client, and prints the reply to `NOOP` and the counters from
 * `COLL count` (default 20).
 *
 * @module
 */

import process from "node:process";
import { Client, type CommandSpec, type CommandTable, Server } from "../mod.ts";

/** `COLL <count>`: sends `count` counters as 8-byte big-endian integers, then `200`. */
export const collCommand: CommandSpec = {
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
        // Blocks of 8192 counters (64 KiB): data moves in large chunks.
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

/** A server with the tutorial's two changes: a boring `NOOP` and the `COLL` command. */
export class CollServer extends Server {
  /** Adds `COLL` and replaces `NOOP` in the inherited command table. */
  protected override buildCommands(): CommandTable {
    const table = super.buildCommands();
    table.set("NOOP", { handler: (session) => session.reply(200, "boring") });
    table.set("COLL", collCommand);
    return table;
  }
}

/** A client that knows `COLL`. */
export class CollClient extends Client {
  /**
   * Collects `count` counters over a data connection.
   *
   * @param count How many counters to ask for.
   * @returns The counters received.
   */
  async collect(count: number): Promise<number[]> {
    const stream = await this.getStream(`COLL ${count}`, "1xx");
    const bytes = new Uint8Array(await new Response(stream.readable).arrayBuffer());
    await stream.finish("2xx");
    const view = new DataView(bytes.buffer);
    const counters: number[] = [];
    for (let at = 0; at + 8 <= bytes.length; at += 8) counters.push(Number(view.getBigUint64(at)));
    return counters;
  }
}

if ((import.meta as { main?: boolean }).main) {
  const server = new CollServer(); // anonymous may log in and read: enough for COLL
  await server.start("127.0.0.1", 0);
  // `connect` on the subclass returns a CollClient; a URL without a user logs in anonymously.
  const client = await CollClient.connect(`ftp://127.0.0.1:${server.address.port}/`);
  try {
    console.log((await client.command("NOOP")).lines[0]); // "boring"
    console.log((await client.collect(Number(process.argv[2] ?? 20))).join(" "));
  } finally {
    await client.quit();
    await server.close();
  }
}
