import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type AccessRight,
  type FileSystem,
  LocalFileSystem,
  MemoryFileSystem,
  Permission,
  type PermissionOptions,
  User,
} from "../server.ts";
import { tempDir } from "./_util.ts";
import { getFile, putFile, RawControl, readAll, text, withServer, writeAll } from "./server_raw.ts";

const T = { timeout: 30000 };
const DENIED = /^550 permission denied/;

/** Runs `fn` with user `u` (password `p`) logged in on a server over `fs`. */
async function asUser(
  fs: FileSystem,
  permissions: Permission[],
  fn: (c: RawControl) => Promise<void>,
): Promise<void> {
  const user = new User({ login: "u", password: "p", permissions });
  await withServer({ fileSystem: fs, users: [user] }, async (server) => {
    const c = await RawControl.connect(server.address);
    try {
      await c.login("u", "p");
      await fn(c);
    } finally {
      c.close();
    }
  });
}

/** What {@linkcode transfer} saw. */
interface TransferResult {
  /** The command's first reply. */
  reply: string;
  /** The data read (downloads and listings that started). */
  data?: string;
  /** The reply that ended the transfer, when it started. */
  final?: string;
  /** The final reply of a started transfer, else the refusal. */
  last: string;
}

/**
 * Runs a transfer command: PASV, the command, then (after a `150`) the data (`upload` is sent,
 * anything else is read) and the final reply.
 */
async function transfer(c: RawControl, line: string, upload?: string): Promise<TransferResult> {
  const data = await c.pasv();
  try {
    const reply = await c.ask(line);
    if (!reply.startsWith("150")) return { reply, last: reply };
    let read: string | undefined;
    if (upload !== undefined) await writeAll(data, new TextEncoder().encode(upload));
    else read = text(await readAll(data));
    const final = await c.next();
    return { reply, data: read, final, last: final };
  } finally {
    data.close();
  }
}

/** A file's contents as text. */
async function contents(fs: FileSystem, path: string): Promise<string> {
  return text(await getFile(fs, path));
}

