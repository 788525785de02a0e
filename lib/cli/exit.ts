/**
 * How `streamftp` ends: its exit codes, the error a wrong command line raises, and the one
 * line on stderr that says what went wrong (`streamftp: 550 ...`).
 *
 * @module
 */

import { ReplyError } from "../../client.ts";
import { formatReplyLines } from "./dialogue.ts";

/**
 * Exit codes of `streamftp`.
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * import { ExitCode } from "./exit.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await main(["--help"]), ExitCode.ok);
 * assert.equal(await main(["frobnicate"]), ExitCode.usage); // no such command
 * ```
 */
export const ExitCode = {
  /** Everything worked. */
  ok: 0,
  /** The server refused (its reply is printed), or the network, TLS or a local file failed. */
  failure: 1,
  /** The command line is wrong: an unknown flag, a missing argument, a bad value. */
  usage: 2,
} as const;

/**
 * The command whose usage a {@linkcode UsageError} shows.
 *
 * @example
 * ```ts
 * import { UsageError, type UsageSource } from "./exit.ts";
 * import assert from "node:assert/strict";
 *
 * const source: UsageSource = { name: "get", synopsis: "get URL [LOCAL]" };
 * assert.equal(new UsageError("missing URL", source).command?.name, "get");
 * ```
 */
export interface UsageSource {
  /** `name` and its arguments: `"get URL [LOCAL]"`. */
  readonly synopsis: string;
  /** The command's name. */
  readonly name: string;
}

/**
 * The command line is wrong; `streamftp` exits with {@linkcode ExitCode.usage}.
 *
 * @example
 * ```ts
 * import { parsePort } from "./args.ts";
 * import { UsageError } from "./exit.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parsePort("--port", "ftp"), (error) => {
 *   return error instanceof UsageError && error.command === undefined; // its command adds itself
 * });
 * ```
 */
export class UsageError extends Error {
  /** The command whose usage to show (none: the list of commands). */
  command?: UsageSource;

  /**
   * Creates the error.
   *
   * @param message What is wrong, e.g. `--port must be 0-65535`.
   * @param command The command whose usage to show.
   */
  constructor(message: string, command?: UsageSource) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/**
 * The text `streamftp` prints on stderr for an error, after `streamftp: `: a server's reply as
 * sent (`550 no such file`), else the error's message, with its cause's when it has one.
 *
 * @example
 * ```ts
 * import { ReplyError } from "../errors.ts";
 * import { describeError } from "./exit.ts";
 * import assert from "node:assert/strict";
 *
 * const refusal = new ReplyError(["2xx"], { code: 550, lines: ["no such file"] });
 * assert.equal(describeError(refusal), "550 no such file");
 * const failure = new Error("Cannot connect", { cause: new Error("connection refused") });
 * assert.equal(describeError(failure), "Cannot connect: connection refused");
 * ```
 *
 * @param error What was thrown.
 * @returns The text, one line or a multi-line reply.
 */
export function describeError(error: unknown): string {
  if (error instanceof ReplyError) return formatReplyLines(error.reply).join("\n");
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error && !error.message.includes(error.cause.message)
    ? `: ${error.cause.message}`
    : "";
  return `${error.message}${cause}`;
}
