/**
 * The narrow interface whole-file and tree transfers are built on: the remote operations they
 * use, which a `Client` has (and a test double can provide).
 *
 * @module
 */

import type { ListEntry } from "../protocol/listing/entry.ts";
import type { ExpectedCodes, Reply } from "../protocol/reply.ts";
import type { DataStream } from "./data_stream.ts";
import type { ListItem } from "./lister.ts";
import type {
  CallOptions,
  ListOptions,
  MkdirOptions,
  StreamOptions,
  TransferStreamOptions,
} from "./options.ts";

/**
 * The remote operations of file and tree transfers, with the semantics of the `Client`
 * methods of the same names.
 *
 * @example A client is one
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import assert from "node:assert/strict";
 * import type { RemoteFiles } from "./remote_files.ts";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const remote: RemoteFiles = client;
 * await remote.mkdir("pub");
 * assert.equal((await remote.stat("pub")).type, "dir");
 * ```
 */
export interface RemoteFiles {
  /** Describes a path (MLST, or the parent's listing). */
  stat(path: string, options?: CallOptions): Promise<ListEntry>;
  /** A file's size (`SIZE`). */
  size(path: string, options?: CallOptions): Promise<number>;
  /** Lists a directory, recursively with `recursive`. */
  list(path: string, options?: ListOptions): AsyncIterable<ListItem>;
  /** Creates a directory (`parents`: with its missing parents). */
  mkdir(path: string, options?: MkdirOptions): Promise<void>;
  /** Removes an empty directory. */
  rmdir(path: string, options?: CallOptions): Promise<void>;
  /** Removes a file. */
  removeFile(path: string, options?: CallOptions): Promise<void>;
  /** A transfer command over a data connection (`RETR path`, say). */
  getStream(
    command: string,
    expected?: ExpectedCodes,
    options?: StreamOptions,
  ): Promise<DataStream>;
  /** A stream into a file (`STOR`); closing it waits for the server's confirmation. */
  uploadStream(path: string, options?: TransferStreamOptions): Promise<WritableStream<Uint8Array>>;
  /** A stream appending to a file (`APPE`). */
  appendStream(path: string, options?: CallOptions): Promise<WritableStream<Uint8Array>>;
  /** The server's extensions (`FEAT`), cached. */
  features(options?: CallOptions): Promise<Map<string, string>>;
  /** Any command and its reply. */
  command(line: string, expected?: ExpectedCodes, options?: CallOptions): Promise<Reply>;
}
