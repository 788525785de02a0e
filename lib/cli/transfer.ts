/**
 * The commands that move files: `get URL [LOCAL]` (a file or a tree; `-` for stdout),
 * `put LOCAL URL` (a file or a tree; `-` for stdin) and `cat URL`. Destinations follow `cp`:
 * into an existing local directory, or to the path named; remotely, into the directory a URL
 * ending in `/` names, or to the path named.
 *
 * @module
 */

import { stat } from "node:fs/promises";
import process from "node:process";
import type { Client, TransferOptions, TransferSummary } from "../../client.ts";
import { type Command, defineCommand, parseCount, parseIfGiven } from "./args.ts";
import { pipeToStdout, warnLeftOut } from "./output.ts";
import { stderrProgressBar } from "./progress_bar.ts";
import { CLIENT_FLAGS, CLIENT_FLAGS_HELP, withTarget } from "./target.ts";

const TRANSFER_FLAGS = { ...CLIENT_FLAGS, parallel: { type: "string" } } as const;
const PARALLEL_HELP = "  --parallel N          transfer up to N files of a tree at once";

/**
 * `streamftp get`.
 *
 * @example
 * ```ts
 * import { Server, User } from "../../server.ts";
 * import { getCommand } from "./transfer.ts";
 * import { mkdtemp, readFile, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * const url = `ftp://127.0.0.1:${server.address.port}`;
 * await new Blob(["data"]).stream().pipeTo(await server.fileSystem.openWrite("/file.bin"));
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await getCommand.run([`${url}/file.bin`, dir]);
 *   assert.equal(await readFile(join(dir, "file.bin"), "utf8"), "data");
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 */
export const getCommand: Command = defineCommand({
  name: "get",
  arguments: ["URL", "[LOCAL]"],
  summary: "download a file or a directory tree",
  help: `Downloads the file or directory tree the URL names: into LOCAL when it is an existing
directory (default: the current one), else to LOCAL itself; LOCAL - writes a file to stdout.

${PARALLEL_HELP}
${CLIENT_FLAGS_HELP}`,
  flags: TRANSFER_FLAGS,
  async action({ values, positionals }) {
    const [url, local = "."] = positionals;
    const parallel = parseIfGiven("--parallel", values.parallel, parseCount);
    await withTarget(url, values, async (client, { path }) => {
      if (local === "-") {
        await pipeToStdout(await client.downloadStream(path));
        return;
      }
      const writeInto = !await isDirectory(local);
      const summary = await withProgress(
        values.verbose,
        (options) => client.download(path, local, { ...options, writeInto, parallel }),
      );
      await warnLeftOut(summary.notTransferred);
    });
  },
});

/**
 * `streamftp put`.
 *
 * @example
 * ```ts
 * import { Server, User } from "../../server.ts";
 * import { putCommand } from "./transfer.ts";
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * const url = `ftp://127.0.0.1:${server.address.port}`;
 * await server.fileSystem.mkdir("/incoming");
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await writeFile(join(dir, "report.txt"), "hello");
 *   await putCommand.run([join(dir, "report.txt"), `${url}/incoming/`]); // into the directory
 *   assert.equal((await server.fileSystem.stat("/incoming/report.txt")).size, 5);
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 */
export const putCommand: Command = defineCommand({
  name: "put",
  arguments: ["LOCAL", "URL"],
  summary: "upload a file or a directory tree",
  help: `Uploads the local file or directory tree: into the remote directory when the URL ends
with /, else to the path the URL names; LOCAL - uploads stdin.

${PARALLEL_HELP}
${CLIENT_FLAGS_HELP}`,
  flags: TRANSFER_FLAGS,
  async action({ values, positionals }) {
    const [local, url] = positionals;
    const parallel = parseIfGiven("--parallel", values.parallel, parseCount);
    await withTarget(url, values, async (client, { path, directory }) => {
      if (local === "-") {
        await uploadStdin(client, path);
        return;
      }
      const summary = await withProgress(
        values.verbose,
        (options) => client.upload(local, path, { ...options, writeInto: !directory, parallel }),
      );
      await warnLeftOut(summary.notTransferred);
    });
  },
});

/**
 * `streamftp cat`.
 *
 * @example
 * ```ts
 * import { Server, User } from "../../server.ts";
 * import { catCommand } from "./transfer.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * const url = `ftp://127.0.0.1:${server.address.port}`;
 * await new Blob(["hello\n"]).stream().pipeTo(await server.fileSystem.openWrite("/motd"));
 * await catCommand.run([`${url}/motd`]); // prints "hello"
 * await assert.rejects(catCommand.run([`${url}/missing`]), { code: 550 });
 * ```
 */
export const catCommand: Command = defineCommand({
  name: "cat",
  arguments: ["URL"],
  summary: "write a remote file to stdout",
  help: `Writes the file the URL names to stdout.

${CLIENT_FLAGS_HELP}`,
  flags: CLIENT_FLAGS,
  async action({ values, positionals }) {
    await withTarget(positionals[0], values, async (client, { path }) => {
      await pipeToStdout(await client.downloadStream(path));
    });
  },
});

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Runs a transfer with a progress bar on stderr when stderr is a terminal and does not show
 * the dialogue (`--verbose`), whose lines would cut through the bar.
 */
async function withProgress(
  verbose: boolean | undefined,
  transfer: (options: Pick<TransferOptions, "onProgress">) => Promise<TransferSummary>,
): Promise<TransferSummary> {
  const bar = verbose ? undefined : stderrProgressBar();
  try {
    return await transfer(
      bar ? { onProgress: (p) => bar.update(p.overallBytes, p.overallTotal) } : {},
    );
  } finally {
    bar?.finish();
  }
}

async function uploadStdin(client: Client, path: string): Promise<void> {
  const writable = await client.uploadStream(path);
  const writer = writable.getWriter();
  try {
    for await (const chunk of process.stdin) {
      await writer.write(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
    }
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
  await writer.close();
}
