/**
 * `streamftp mirror URL DIR` makes a local directory a copy of a remote one, and
 * `mirror --reverse DIR URL` the other way round: only what is missing or differs moves, so a
 * second run transfers nothing. Each action is printed as it happens, then a summary.
 *
 * @module
 */

import type { MirrorAction } from "../../client.ts";
import { type Command, defineCommand, parseCount, parseIfGiven } from "./args.ts";
import { warnLeftOut, writeStdout } from "./output.ts";
import { formatBytes, stderrProgressBar } from "./progress_bar.ts";
import { CLIENT_FLAGS, CLIENT_FLAGS_HELP, withTarget } from "./target.ts";

/**
 * `streamftp mirror`.
 *
 * @example
 * ```ts
 * import { Server, User } from "../../server.ts";
 * import { mirrorCommand } from "./mirror.ts";
 * import { mkdtemp, readFile, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * const url = `ftp://127.0.0.1:${server.address.port}`;
 * await server.fileSystem.mkdir("/www");
 * const page = await server.fileSystem.openWrite("/www/index.html");
 * await new Blob(["<h1>hi</h1>"]).stream().pipeTo(page);
 * const local = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await mirrorCommand.run([`${url}/www`, local, "--parallel", "2"]); // prints "get index.html"
 *   assert.equal(await readFile(join(local, "index.html"), "utf8"), "<h1>hi</h1>");
 * } finally {
 *   await rm(local, { recursive: true });
 * }
 * ```
 */
export const mirrorCommand: Command = defineCommand({
  name: "mirror",
  arguments: ["SOURCE", "TARGET"],
  summary: "mirror a remote directory to a local one (--reverse: local to remote)",
  help: `  streamftp mirror URL DIR            make DIR a copy of the remote directory
  streamftp mirror --reverse DIR URL  make the remote directory a copy of DIR

Transfers the files that are missing, of another size or newer on the source, creates the
directories that are missing, and prints one line per action, then a summary.

  -R, --reverse         upload: SOURCE is the local directory, TARGET the URL
  --delete              also delete what the source does not have
  -n, --dry-run         print what would be done, change nothing
  --parallel N          transfer up to N files at once
${CLIENT_FLAGS_HELP}`,
  flags: {
    ...CLIENT_FLAGS,
    reverse: { type: "boolean", short: "R" },
    delete: { type: "boolean" },
    "dry-run": { type: "boolean", short: "n" },
    parallel: { type: "string" },
  },
  async action({ values, positionals }) {
    const reverse = values.reverse ?? false;
    const [url, local] = reverse ? [positionals[1], positionals[0]] : positionals;
    const parallel = parseIfGiven("--parallel", values.parallel, parseCount);
    // The dialogue's lines (--verbose) would cut through the bar.
    const bar = values.verbose ? undefined : stderrProgressBar();
    const lines: Promise<void>[] = [];
    const summary = await withTarget(url, values, async (client, { path }) => {
      try {
        return await client.mirror(path, local, {
          reverse,
          delete: values.delete,
          dryRun: values["dry-run"],
          parallel,
          onAction(action) {
            if (action.kind !== "skip") lines.push(writeStdout(`${formatAction(action)}\n`));
          },
          onProgress: bar && ((p) => bar.update(p.overallBytes, p.overallTotal)),
        });
      } finally {
        bar?.finish();
      }
    });
    await Promise.all(lines);
    await warnLeftOut(summary.notTransferred);
    const would = values["dry-run"] ? "would be " : "";
    const directories = summary.created === 1 ? "directory" : "directories";
    await writeStdout(
      `${summary.transferred} ${would}transferred (${formatBytes(summary.bytes)}), ` +
        `${summary.created} ${directories} ${would}created, ${summary.deleted} ${would}deleted, ` +
        `${summary.skipped} up to date\n`,
    );
  },
});

/** `transfer sub/a.bin (missing, 1.5 KiB)`, `delete old (dir)`, `mkdir sub`. */
function formatAction(action: MirrorAction): string {
  const details: string[] = [];
  if (action.kind === "transfer") {
    details.push(action.reason);
    if (action.bytes !== undefined) details.push(formatBytes(action.bytes));
  }
  if (action.kind === "delete" && action.type === "dir") details.push("directory");
  return `${action.kind} ${action.path}${details.length > 0 ? ` (${details.join(", ")})` : ""}`;
}
