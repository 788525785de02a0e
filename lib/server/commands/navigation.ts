/**
 * Moving around: PWD, CWD, CDUP and their X-variants (XPWD, XCWD, XCUP).
 *
 * @module
 */

import { quotePath } from "../../protocol/path_quote.ts";
import type { CommandHandler, CommandSpec } from "../command_table.ts";

const pwd: CommandHandler = (ctx) => ctx.reply(257, quotePath(ctx.cwd));

const cwd: CommandHandler = async (ctx, { path }) => {
  ctx.setCwd(path);
  await ctx.reply(250, `directory changed to ${quotePath(path)}`);
};

const cdup: CommandHandler = async (ctx) => {
  const parent = ctx.resolvePath("..");
  if (!await ctx.checkPath(parent, { access: "cd", must: "dir" })) return;
  await cwd(ctx, { verb: "CDUP", argument: "..", path: parent });
};

const PWD: CommandSpec = { requires: ["login"], handler: pwd, help: "(print working directory)" };
const CWD: CommandSpec = {
  requires: ["login"],
  path: { access: "cd", must: "dir", optional: true },
  handler: cwd,
  help: "<SP> <pathname>",
};
const CDUP: CommandSpec = {
  requires: ["login"],
  handler: cdup,
  help: "(change to parent directory)",
};

/** The navigation verbs. */
export const navigationCommands: Record<string, CommandSpec> = {
  PWD,
  XPWD: PWD,
  CWD,
  XCWD: CWD,
  CDUP,
  XCUP: CDUP,
};