describe("server: permission rights", () => {
  it("letters, named rights and the readable/writable shorthand grant what they say", () => {
    const all = new Permission("/");
    assert.equal(all.rights.size, 12);
    assert.equal(all.readable && all.writable, true);
    const readOnly = new Permission("/", { writable: false });
    assert.deepEqual([...readOnly.rights].sort(), ["cd", "list", "read"]);
    const writeOnly = new Permission("/", { readable: false });
    assert.equal(writeOnly.allows("read") || writeOnly.allows("list"), false);
    assert.equal(writeOnly.writable, true);
    assert.deepEqual(
      [...new Permission("/", { letters: "elradfmwMT" }).rights].sort(),
      [...all.rights].sort(),
      "pyftpdlib's full set is every right",
    );
    assert.deepEqual([...new Permission("/", { letters: "d" }).rights].sort(), [
      "delete",
      "rmdir",
    ]);
    assert.deepEqual([...new Permission("/", { letters: "w" }).rights].sort(), [
      "overwrite",
      "write",
    ]);
    assert.deepEqual([...new Permission("/", { letters: "c" }).rights], ["write"]);
    assert.deepEqual([...new Permission("/", { rights: ["delete"] }).rights], ["delete"]);
    assert.deepEqual(
      [...new Permission("/", { letters: "l", rights: ["read"], readable: false }).rights].sort(),
      ["list", "read"],
      "letters and rights add up, and no shorthand is implied",
    );
    assert.throws(() => new Permission("/", { letters: "elx" }), TypeError);
    assert.throws(
      () => new Permission("/", { rights: ["remove" as AccessRight] }),
      TypeError,
    );
  });

  it(
    "an upload-only drop box: new files only, nothing listed, read, deleted or replaced",
    T,
    async () => {
      const fs = new MemoryFileSystem();
      await fs.mkdir("/drop");
      await putFile(fs, "/drop/old.txt", "old");
      const permissions = [
        new Permission("/", { rights: ["cd"] }),
        new Permission("/drop", { rights: ["write"] }),
      ];
      await asUser(fs, permissions, async (c) => {
        const stored = await transfer(c, "STOR /drop/new.txt", "dropped");
        assert.equal(stored.reply, "150 data transfer started");
        assert.equal(stored.final, "226 transfer done");
        assert.equal(await contents(fs, "/drop/new.txt"), "dropped");

        assert.match((await transfer(c, "LIST /drop")).reply, DENIED);
        assert.match((await transfer(c, "NLST /drop")).reply, DENIED);
        assert.match((await transfer(c, "MLSD /drop")).reply, DENIED);
        assert.match((await transfer(c, "RETR /drop/new.txt")).reply, DENIED);
        assert.match(await c.ask("DELE /drop/new.txt"), DENIED);
        assert.match(await c.ask("SIZE /drop/new.txt"), DENIED);
        assert.match(await c.ask("RNFR /drop/new.txt"), DENIED);
        assert.equal(
          (await transfer(c, "STOR /drop/old.txt", "clobbered")).reply,
          "550 permission denied: path exists",
        );
        assert.equal(
          (await transfer(c, "STOR /drop/new.txt", "clobbered")).reply,
          "550 permission denied: path exists",
        );
        assert.match((await transfer(c, "APPE /drop/old.txt", "more")).reply, DENIED);
        assert.equal(await contents(fs, "/drop/old.txt"), "old");
        assert.equal(await contents(fs, "/drop/new.txt"), "dropped");
        assert.equal(await fs.exists("/drop/new.txt"), true);
      });
    },
  );

  it("a no-delete area: DELE and RMD are refused, everything else works", T, async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir("/keep");
    await fs.mkdir("/keep/empty");
    await putFile(fs, "/keep/a.txt", "a");
    const permissions = [
      new Permission("/", { writable: false }),
      new Permission("/keep", { letters: "elrawfmMT" }),
    ];
    await asUser(fs, permissions, async (c) => {
      assert.match(await c.ask("DELE /keep/a.txt"), DENIED);
      assert.match(await c.ask("RMD /keep/empty"), DENIED);
      assert.equal((await transfer(c, "STOR /keep/a.txt", "A")).final, "226 transfer done");
      assert.equal((await transfer(c, "APPE /keep/a.txt", "+")).final, "226 transfer done");
      assert.equal((await transfer(c, "RETR /keep/a.txt")).data, "A+");
      assert.equal(await c.ask("MKD /keep/sub"), '257 "/keep/sub" created');
      assert.equal(await c.ask("RNFR /keep/a.txt"), "350 rename from accepted");
      assert.equal(await c.ask("RNTO /keep/b.txt"), "250 rename successful");
      assert.equal(await fs.isDir("/keep/empty"), true);
      assert.equal(await contents(fs, "/keep/b.txt"), "A+");
    });
  });

  it("each letter allows exactly its verbs", T, async () => {
    const letterRights: Record<string, AccessRight[]> = {
      e: ["cd"],
      l: ["list"],
      r: ["read"],
      a: ["append"],
      d: ["delete", "rmdir"],
      f: ["rename"],
      m: ["mkdir"],
      w: ["write", "overwrite"],
      c: ["write"],
      M: ["chmod"],
      T: ["mtime"],
    };
    /** A probe: the rights of which one lets it through, and how it runs. */
    const probes: {
      needs: AccessRight[];
      run(c: RawControl): Promise<string>;
      ok: string | RegExp;
    }[] = [
      { needs: ["cd"], run: (c) => c.ask("CWD /dir"), ok: '250 directory changed to "/dir"' },
      { needs: ["cd"], run: (c) => c.ask("CDUP"), ok: '250 directory changed to "/"' },
      { needs: ["list"], run: (c) => c.ask("STAT /dir"), ok: "212 Status of /dir:" },
      {
        needs: ["list"],
        run: async (c) => (await transfer(c, "NLST /dir")).last,
        ok: "226 list transfer done",
      },
      {
        needs: ["list"],
        run: async (c) => (await transfer(c, "LIST /dir")).last,
        ok: "226 list transfer done",
      },
      {
        needs: ["list"],
        run: async (c) => (await transfer(c, "MLSD /dir")).last,
        ok: "226 mlsd transfer done",
      },
      { needs: ["list", "read"], run: (c) => c.ask("SIZE /f.txt"), ok: "213 3" },
      { needs: ["list", "read"], run: (c) => c.ask("MDTM /f.txt"), ok: "213 20200101000000" },
      { needs: ["list", "read"], run: (c) => c.ask("MLST /f.txt"), ok: "250 Listing /f.txt" },
      {
        needs: ["read"],
        run: async (c) => {
          const retrieved = await transfer(c, "RETR /f.txt");
          return retrieved.final ? `${retrieved.final}: ${retrieved.data}` : retrieved.reply;
        },
        ok: "226 transfer done: abc",
      },
      { needs: ["read"], run: (c) => c.ask("HASH /f.txt"), ok: /^213 SHA-256 0-3 [0-9a-f]{64} / },
      {
        needs: ["write"],
        run: async (c) => (await transfer(c, "STOR /new.txt", "n")).last,
        ok: "226 transfer done",
      },
      {
        needs: ["write"],
        run: async (c) => (await transfer(c, "STOU /unique", "u")).last,
        ok: "226 transfer done",
      },
      {
        needs: ["overwrite"],
        run: async (c) => (await transfer(c, "STOR /over.txt", "o")).last,
        ok: "226 transfer done",
      },
      {
        needs: ["append"],
        run: async (c) => (await transfer(c, "APPE /app.txt", "+")).last,
        ok: "226 transfer done",
      },
      { needs: ["delete"], run: (c) => c.ask("DELE /del.txt"), ok: "250 file deleted" },
      { needs: ["rename"], run: (c) => c.ask("RNFR /ren.txt"), ok: "350 rename from accepted" },
      { needs: ["mkdir"], run: (c) => c.ask("MKD /made"), ok: '257 "/made" created' },
      { needs: ["rmdir"], run: (c) => c.ask("RMD /empty"), ok: "250 directory removed" },
      {
        needs: ["chmod"],
        run: (c) => c.ask("SITE CHMOD 600 /f.txt"),
        ok: "200 SITE CHMOD command successful",
      },
      {
        needs: ["mtime"],
        run: (c) => c.ask("MFMT 20210101000000 /f.txt"),
        ok: "213 Modify=20210101000000; /f.txt",
      },
    ];
    for (const [letter, rights] of Object.entries(letterRights)) {
      const fs = new MemoryFileSystem();
      await fs.mkdir("/dir");
      await fs.mkdir("/empty");
      for (const name of ["f.txt", "over.txt", "app.txt", "del.txt", "ren.txt"]) {
        await putFile(fs, `/${name}`, "abc");
      }
      await fs.setModifiedTime("/f.txt", new Date("2020-01-01T00:00:00Z"));
      await asUser(fs, [new Permission("/", { letters: letter })], async (c) => {
        for (const probe of probes) {
          const reply = await probe.run(c);
          const label = `letter ${letter}: the probe needing ${probe.needs.join(" or ")}`;
          if (!probe.needs.some((right) => rights.includes(right))) {
            assert.match(reply, DENIED, label);
          } else if (typeof probe.ok === "string") {
            assert.equal(reply, probe.ok, label);
          } else {
            assert.match(reply, probe.ok, label);
          }
        }
      });
      assert.equal(await fs.exists("/del.txt"), !rights.includes("delete"), letter);
      assert.equal(await fs.exists("/made"), rights.includes("mkdir"), letter);
      assert.equal(await contents(fs, "/over.txt"), rights.includes("overwrite") ? "o" : "abc");
      assert.equal(await contents(fs, "/app.txt"), rights.includes("append") ? "abc+" : "abc");
    }
  });

  it("APPE to a new file needs write; STOR over an existing one overwrite", T, async () => {
    const fs = new MemoryFileSystem();
    await putFile(fs, "/log.txt", "1");
    await asUser(fs, [new Permission("/", { rights: ["append"] })], async (c) => {
      assert.equal((await transfer(c, "APPE /log.txt", "2")).final, "226 transfer done");
      assert.match((await transfer(c, "APPE /other.txt", "x")).reply, DENIED);
      assert.match((await transfer(c, "STOR /log.txt", "x")).reply, DENIED);
    });
    await asUser(fs, [new Permission("/", { rights: ["overwrite"] })], async (c) => {
      assert.equal((await transfer(c, "STOR /log.txt", "3")).final, "226 transfer done");
      assert.match((await transfer(c, "STOR /fresh.txt", "x")).reply, DENIED);
    });
    assert.equal(await contents(fs, "/log.txt"), "3");
    assert.equal(await fs.exists("/other.txt") || await fs.exists("/fresh.txt"), false);
  });

  it("the MLSx perm fact follows the rights", T, async () => {
    const fs = new MemoryFileSystem();
    for (const dir of ["/all", "/ro", "/drop", "/nodel"]) {
      await fs.mkdir(dir);
      await putFile(fs, `${dir}/f.txt`, "x");
    }
    const rules: [string, PermissionOptions][] = [
      ["/", {}],
      ["/ro", { writable: false }],
      ["/drop", { rights: ["write"] }],
      ["/nodel", { letters: "elrawfmMT" }],
    ];
    await asUser(fs, rules.map(([path, options]) => new Permission(path, options)), async (c) => {
      const listing = await transfer(c, "MLSD /");
      assert.equal(listing.final, "226 mlsd transfer done");
      const perm = (name: string) =>
        /perm=([a-z]*);/.exec(listing.data!.split("\r\n").find((l) => l.endsWith(` ${name}`))!)
          ?.[1];
      assert.equal(perm("all"), "elcdfmp");
      assert.equal(perm("ro"), "el");
      assert.equal(perm("drop"), "c");
      assert.equal(perm("nodel"), "elcfm");
      const fact = async (path: string) =>
        /perm=([a-z]*);/.exec((await c.command(`MLST ${path}`)).lines[1])?.[1];
      assert.equal(await fact("/all/f.txt"), "radfw");
      assert.equal(await fact("/ro/f.txt"), "r");
      assert.equal(await fact("/nodel/f.txt"), "rafw");
    });
  });
});

