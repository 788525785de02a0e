/**
 * The entry of a directory listing, as every listing parser returns it.
 *
 * @module
 */

/**
 * One entry of a directory listing (MLSD/MLST facts or a LIST line).
 *
 * @example What a client's listing holds
 * ```ts
 * import { Client, type ListEntry } from "@streamftp/streamftp/client";
 * import { MemoryFileSystem, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()], fileSystem: new MemoryFileSystem() });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
 * const entry: ListEntry = await client.stat("a.txt");
 * assert.equal(entry.type, "file");
 * assert.equal(entry.size, 5);
 * assert.equal(entry.facts.type, "file");
 * ```
 */
export interface ListEntry {
  /** The name, as sent (inner, leading and trailing spaces kept where the format allows). */
  name: string;
  /** What the entry is; MLSx `cdir`/`pdir` entries are `"dir"` (check `facts.type`). */
  type: "file" | "dir" | "link" | "other";
  /** Size in bytes, when known. */
  size?: number;
  /** Last modification time, when known. */
  modify?: Date;
  /** Permission bits (`0o7777` at most), when known. */
  mode?: number;
  /** A symbolic link's target, when known. */
  target?: string;
  /**
   * The facts, names in lower case: for MLSx lines the facts as sent (values verbatim); for LIST
   * lines the same names derived from the line (`type`, `size`, `modify`, `unix.mode`,
   * `unix.owner`, `unix.group`, ...).
   */
  facts: Record<string, string>;
}
