/**
 * What a consumer of the npm package writes, as the package check puts it into its project:
 * a script that imports every entry point (run by Node and by Bun), and a TypeScript module
 * that uses the package's types (checked by tsc). The round trip is `examples/node_script.mjs`.
 *
 * They are text, not files of the repository: they import `"streamftp"`, which resolves only
 * where the package is installed, so `deno check tests/` must not see them.
 *
 * @module
 */

/**
 * An ES module that imports each entry point of the installed package's `exports` and checks
 * that a name exported by a subpath and by `"streamftp"` is one object (one copy of the
 * library), and that importing `"streamftp/cli"` runs no command. Prints one line.
 */
export const ENTRY_POINTS_SCRIPT = `\
import { readFile } from "node:fs/promises";
import process from "node:process";

const manifest = JSON.parse(await readFile("node_modules/streamftp/package.json", "utf8"));
const modules = {};
for (const entry of Object.keys(manifest.exports)) {
  modules[entry] = await import(entry === "." ? "streamftp" : \`streamftp\${entry.slice(1)}\`);
}
const root = modules["."];
const copies = Object.entries(modules).flatMap(([entry, module]) =>
  Object.keys(module)
    .filter((name) => name in root && module[name] !== root[name])
    .map((name) => \`\${entry} \${name}\`)
);
if (copies.length) throw new Error(\`Not the root's: \${copies.join(", ")}\`);
if (typeof modules["./cli"].main !== "function") throw new Error("streamftp/cli has no main()");
const runtime = process.versions.bun ? \`bun \${process.versions.bun}\` : \`node \${process.version}\`;
console.log(
  \`\${runtime}: \${Object.keys(modules).join(" ")} import as one library; ./cli runs nothing\`,
);
`;

/**
 * A TypeScript module using the package's types through each entry point; the
 * `@ts-expect-error` proves the types are real (an `any` would make it unused, an error).
 */
export const TYPES_CONSUMER = `\
import * as streamftp from "streamftp";
import { nodeNetwork } from "streamftp/adapters/node";
import { main } from "streamftp/cli";
import { Client, type ClientOptions, ReplyError } from "streamftp/client";
import { MemoryFileSystem, Server, type ServerOptions, User } from "streamftp/server";

const options: ServerOptions = {
  users: [new User({ login: "alice", password: "secret" })],
  fileSystem: new MemoryFileSystem({ maxBytes: 1024 * 1024 }),
  network: nodeNetwork,
};
const server: streamftp.Server = new Server(options);
await server.start("127.0.0.1", 0);
const port: number = server.address.port;
// @ts-expect-error: a port is a number
const notAPort: string = server.address.port;
const cli: (args: string[]) => Promise<number> = main;
const clientOptions: ClientOptions = { connectTimeout: 5_000 };
const client: streamftp.Client = await Client.connect("127.0.0.1", port, clientOptions);
try {
  await client.login("alice", "secret");
  const upload: WritableStream<Uint8Array> = await client.uploadStream("a.txt");
  await upload.close();
  for await (const item of client.list("/")) console.log(item.path, item.info.size);
} catch (error) {
  if (error instanceof ReplyError) console.log(error.reply.code);
  throw error;
} finally {
  await client.quit();
  await server.close();
}
export { cli, notAPort };
`;
