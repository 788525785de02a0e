/**
 * streamftp: an asynchronous FTP client and server over Web Streams for Deno, Bun and Node.
 *
 * This module is `client.ts` and `server.ts` together, plus a few tools of their own:
 *
 * - the {@linkcode Client}, its options, data streams and errors;
 * - the {@linkcode Server}, its options, users, permissions, user managers, hooks, sessions
 *   and command table, with what a custom command meets (`CommandSpec`, `CommandContext`,
 *   `StartTransferOptions`, `DataConnection`, `DataChannel`), and the file systems;
 * - the listing parsers and formatters, reply matching, throttling and progress streams;
 * - the runtime adapters, for the `network` option of either side (`nodeNetwork` runs on all
 *   three runtimes), and the default network: importing this module registers the running
 *   runtime's adapter (`detectNetwork()`), `setDefaultNetwork` chooses another for the whole
 *   program.
 *
 * The server's machinery (passive-port pool, the PASV and PORT channels, login guard, address
 * keys) is not exported.
 *
 * @example Serve memory, then talk to it
 * ```ts
 * import { Client, MemoryFileSystem, Server, User } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({
 *   users: [new User()], // anonymous, with every right
 *   fileSystem: new MemoryFileSystem(),
 * });
 * await server.start("127.0.0.1", 0); // port 0: any free port
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("pub");
 * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("pub/a.txt"));
 * assert.equal(await client.pwd(), "/");
 * assert.equal(await client.size("pub/a.txt"), 5);
 * // leaving the scope, the client quits, then the server closes
 * ```
 *
 * @example Both sides on node:net, whatever the runtime
 * ```ts
 * import { Client, nodeNetwork, Server } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ network: nodeNetwork });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port, {
 *   network: nodeNetwork,
 * });
 * await client.login();
 * assert.deepEqual(await client.listAll(), []); // the memory file system starts empty
 * ```
 *
 * @module
 */

export * from "./client.ts";
export * from "./server.ts";
export { detectNetwork } from "./adapters/auto.ts";
export { bunNetwork } from "./adapters/bun.ts";
export { denoNetwork } from "./adapters/deno.ts";
export { nodeNetwork } from "./adapters/node.ts";
export { defaultNetwork, setDefaultNetwork } from "./lib/network_registry.ts";
export { matchesCode, replyText } from "./lib/protocol/reply.ts";
export {
  parseListLine,
  type ParseListLineOptions,
} from "./lib/protocol/listing/parse_list_line.ts";
export {
  formatMlsxLine,
  formatMlsxTime,
  parseMlsxLine,
  parseMlsxTime,
} from "./lib/protocol/listing/mlsx.ts";
export {
  formatUnixListLine,
  parseUnixListLine,
  type UnixListLineEntry,
} from "./lib/protocol/listing/unix.ts";
export { parseWindowsListLine } from "./lib/protocol/listing/windows.ts";
export { Throttle, throttleStream, type ThrottleStreamOptions } from "./lib/stream/throttle.ts";
export { progressStream } from "./lib/stream/progress.ts";
