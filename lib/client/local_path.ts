/**
 * The client's local paths joined and split without `node:path`, whose loading costs a Deno
 * process about 10 ms of start-up. The names joined onto a path are single components (a
 * listing's names, checked by `isPlainName` before they get here), so joining is putting a
 * separator between them; the caller's own part is kept as written. Windows accepts `\` and
 * `/` as separators and joins with `\`, as `node:path` does there.
 *
 * @module
 */

const windows = runsOnWindows();

function runsOnWindows(): boolean {
  const global = globalThis as unknown as {
    Deno?: { build: { os: string } };
    process?: { platform?: string };
  };
  // Not `globalThis.process` in Deno: its first read loads node:process (about 10 ms).
  return global.Deno ? global.Deno.build.os === "windows" : global.process?.platform === "win32";
}

/** The separator local paths are joined with: `\` on Windows, `/` elsewhere. */
const SEPARATOR = windows ? "\\" : "/";

function isSeparator(char: string | undefined): boolean {
  return char === "/" || (windows && char === "\\");
}

/**
 * Joins single-component names onto a local path.
 *
 * @example
 * ```ts
 * import { joinLocal } from "./local_path.ts";
 * import assert from "node:assert/strict";
 *
 * if (!("Deno" in globalThis && Deno.build.os === "windows")) {
 *   assert.equal(joinLocal("/tmp/out", "site", "index.html"), "/tmp/out/site/index.html");
 *   assert.equal(joinLocal("/tmp/out/", "a.txt"), "/tmp/out/a.txt");
 *   assert.equal(joinLocal("", "a.txt"), "a.txt");
 * }
 * ```
 *
 * @param base The path to join onto, as the caller wrote it.
 * @param names Names without separators.
 * @returns The joined path (`.` when everything is empty).
 */
export function joinLocal(base: string, ...names: string[]): string {
  let path = base;
  for (const name of names) {
    if (name === "") continue;
    path = path === "" || isSeparator(path[path.length - 1])
      ? path + name
      : path + SEPARATOR + name;
  }
  return path === "" ? "." : path;
}

/** The index just past the path's last character that is not a trailing separator. */
function endWithoutSeparators(path: string): number {
  let end = path.length;
  while (end > 1 && isSeparator(path[end - 1])) end--;
  return end;
}

/** The index of the separator before the path's last component, or -1. */
function lastSeparator(path: string, end: number): number {
  let at = end - 1;
  while (at >= 0 && !isSeparator(path[at])) at--;
  return at;
}

/**
 * The directory a local path is in.
 *
 * @example
 * ```ts
 * import { localParent } from "./local_path.ts";
 * import assert from "node:assert/strict";
 *
 * if (!("Deno" in globalThis && Deno.build.os === "windows")) {
 *   assert.equal(localParent("/tmp/out/a.txt"), "/tmp/out");
 *   assert.equal(localParent("/a.txt"), "/");
 *   assert.equal(localParent("a.txt"), ".");
 * }
 * ```
 *
 * @param path The path.
 * @returns Its parent directory: `.` for a bare name, the root for a path just below it.
 */
export function localParent(path: string): string {
  const end = endWithoutSeparators(path);
  const cut = lastSeparator(path, end);
  if (cut < 0) return windows && /^[A-Za-z]:/.test(path) ? path.slice(0, 2) : ".";
  let start = cut;
  while (start > 0 && isSeparator(path[start - 1])) start--;
  if (start === 0) return path[0];
  const parent = path.slice(0, start);
  return windows && /^[A-Za-z]:$/.test(parent) ? parent + SEPARATOR : parent;
}

/**
 * The last component of a local path.
 *
 * @example
 * ```ts
 * import { localBaseName } from "./local_path.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(localBaseName("/tmp/out/a.txt"), "a.txt");
 * assert.equal(localBaseName("/tmp/out/"), "out");
 * assert.equal(localBaseName("a.txt"), "a.txt");
 * ```
 *
 * @param path The path.
 * @returns Its last component, trailing separators left out (empty for a root).
 */
export function localBaseName(path: string): string {
  const end = endWithoutSeparators(path);
  const name = path.slice(lastSeparator(path, end) + 1, end);
  return isSeparator(name) ? "" : name;
}
