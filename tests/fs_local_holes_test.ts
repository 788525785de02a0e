/**
 * Holes of the security review (issue 9) closed in `LocalFileSystem`: links resolved to their
 * virtual target (`realPath`), links that a rename would turn outward, modes changed through
 * links, Windows separators and drive marks in names, lookups that fail counted as absent,
 * and exclusive creates. Each test fails on the code before the fix.
 */

import assert from "node:assert/strict";
import {
  chmod,
  lstat,
  mkdir,
  readFile,
  readlink,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join, posix, win32 } from "node:path";
import { after, before, describe, it } from "node:test";
import { PathError } from "../lib/errors.ts";
import type { LocalFileSystem } from "../lib/fs/local.ts";
import type { LocalFileAccess } from "../lib/fs/local_file_access.ts";
import { LocalRoot } from "../lib/fs/local_path.ts";
import { nodeFileAccess } from "../lib/fs/node_file_access.ts";
import { localFileSystemWith, localVariants } from "./_fs_variants.ts";
import { tempDir } from "./_util.ts";

const encoder = new TextEncoder();

async function rejectsKind(promise: Promise<unknown>, kind: string) {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof PathError, `expected PathError, got ${e}`);
    assert.equal(e.kind, kind);
    return true;
  });
}

async function write(fs: LocalFileSystem, path: string, data: string, options = {}) {
  const writer = (await fs.openWrite(path, options)).getWriter();
  await writer.write(encoder.encode(data));
  await writer.close();
}

type Dir = { path: string; remove(): Promise<void> };

for (const variant of localVariants) {
  describe(`LocalFileSystem holes (${variant.name})`, () => {
    let root: Dir;
    let outside: Dir;
    let fs: LocalFileSystem;
    const at = (...names: string[]) => join(root.path, ...names);
    before(async () => {
      root = await tempDir("streamftp-holes-");
      outside = await tempDir("streamftp-holes-outside-");
      await writeFile(join(outside.path, "secret"), "secret");
      await mkdir(at("pub", "deep"), { recursive: true });
      await mkdir(at("ro"));
      await writeFile(at("ro", "keep.txt"), "keep");
      await symlink("../ro", at("pub", "toro"));
      await symlink(outside.path, at("escape"));
      fs = localFileSystemWith(variant.access, root.path, { syncLookups: variant.syncLookups });
    });
    after(async () => {
      await root.remove();
      await outside.remove();
    });

    it("realPath maps a link inside the root to its target's virtual path", async () => {
      assert.equal(await fs.realPath("/pub/toro"), "/ro");
      assert.equal(await fs.realPath("/pub/toro/keep.txt"), "/ro/keep.txt");
      assert.equal(await fs.realPath("/pub/toro/new/file"), "/ro/new/file");
      assert.equal(await fs.realPath("pub/./deep/.."), "/pub");
      await rejectsKind(fs.realPath("/escape/secret"), "permission-denied");
      await rejectsKind(fs.realPath("/escape/none"), "permission-denied");
    });

    it("refuses to rename a relative link to where it would lead out of the root", async () => {
      // "../ro" from /pub is /ro; from / it would be the root's parent's "ro".
      await rejectsKind(fs.rename("/pub/toro", "/toro"), "permission-denied");
      assert.equal(await readlink(at("pub", "toro")), "../ro", "the link was moved");
      await symlink("../../x", at("pub", "deep", "up2"));
      await rejectsKind(fs.rename("/pub/deep/up2", "/pub/up2"), "permission-denied");
      // A dangling link too: a create through it would land outside.
      await symlink("../../../nowhere", at("pub", "deep", "dangling"));
      await rejectsKind(fs.rename("/pub/deep/dangling", "/dangling"), "permission-denied");
    });

    it("renames links that still lead inside the root from their new place", async () => {
      await mkdir(at("a", "b"), { recursive: true });
      await symlink("../../ro", at("a", "b", "same"));
      await fs.rename("/a/b/same", "/a/b/same2");
      assert.equal(await readlink(at("a", "b", "same2")), "../../ro");
      await symlink(at("ro", "keep.txt"), at("a", "absolute"));
      await fs.rename("/a/absolute", "/absolute");
      assert.equal((await lstat(at("absolute"))).isSymbolicLink(), true);
      await symlink("missing-inside", at("a", "b", "dangles-inside"));
      await fs.rename("/a/b/dangles-inside", "/a/b/still-inside");
    });

    it("changes a mode through a handle: a link is refused and its target kept", async () => {
      await chmod(at("ro", "keep.txt"), 0o644);
      await symlink("keep.txt", at("ro", "link"));
      await rejectsKind(fs.chmod("/ro/link", 0o777), "permission-denied");
      assert.equal((await stat(at("ro", "keep.txt"))).mode & 0o7777, 0o644);
      await fs.chmod("/ro/keep.txt", 0o600);
      assert.equal((await stat(at("ro", "keep.txt"))).mode & 0o7777, 0o600);
      await fs.chmod("/pub", 0o755);
      assert.equal((await stat(at("pub"))).mode & 0o7777, 0o755);
    });

    it("an exclusive create never opens what is there, a link included", async () => {
      await write(fs, "/pub/unique", "first", { createNew: true });
      const attempts = await Promise.allSettled(
        Array.from({ length: 8 }, () => write(fs, "/pub/race", "mine", { createNew: true })),
      );
      assert.equal(attempts.filter((a) => a.status === "fulfilled").length, 1);
      for (const attempt of attempts) {
        if (attempt.status === "rejected") {
          assert.ok(attempt.reason instanceof PathError && attempt.reason.kind === "exists");
        }
      }
      await rejectsKind(write(fs, "/pub/unique", "second", { createNew: true }), "exists");
      await rejectsKind(write(fs, "/pub/toro/keep.txt", "x", { createNew: true }), "exists");
      assert.equal(await readFile(at("pub", "unique"), "utf8"), "first");
      assert.equal(await readFile(at("ro", "keep.txt"), "utf8"), "keep");
    });
  });
}

