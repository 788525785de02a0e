/**
 * {@linkcode inspectPath}: whether a command may act on a path, as a spec's {@linkcode PathRule}
 * says (the user's rights on the path, and on where a link leads; then what must exist), with
 * the `550` that refuses it.
 *
 * @module
 */

import { PathError } from "../errors.ts";
import type { FileStat, FileSystem } from "../fs/file_system.ts";
import type { PathRule } from "./command_table.ts";
import type { AccessRight } from "./permission.ts";
import type { User } from "./user.ts";

/** What a path check reads and answers with (a session is one). */
export interface PathCheckContext {
  /** The user named by USER. */
  readonly user: User | undefined;
  /** Whether the user is logged in (nothing is allowed before). */
  readonly loggedIn: boolean;
  /** The file system the path is in. */
  readonly fileSystem: FileSystem;
  /**
   * Sends the refusal.
   *
   * @param code The reply code.
   * @param text The reply text.
   */
  reply(code: number, text: string): Promise<void>;
  /**
   * Looks the path up for the check (a session answers from its `RecentStat`);
   * the file system's `stat` when absent.
   *
   * @param path An absolute virtual path.
   */
  stat?(path: string): Promise<FileStat>;
}

/**
 * Checks a path against a rule, permission first (so that a path the user may not see does not
 * reveal whether it exists), and returns what it found. Where the rules differ by path, a link
 * is judged by the rules of the path it leads to as well. On failure it sends the `550` itself.
 *
 * @example
 * ```ts
 * import { inspectPath } from "./path_check.ts";
 * import { User } from "./user.ts";
 * import { MemoryFileSystem } from "../fs/memory.ts";
 * import assert from "node:assert/strict";
 *
 * const fileSystem = new MemoryFileSystem();
 * await new Blob(["hi"]).stream().pipeTo(await fileSystem.openWrite("/a.txt"));
 * const replies: string[] = [];
 * const session = {
 *   user: new User(),
 *   loggedIn: true,
 *   fileSystem,
 *   reply: async (code: number, text: string) => void replies.push(`${code} ${text}`),
 * };
 * const found = await inspectPath(session, "/a.txt", { access: "read", must: "file" });
 * assert.equal(found?.stat?.size, 2);
 * assert.equal(await inspectPath(session, "/", { access: "read", must: "file" }), undefined);
 * assert.deepEqual(replies, ["550 path is not a file"]);
 * ```
 *
 * @param ctx The user, the file system and the reply.
 * @param path An absolute virtual path.
 * @param rule The right and the condition.
 * @returns `undefined` when the command may not go on (the `550` was sent); otherwise the
 * path's metadata when the condition needed it.
 * @throws {PathError} Of kind `io` when the file system fails.
 */
export async function inspectPath(
  ctx: PathCheckContext,
  path: string,
  rule: PathRule,
): Promise<{ stat?: FileStat } | undefined> {
  const user = ctx.loggedIn ? ctx.user : undefined;
  if (!user) {
    await ctx.reply(550, "permission denied");
    return undefined;
  }
  // A link may lead under another rule: where the rules differ by path, the path it leads to
  // must allow the command too.
  const paths = [path];
  const fs = ctx.fileSystem;
  if (fs.realPath && !user.uniformRights) {
    const real = await fs.realPath(path);
    if (real !== path) paths.push(real);
  }
  const rules = paths.map((p) => user.permissionFor(p));
  const allows = (right: AccessRight) => rules.every((p) => p.allows(right));
  const mayCreate = typeof rule.access === "string"
    ? allows(rule.access)
    : rule.access.some(allows);
  const mayReplace = rule.existing === undefined ? mayCreate : allows(rule.existing);
  if (!mayCreate && !mayReplace) {
    await ctx.reply(550, "permission denied");
    return undefined;
  }
  if (rule.moves && paths.some((p) => user.permissions.some((q) => q.liesBelow(p)))) {
    await ctx.reply(550, "permission denied: other rules apply below this path");
    return undefined;
  }
  const must = rule.must;
  if (!must && mayCreate === mayReplace) return {};
  // One stat answers every condition; a path that cannot be looked up (missing, a file in
  // the way, outside the root) does not exist, and only an I/O failure is an error.
  let stat: FileStat | undefined;
  try {
    stat = await (ctx.stat ? ctx.stat(path) : fs.stat(path));
  } catch (error) {
    if (!(error instanceof PathError) || error.kind === "io") throw error;
  }
  if (!(stat ? mayReplace : mayCreate)) {
    await ctx.reply(550, stat ? "permission denied: path exists" : "permission denied");
    return undefined;
  }
  let failure: string | undefined;
  if (must === "absent") {
    if (stat) failure = "path already exists";
  } else if (must && !stat) failure = "path does not exist";
  else if (must === "file" && stat?.type !== "file") failure = "path is not a file";
  else if (must === "dir" && stat?.type !== "dir") failure = "path is not a directory";
  if (failure) {
    await ctx.reply(550, failure);
    return undefined;
  }
  return { stat };
}
