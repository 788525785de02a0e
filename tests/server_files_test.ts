import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type FileSystem, LocalFileSystem, MemoryFileSystem } from "../server.ts";
import { tempDir } from "./_util.ts";
import {
  getFile,
  putFile,
  type RawControl,
  readAll,
  text,
  withSession,
  writeAll,
} from "./server_raw.ts";

const T = { timeout: 20000 };

async function session(
  fs: FileSystem,
  fn: (c: RawControl) => Promise<void>,
): Promise<void> {
  await withSession({ fileSystem: fs }, (c) => fn(c));
}

async function memory(): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem();
  await putFile(fs, "/a.txt", "abc");
  await fs.mkdir("/full");
  await putFile(fs, "/full/x", "x");
  return fs;
}

describe("server: file commands", () => {
  it("a path argument left out is 501, never the current directory", T, async () => {
    const fs = await memory();
    await session(fs, async (c) => {
      assert.equal(await c.ask("CWD full"), '250 directory changed to "/full"');
      for (const verb of ["RMD", "DELE", "MKD", "RNFR", "SIZE", "MDTM", "HASH"]) {
        assert.equal(await c.ask(verb), `501 syntax error: ${verb} needs a path`);
      }
      assert.equal(await c.ask("RNFR x"), "350 rename from accepted");
      assert.equal(await c.ask("RNTO"), "501 syntax error: RNTO needs a path");
      assert.equal(await fs.isDir("/full"), true, "a bare RMD removed the current directory");
      const mlst = await c.command("MLST");
      assert.equal(mlst.code, 250);
      assert.match(mlst.lines[1], /^ type=dir;.* \/full$/);
      assert.equal(await c.ask("CWD"), '250 directory changed to "/full"');
    });
  });

  it("MKD/XMKD answer 257 with the quoted path; RMD/XRMD, DELE", T, async () => {
    const fs = await memory();
    await session(fs, async (c) => {
      assert.equal(await c.ask("MKD new"), '257 "/new" created');
      assert.equal(await c.ask('XMKD new/q"uote'), '257 "/new/q""uote" created');
      assert.equal(await c.ask("MKD new"), "550 path already exists");
      assert.equal(await c.ask("MKD no/such/parent"), "550 path does not exist");
      assert.equal(await c.ask("RMD full"), "550 directory not empty");
      assert.equal(await c.ask('XRMD new/q"uote'), "250 directory removed");
      assert.equal(await c.ask("RMD new"), "250 directory removed");
      assert.equal(await c.ask("RMD a.txt"), "550 path is not a directory");
      assert.equal(await c.ask("RMD /"), "550 cannot remove the root directory");
      assert.equal(await c.ask("DELE full"), "550 path is not a file");
      assert.equal(await c.ask("DELE full/x"), "250 file deleted");
      assert.equal(await c.ask("DELE full/x"), "550 path does not exist");
      assert.equal(await fs.exists("/new"), false);
    });
  });

  it("RNFR/RNTO rename; RNTO without RNFR is 503", T, async () => {
    const fs = await memory();
    await session(fs, async (c) => {
      assert.equal(
        await c.ask("RNTO b.txt"),
        "503 bad sequence of commands (no filename (use RNFR firstly))",
      );
      assert.equal(await c.ask("RNFR missing"), "550 path does not exist");
      assert.equal(await c.ask("RNFR a.txt"), "350 rename from accepted");
      assert.equal(await c.ask("RNTO full"), "550 path already exists");
      assert.equal(
        await c.ask("RNTO b.txt"),
        "503 bad sequence of commands (no filename (use RNFR firstly))",
      );
      assert.equal(await c.ask("RNFR a.txt"), "350 rename from accepted");
      assert.equal(await c.ask("RNTO full/b.txt"), "250 rename successful");
      assert.equal(text(await getFile(fs, "/full/b.txt")), "abc");
    });
  });

  it("SITE CHMOD where the file system has chmod, 502 where not; SITE HELP", T, async () => {
    const fs = await memory();
    await session(fs, async (c) => {
      assert.equal(await c.ask("SITE CHMOD 600 a.txt"), "200 SITE CHMOD command successful");
      assert.match((await c.command("MLST a.txt")).lines[1], /unix\.mode=0600;/);
      assert.equal(await c.ask("SITE CHMOD 9 a.txt"), "501 syntax error, use SITE CHMOD mode path");
      assert.equal(await c.ask("SITE CHMOD 644 missing"), "550 path does not exist");
      const help = await c.command("SITE HELP");
      assert.equal(help.code, 214);
      assert.ok(help.lines.some((l) => l.startsWith(" CHMOD")));
      assert.equal(await c.ask("SITE FROB"), "500 unknown SITE command 'FROB'");
      assert.equal(await c.ask("SITE"), "501 SITE needs a subcommand (SITE HELP lists them)");
    });
    const inner = await memory();
    const withoutChmod: FileSystem = new Proxy(inner, {
      get: (target, key) => key === "chmod" ? undefined : Reflect.get(target, key).bind(target),
    });
    await session(withoutChmod, async (c) => {
      assert.equal(
        await c.ask("SITE CHMOD 600 a.txt"),
        "502 SITE CHMOD not implemented by this file system",
      );
    });
  });

  it("HASH with every algorithm; OPTS HASH selects; FEAT marks the selection", T, async () => {
    const fs = await memory();
    await session(fs, async (c) => {
      assert.equal(
        await c.ask("HASH a.txt"),
        "213 SHA-256 0-3 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad a.txt",
      );
      assert.equal(await c.ask("OPTS HASH"), "200 SHA-256");
      assert.equal(await c.ask("OPTS HASH sha-1"), "200 SHA-1");
      assert.equal(
        await c.ask("HASH a.txt"),
        "213 SHA-1 0-3 a9993e364706816aba3e25717850c26c9cd0d89d a.txt",
      );
      assert.equal(await c.ask("OPTS HASH MD5"), "200 MD5");
      assert.equal(
        await c.ask("HASH /a.txt"),
        "213 MD5 0-3 900150983cd24fb0d6963f7d28e17f72 /a.txt",
      );
      assert.equal(await c.ask("OPTS HASH CRC32"), "200 CRC32");
      assert.equal(await c.ask("HASH a.txt"), "213 CRC32 0-3 352441c2 a.txt");
      assert.ok((await c.command("FEAT")).lines.includes(" HASH SHA-256;SHA-1;MD5;CRC32*"));
      assert.equal(await c.ask("OPTS HASH FROB"), "504 unknown algorithm 'FROB'");
      assert.equal(await c.ask("HASH full"), "550 path is not a file");
      assert.equal(await c.ask("HASH missing"), "550 path does not exist");
    });
  });
});

