/**
 * What the server's listings say about a path: `ls -l` lines (LIST, STAT), MLSx facts (MLSD,
 * MLST) including the RFC 3659 `perm` fact derived from the user's permissions.
 *
 * @module
 */

import type { DirEntry, FileStat, FileSystem } from "../fs/file_system.ts";
import { formatMlsxTime } from "../protocol/listing/mlsx.ts";
import { formatUnixListLine } from "../protocol/listing/unix.ts";
import type { AccessRight, Permission } from "./permission.ts";

/** The MLSx facts the server knows, in the order FEAT lists them. */
export const MLSX_FACTS: readonly string[] = ["type", "size", "modify", "perm", "unix.mode"];

/**
 * The entries a listing of `path` shows: a directory's entries, or the path itself when it is
 * not a directory (as `ls` does).
 *
 * @param fs The file system.
 * @param path An absolute virtual path that exists.
 * @param stat The path's metadata, when the caller has it (else it is looked up).
 * @returns The entries, lazily: `fs.list` itself for a directory, with no layer in between.
 */
export async function listingEntries(
  fs: FileSystem,
  path: string,
  stat?: FileStat,
): Promise<AsyncIterable<DirEntry> | Iterable<DirEntry>> {
  stat ??= await fs.stat(path);
  if (stat.type === "dir") return fs.list(path);
  return [{ name: path.slice(path.lastIndexOf("/") + 1) || "/", stat }];
}

/**
 * One `ls -l` line.
 *
 * @param entry The entry.
 * @param now The listing's time (recent dates show the time, older ones the year).
 * @returns The line without line end.
 */
export function listLine(entry: DirEntry, now: Date): string {
  const { stat } = entry;
  return formatUnixListLine({
    name: entry.name,
    type: stat.type,
    size: stat.size,
    mtime: stat.mtime,
    mode: stat.mode,
    nlink: stat.nlink,
  }, now);
}

/**
 * One MLSx line: the chosen facts and the name.
 *
 * @param name The entry name (MLSD) or path (MLST).
 * @param stat Its metadata.
 * @param permission The user's permission for the entry (for `perm`).
 * @param facts The facts to include (OPTS MLST).
 * @returns The line without line end.
 */
export function mlsxLine(
  name: string,
  stat: FileStat,
  permission: Permission | undefined,
  facts: readonly string[],
): string {
  // The facts and their values are known to be well-formed, so the line is built directly.
  let line = "";
  for (let i = 0; i < facts.length; i++) {
    const fact = facts[i];
    if (i > 0 && facts.indexOf(fact) < i) continue;
    switch (fact) {
      case "type":
        line += `type=${mlsxType(stat.type)};`;
        break;
      case "size":
        line += `size=${stat.size};`;
        break;
      case "modify":
        line += `modify=${formatMlsxTime(stat.mtime)};`;
        break;
      case "perm":
        line += `perm=${permFact(stat, permission)};`;
        break;
      case "unix.mode":
        line += `unix.mode=0${(stat.mode & 0o7777).toString(8).padStart(3, "0")};`;
        break;
    }
  }
  return `${line} ${oneLine(name)}`;
}

function mlsxType(type: FileStat["type"]): string {
  return type === "file" || type === "dir"
    ? type
    : type === "link"
    ? "OS.unix=symlink"
    : "OS.unix=other";
}

/** A name that cannot break out of its line. */
function oneLine(text: string): string {
  return text.includes("\r") || text.includes("\n") ? text.replace(/[\r\n]/g, " ") : text;
}

/**
 * RFC 3659 §7.5.5: what the user may do with the entry. Directories: `e` CWD, `l` list, `c`
 * create files, `d` RMD, `f` rename, `m` MKD, `p` delete entries; files: `r` RETR, `a` APPE,
 * `d` DELE, `f` rename, `w` STOR over it.
 */
function permFact(stat: FileStat, permission: Permission | undefined): string {
  if (!permission) return "";
  const letter = (right: AccessRight, code: string) => permission.allows(right) ? code : "";
  if (stat.type === "dir") {
    return letter("cd", "e") + letter("list", "l") + letter("write", "c") + letter("rmdir", "d") +
      letter("rename", "f") + letter("mkdir", "m") + letter("delete", "p");
  }
  return letter("read", "r") + letter("append", "a") + letter("delete", "d") +
    letter("rename", "f") + letter("overwrite", "w");
}