describe("server: renames keep every path under its rule (hole 1)", () => {
  it("a directory holding a stricter rule below it cannot be renamed away from it", T, async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir("/pub");
    await fs.mkdir("/pub/ro");
    await fs.mkdir("/pub/sub");
    await putFile(fs, "/pub/ro/keep.txt", "keep");
    const permissions = [
      new Permission("/"),
      new Permission("/pub"),
      new Permission("/pub/ro", { writable: false }),
    ];
    await asUser(fs, permissions, async (c) => {
      assert.equal(
        await c.ask("RNFR /pub"),
        "550 permission denied: other rules apply below this path",
      );
      assert.equal(
        await c.ask("RNTO /pub2"),
        "503 bad sequence of commands (no filename (use RNFR firstly))",
      );
      assert.match(await c.ask("DELE /pub2/ro/keep.txt"), /^550 /);
      assert.match(await c.ask("RNFR /pub/ro"), DENIED);
      // A subtree without rules of its own moves freely.
      assert.equal(await c.ask("RNFR /pub/sub"), "350 rename from accepted");
      assert.equal(await c.ask("RNTO /pub/sub2"), "250 rename successful");
    });
    assert.equal(await contents(fs, "/pub/ro/keep.txt"), "keep");
    assert.equal(await fs.exists("/pub2"), false);
    assert.equal(await fs.isDir("/pub/sub2"), true);
  });

  it("nothing can be renamed onto a path that has rules below it", T, async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir("/work");
    await fs.mkdir("/work/scratch");
    await putFile(fs, "/work/scratch/precious.txt", "precious");
    await fs.mkdir("/other");
    // Deleting is allowed nowhere but below /tmp/scratch (a looser rule), and /tmp/ro is
    // read-only (a stricter one); neither /tmp nor /tmp2 exists yet.
    const permissions = [
      new Permission("/", { letters: "elrawfmMT" }),
      new Permission("/tmp/scratch"),
      new Permission("/tmp2/ro", { writable: false }),
    ];
    await asUser(fs, permissions, async (c) => {
      assert.equal(await c.ask("RNFR /work"), "350 rename from accepted");
      assert.equal(
        await c.ask("RNTO /tmp"),
        "550 permission denied: other rules apply below this path",
      );
      assert.match(await c.ask("DELE /tmp/scratch/precious.txt"), /^550 /);
      assert.equal(await c.ask("RNFR /other"), "350 rename from accepted");
      assert.equal(
        await c.ask("RNTO /tmp2"),
        "550 permission denied: other rules apply below this path",
      );
      assert.equal(await c.ask("RNFR /other"), "350 rename from accepted");
      assert.equal(await c.ask("RNTO /elsewhere"), "250 rename successful");
    });
    assert.equal(await contents(fs, "/work/scratch/precious.txt"), "precious");
    assert.equal(await fs.exists("/tmp"), false);
    assert.equal(await fs.exists("/tmp2"), false);
  });
});

