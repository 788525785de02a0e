/**
 * Directory listings made on a background thread. A worker (`node:worker_threads`, which Deno,
 * Bun and Node all have) reads the directory and looks up each entry with the blocking calls,
 * which cost a few microseconds each, where an asynchronous call costs tens: its hand-off to
 * the runtime's thread pool and back, not the lookup itself. Measured on a 2-core VM, 10,000
 * `lstat`s take 33 ms in Deno, 21 in Bun and 28 in Node this way, against 130–260 ms of CPU
 * as promises in batches (Deno); a whole LIST of 10,000 entries (lftp, start-up included) went
 * from 0.22 to 0.09 s in Deno, 0.09 to 0.06 s in Bun and 0.16 to 0.06 s in Node. The event
 * loop never waits on the disk: a slow or hung file system holds up the listings of its worker,
 * not the other sessions.
 *
 * Workers are shared by every local file system of the process. The first starts at the first
 * listing (15–40 ms, and 10–20 MiB of memory while it lives). A worker sends each listing's
 * batches ahead of its consumer, two at most, so that the next one is ready when it is taken.
 * A worker on which a listing has waited for a batch longer than {@linkcode STUCK_MS} gets no
 * new listings: another is started, up to {@linkcode MAX_WORKERS}, after which listings fall
 * back to asynchronous calls on the event loop, as they do where no worker can be started. An
 * idle worker does not keep the process alive.
 *
 * @module
 */

import type { Worker } from "node:worker_threads";
import type { FileStat, FileType } from "./file_system.ts";
import type { LocalListedEntry } from "./local_file_access.ts";

/** Whose blocking calls a worker makes: Deno's own, or `node:fs` (any runtime). */
export type ListingCalls = "deno" | "node";

/** Options of {@linkcode listInWorker}. */
export interface ListInWorkerOptions {
  /** Entries per batch. */
  batchSize: number;
  /** The listing to make instead when no worker can make it (none starts, or all are stuck). */
  fallback(): AsyncIterable<LocalListedEntry[]>;
}

/** How long a listing may wait for a worker's batch before new listings go elsewhere. */
export const STUCK_MS = 2000;
/** Most workers of one kind at once (more than one only after a worker got stuck). */
export const MAX_WORKERS = 4;
/** Workers that may fail to start (or die) before listings stop trying them. */
const MAX_FAILURES = 3;
/**
 * The young generation of a worker's heap, in MiB. Left to V8, it grows to its maximum under a
 * listing's many short-lived lookups and stays there: a worker that made forty listings of
 * 10,000 entries held 100 MiB more in Deno (Node 49), 65 with this cap (Node 25), and listed as
 * fast (a cap of 2 made Deno 20% slower). Bun's workers stay small either way.
 */
const YOUNG_GENERATION_MB = 4;
/**
 * The worker's command-line flags where the parent's must not pass to it: Node starts an eval
 * worker with the parent's flags, and after `--input-type=module` (a `node -e` script as a
 * module) it would run the worker's CommonJS as a module, where `require` is missing.
 */
function workerArgv(): { execArgv?: string[] } {
  const argv: string[] = (globalThis as { process?: { execArgv?: string[] } }).process?.execArgv ??
    [];
  const kept = argv.filter((arg, i) =>
    !arg.startsWith("--input-type") && argv[i - 1] !== "--input-type"
  );
  return kept.length === argv.length ? {} : { execArgv: kept };
}

/** Numbers per entry: type, size, mtime, ctime (NaN: unknown), mode, links. */
const FIELDS = 6;
const TYPES: readonly FileType[] = ["file", "dir", "link", "other"];

