/**
 * The smallest useful server: files kept in memory, one account that may do everything, and
 * anonymous visitors who may only look and download. Nothing touches the disk, so it is a safe
 * target for trying out an FTP client.
 *
 * Run: `deno run -A examples/memory_server.ts [port]` (also `bun examples/memory_server.ts`);
 * the port defaults to 2121, `0` picks a free one. It prints its URL, then serves until
 * Ctrl+C (SIGINT) or SIGTERM. Try it with `curl ftp://127.0.0.1:2121/readme.txt` (anonymous)
 * or `curl -T file.txt ftp://alice:secret@127.0.0.1:2121/`.
 *
 * @module
 */

import process from "node:process";
import { MemoryFileSystem, Permission, Server, User } from "../server.ts";

const fileSystem = new MemoryFileSystem({ maxBytes: 64 * 1024 * 1024 }); // uploads share 64 MiB
// Something for anonymous visitors to download.
await new Blob(["Hello from streamftp!\n"]).stream().pipeTo(
  await fileSystem.openWrite("/readme.txt"),
);

const server = new Server({
  fileSystem,
  users: [
    // Without `permissions`, a user may do everything everywhere. A real server keeps
    // `passwordHash: await hashPassword("secret")` instead of the clear text.
    new User({ login: "alice", password: "secret" }),
    // A User without `login` is the anonymous account (names "anonymous" and "ftp", any
    // password). Read-only: `readable` stays on, every changing right is off.
    new User({ permissions: [new Permission("/", { writable: false })] }),
  ],
});

// close() answers every session `421`, ends their transfers and resolves once all are gone;
// serveForever() then returns and the script ends by itself.
const stop = () => void server.close();
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

await server.start("127.0.0.1", Number(process.argv[2] ?? 2121));
console.log(`ftp://127.0.0.1:${server.address.port}/`);
await server.serveForever();