describe("server: symbolic links do not dodge the rules (hole 2)", () => {
  let dir: { path: string; remove(): Promise<void> };
  let root: string;
  before(async () => {
    dir = await tempDir();
    root = join(dir.path, "root");
    await mkdir(join(root, "pub"), { recursive: true });
    await mkdir(join(root, "ro"));
    await writeFile(join(root, "ro", "keep.txt"), "keep");
    await symlink("../ro", join(root, "pub", "toro"));
  });
  after(() => dir.remove());

  const permissions = () => [
    new Permission("/", { writable: false }),
    new Permission("/pub"),
  ];

  it("the rules of a link's target apply to paths through the link", T, async () => {
    const fs = new LocalFileSystem(root);
    assert.equal(typeof fs.realPath, "function", "LocalFileSystem resolves links (realPath)");
    await asUser(fs, permissions(), async (c) => {
      assert.equal(await c.ask("DELE /pub/toro/keep.txt"), "550 permission denied");
      assert.equal(await c.ask("RNFR /pub/toro/keep.txt"), "550 permission denied");
      assert.equal(await c.ask("MKD /pub/toro/new"), "550 permission denied");
      assert.equal(await c.ask("MFMT 20200101000000 /pub/toro/keep.txt"), "550 permission denied");
      assert.equal(
        (await transfer(c, "STOR /pub/toro/keep.txt", "gone")).reply,
        "550 permission denied",
      );
      assert.equal(
        (await transfer(c, "STOR /pub/toro/new.txt", "x")).reply,
        "550 permission denied",
      );
      // What the target's rule allows still works through the link.
      assert.equal((await transfer(c, "RETR /pub/toro/keep.txt")).data, "keep");
      assert.equal(await c.ask("CWD /pub/toro"), '250 directory changed to "/pub/toro"');
      // And the link's own directory keeps its rights.
      assert.equal((await transfer(c, "STOR /pub/own.txt", "own")).final, "226 transfer done");
      assert.equal(await c.ask("DELE /pub/own.txt"), "250 file deleted");
    });
    assert.equal(await readFile(join(root, "ro", "keep.txt"), "utf8"), "keep");
    assert.equal(existsSync(join(root, "ro", "new")), false);
    assert.equal(existsSync(join(root, "ro", "new.txt")), false);
  });
});
