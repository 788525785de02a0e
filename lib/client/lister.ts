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
import { type DataStream, readChunks } from "./data_stream.ts";
import { DirectoryTooDeepError, ListingTooLargeError } from "./errors.ts";
import {
  type ListCommand,
  ListingParser,
  type ListParseOptions,
  type ParsedListing,
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
    const iterate = () =>
      new ListingWalk(path, (directory) => this.#readListing(directory, options), {
        recursive: options.recursive ?? false,
        maxDepth: this.maxRecursionDepth,
      });
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
    return (await this.#readListing(path, options)).rest();
  }

  /** Fetches a directory's listing (see `listDirectory`); its lines are parsed as asked for. */
  async #readListing(path: string, options: ListOptions): Promise<ListingParser> {
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
      return new ListingParser(text, command, path, this.#options);
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

  async #fetch(line: string, path: string, signal?: AbortSignal): Promise<string> {
    const max = this.#options.maxListingBytes ?? DEFAULT_MAX_LISTING_BYTES;
    const stream = await this.#session.openStream(line, signal);
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = readChunks(stream);
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

/** A directory waiting in a walk, with its `unique` fact when the entry naming it had one. */
interface QueuedDirectory {
  directory: string;
  depth: number;
  unique?: string;
}

const WALK_DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

/**
 * A listing walked breadth first, each directory fetched whole and its entries then parsed one
 * by one as they are asked for: a big directory's entries do not all stay alive at once (which
 * makes every garbage collection on the way slower). An iterator of its own rather than an async
 * generator: an entry of a directory already fetched is handed out at once, without the
 * generator's suspension and resumption per entry. A directory is entered once per `unique`
 * fact, known from the entry naming it or from a listing's own `cdir` line.
 */
class ListingWalk implements AsyncIterableIterator<ListItem> {
  readonly #read: (directory: string) => Promise<ListingParser>;
  readonly #recursive: boolean;
  readonly #maxDepth: number;
  readonly #queue: QueuedDirectory[];
  readonly #seen = new Set<string>();
  #listing: ListingParser | undefined;
  #directory = "";
  #depth = 0;
  #fetching: Promise<IteratorResult<ListItem>> | undefined;
  #done = false;

  constructor(
    path: string,
    read: (directory: string) => Promise<ListingParser>,
    options: { recursive: boolean; maxDepth: number },
  ) {
    this.#read = read;
    this.#recursive = options.recursive;
    this.#maxDepth = options.maxDepth;
    this.#queue = [{ directory: path, depth: 0 }];
  }

  next(): Promise<IteratorResult<ListItem>> {
    // One step at a time, as a generator would: a call made meanwhile waits for the fetch.
    if (this.#fetching) return this.#fetching.then(() => this.next(), () => this.next());
    const item = this.#take();
    if (item) return Promise.resolve({ value: item, done: false });
    if (this.#done) return Promise.resolve(WALK_DONE);
    const fetching = this.#fetchNext();
    this.#fetching = fetching;
    fetching.then(() => this.#fetching = undefined, () => this.#fetching = undefined);
    return fetching;
  }

  return(): Promise<IteratorResult<ListItem>> {
    this.#finish();
    return Promise.resolve(WALK_DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ListItem> {
    return this;
  }

  /** The next entry of the directory being read, or `undefined` at its end. */
  #take(): ListItem | undefined {
    const listing = this.#listing;
    if (listing === undefined) return undefined;
    const info = listing.next();
    if (info === undefined) {
      if (listing.unique !== undefined) this.#seen.add(listing.unique);
      this.#listing = undefined;
      return undefined;
    }
    const item = { path: joinRemote(this.#directory, info.name), info };
    if (this.#recursive && info.type === "dir" && isPlainName(info.name)) {
      this.#queue.push({ directory: item.path, depth: this.#depth + 1, unique: info.facts.unique });
    }
    return item;
  }

  async #fetchNext(): Promise<IteratorResult<ListItem>> {
    try {
      while (true) {
        const next = this.#queue.shift();
        if (next === undefined) {
          this.#finish();
          return WALK_DONE;
        }
        if (next.unique !== undefined) {
          if (this.#seen.has(next.unique)) continue;
          this.#seen.add(next.unique);
        }
        if (next.depth > this.#maxDepth) {
          throw new DirectoryTooDeepError(next.directory, this.#maxDepth);
        }
        const listing = await this.#read(next.directory);
        // Given up on meanwhile (`return()`).
        if (this.#done) return WALK_DONE;
        this.#listing = listing;
        this.#directory = next.directory;
        this.#depth = next.depth;
        const item = this.#take();
        if (item) return { value: item, done: false };
      }
    } catch (error) {
      this.#finish();
      throw error;
    }
  }

  #finish(): void {
    this.#done = true;
    this.#listing = undefined;
    this.#queue.length = 0;
  }
}
