/**
 * Listings and path descriptions on the client side, with the fallbacks servers make
 * necessary: MLSD, falling back to LIST when the server does not implement it, and MLST,
 * falling back to a listing of the parent directory. Each fallback is decided once per login.
 * Recursive listings walk breadth first, enter no directory twice (by its `unique` fact) and
 * stop at a depth limit.
 *
 * @module
 */

import { ProtocolError, ReplyError } from "../errors.ts";
import type { ListEntry } from "../protocol/listing/entry.ts";
import { matchesCode, type Reply, replyText } from "../protocol/reply.ts";
import { concatBytes } from "../stream/bytes.ts";
import type { DataStream } from "./data_stream.ts";
import { DirectoryTooDeepError, ListingTooLargeError } from "./errors.ts";
import {
  type ListCommand,
  type ListParseOptions,
  type ParsedListing,
  parseListing,
  parseMlstReply,
} from "./listing.ts";
import type { CallOptions, ListOptions } from "./options.ts";
import { isPlainName, joinRemote, splitRemote } from "./remote_path.ts";

/**
 * One entry of a listing with its path (the listed directory joined with the entry's name).
 *
 * @example
 * ```ts
 * import { Client, type ListItem } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("pub");
 * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("pub/a.txt"));
 * const [item]: ListItem[] = await client.listAll("pub");
 * assert.equal(item.path, "pub/a.txt");
 * assert.equal(item.info.name, "a.txt");
 * ```
 */
export interface ListItem {
  /** The listed directory as given, joined with the entry's name. */
  path: string;
  /** The entry. */
  info: ListEntry;
}

/**
 * The result of `Client.list`: iterate it for entries one directory at a time, or collect them
 * all with `toArray()`. Each directory is read completely before its entries are yielded, so
 * other calls on the client may be made inside the loop.
 *
 * @example Changing the tree while listing it
 * ```ts
 * import { Client, type Listing } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await client.mkdir("a");
 * await client.mkdir("b");
 * const listing: Listing = client.list();
 * for await (const { path } of listing) {
 *   await client.rmdir(path); // another call, inside the loop
 * }
 * assert.deepEqual(await client.list().toArray(), []);
 * ```
 */
export interface Listing extends AsyncIterable<ListItem> {
  /** Collects every entry. */
  toArray(): Promise<ListItem[]>;
}

/**
 * What the lister needs of the session: exchanges and data streams, each in a turn of its own.
 *
 * @example Made of a client
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import { Lister, type ListerSession } from "./lister.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * // What the client lends its own lister, through its public methods.
 * const session: ListerSession = {
 *   exchange: (line, signal) => client.command(line, undefined, { signal }),
 *   openStream: (line, signal) => client.getStream(line, "1xx", { signal }),
 * };
 * const lister = new Lister(session, {});
 * assert.equal((await lister.stat("/", {})).type, "dir");
 * ```
 */
export interface ListerSession {
  /**
   * Sends a command and reads its final reply, whatever its code.
   *
   * @param line The command.
   * @param signal Cancels the exchange.
   */
  exchange(line: string, signal?: AbortSignal): Promise<Reply>;
  /**
   * Opens a data stream for a listing command; the turn lasts until the stream has ended.
   *
   * @param line The command.
   * @param signal Cancels the transfer.
   */
  openStream(line: string, signal?: AbortSignal): Promise<DataStream>;
}

/**
 * Options of {@linkcode Lister}.
 *
 * @example
 * ```ts
 * import type { ListerOptions } from "./lister.ts";
 *
 * const options: ListerOptions = {
 *   maxListingBytes: 1 << 20, // 1 MiB per directory
 *   maxRecursionDepth: 8,
 *   onListWarning: (warning) => console.warn("skipped", warning.line),
 * };
 * console.assert(options.maxRecursionDepth === 8);
 * ```
 */
export interface ListerOptions extends ListParseOptions {
  /** Largest accepted listing of one directory in bytes (default 64 MiB). */
  maxListingBytes?: number;
  /** How many levels below its start a recursive listing descends (default 64). */
  maxRecursionDepth?: number;
}

