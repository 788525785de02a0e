/**
 * {@linkcode RecentStat}: the stat a session's last path check found, answering the next
 * commands about the same path. Clients ask about one file several times in a row — lftp sends
 * `SIZE`, `MDTM`, `PASV` and `RETR` for each file it fetches — and each lookup on a local disk
 * is a resolution plus a stat through the runtime's thread pool (tens of microseconds of
 * waiting each). The answers stay as fresh as a client can tell apart: a stat is reused only
 * for a short while, once per verb (a second `SIZE` looks again), only between commands that
 * change nothing, and any other command (an upload, a delete, `SITE`, a new login) drops it.
 *
 * @module
 */

import type { FileStat, FileSystem } from "../fs/file_system.ts";
import type { PathRule } from "./command_table.ts";
import type { AccessRight } from "./permission.ts";

/** How long a stat may answer later commands. */
export const RECENT_STAT_MS = 250;

/** Commands without a path rule that change no file. */
const HARMLESS_VERBS: ReadonlySet<string> = new Set([
  "PASV",
  "EPSV",
  "PORT",
  "EPRT",
  "TYPE",
  "MODE",
  "STRU",
  "REST",
  "NOOP",
]);

/** Rights that only look. */
const LOOKING: ReadonlySet<AccessRight> = new Set(["read", "list", "cd"]);

/** Whether a path rule only looks at its path (RETR, SIZE, MDTM, listings, CWD). */
function onlyLooks(rule: PathRule): boolean {
  const rights = typeof rule.access === "string" ? [rule.access] : rule.access;
  return rights.every((right) => LOOKING.has(right)) && rule.existing === undefined &&
    !rule.creating && !rule.moves;
}

/**
 * Verbs that clients send about a file right before they fetch it (lftp: SIZE, MDTM, RETR;
 * curl: SIZE, RETR; streamftp's `download`: MLST, EPSV, RETR).
 */
const BEFORE_RETRIEVING: ReadonlySet<string> = new Set(["SIZE", "MDTM", "MLST"]);

interface Entry {
  fileSystem: FileSystem;
  path: string;
  stat: FileStat;
  at: number;
  /** The verbs it answered. */
  usedBy: Set<string>;
  /** Gives up the read the file system prepared for this stat, if it was asked to. */
  dropPrepared?: () => void;
}

/** Whether a SIZE, MDTM or MLST used the entry (a RETR after one shows the pattern). */
function lookedBeforeRetrieving(entry: Entry): boolean {
  for (const verb of entry.usedBy) if (BEFORE_RETRIEVING.has(verb)) return true;
  return false;
}

/**
 * The last stat of a session's path checks.
 *
 * @example SIZE then MDTM of one file: one lookup
 * ```ts
 * import { RecentStat } from "./recent_stat.ts";
 * import { MemoryFileSystem } from "../fs/memory.ts";
 * import assert from "node:assert/strict";
 *
 * const fileSystem = new MemoryFileSystem();
 * await new Blob(["hi"]).stream().pipeTo(await fileSystem.openWrite("/a.txt"));
 * const recent = new RecentStat();
 * const rule = { access: "read", must: "file" } as const;
 * recent.commandStarting("SIZE", rule);
 * const first = await recent.stat(fileSystem, "/a.txt");
 * recent.commandStarting("MDTM", rule);
 * assert.equal(await recent.stat(fileSystem, "/a.txt"), first);
 * recent.commandStarting("DELE", { access: "delete", must: "file" });
 * assert.notEqual(await recent.stat(fileSystem, "/a.txt"), first);
 * ```
 */
export class RecentStat {
  #entry: Entry | undefined;
  #verb = "";
  #recording = false;
  /**
   * Whether the file system is told to prepare the read of a file looked up by SIZE, MDTM or
   * MLST: once a RETR of the session followed such a lookup of its file, until a prepared read
   * goes unused.
   */
  #preparing = false;

  /**
   * Tells that a command starts (SITE subcommands too): one that may change files drops the
   * stat kept.
   *
   * @param verb The command's verb, upper case.
   * @param rule Its path rule, if it has one.
   */
  commandStarting(verb: string, rule: PathRule | undefined): void {
    this.#verb = verb;
    this.#recording = rule ? onlyLooks(rule) : HARMLESS_VERBS.has(verb);
    if (!this.#recording) this.#replace(undefined);
  }

  /**
   * Tells that the command ended (its reply is out): after a SIZE, MDTM or MLST that looked up
   * a file, once the session has shown that a RETR follows them, the file system is asked to
   * prepare the file's read (`FileSystem.prepareRead`), so that the RETR finds it open.
   */
  commandEnded(): void {
    const entry = this.#entry;
    if (
      !this.#preparing || !entry || entry.dropPrepared || !BEFORE_RETRIEVING.has(this.#verb) ||
      !entry.usedBy.has(this.#verb) || entry.stat.type !== "file"
    ) return;
    entry.dropPrepared = entry.fileSystem.prepareRead?.(entry.path, entry.stat) ?? (() => {});
  }

  /** Gives up what is kept (the session ends). */
  close(): void {
    this.#replace(undefined);
  }

  /** Keeps `entry` instead of the current one, whose unused prepared read counts as a miss. */
  #replace(entry: Entry | undefined): void {
    const old = this.#entry;
    this.#entry = entry;
    if (!old?.dropPrepared) return;
    old.dropPrepared();
    if (!old.usedBy.has("RETR")) this.#preparing = false;
  }

  /**
   * The path's metadata: the kept stat when it is recent, for this path, and this verb has
   * not used it yet; else a new lookup (kept when the command only looks).
   *
   * @param fileSystem The session's file system.
   * @param path An absolute virtual path.
   * @throws What `fileSystem.stat` throws.
   */
  async stat(fileSystem: FileSystem, path: string): Promise<FileStat> {
    const entry = this.#entry;
    if (
      entry?.path === path && entry.fileSystem === fileSystem &&
      !entry.usedBy.has(this.#verb) && performance.now() - entry.at < RECENT_STAT_MS
    ) {
      if (this.#verb === "RETR" && lookedBeforeRetrieving(entry)) this.#preparing = true;
      entry.usedBy.add(this.#verb);
      return entry.stat;
    }
    const stat = await fileSystem.stat(path);
    this.#replace(
      this.#recording
        ? { fileSystem, path, stat, at: performance.now(), usedBy: new Set([this.#verb]) }
        : undefined,
    );
    return stat;
  }
}
