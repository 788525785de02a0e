/**
 * The client's protocol log: every command line it sends and every reply it reads, handed to
 * the caller's hooks (`ClientOptions.onCommand`, `onReply`). Secrets never reach a hook: the
 * argument of `PASS` and `ACCT` is replaced by `****`. A hook that throws (or rejects) is
 * ignored, so a broken logger cannot break the session.
 *
 * @module
 */

import type { Reply } from "../protocol/reply.ts";

/**
 * The hooks of the protocol log.
 *
 * @example
 * ```ts
 * import { ProtocolLog, type ProtocolLogHooks } from "./protocol_log.ts";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const hooks: ProtocolLogHooks = {
 *   onCommand: (line) => seen.push(`> ${line}`),
 *   onReply: (reply) => seen.push(`< ${reply.code}`),
 * };
 * const log = new ProtocolLog(hooks);
 * log.command("USER alice");
 * log.reply({ code: 331, lines: ["password, please"] });
 * assert.deepEqual(seen, ["> USER alice", "< 331"]);
 * ```
 */
export interface ProtocolLogHooks {
  /** Receives each command line as sent, without CRLF, secrets masked. */
  onCommand?: (line: string) => void;
  /** Receives each reply as read: the greeting, preliminary (`1xx`) and final replies. */
  onReply?: (reply: Reply) => void;
}

/** Commands whose argument is a secret. */
const SECRET_VERBS = new Set(["PASS", "ACCT"]);

/**
 * What stands in for a secret in the log.
 *
 * @example
 * ```ts
 * import { MASK, maskSecrets } from "./protocol_log.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(maskSecrets("ACCT billing"), `ACCT ${MASK}`);
 * ```
 */
export const MASK = "****";

/**
 * The form of a command line that may be logged: `PASS secret` becomes `PASS ****` (the verb
 * in any case, the argument whatever it is), every other line stays as it is.
 *
 * @example
 * ```ts
 * import { maskSecrets } from "./protocol_log.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(maskSecrets("PASS hunter2"), "PASS ****");
 * assert.equal(maskSecrets("pass hunter2"), "pass ****");
 * assert.equal(maskSecrets("RETR a.txt"), "RETR a.txt");
 * ```
 *
 * @param line The command line.
 * @returns The line to log.
 */
export function maskSecrets(line: string): string {
  const space = line.indexOf(" ");
  if (space < 0) return line;
  const verb = line.slice(0, space);
  return SECRET_VERBS.has(verb.toUpperCase()) ? `${verb} ${MASK}` : line;
}

/**
 * Hands protocol events to the caller's hooks, shielding the session from their failures.
 *
 * @example
 * ```ts
 * import { ProtocolLog } from "./protocol_log.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const log = new ProtocolLog({
 *   onCommand: (line) => {
 *     lines.push(line);
 *     throw new Error("a broken hook"); // ignored: the session goes on
 *   },
 * });
 * log.command("PASS hunter2");
 * assert.deepEqual(lines, ["PASS ****"]);
 * ```
 */
export class ProtocolLog {
  readonly #hooks: ProtocolLogHooks;

  /**
   * Creates the log.
   *
   * @param hooks The caller's hooks (either may be absent).
   */
  constructor(hooks: ProtocolLogHooks) {
    this.#hooks = hooks;
  }

  /**
   * Reports a command about to be sent.
   *
   * @param line The command line, unmasked.
   */
  command(line: string): void {
    const hook = this.#hooks.onCommand;
    if (hook) shielded(() => hook(maskSecrets(line)));
  }

  /**
   * Reports a reply just read.
   *
   * @param reply The reply.
   */
  reply(reply: Reply): void {
    const hook = this.#hooks.onReply;
    if (hook) shielded(() => hook(reply));
  }
}

function shielded(call: () => unknown): void {
  try {
    const result = call();
    // An async hook's rejection would otherwise surface as an unhandled rejection.
    if (result instanceof Promise) result.catch(() => {});
  } catch {
    // The hook's failure is the hook's business.
  }
}
