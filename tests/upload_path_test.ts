import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { LocalFileSystem, MemoryFileSystem, type OpenWriteOptions } from "../server.ts";
import type { Conn } from "../lib/socket.ts";
import { randomBytes, sha256, tempDir } from "./_util.ts";
import { getFile, type RawControl, withSession } from "./server_raw.ts";

const T = { timeout: 30000 };
/** A few MiB and an odd tail, so that no chunk size divides it. */
const DATA = randomBytes(5 * 1024 * 1024 + 12345, 11);
/** Chunk sizes the client writes in turn: below, at and above the server's 256 KiB buffers. */
const SIZES = [1, 4095, 65537, 300000, 777, 262144, 1048579, 131072, 3];

/** Writes `data` to the data connection in chunks of {@linkcode SIZES} in turn, then FIN. */
async function sendUneven(data: Conn, bytes: Uint8Array): Promise<void> {
  const writer = data.writable.getWriter();
  for (let offset = 0, turn = 0; offset < bytes.length; turn++) {
    const end = Math.min(bytes.length, offset + SIZES[turn % SIZES.length]);
    await writer.write(bytes.subarray(offset, end));
    offset = end;
  }
  await writer.close();
}

/** Runs `fn` with a logged-in client of a server on a local directory. */
async function onLocalDir(
  fn: (c: RawControl, file: (name: string) => Promise<Uint8Array>) => Promise<void>,
): Promise<void> {
  const dir = await tempDir();
  try {
    const fileSystem = new LocalFileSystem(dir.path);
    await withSession({ fileSystem }, (c) => fn(c, (name) => readFile(join(dir.path, name))));
  } finally {
    await dir.remove();
  }
}

/** Uploads `bytes` with `command` in uneven chunks and expects the 226. */
async function upload(c: RawControl, command: string, bytes: Uint8Array): Promise<void> {
  const data = await c.pasv();
  assert.equal(await c.ask(command), "150 data transfer started");
  await sendUneven(data, bytes);
  assert.equal(await c.next(), "226 transfer done");
}

/**
 * A memory file system whose files take each chunk only after a turn of the event loop, and
 * copy it then: a server that reused a chunk's buffer before its write finished would store
 * the bytes that came later in its place.
 */
class SlowCopyingFileSystem extends MemoryFileSystem {
  override async openWrite(
    path: string,
    options?: OpenWriteOptions,
  ): Promise<WritableStream<Uint8Array>> {
    const writer = (await super.openWrite(path, options)).getWriter();
    return new WritableStream({
      write: async (chunk) => {
        await new Promise((resolve) => setTimeout(resolve, 0));
        await writer.write(chunk.slice());
      },
      close: () => writer.close(),
      abort: (reason) => writer.abort(reason),
    });
  }
}

describe("server: uploads land whole and in order", () => {
  it("STOR in uneven chunks stores every byte in order (local directory)", T, async () => {
    await onLocalDir(async (c, file) => {
      await upload(c, "STOR big.bin", DATA);
      assert.equal(sha256(await file("big.bin")), sha256(DATA));
    });
  });

  it("APPE adds to the end, byte for byte", T, async () => {
    await onLocalDir(async (c, file) => {
      const cut = 1234567;
      await upload(c, "STOR big.bin", DATA.subarray(0, cut));
      await upload(c, "APPE big.bin", DATA.subarray(cut));
      assert.equal(sha256(await file("big.bin")), sha256(DATA));
    });
  });

  it("REST then STOR rewrites from the offset and keeps what is before it", T, async () => {
    await onLocalDir(async (c, file) => {
      const cut = 3 * 1024 * 1024 + 17;
      const first = new Uint8Array(DATA.length).fill(0x5a);
      await upload(c, "STOR big.bin", first);
      assert.equal(await c.ask(`REST ${cut}`), `350 restarting at ${cut}`);
      await upload(c, "STOR big.bin", DATA.subarray(cut));
      const expected = new Uint8Array(DATA.length);
      expected.set(first.subarray(0, cut));
      expected.set(DATA.subarray(cut), cut);
      assert.equal(sha256(await file("big.bin")), sha256(expected));
    });
  });

  it("a sink that finishes each write late still gets every byte in order", T, async () => {
    const fileSystem = new SlowCopyingFileSystem();
    await withSession({ fileSystem }, async (c) => {
      await upload(c, "STOR big.bin", DATA);
      assert.equal(sha256(await getFile(fileSystem, "/big.bin")), sha256(DATA));
    });
  });

  it(
    "a client that disconnects mid-upload leaves a prefix of its bytes; the session goes on",
    T,
    async () => {
      await onLocalDir(async (c, file) => {
        const data = await c.pasv();
        assert.equal(await c.ask("STOR cut.bin"), "150 data transfer started");
        const writer = data.writable.getWriter();
        const sent = 2 * 1024 * 1024 + 999;
        await writer.write(DATA.subarray(0, sent));
        await writer.abort(new Error("client gone"));
        const reply = await c.next();
        assert.match(reply, /^(226|426) /);
        const kept = await file("cut.bin");
        assert.ok(kept.length <= sent, `kept ${kept.length} of ${sent} bytes`);
        assert.equal(sha256(kept), sha256(DATA.subarray(0, kept.length)));
        assert.equal(await c.ask("NOOP"), "200 NOOP ok");
      });
    },
  );
});
