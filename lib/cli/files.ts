/**
 * The commands that change remote names: `rm [-r] URL`, `mkdir [-p] URL`, `mv URL NEWPATH`.
 *
 * @module
 */

import { type Command, defineCommand } from "./args.ts";
import { UsageError } from "./exit.ts";
import { CLIENT_FLAGS, CLIENT_FLAGS_HELP, isRemoteUrl, parseTarget, withTarget } from "./target.ts";

/**
 * `streamftp rm`.
 *
 * @example
 * ```ts
 * import { Server, User } from "../../server.ts";
 * import { rmCommand } from "./files.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * const url = `ftp://127.0.0.1:${server.address.port}`;
 * await server.fileSystem.mkdir("/old/drafts", { parents: true });
 * await rmCommand.run(["-r", `${url}/old`]);
 * assert.equal(await server.fileSystem.exists("/old"), false);
 * await assert.rejects(rmCommand.run([`${url}/old`]), { code: 550 }); // gone
 * ```
 */
export const rmCommand: Command = defineCommand({
  name: "rm",
  arguments: ["URL"],
  summary: "remove a remote file (-r: a directory tree)",
  help: `Removes the file the URL names.

  -r, --recursive       remove a directory with everything in it
${CLIENT_FLAGS_HELP}`,
  flags: { ...CLIENT_FLAGS, recursive: { type: "boolean", short: "r" } },
  async action({ values, positionals }) {
    await withTarget(positionals[0], values, async (client, { path }) => {
      if (values.recursive) await client.remove(path);
      else await client.removeFile(path);
    });
  },
});

/**
 * `streamftp mkdir`.
 *
 * @example
 * ```ts
 * import { Server, User } from "../../server.ts";
 * import { mkdirCommand } from "./files.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * const url = `ftp://127.0.0.1:${server.address.port}`;
 * await mkdirCommand.run(["-p", `${url}/www/img`]);
 * assert.equal(await server.fileSystem.isDir("/www/img"), true);
 * ```
 */
export const mkdirCommand: Command = defineCommand({
  name: "mkdir",
  arguments: ["URL"],
  summary: "create a remote directory (-p: with its parents)",
  help: `Creates the directory the URL names.

  -p, --parents         create missing parents too; an existing directory is no error
${CLIENT_FLAGS_HELP}`,
  flags: { ...CLIENT_FLAGS, parents: { type: "boolean", short: "p" } },
  async action({ values, positionals }) {
    await withTarget(positionals[0], values, async (client, { path }) => {
      await client.mkdir(path, { parents: values.parents });
    });
  },
});

/**
 * `streamftp mv`.
 *
 * @example
 * ```ts
 * import { Server, User } from "../../server.ts";
 * import { mvCommand } from "./files.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * const url = `ftp://127.0.0.1:${server.address.port}`;
 * await server.fileSystem.mkdir("/drafts");
 * await mvCommand.run([`${url}/drafts`, "published"]);
 * assert.equal(await server.fileSystem.isDir("/published"), true);
 * ```
 */
export const mvCommand: Command = defineCommand({
  name: "mv",
  arguments: ["URL", "NEWPATH"],
  summary: "rename or move a remote path",
  help: `Renames the path the URL names to NEWPATH: a path on the same server, relative to the
login directory like the URL's (or a URL of the same server).

${CLIENT_FLAGS_HELP}`,
  flags: CLIENT_FLAGS,
  async action({ values, positionals }) {
    const [url, destination] = positionals;
    const newPath = newPathOf(url, destination);
    await withTarget(url, values, async (client, { path }) => {
      await client.rename(path, newPath);
    });
  },
});

/** NEWPATH as given, or the path of a URL that names the same server. */
function newPathOf(url: string, destination: string): string {
  if (!isRemoteUrl(destination)) return destination;
  const from = parseTarget(url);
  const to = parseTarget(destination);
  if (to.authority !== from.authority) {
    throw new UsageError(`mv cannot move between servers ("${from.authority}", "${to.authority}")`);
  }
  return to.path;
}
