/**
 * Everything else: NOOP, SYST, FEAT, OPTS, HELP, STAT.
 *
 * @module
 */

import type { CommandSpec } from "../command_table.ts";
import { HASH_ALGORITHMS } from "../file_hash.ts";
import { listingEntries, listLine, MLSX_FACTS } from "../listing_format.ts";
import type { CommandContext } from "../command_context.ts";
import { listPathArgument } from "./listing.ts";

/** The miscellaneous verbs. */
export const miscCommands: Record<string, CommandSpec> = {
  NOOP: {
    help: "(no operation)",
    handler: (ctx) => ctx.reply(200, "NOOP ok"),
  },
  SYST: {
    help: "(system type)",
    handler: (ctx) => ctx.reply(215, "UNIX Type: L8"),
  },
  FEAT: {
    help: "(list extensions)",
    handler: (ctx) => ctx.reply(211, ["Features:", ...features(ctx), "End"]),
  },
  OPTS: {
    feature: "UTF8",
    help: "<SP> UTF8 ON | MLST <facts> | HASH [<algorithm>]",
    async handler(ctx, { argument }) {
      const space = argument.indexOf(" ");
      const option = (space < 0 ? argument : argument.slice(0, space)).toUpperCase();
      const value = space < 0 ? "" : argument.slice(space + 1).trim();
      if (option === "UTF8" || option === "UTF-8") {
        await ctx.reply(200, "always in UTF8 mode");
      } else if (option === "MLST" && ctx.server.commands.has("MLST")) {
        const wanted = value.toLowerCase().split(";").filter((f) => MLSX_FACTS.includes(f));
        ctx.setMlstFacts(MLSX_FACTS.filter((f) => wanted.includes(f)));
        await ctx.reply(200, `MLST OPTS ${ctx.mlstFacts.map((f) => `${f};`).join("")}`);
      } else if (option === "HASH" && ctx.server.commands.has("HASH")) {
        if (value === "") {
          await ctx.reply(200, ctx.hashAlgorithm);
          return;
        }
        const algorithm = HASH_ALGORITHMS.find((a) => a === value.toUpperCase());
        if (!algorithm) {
          await ctx.reply(504, `unknown algorithm '${value.slice(0, 32)}'`);
          return;
        }
        ctx.setHashAlgorithm(algorithm);
        await ctx.reply(200, algorithm);
      } else {
        await ctx.reply(501, `option '${option.slice(0, 32)}' not understood`);
      }
    },
  },
  HELP: {
    help: "[<SP> <command>]",
    async handler(ctx, { argument }) {
      const commands = ctx.server.commands;
      const verb = argument.trim().toUpperCase();
      if (verb) {
        const spec = commands.get(verb);
        if (spec) await ctx.reply(214, `Syntax: ${verb} ${spec.help ?? ""}`.trimEnd());
        else await ctx.reply(502, `unknown command '${verb.slice(0, 32)}'`);
        return;
      }
      const verbs = [...commands.keys()].sort();
      const rows: string[] = [];
      for (let i = 0; i < verbs.length; i += 8) {
        rows.push(" " + verbs.slice(i, i + 8).map((v) => v.padEnd(5)).join(" ").trimEnd());
      }
      await ctx.reply(214, ["The following commands are recognized:", ...rows, "Help OK"]);
    },
  },
  STAT: {
    help: "[<SP> <pathname>]",
    async handler(ctx, { argument }) {
      if (argument.trim() === "") await serverStatus(ctx);
      else await pathStatus(ctx, argument);
    },
  },
};

/**
 * FEAT lines: what the specs in the command table announce (so removing a verb hides its
 * line), plus TVFS, in alphabetical order.
 */
function features(ctx: CommandContext): string[] {
  const lines = new Set(["TVFS"]);
  for (const spec of ctx.server.commands.values()) {
    const line = typeof spec.feature === "function" ? spec.feature(ctx) : spec.feature;
    if (line) lines.add(line);
  }
  return [...lines].sort().map((line) => ` ${line}`);
}

/** STAT without argument: the transfer's progress, or the ctx's state. */
async function serverStatus(ctx: CommandContext): Promise<void> {
  const transfer = ctx.transfer;
  if (transfer) {
    await ctx.reply(
      213,
      `status: ${transfer.description}, ${transfer.bytes} bytes transferred`,
    );
    return;
  }
  const user = ctx.loggedIn ? ctx.user?.login ?? "anonymous" : undefined;
  await ctx.reply(211, [
    "FTP server status:",
    ` Connected to ${ctx.remoteAddr.hostname}`,
    user === undefined ? " Not logged in" : ` Logged in as ${user}`,
    ctx.secure ? " Control connection secured with TLS" : " Control connection in clear text",
    ` Data protection: ${ctx.dataProtection === "P" ? "private (TLS)" : "clear"}`,
    ` TYPE: ${ctx.transferType === "A" ? "ASCII" : "BINARY"}, STRUcture: File, MODE: Stream`,
    ctx.dataChannel ? ` Data channel prepared (${ctx.dataChannel.mode})` : " No data connection",
    "End of status",
  ]);
}

/** STAT with a path: the `ls -l` listing over the control connection (`212` dir, `213` file). */
async function pathStatus(ctx: CommandContext, argument: string): Promise<void> {
  if (!ctx.loggedIn) {
    await ctx.reply(530, "Please login with USER and PASS");
    return;
  }
  const path = ctx.resolvePath(listPathArgument(argument));
  const found = await ctx.inspectPath(path, { access: "list", must: "exists" });
  if (!found) return;
  const fs = ctx.fileSystem;
  const stat = found.stat ?? await fs.stat(path);
  const code = stat.type === "dir" ? 212 : 213;
  const now = new Date();
  await ctx.replyLines(code, { first: `Status of ${path}:`, body: lines(), last: "End of status" });

  async function* lines(): AsyncIterable<string> {
    for await (const entry of await listingEntries(fs, path, stat)) yield listLine(entry, now);
  }
}
