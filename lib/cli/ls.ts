/**
 * `streamftp ls URL`: a remote directory's entries, one per line; `-R` descends into
 * subdirectories (paths relative to the listed directory), `--long` adds type, size and time.
 *
 * @module
 */

import type { ListEntry } from "../../client.ts";
import { type Command, defineCommand } from "./args.ts";
import { writeStdout } from "./output.ts";
import { CLIENT_FLAGS, CLIENT_FLAGS_HELP, withTarget } from "./target.ts";

/**
 * `streamftp ls`.
 *
 * @example
 * ```ts
 * import { Server, User } from "../../server.ts";
 * import { lsCommand } from "./ls.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * const url = `ftp://127.0.0.1:${server.address.port}`;
 * await server.fileSystem.mkdir("/pub/docs", { parents: true });
 * await lsCommand.run(["-R", "-l", `${url}/pub`]); // prints "d  0  ...  docs"
 * await assert.rejects(lsCommand.run([`${url}/missing`]), { code: 550 });
 * ```
 */
export const lsCommand: Command = defineCommand({
  name: "ls",
  arguments: ["URL"],
  summary: "list a remote directory",
  help: `Lists the directory the URL names, one name per line.

  -R, --recursive       list subdirectories too (paths relative to URL)
  -l, --long            type, size, modification time (UTC) and name
${CLIENT_FLAGS_HELP}`,
  flags: {
    ...CLIENT_FLAGS,
    recursive: { type: "boolean", short: "R" },
    long: { type: "boolean", short: "l" },
  },
  async action({ values, positionals }) {
    await withTarget(positionals[0], values, async (client, { path }) => {
      const prefix = path === "" ? "" : `${path}/`;
      for await (const item of client.list(path, { recursive: values.recursive })) {
        const name = item.path.startsWith(prefix) ? item.path.slice(prefix.length) : item.path;
        await writeStdout(`${values.long ? formatLongLine(name, item.info) : name}\n`);
      }
    });
  },
});

const TYPE_LETTERS: Record<ListEntry["type"], string> = {
  file: "-",
  dir: "d",
  link: "l",
  other: "?",
};

/**
 * A `--long` line: type letter, size, UTC time, name (and a link's target).
 *
 * @example
 * ```ts
 * import { formatLongLine } from "./ls.ts";
 * import assert from "node:assert/strict";
 *
 * const line = formatLongLine("a.txt", {
 *   name: "a.txt",
 *   type: "file",
 *   size: 6,
 *   modify: new Date("2024-05-01T12:30:00Z"),
 *   facts: {},
 * });
 * assert.equal(line, "-            6  2024-05-01 12:30:00  a.txt");
 * ```
 *
 * @param name The name or relative path to show.
 * @param entry The entry.
 * @returns The line.
 */
export function formatLongLine(name: string, entry: ListEntry): string {
  const size = String(entry.size ?? "-").padStart(12);
  const time = entry.modify ? entry.modify.toISOString().slice(0, 19).replace("T", " ") : "-";
  const link = entry.target !== undefined ? ` -> ${entry.target}` : "";
  return `${TYPE_LETTERS[entry.type]} ${size}  ${time.padEnd(19)}  ${name}${link}`;
}
