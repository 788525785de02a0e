/**
 * Changing the file tree: MKD, RMD, DELE, RNFR, RNTO, MFMT, HASH and SITE (with its own table:
 * CHMOD, HELP).
 *
 * @module
 */

import { PathError } from "../../errors.ts";
import { parseMlsxTime } from "../../protocol/listing/mlsx.ts";
import { quotePath } from "../../protocol/path_quote.ts";
import type { CommandSpec } from "../command_table.ts";
import { HASH_ALGORITHMS, hashStream } from "../file_hash.ts";
import { pathErrorReply } from "../path_error_reply.ts";

const LOGIN = ["login"] as const;

const MKD: CommandSpec = {
  requires: LOGIN,
  path: { access: "mkdir", must: "absent", creating: true },
  help: "<SP> <pathname>",
  async handler(ctx, { path }) {
    await ctx.fileSystem.mkdir(path);
    await ctx.fileChanged({ action: "mkdir", path });
    await ctx.reply(257, `${quotePath(path)} created`);
  },
};

const RMD: CommandSpec = {
  requires: LOGIN,
  path: { access: "rmdir", must: "dir" },
  help: "<SP> <pathname>",
  async handler(ctx, { path }) {
    if (path === "/") {
      await ctx.reply(550, "cannot remove the root directory");
      return;
    }
    await ctx.fileSystem.rmdir(path);
    await ctx.fileChanged({ action: "rmdir", path });
    await ctx.reply(250, "directory removed");
  },
};

/** The verbs that change files and directories. */
export const fileCommands: Record<string, CommandSpec> = {
  MKD,
  XMKD: MKD,
  RMD,
  XRMD: RMD,
  DELE: {
    requires: LOGIN,
    path: { access: "delete", must: "file" },
    help: "<SP> <pathname>",
    async handler(ctx, { path }) {
      await ctx.fileSystem.unlink(path);
      await ctx.fileChanged({ action: "delete", path });
      await ctx.reply(250, "file deleted");
    },
  },
  RNFR: {
    requires: LOGIN,
    path: { access: "rename", must: "exists", moves: true },
    help: "<SP> <pathname>",
    async handler(ctx, { path }) {
      ctx.setRenameFrom(path);
      await ctx.reply(350, "rename from accepted");
    },
  },
  RNTO: {
    requires: LOGIN,
    help: "<SP> <pathname>",
    async handler(ctx, { argument }) {
      const from = ctx.renameFrom;
      ctx.setRenameFrom(undefined);
      if (from === undefined) {
        await ctx.reply(503, "bad sequence of commands (no filename (use RNFR firstly))");
        return;
      }
      if (argument === "") {
        await ctx.reply(501, "syntax error: RNTO needs a path");
        return;
      }
      let to: string;
      try {
        to = ctx.resolvePath(argument);
      } catch (error) {
        if (!(error instanceof PathError)) throw error;
        const { code, text } = pathErrorReply(error, true);
        await ctx.reply(code, text);
        return;
      }
      if (!await ctx.checkPath(to, { access: "rename", must: "absent", moves: true })) return;
      await ctx.fileSystem.rename(from, to);
      await ctx.fileChanged({ action: "rename", from, to });
      await ctx.reply(250, "rename successful");
    },
  },
  MFMT: {
    requires: LOGIN,
    feature: "MFMT",
    help: "<SP> <YYYYMMDDHHMMSS> <SP> <pathname>",
    async handler(ctx, { argument }) {
      const match = /^(\d{14})(?:\.\d+)? (.+)$/.exec(argument);
      const time = match ? parseMlsxTime(match[1]) : undefined;
      if (!match || !time) {
        await ctx.reply(501, "syntax error, use MFMT YYYYMMDDHHMMSS path");
        return;
      }
      const path = ctx.resolvePath(match[2]);
      if (!await ctx.checkPath(path, { access: "mtime", must: "exists" })) return;
      await ctx.fileSystem.setModifiedTime(path, time);
      await ctx.reply(213, `Modify=${match[1]}; ${match[2]}`);
    },
  },
  HASH: {
    requires: LOGIN,
    feature: (ctx) =>
      `HASH ${HASH_ALGORITHMS.map((a) => a === ctx.hashAlgorithm ? `${a}*` : a).join(";")}`,
    path: { access: "read", must: "file" },
    help: "<SP> <pathname>",
    async handler(ctx, { argument, path, stat }) {
      const fs = ctx.fileSystem;
      stat ??= await fs.stat(path);
      const digest = await hashStream(
        ctx.hashAlgorithm,
        await fs.openRead(path, { stat }),
        ctx.signal,
      );
      await ctx.reply(213, `${ctx.hashAlgorithm} 0-${stat.size} ${digest} ${argument}`);
    },
  },
  SITE: {
    requires: LOGIN,
    help: "<SP> <command> (SITE HELP lists them)",
    async handler(ctx, { argument }) {
      const space = argument.indexOf(" ");
      const sub = (space < 0 ? argument : argument.slice(0, space)).toUpperCase();
      const rest = space < 0 ? "" : argument.slice(space + 1);
      const spec = ctx.server.siteCommands.get(sub);
      if (!sub) {
        await ctx.reply(501, "SITE needs a subcommand (SITE HELP lists them)");
        return;
      }
      if (!spec) {
        await ctx.reply(500, `unknown SITE command '${sub.slice(0, 32)}'`);
        return;
      }
      await ctx.execute(spec, { verb: sub, argument: rest });
    },
  },
};

/** The SITE subcommands. */
export const siteCommands: Record<string, CommandSpec> = {
  CHMOD: {
    help: "<SP> <octal-mode> <SP> <pathname>",
    async handler(ctx, { argument }) {
      const fs = ctx.fileSystem;
      const match = /^([0-7]{1,4}) (.+)$/.exec(argument);
      if (!match) {
        await ctx.reply(501, "syntax error, use SITE CHMOD mode path");
        return;
      }
      if (!fs.chmod) {
        await ctx.reply(502, "SITE CHMOD not implemented by this file system");
        return;
      }
      const path = ctx.resolvePath(match[2]);
      if (!await ctx.checkPath(path, { access: "chmod", must: "exists" })) return;
      // No setuid, setgid or sticky bit unless the operator allows them.
      const asked = parseInt(match[1], 8);
      const mode = asked & (ctx.server.options.chmodMask ?? 0o777);
      await fs.chmod(path, mode);
      await ctx.reply(
        200,
        mode === asked
          ? "SITE CHMOD command successful"
          : `SITE CHMOD command successful, mode set to ${mode.toString(8).padStart(4, "0")}`,
      );
    },
  },
  HELP: {
    help: "(list SITE commands)",
    async handler(ctx) {
      const lines = [...ctx.server.siteCommands.keys()].sort().map((verb) => {
        const help = ctx.server.siteCommands.get(verb)?.help;
        return ` ${verb}${help ? ` ${help}` : ""}`;
      });
      await ctx.reply(214, ["SITE commands:", ...lines, "End"]);
    },
  },
};