describe("server: hostile paths on a LocalFileSystem", () => {
  let dir: { path: string; remove(): Promise<void> };
  let root: string;

  before(async () => {
    dir = await tempDir("streamftp-server-");
    root = join(dir.path, "root");
    await mkdir(join(root, "pub"), { recursive: true });
    await writeFile(join(root, "pub", "hello.txt"), "hello");
    await writeFile(join(dir.path, "secret.txt"), "secret");
    await symlink(dir.path, join(root, "escape"));
  });
  after(() => dir.remove());

  it("'..' and absolute paths stay inside the root", T, async () => {
    await session(new LocalFileSystem(root), async (c) => {
      assert.equal(await c.ask("CWD ../../.."), '250 directory changed to "/"');
      assert.equal(await c.ask("SIZE ../secret.txt"), "550 path does not exist");
      assert.equal(await c.ask("SIZE /../../secret.txt"), "550 path does not exist");
      assert.equal(await c.ask("SIZE pub/../../secret.txt"), "550 path does not exist");
      assert.equal(await c.ask("SIZE pub/hello.txt"), "213 5");
      const data = await c.pasv();
      assert.equal(await c.ask("RETR /../pub/hello.txt"), "150 data transfer started");
      assert.equal(text(await readAll(data)), "hello");
      assert.equal(await c.next(), "226 transfer done");
    });
  });

  it("a symlink out of the root is refused and nothing outside is touched", T, async () => {
    await session(new LocalFileSystem(root), async (c) => {
      for (
        const command of [
          "SIZE escape/secret.txt",
          "MDTM escape/secret.txt",
          "DELE escape/secret.txt",
          "RNFR escape/secret.txt",
          "CWD escape",
        ]
      ) {
        assert.match(await c.ask(command), /^550 /, command);
      }
      await c.pasv();
      assert.match(await c.ask("RETR escape/secret.txt"), /^550 /);
      const data = await c.pasv();
      const stor = await c.ask("STOR escape/planted.txt");
      if (stor.startsWith("150")) {
        await writeAll(data, new TextEncoder().encode("planted"));
        assert.match(await c.next(), /^(4|5)\d\d /);
      } else {
        assert.match(stor, /^5\d\d /);
        data.close();
      }
      assert.match(await c.ask("MKD escape/newdir"), /^550 /);
      assert.equal(await c.ask("NOOP"), "200 NOOP ok");
    });
    assert.equal(await readFile(join(dir.path, "secret.txt"), "utf8"), "secret");
    assert.equal(existsSync(join(dir.path, "planted.txt")), false);
    assert.equal(existsSync(join(dir.path, "newdir")), false);
  });

  it("NUL in a path is an error reply and the session lives on", T, async () => {
    await session(new LocalFileSystem(root), async (c) => {
      assert.equal(await c.ask("CWD pub\0x"), "501 invalid path");
      assert.equal(await c.ask("MKD a\0b"), "553 file name not allowed");
      assert.equal(await c.ask("DELE a\0b"), "501 invalid path");
      assert.equal(await c.ask("PWD"), '257 "/"');
    });
  });
});