describe("LocalRoot on Windows rules (path.win32)", () => {
  const root = new LocalRoot("C:\\srv\\ftp", win32);

  it('refuses "\\" and ":" in names, which Windows reads as a separator and a drive', () => {
    for (const virtual of ["/..\\..\\x", "/pub/..\\..\\..\\x", "/C:x", "/pub/file.txt:stream"]) {
      assert.throws(() => root.toLocal(virtual), (e: unknown) => {
        return e instanceof PathError && e.kind === "invalid-path";
      }, virtual);
    }
    assert.equal(root.toLocal("/pub/a.txt"), "C:\\srv\\ftp\\pub\\a.txt");
    assert.equal(root.toLocal("/"), "C:\\srv\\ftp");
  });

  it("checks containment after the last join", () => {
    assert.equal(root.joinInside("C:\\srv\\ftp\\pub", ["..\\..\\x"]), undefined);
    assert.equal(root.joinInside("C:\\srv\\ftp", ["..", "ftp2"]), undefined);
    assert.equal(root.joinInside("C:\\srv\\ftp\\pub", ["new.txt"]), "C:\\srv\\ftp\\pub\\new.txt");
    assert.equal(root.contains("C:\\srv\\ftp2"), false);
    assert.equal(root.contains("D:\\srv\\ftp\\x"), false);
    assert.equal(root.contains("c:\\SRV\\ftp\\x"), true);
    assert.equal(root.toVirtual("C:\\srv\\ftp\\pub\\a.txt"), "/pub/a.txt");
  });

  it("leaves such names alone on POSIX, where they are plain characters", () => {
    const posixRoot = new LocalRoot("/srv/ftp", posix);
    assert.equal(posixRoot.toLocal("/..\\..\\x"), "/srv/ftp/..\\..\\x");
    assert.equal(posixRoot.toLocal("/C:x"), "/srv/ftp/C:x");
    assert.equal(posixRoot.contains("/srv/ftp2"), false);
    assert.equal(posixRoot.toVirtual("/srv/ftp/a/b"), "/a/b");
  });
});

describe("LocalFileSystem: a lookup that fails is not an absent path", () => {
  let root: Dir;
  let fs: LocalFileSystem;
  before(async () => {
    root = await tempDir("streamftp-denied-");
    const locked = join(root.path, "locked");
    const denied = (path: string) => path === locked || path.startsWith(locked + "/");
    const eacces = (path: string) =>
      Object.assign(new Error(`EACCES: permission denied, '${path}'`), { code: "EACCES" });
    // What a directory the server may not search looks like (tests may run as root, for whom
    // no permission bit denies anything): realpath finds nothing, lstat is refused.
    const access: LocalFileAccess = {
      ...nodeFileAccess,
      realpath: (path) =>
        denied(path)
          ? Promise.reject(Object.assign(new Error("ENOENT"), { code: "ENOENT" }))
          : nodeFileAccess.realpath(path),
      lstat: (path) => denied(path) ? Promise.reject(eacces(path)) : nodeFileAccess.lstat(path),
      withSyncLookups: () => access,
    };
    fs = localFileSystemWith(access, root.path);
  });
  after(() => root.remove());

  it("fails with permission-denied where a pre-check cannot see", async () => {
    await rejectsKind(fs.stat("/locked"), "permission-denied");
    await rejectsKind(fs.stat("/locked/file"), "permission-denied");
    await rejectsKind(fs.exists("/locked/file"), "permission-denied");
    await rejectsKind(write(fs, "/locked/file", "x"), "permission-denied");
    await rejectsKind(fs.mkdir("/locked/dir"), "permission-denied");
    await rejectsKind(fs.realPath("/locked/file"), "permission-denied");
  });
});
