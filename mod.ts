/**
 * streamftp: an asynchronous FTP client and server over Web Streams for Deno, Bun and Node.
 *
 * This module exports everything public: the {@linkcode Client}, the {@linkcode Server} with its
 * users, sessions and command table, the file systems, the errors, the protocol helpers
 * (listing parsers and formatters, reply matching), throttling, and the runtime adapters.
 * Importing it registers the running runtime's network adapter as the default.
 *
 * @example Serve memory, then talk to it
 * ```ts ignore
 * import { Client, Server } from "./mod.ts";
 * const server = new Server();
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * console.log(await client.pwd());
 * await server.close();
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
export type {
  ConnectOptions,
  Listener,
  ListenOptions,
  TlsClientOptions,
  TlsOptions,
  TlsServerOptions,
} from "./lib/socket.ts";
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
export { LineTooLongError } from "./lib/stream/line_reader.ts";