/**
 * The worker's code (plain JavaScript, CommonJS as `eval` workers run it everywhere). For each
 * listing it holds an open directory; each request reads up to `count` names, looks each up
 * (an entry that vanished is left out), and answers with the names, their numbers and, for
 * links that resolve, the canonical target and its numbers.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const { sep } = require("node:path");
const D = workerData === "deno" ? globalThis.Deno : undefined;
const FIELDS = ${FIELDS};
const listings = new Map();

function put(out, at, s) {
  let type;
  if (D) {
    type = s.isFile ? 0 : s.isDirectory ? 1 : s.isSymlink ? 2 : 3;
    const changed = s.ctime ?? s.birthtime;
    out[at + 2] = s.mtime ? s.mtime.getTime() : 0;
    out[at + 3] = changed ? changed.getTime() : NaN;
    out[at + 4] = (s.mode ?? (type === 1 ? 0o755 : 0o644)) & 0o7777;
    out[at + 5] = s.nlink ?? 1;
  } else {
    type = s.isFile() ? 0 : s.isDirectory() ? 1 : s.isSymbolicLink() ? 2 : 3;
    // The Dates, not mtimeMs: node:fs rounds the float into them, and stat() must agree.
    out[at + 2] = s.mtime.getTime();
    out[at + 3] = s.ctime.getTime();
    out[at + 4] = s.mode & 0o7777;
    out[at + 5] = s.nlink;
  }
  out[at] = type;
  out[at + 1] = type === 1 ? 0 : s.size;
}

function lstat(path) {
  try {
    return D ? D.lstatSync(path) : fs.lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function target(path) {
  try {
    const real = D ? D.realPathSync(path) : fs.realpathSync.native(path);
    const out = new Float64Array(FIELDS);
    put(out, 0, D ? D.statSync(real) : fs.statSync(real));
    return [real, ...out];
  } catch {
    return undefined;
  }
}

function openDir(path) {
  if (D) {
    const names = D.readDirSync(path)[Symbol.iterator]();
    return {
      read() {
        const next = names.next();
        return next.done ? null : next.value.name;
      },
      close() {
        names.return?.();
      },
    };
  }
  const dir = fs.opendirSync(path, { bufferSize: 256 });
  return {
    read() {
      const entry = dir.readSync();
      return entry === null ? null : entry.name;
    },
    close() {
      dir.closeSync();
    },
  };
}

function batch(id, listing, count) {
  const names = [];
  const info = new Float64Array(count * FIELDS);
  const links = [];
  let done = false;
  while (names.length < count) {
    const name = listing.dir.read();
    if (name === null) {
      done = true;
      break;
    }
    const full = listing.prefix + name;
    const found = lstat(full);
    if (!found) continue;
    const at = names.length * FIELDS;
    put(info, at, found);
    if (info[at] === 2) {
      const resolved = target(full);
      if (resolved) links.push([names.length, ...resolved]);
    }
    names.push(name);
  }
  return { id, names, info, links, done };
}

function close(id) {
  const listing = listings.get(id);
  listings.delete(id);
  try {
    listing?.dir.close();
  } catch {
    // Already closed.
  }
}

// Sends as many batches as the listing has credit for (the consumer grants one per batch it
// takes), so that the next batch is ready when the consumer wants it.
function send(id) {
  const listing = listings.get(id);
  try {
    while (listing && listing.credit > 0) {
      listing.credit--;
      const reply = batch(id, listing, listing.count);
      if (reply.done) close(id);
      parentPort.postMessage(reply, [reply.info.buffer]);
      if (reply.done) return;
    }
  } catch (error) {
    close(id);
    parentPort.postMessage({ id, error: { code: error?.code, message: String(error?.message ?? error) } });
  }
}

parentPort.on("message", (request) => {
  const { id } = request;
  if (request.op === "close") return close(id);
  if (request.op === "open") {
    try {
      const prefix = request.path.endsWith(sep) ? request.path : request.path + sep;
      const dir = openDir(request.path);
      listings.set(id, { dir, prefix, count: request.count, credit: request.credit });
    } catch (error) {
      parentPort.postMessage({ id, error: { code: error?.code, message: String(error?.message ?? error) } });
      return;
    }
  } else {
    const listing = listings.get(id);
    if (!listing) return;
    listing.credit++;
  }
  send(id);
});
`;

/** One batch as the worker sends it. */
interface BatchReply {
  id: number;
  names: string[];
  info: Float64Array;
  /** `[index, canonical path, ...numbers]` for each link that resolves. */
  links: [number, string, ...number[]][];
  done: boolean;
}

/** A failed listing as the worker sends it: the failure of the call, with its code. */
interface FailureReply {
  id: number;
  error: { code?: string; message: string };
}

