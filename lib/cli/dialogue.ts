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
 * formatReplyLines({ code: 211, lines: ["Features:", " MLST", "End"] });
 * // ["211-Features:", " MLST", "211 End"]
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
