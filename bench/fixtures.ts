/**
 * The files the workloads move, made once per bench run in a tmpfs directory and hard-linked
 * into every server's root, with their sizes and sha256; and the checks a transfer must pass
 * (size and sha256 of every file written, every name of a listing present).
 *
 * @module
 */

import { createHash, randomFillSync } from "node:crypto";
import { chmodSync, linkSync, mkdirSync, writeFileSync } from "node:fs";
import { open, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";

/** One file of a fixture. */
export interface FileSpec {
  /** Its path relative to a root, without a leading slash (`small/s0001.bin`). */
  path: string;
  /** Its size in bytes. */
  size: number;
  /** Its sha256, hex. */
  sha256: string;
}

/** The sizes of the workloads. */
export interface Sizes {
  /** RETR and STOR of one file, MiB. */
  largeMiB: number;
  /** Small files fetched on one session. */
  smallCount: number;
  /** Their size, KiB. */
  smallKiB: number;
  /** Clients at once. */
  concClients: number;
  /** The file each of them fetches, MiB. */
  concMiB: number;
  /** Entries of the listed directory. */
  listEntries: number;
  /** connect + login + QUIT, this many times. */
  logins: number;
  /** Logged-in sessions held open at once. */
  idleSessions: number;
}

/** Every file of a run. */
export interface Fixtures {
  /** The directory holding the originals. */
  dir: string;
  /** The large file (`big.bin`), also the source of STOR. */
  large: FileSpec;
  /** The small files (`small/…`). */
  small: FileSpec[];
  /** One file per concurrent client (`conc/…`). */
  conc: FileSpec[];
  /** The listed directory's entries' names (`list/…`, empty files). */
  listNames: string[];
}

const BLOCK = 4 * 1024 * 1024;

/**
 * Writes `size` random bytes to `path`.
 *
 * @param path The file.
 * @param size Bytes.
 * @returns Their sha256.
 */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  const block = new Uint8Array(Math.min(BLOCK, Math.max(size, 1)));
  const handle = await open(path, "w", 0o644);
  try {
    for (let done = 0; done < size;) {
      const n = Math.min(block.length, size - done);
      const chunk = block.subarray(0, n);
      randomFillSync(chunk);
      hash.update(chunk);
      let written = 0;
      while (written < n) {
        written += (await handle.write(chunk, written, n - written)).bytesWritten;
      }
      done += n;
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

/**
 * The sha256 of a file.
 *
 * @param path The file.
 * @returns The hex digest.
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const handle = await open(path, "r");
  const buffer = new Uint8Array(BLOCK);
  try {
    while (true) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

/** A transfer that wrote wrong bytes, or none. */
export class CheckError extends Error {}

/**
 * Checks that `path` holds exactly the file `spec` describes.
 *
 * @param path The file written.
 * @param spec What it must be.
 * @throws {CheckError} When it is missing or its size or sha256 differ.
 */
export async function checkFile(path: string, spec: FileSpec): Promise<void> {
  const size = await stat(path).then((s) => s.size, () => -1);
  if (size < 0) throw new CheckError(`${spec.path}: not written (${path})`);
  if (size !== spec.size) {
    throw new CheckError(`${spec.path}: ${size} bytes written, ${spec.size} expected (${path})`);
  }
  // Small files are read whole; large ones streamed.
  const digest = size <= BLOCK
    ? createHash("sha256").update(await readFile(path)).digest("hex")
    : await sha256File(path);
  if (digest !== spec.sha256) throw new CheckError(`${spec.path}: wrong sha256 (${path})`);
}

/**
 * Checks a listing: every expected name present, and nothing but them (`.` and `..` aside).
 * Each non-empty line's last field is taken as a name, so both bare names (one per line) and
 * `ls -l`-style lines work.
 *
 * @param text The listing.
 * @param names The names expected.
 * @throws {CheckError} When a name is missing or extra.
 */
export function checkListing(text: string, names: string[]): void {
  const found = new Set<string>();
  for (const line of text.split("\n")) {
    const name = line.trim().split(/\s+/).at(-1);
    if (!name || name === "." || name === ".." || /^total$/.test(line.trim().split(/\s+/)[0])) {
      continue;
    }
    found.add(name);
  }
  const missing = names.filter((name) => !found.delete(name));
  if (missing.length) {
    throw new CheckError(
      `listing lacks ${missing.length} of ${names.length} names (first: ${missing[0]})`,
    );
  }
  if (found.size) throw new CheckError(`listing has ${found.size} unexpected names`);
}

/**
 * Writes and deletes a scratch file of `bytes` in the tmpfs, so that the next writer of that
 * many bytes gets recently freed pages (on this kind of VM, first-touch pages are several times
 * slower to write and are the largest noise of bulk transfers).
 *
 * @param dir A tmpfs directory.
 * @param bytes The size.
 */
export async function prewarm(dir: string, bytes: number): Promise<void> {
  const path = join(dir, "prewarm.tmp");
  const block = new Uint8Array(Math.min(BLOCK, bytes));
  const handle = await open(path, "w");
  try {
    for (let done = 0; done < bytes; done += block.length) {
      await handle.write(block, 0, Math.min(block.length, bytes - done));
    }
  } finally {
    await handle.close();
  }
  await rm(path, { force: true });
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/**
 * Makes the files of the wanted workloads under `dir`.
 *
 * @param dir A tmpfs directory.
 * @param sizes The sizes.
 * @param want Which sets to make.
 * @returns The fixtures (sets not wanted are empty).
 */
export async function makeFixtures(
  dir: string,
  sizes: Sizes,
  want: { large: boolean; small: boolean; conc: boolean; list: boolean },
): Promise<Fixtures> {
  for (const sub of ["small", "conc", "list"]) mkdirSync(join(dir, sub), { recursive: true });
  const fixtures: Fixtures = {
    dir,
    large: { path: "big.bin", size: 0, sha256: "" },
    small: [],
    conc: [],
    listNames: [],
  };
  if (want.large) {
    const size = sizes.largeMiB * 1024 * 1024;
    fixtures.large = {
      path: "big.bin",
      size,
      sha256: await writeRandomFile(join(dir, "big.bin"), size),
    };
  }
  if (want.small) {
    const size = sizes.smallKiB * 1024;
    for (let i = 0; i < sizes.smallCount; i++) {
      const path = `small/s${pad(i, 5)}.bin`;
      fixtures.small.push({ path, size, sha256: await writeRandomFile(join(dir, path), size) });
    }
  }
  if (want.conc) {
    const size = sizes.concMiB * 1024 * 1024;
    for (let i = 0; i < sizes.concClients; i++) {
      const path = `conc/c${pad(i, 3)}.bin`;
      fixtures.conc.push({ path, size, sha256: await writeRandomFile(join(dir, path), size) });
    }
  }
  if (want.list) {
    for (let i = 0; i < sizes.listEntries; i++) {
      const name = `entry-${pad(i, 6)}.txt`;
      writeFileSync(join(dir, "list", name), "");
      fixtures.listNames.push(name);
    }
  }
  return fixtures;
}

/**
 * Hard-links every fixture into a server's root (same tmpfs: no copy), as `big.bin`, `small/`,
 * `conc/` and `list/`, world-readable.
 *
 * @param fixtures The fixtures.
 * @param root The directory a server serves as its working directory.
 */
export function linkFixtures(fixtures: Fixtures, root: string): void {
  for (const sub of ["small", "conc", "list"]) {
    mkdirSync(join(root, sub), { recursive: true });
    chmodSync(join(root, sub), 0o755);
  }
  const files = [
    ...(fixtures.large.size ? [fixtures.large.path] : []),
    ...fixtures.small.map((f) => f.path),
    ...fixtures.conc.map((f) => f.path),
    ...fixtures.listNames.map((name) => `list/${name}`),
  ];
  for (const path of files) linkSync(join(fixtures.dir, path), join(root, path));
}