/** The worker itself failed (it could not start, or it died). */
class WorkerFailure extends Error {
  constructor(cause: unknown) {
    super("The listing worker failed", { cause });
    this.name = "WorkerFailure";
  }
}

type Reply = BatchReply | FailureReply;

/** One listing on a worker: the batches it sent and the consumer's wait for the next. */
class WorkerListing {
  readonly id: number;
  readonly #thread: ListingThread;
  readonly #replies: Reply[] = [];
  #waiter: { resolve(reply: Reply): void; reject(error: unknown): void } | undefined;
  #failure: unknown;
  /** When the consumer started waiting for a batch that has not come yet. */
  waitingSince: number | undefined;

  constructor(thread: ListingThread, id: number) {
    this.#thread = thread;
    this.id = id;
  }

  /** The next batch (or failure), as the worker sent it. */
  next(): Promise<Reply> {
    const reply = this.#replies.shift();
    if (reply) return Promise.resolve(reply);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    this.waitingSince = performance.now();
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  /** Lets the worker send one more batch. */
  more(): void {
    this.#thread.post({ op: "more", id: this.id });
  }

  /** Stops the listing before its end: the worker closes the directory. */
  abandon(): void {
    this.#thread.end(this.id, true);
  }

  /** A batch or failure from the worker. */
  receive(reply: Reply): void {
    this.waitingSince = undefined;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter) waiter.resolve(reply);
    else this.#replies.push(reply);
  }

  /** The worker died. */
  fail(error: unknown): void {
    this.#failure = error;
    this.waitingSince = undefined;
    this.#waiter?.reject(error);
    this.#waiter = undefined;
  }
}

/** Batches a worker sends per listing before the consumer takes the first. */
const CREDIT = 2;

/** One worker and its listings. */
class ListingThread {
  readonly #worker: Worker;
  readonly #listings = new Map<number, WorkerListing>();
  #failure: WorkerFailure | undefined;

