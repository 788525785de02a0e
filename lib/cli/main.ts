#!/usr/bin/env node
/**
 * `streamftp`, the command line: an FTP server (`serve`) and a client that takes URLs like
 * curl and lftp (`ls`, `get`, `put`, `mirror`, `cat`, `rm`, `mkdir`, `mv`). It runs when
 * executed directly, under Deno, Bun or Node (the npm package's `bin`):
 *
 * ```sh
 * deno run -A lib/cli/main.ts serve --root ./share --user alice --pass secret
 * bun lib/cli/main.ts ls -l ftp://alice:secret@127.0.0.1:2121/
 * streamftp get ftp://127.0.0.1:2121/pub/file.bin .
 * streamftp mirror --reverse ./site ftp://alice:secret@127.0.0.1:2121/www --delete
 * ```
 *
 * Exit codes: 0 done; 1 the server refused (its reply is printed on stderr, `streamftp: 550
 * ...`) or the network, TLS or a local file failed; 2 the command line is wrong.
 *
 * @module
 */

import { realpathSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Command } from "./args.ts";
import { describeError, ExitCode, UsageError } from "./exit.ts";
import { mkdirCommand, mvCommand, rmCommand } from "./files.ts";
import { lsCommand } from "./ls.ts";
import { mirrorCommand } from "./mirror.ts";
import { writeStderr, writeStdout } from "./output.ts";
import { serveCommand } from "./serve.ts";
import { catCommand, getCommand, putCommand } from "./transfer.ts";

const COMMANDS: readonly Command[] = [
  serveCommand,
  lsCommand,
  getCommand,
  putCommand,
  mirrorCommand,
  catCommand,
  rmCommand,
  mkdirCommand,
  mvCommand,
];

const USAGE = "Usage: streamftp <command> [options]";

const HELP = `${USAGE}

An FTP server and client (streamftp).

Commands:
${COMMANDS.map((c) => `  ${c.synopsis.padEnd(20)}  ${c.summary}`).join("\n")}

URLs: ftp://[USER[:PASSWORD]@]HOST[:PORT]/PATH (without USER: anonymous), ftps:// for
implicit FTPS, ftpes:// for explicit FTPS (or --secure). PATH is relative to the login
directory (//PATH is absolute); percent-encode what URLs reserve (a space is %20).

Run 'streamftp <command> --help' for the options of a command.`;

/**
 * Runs `streamftp` with the given arguments: the command, then its flags and arguments.
 * Errors are printed on stderr; the exit code says what happened.
 *
 * @example Help, and a wrong command line
 * ```ts
 * import { main } from "@streamftp/streamftp/cli";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await main(["--help"]), 0); // the list of commands, on stdout
 * assert.equal(await main(["ls", "--color"]), 2); // an unknown flag: usage on stderr
 * ```
 *
 * @example Commands against a server
 * ```ts
 * import { main } from "@streamftp/streamftp/cli";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * const url = `ftp://127.0.0.1:${server.address.port}`;
 * assert.equal(await main(["mkdir", `${url}/pub`]), 0);
 * assert.equal(await main(["ls", `${url}/`]), 0); // prints "pub"
 * assert.equal(await main(["cat", `${url}/missing.txt`]), 1); // "streamftp: 550 ..." on stderr
 * ```
 *
 * @param args The command line after the program's name.
 * @returns The exit code: 0 done, 1 failed (server, network, files), 2 wrong command line.
 */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  try {
    if (name === "--help" || name === "-h" || name === "help") return await help(rest[0]);
    if (name === undefined) throw new UsageError("missing command");
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command "${name}"`);
    await command.run(rest);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof UsageError) {
      const usage = error.command
        ? `Usage: streamftp ${error.command.synopsis} [options]\n` +
          `Run 'streamftp ${error.command.name} --help' for its options.`
        : `${USAGE}\nRun 'streamftp --help' for the commands.`;
      await writeStderr(`streamftp: ${error.message}\n${usage}\n`);
      return ExitCode.usage;
    }
    await writeStderr(`streamftp: ${describeError(error)}\n`);
    return ExitCode.failure;
  }
}

/** `streamftp --help`, `streamftp help COMMAND`. */
async function help(name: string | undefined): Promise<number> {
  if (name === undefined) {
    await writeStdout(`${HELP}\n`);
    return ExitCode.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command "${name}"`);
  await writeStdout(`${command.help}\n`);
  return ExitCode.ok;
}

/**
 * Whether this module is the program: Deno and Bun say so in `import.meta.main`; Node 20
 * does not, so there the script it was started with is compared (through links, as npm
 * installs `bin` entries as links).
 */
function isProgram(): boolean {
  const known = (import.meta as { main?: boolean }).main;
  if (known !== undefined) return known;
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isProgram()) {
  const code = await main(process.argv.slice(2));
  // Whatever is still queued is written before the process ends.
  await writeStdout("");
  await writeStderr("");
  process.exit(code);
}
