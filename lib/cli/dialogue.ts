/**
 * The control dialogue as `--verbose` shows it on stderr, one line per line sent or received:
 * `> USER alice`, `< 331 password required` (the client masks the password of `PASS`).
 *
 * @module
 */

import type { ClientOptions, Reply } from "../../client.ts";

/**
 * A reply's lines as the server sent them: `123-first`, the lines between, `123 last`.
 *
 * @example
 * ```ts
 * import { formatReplyLines } from "./dialogue.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   formatReplyLines({ code: 211, lines: ["Features:", " MLST", "End"] }),
 *   ["211-Features:", " MLST", "211 End"],
 * );
 * assert.deepEqual(formatReplyLines({ code: 200, lines: ["ok"] }), ["200 ok"]);
 * ```
 *
 * @param reply The reply.
 * @returns Its lines with their codes.
 */
export function formatReplyLines(reply: Reply): string[] {
  const { code, lines } = reply;
  if (lines.length <= 1) return [`${code} ${lines[0] ?? ""}`];
  return [`${code}-${lines[0]}`, ...lines.slice(1, -1), `${code} ${lines[lines.length - 1]}`];
}

/**
 * The client options that print the dialogue.
 *
 * @example What `--verbose` prints
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server } from "../../server.ts";
 * import { dialogueHooks } from "./dialogue.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ welcome: "hello" });
 * await server.start("127.0.0.1", 0);
 * const lines: string[] = [];
 * const hooks = dialogueHooks((line) => lines.push(line));
 * await using client = await Client.connect("127.0.0.1", server.address.port, hooks);
 * await client.noop();
 * assert.deepEqual(lines.slice(0, 2), ["< 220 hello", "> NOOP"]);
 * ```
 *
 * @param write Receives each line, without its line end.
 * @returns `onCommand` and `onReply` for `Client.connect`.
 */
export function dialogueHooks(
  write: (line: string) => void,
): Pick<ClientOptions, "onCommand" | "onReply"> {
  return {
    onCommand: (line) => write(`> ${line}`),
    onReply: (reply) => {
      for (const line of formatReplyLines(reply)) write(`< ${line}`);
    },
  };
}