const DEFAULT_MAX_LISTING_BYTES = 64 * 1024 * 1024;
/**
 * The default of `maxRecursionDepth`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_RECURSION_DEPTH } from "./lister.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_MAX_RECURSION_DEPTH, 64);
 * ```
 */
export const DEFAULT_MAX_RECURSION_DEPTH = 64;
/** Reply codes by which a server says it does not know or implement a command. */
const UNSUPPORTED = ["500", "502", "504"];

/**
 * Lists directories and describes paths for one client, remembering which commands the server
 * implements.
 *
 * @example Over a client's session
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import { Lister, type ListerSession } from "./lister.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * // What the client lends its own lister, through its public methods.
 * const session: ListerSession = {
 *   exchange: (line, signal) => client.command(line, undefined, { signal }),
 *   openStream: (line, signal) => client.getStream(line, "1xx", { signal }),
 * };
 * await client.mkdir("pub/docs", { parents: true });
 * const lister = new Lister(session, { maxRecursionDepth: 4 });
 * const items = await lister.list("/pub", { recursive: true }).toArray();
 * const paths = items.map((item) => item.path);
 * assert.deepEqual(paths, ["/pub/docs"]);
 * assert.equal((await lister.describe("/pub", {}))?.type, "dir"); // MLST
 * const { entries } = await lister.listDirectory("/pub", { rawCommand: "LIST" });
 * assert.equal(entries[0].name, "docs");
 * ```
 */
export class Lister {
  readonly #session: ListerSession;
  readonly #options: ListerOptions;
  #listCommand: ListCommand | undefined;
  #mlst: boolean | undefined;

  /**
   * Creates the lister.
   *
   * @param session Runs the exchanges and opens the data streams.
   * @param options Size cap, depth limit, LIST parsing.
   */
  constructor(session: ListerSession, options: ListerOptions) {
    this.#session = session;
    this.#options = options;
  }

  /** The depth limit of recursive operations. */
  get maxRecursionDepth(): number {
    return this.#options.maxRecursionDepth ?? DEFAULT_MAX_RECURSION_DEPTH;
  }

  /** Forgets what the server implements (a new login may reach another server's rules). */
  reset(): void {
    this.#listCommand = undefined;
    this.#mlst = undefined;
  }

  /**
   * Lists a directory, recursively with `recursive`.
   *
   * @param path The directory (`""`: the working directory).
   * @param options Recursion, forced command, signal.
   * @returns The entries, iterable or collectable.
   */
  list(path: string, options: ListOptions): Listing {
    const iterate = () => this.#walk(path, options);
    return {
      [Symbol.asyncIterator]: iterate,
      toArray: async () => {
        const items: ListItem[] = [];
        for await (const item of iterate()) items.push(item);
        return items;
      },
    };
  }

