/**
 * A server on a local directory with rights per path, the classic layout of a public FTP
 * site: `pub/` to download from, `incoming/` to upload to.
 *
 * - `alice` (password `secret`) may read everything and change anything under `incoming/`.
 * - Anonymous visitors may list the top directory and download from `pub/`; `incoming/` is a
 *   drop box for them: they may upload new files there, but not list, read, replace or
 *   delete what is in it.
 *
 * The root is confined: no `..`, absolute path or symbolic link reaches a file outside it.
 *
 * Run: `deno run -A examples/local_dir_server.ts <dir> [port]` (also `bun ...`); `pub/` and
 * `incoming/` are created in `<dir>` when missing, the port defaults to 2121 (`0`: any free
 * one). It prints its URL, then serves until Ctrl+C (SIGINT) or SIGTERM.
 *
 * @module
 */

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { LocalFileSystem, Permission, Server, User } from "../server.ts";

const [root, port = "2121"] = process.argv.slice(2);
if (root === undefined) {
  console.error("Usage: local_dir_server.ts <dir> [port]");
  process.exit(2);
}
await mkdir(join(root, "pub"), { recursive: true });
await mkdir(join(root, "incoming"), { recursive: true });

// A path takes its rights from the nearest permission above it; a path that none covers is
// denied. The paths are the ones the client sees: "/" is `root`.
const server = new Server({
  fileSystem: new LocalFileSystem(root),
  users: [
    new User({
      login: "alice",
      password: "secret", // in real life: passwordHash: await hashPassword("secret")
      permissions: [
        new Permission("/", { writable: false }), // read and list everywhere...
        new Permission("/incoming"), // ...and every right under /incoming
      ],
    }),
    new User({ // no login: the anonymous account
      permissions: [
        new Permission("/", { rights: ["cd", "list"] }), // see what is there
        new Permission("/pub", { writable: false }), // download
        new Permission("/incoming", { rights: ["write"] }), // new files only, unseen
      ],
    }),
  ],
});

const stop = () => void server.close();
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

await server.start("127.0.0.1", Number(port));
console.log(`ftp://127.0.0.1:${server.address.port}/`);
await server.serveForever();