  constructor(calls: ListingCalls, WorkerThread: typeof Worker) {
    this.#worker = new WorkerThread(WORKER_SOURCE, {
      eval: true,
      workerData: calls,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
      ...workerArgv(),
    });
    this.#worker.unref();
    this.#worker.on("message", (reply: Reply) => this.#receive(reply));
    this.#worker.on("error", (error: unknown) => this.#fail(error));
    this.#worker.on("exit", (code: number) => this.#fail(new Error(`Exited with code ${code}`)));
  }

  /** Whether the worker died. */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Whether a listing has waited for a batch for longer than {@linkcode STUCK_MS}. */
  get stuck(): boolean {
    const now = performance.now();
    for (const listing of this.#listings.values()) {
      if (listing.waitingSince !== undefined && now - listing.waitingSince > STUCK_MS) return true;
    }
    return false;
  }

  /** Starts a listing; the process stays alive until it ends. */
  open(path: string, count: number): WorkerListing {
    const listing = new WorkerListing(this, ++lastId);
    if (this.#failure) {
      listing.fail(this.#failure);
      return listing;
    }
    if (this.#listings.size === 0) this.#worker.ref();
    this.#listings.set(listing.id, listing);
    this.post({ op: "open", id: listing.id, path, count, credit: CREDIT });
    return listing;
  }

  /** Sends a message to the worker. */
  post(message: { op: string; id: number; path?: string; count?: number; credit?: number }) {
    if (!this.#failure) this.#worker.postMessage(message);
  }

  /** Forgets a listing (telling the worker to close it when it ends early). */
  end(id: number, early: boolean): void {
    if (!this.#listings.delete(id)) return;
    if (early) this.post({ op: "close", id });
    if (this.#listings.size === 0) this.#worker.unref();
  }

  #receive(reply: Reply): void {
    const listing = this.#listings.get(reply.id);
    if (!listing) return;
    if ("error" in reply || reply.done) this.end(reply.id, false);
    listing.receive(reply);
  }

  #fail(error: unknown): void {
    if (this.#failure) return;
    this.#failure = new WorkerFailure(error);
    failures++;
    for (const listing of this.#listings.values()) listing.fail(this.#failure);
    this.#listings.clear();
    this.#worker.unref();
    void this.#worker.terminate();
  }
}

const workers: Record<ListingCalls, ListingThread[]> = { deno: [], node: [] };
let failures = 0;
let lastId = 0;

/**
 * `node:worker_threads`, loaded at the first listing rather than with this module: a client
 * never lists a local directory, and loading it costs 5 ms of start-up in Bun.
 */
let workerThreads: Promise<typeof Worker | undefined> | undefined;

function loadWorkerClass(): Promise<typeof Worker | undefined> {
  return workerThreads ??= import("node:worker_threads").then(
    (threads) => threads.Worker,
    () => undefined,
  );
}

/** A worker that is not stuck, started when none is and the limits allow. */
function workerFor(calls: ListingCalls, WorkerThread: typeof Worker): ListingThread | undefined {
  const pool = workers[calls];
  for (let i = pool.length - 1; i >= 0; i--) if (pool[i].failed) pool.splice(i, 1);
  const free = pool.find((thread) => !thread.stuck);
  if (free || pool.length >= MAX_WORKERS || failures >= MAX_FAILURES) return free;
  try {
    const thread = new ListingThread(calls, WorkerThread);
    pool.push(thread);
    return thread;
  } catch {
    failures++;
    return undefined;
  }
}

function statOf(numbers: ArrayLike<number>, at: number): FileStat {
  const ctime = numbers[at + 3];
  return {
    type: TYPES[numbers[at]],
    size: numbers[at + 1],
    mtime: new Date(numbers[at + 2]),
    ctime: Number.isNaN(ctime) ? undefined : new Date(ctime),
    mode: numbers[at + 4],
    nlink: numbers[at + 5],
  };
}

function entriesOf(reply: BatchReply): LocalListedEntry[] {
  const entries: LocalListedEntry[] = reply.names.map((name, i) => ({
    name,
    stat: statOf(reply.info, i * FIELDS),
  }));
  for (const [index, path, ...numbers] of reply.links) {
    entries[index].target = { path, stat: statOf(numbers as number[], 0) };
  }
  return entries;
}

function callError(error: FailureReply["error"]): Error {
  return Object.assign(new Error(error.message), error.code ? { code: error.code } : {});
}

/**
 * Lists a directory on a worker, up to two batches ahead of the consumer; stopping early
 * closes the directory. When no worker can take the listing, or the worker dies before its first
 * batch, the fallback makes it.
 *
 * @example
 * ```ts
 * import { listInWorker } from "./listing_worker.ts";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "list-"));
 * try {
 *   await writeFile(join(dir, "a.txt"), "hello");
 *   const batches = listInWorker("node", dir, {
 *     batchSize: 100,
 *     fallback: () => assert.fail("a worker lists it"),
 *   });
 *   const [[entry]] = await Array.fromAsync(batches);
 *   assert.equal(entry.name, "a.txt");
 *   assert.equal(entry.stat.size, 5);
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param calls Whose blocking calls the worker makes.
 * @param path The directory's real local path.
 * @param options Entries per batch, and the fallback.
 * @returns The entries in batches; a failed call rejects with its error (and `code`).
 */
export async function* listInWorker(
  calls: ListingCalls,
  path: string,
  options: ListInWorkerOptions,
): AsyncIterable<LocalListedEntry[]> {
  const WorkerThread = await loadWorkerClass();
  const thread = WorkerThread && workerFor(calls, WorkerThread);
  if (!thread) {
    yield* options.fallback();
    return;
  }
  const listing = thread.open(path, options.batchSize);
  let first = true;
  let finished = false;
  try {
    while (!finished) {
      let reply: Reply;
      try {
        reply = await listing.next();
      } catch (error) {
        finished = true;
        if (!first || !(error instanceof WorkerFailure)) throw error;
        yield* options.fallback();
        return;
      }
      first = false;
      if ("error" in reply) {
        finished = true;
        throw callError(reply.error);
      }
      finished = reply.done;
      if (!finished) listing.more();
      if (reply.names.length > 0) yield entriesOf(reply);
    }
  } finally {
    if (!finished) listing.abandon();
  }
}