  /**
   * Lists one directory: MLSD, or LIST once the server refused MLSD with any `50x` (servers
   * refuse an MLSD they lack with 500, 501 or 502 alike).
   *
   * @param path The directory.
   * @param options Forced command and signal.
   * @returns Its entries.
   * @throws {ListingTooLargeError} When the listing exceeds `maxListingBytes`.
   */
  async listDirectory(path: string, options: ListOptions): Promise<ParsedListing> {
    const forced = options.rawCommand;
    if (forced !== undefined && forced !== "MLSD" && forced !== "LIST") {
      throw new TypeError(`Unknown listing command "${forced}"`);
    }
    let command: ListCommand = forced ?? this.#listCommand ?? "MLSD";
    while (true) {
      const line = path === "" ? command : `${command} ${path}`;
      let text: string;
      try {
        text = await this.#fetch(line, path, options.signal);
      } catch (error) {
        if (
          forced === undefined && command === "MLSD" && error instanceof ReplyError &&
          matchesCode(error.code, "50x")
        ) {
          this.#listCommand = command = "LIST";
          continue;
        }
        throw error;
      }
      if (forced === undefined) this.#listCommand = command;
      return parseListing(text, command, path, this.#options);
    }
  }

  /**
   * Describes one path: MLST, or the parent directory's listing once the server refused MLST
   * as unknown. Both the multi-line and the single-line MLST reply forms are accepted.
   *
   * @param path The path.
   * @param options A signal.
   * @returns The entry; its name is the path's last component.
   * @throws {ReplyError} When the path does not exist (`550`, also from the fallback).
   */
  async stat(path: string, options: CallOptions): Promise<ListEntry> {
    return await this.describe(path, options) ?? await this.#statFromParent(path, options);
  }

  /**
   * Describes one path by MLST alone: for a caller to whom a listing of the parent would cost
   * more than doing without.
   *
   * @param path The path.
   * @param options A signal.
   * @returns The entry, or `undefined` when the server does not implement MLST (asked once
   * per login).
   * @throws {ReplyError} When the path does not exist.
   */
  async describe(path: string, options: CallOptions): Promise<ListEntry | undefined> {
    if (this.#mlst === false) return undefined;
    const reply = await this.#session.exchange(
      path === "" ? "MLST" : `MLST ${path}`,
      options.signal,
    );
    if (reply.code >= 200 && reply.code < 300) {
      this.#mlst = true;
      const entry = parseMlstReply(reply);
      if (!entry) {
        throw new ProtocolError(`Cannot parse MLST reply ${JSON.stringify(replyText(reply))}`);
      }
      const name = splitRemote(entry.name).name;
      return { ...entry, name: name === "" ? entry.name : name };
    }
    if (!matchesCode(reply.code, UNSUPPORTED)) throw new ReplyError(["2xx"], reply);
    this.#mlst = false;
    return undefined;
  }

  async *#walk(path: string, options: ListOptions): AsyncGenerator<ListItem> {
    const maxDepth = this.maxRecursionDepth;
    const queue = [{ directory: path, depth: 0 }];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const { directory, depth } = queue.shift()!;
      if (depth > maxDepth) throw new DirectoryTooDeepError(directory, maxDepth);
      const listing = await this.listDirectory(directory, options);
      if (listing.unique) seen.add(listing.unique);
      for (const info of listing.entries) {
        const item = { path: joinRemote(directory, info.name), info };
        if (options.recursive && info.type === "dir" && isPlainName(info.name)) {
          const unique = info.facts.unique;
          if (unique === undefined || !seen.has(unique)) {
            if (unique !== undefined) seen.add(unique);
            queue.push({ directory: item.path, depth: depth + 1 });
          }
        }
        yield item;
      }
    }
  }

  async #fetch(line: string, path: string, signal?: AbortSignal): Promise<string> {
    const max = this.#options.maxListingBytes ?? DEFAULT_MAX_LISTING_BYTES;
    const stream = await this.#session.openStream(line, signal);
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = stream.readable.getReader();
    let tooLarge = false;
    try {
      while (!tooLarge) {
        const { value, done } = await reader.read();
        if (done) break;
        total += value.length;
        tooLarge = total > max;
        chunks.push(value);
      }
    } catch (error) {
      await stream.abort();
      throw error;
    }
    if (tooLarge) {
      await stream.abort();
      throw new ListingTooLargeError(path, max);
    }
    await stream.finish("2xx", { signal });
    return new TextDecoder("utf-8", { fatal: false }).decode(concatBytes(chunks, total));
  }

  async #statFromParent(path: string, options: CallOptions): Promise<ListEntry> {
    const { parent, name } = splitRemote(path);
    if (name === "" || name === "." || name === "..") {
      return { name: path, type: "dir", facts: {} };
    }
    const listing = await this.listDirectory(parent, { signal: options.signal });
    const entry = listing.entries.find((e) => e.name === name);
    if (!entry) {
      throw new ReplyError(["2xx"], {
        code: 550,
        lines: [`"${name}" not found in the listing of "${parent === "" ? "." : parent}"`],
      });
    }
    return entry;
  }
}
