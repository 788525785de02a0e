/**
 * A Bun script: uploads a local file to an FTP server, downloads it back and compares the
 * checksums. The FTP side is streamftp's `Client`; the local side is Bun's own file API
 * (`Bun.file` streams a file, `Bun.write` writes a `Response` to disk) and `Bun.CryptoHasher`.
 *
 * Run: `bun examples/bun_script.ts [ftp://user:password@host:port/dir/]`: the file goes to
 * `bun_script.bin` in that directory. Without a URL the script starts an in-memory server of
 * its own on 127.0.0.1 first. It prints one line, and exits 1 when the checksums differ.
 *
 * @module
 */

import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Client, Server, User } from "../mod.ts";

// The Bun APIs this script uses, declared here: the project does not depend on bun-types.
declare const Bun: {
  file(path: string): { stream(): ReadableStream<Uint8Array>; bytes(): Promise<Uint8Array> };
  write(path: string, data: Uint8Array | Response): Promise<number>;
  CryptoHasher: new (algorithm: "sha256") => {
    update(data: Uint8Array): { digest(encoding: "hex"): string };
  };
};

if (!("Bun" in globalThis)) {
  console.error("This script uses Bun's file API: run it with `bun examples/bun_script.ts`");
  process.exit(2);
}

let url = process.argv[2];
let server: Server | undefined;
if (url === undefined) {
  server = new Server({ users: [new User({ login: "alice", password: "secret" })] });
  await server.start("127.0.0.1", 0);
  url = `ftp://alice:secret@127.0.0.1:${server.address.port}/`;
}

const sha256 = async (path: string) =>
  new Bun.CryptoHasher("sha256").update(await Bun.file(path).bytes()).digest("hex");

// A local file of 1 MiB of random bytes (getRandomValues fills at most 64 KiB at a time).
const dir = join(tmpdir(), `streamftp-bun-script-${process.pid}`);
const original = join(dir, "original.bin");
const copy = join(dir, "copy.bin");
const bytes = new Uint8Array(1 << 20);
for (let at = 0; at < bytes.length; at += 65536) {
  crypto.getRandomValues(bytes.subarray(at, at + 65536));
}
await Bun.write(original, bytes); // creates the directory too

const client = await Client.connect(url); // logs in with the URL's user and enters its path
try {
  // Piping into the upload stream resolves once the server confirmed the transfer (226).
  await Bun.file(original).stream().pipeTo(await client.uploadStream("bun_script.bin"));
  await Bun.write(copy, new Response(await client.downloadStream("bun_script.bin")));
  const [sent, received] = [await sha256(original), await sha256(copy)];
  const where = new URL(url).host;
  console.log(
    sent === received
      ? `${bytes.length} bytes to ${where} and back, sha256 ${sent} matches`
      : `${bytes.length} bytes to ${where} and back, sha256 ${received} DIFFERS from ${sent}`,
  );
  process.exitCode = sent === received ? 0 : 1;
} finally {
  await client.quit();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
}
