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
import { hashStream } from "../file_hash.ts";
import { pathErrorReply } from "../path_error_reply.ts";

const LOGIN = ["login"] as const;

const MKD: CommandSpec = {
  requires: LOGIN,
  path: { access: "write", must: "absent", creating: true },
  help: "<SP> <pathname>",
  async handler(session, { path }) {
    await session.fileSystem.mkdir(path);
    await session.reply(257, `${quotePath(path)} created`);
  },
};

const RMD: CommandSpec = {
  requires: LOGIN,
  path: { access: "write", must: "dir" },
  help: "<SP> <pathname>",
  async handler(session, { path }) {
    if (path === "/") {
      await session.reply(550, "cannot remove the root directory");
      return;
    }
    await session.fileSystem.rmdir(path);
    await session.reply(250, "directory removed");
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
    path: { access: "write", must: "file" },
    help: "<SP> <pathname>",
    async handler(session, { path }) {
      await session.fileSystem.unlink(path);
      await session.reply(250, "file deleted");
    },
  },
  RNFR: {
    requires: LOGIN,
    path: { access: "write", must: "exists" },
    help: "<SP> <pathname>",
    async handler(session, { path }) {
      session.renameFrom = path;
      await session.reply(350, "rename from accepted");
    },
  },
  RNTO: {
    requires: LOGIN,
    help: "<SP> <pathname>",
    async handler(session, { argument }) {
      const from = session.renameFrom;
      session.renameFrom = undefined;
      if (from === undefined) {
        await session.reply(503, "bad sequence of commands (no filename (use RNFR firstly))");
        return;
      }
      if (argument === "") {
        await session.reply(501, "syntax error: RNTO needs a path");
        return;
      }
      let to: string;
      try {
        to = session.resolvePath(argument);
      } catch (error) {
        if (!(error instanceof PathError)) throw error;
        const { code, text } = pathErrorReply(error, true);
        await session.reply(code, text);
        return;
      }
      if (!await session.checkPath(to, { access: "write", must: "absent" })) return;
      await session.fileSystem.rename(from, to);
      await session.reply(250, "rename successful");
    },
  },
  MFMT: {
    requires: LOGIN,
    help: "<SP> <YYYYMMDDHHMMSS> <SP> <pathname>",
    async handler(session, { argument }) {
      const match = /^(\d{14})(?:\.\d+)? (.+)$/.exec(argument);
      const time = match ? parseMlsxTime(match[1]) : undefined;
      if (!match || !time) {
        await session.reply(501, "syntax error, use MFMT YYYYMMDDHHMMSS path");
        return;
      }
      const path = session.resolvePath(match[2]);
      if (!await session.checkPath(path, { access: "write", must: "exists" })) return;
      await session.fileSystem.setModifiedTime(path, time);
      await session.reply(213, `Modify=${match[1]}; ${match[2]}`);
    },
  },
  HASH: {
    requires: LOGIN,
    path: { access: "read", must: "file" },
    help: "<SP> <pathname>",
    async handler(session, { argument, path }) {
      const fs = session.fileSystem;
      const { size } = await fs.stat(path);
      const digest = await hashStream(
        session.hashAlgorithm,
        await fs.openRead(path),
        session.signal,
      );
      await session.reply(213, `${session.hashAlgorithm} 0-${size} ${digest} ${argument}`);
    },
  },
  SITE: {
    requires: LOGIN,
    help: "<SP> <command> (SITE HELP lists them)",
    async handler(session, { argument }) {
      const space = argument.indexOf(" ");
      const sub = (space < 0 ? argument : argument.slice(0, space)).toUpperCase();
      const rest = space < 0 ? "" : argument.slice(space + 1);
      const spec = session.server.siteCommands.get(sub);
      if (!sub) {
        await session.reply(501, "SITE needs a subcommand (SITE HELP lists them)");
        return;
      }
      if (!spec) {
        await session.reply(500, `unknown SITE command '${sub.slice(0, 32)}'`);
        return;
      }
      let path = "";
      if (spec.path) {
        path = session.resolvePath(rest);
        if (!await session.checkPath(path, spec.path)) return;
      }
      await spec.handler(session, { verb: sub, argument: rest, path });
    },
  },
};

/** The SITE subcommands. */
export const siteCommands: Record<string, CommandSpec> = {
  CHMOD: {
    help: "<SP> <octal-mode> <SP> <pathname>",
    async handler(session, { argument }) {
      const fs = session.fileSystem;
      const match = /^([0-7]{1,4}) (.+)$/.exec(argument);
      if (!match) {
        await session.reply(501, "syntax error, use SITE CHMOD mode path");
        return;
      }
      if (!fs.chmod) {
        await session.reply(502, "SITE CHMOD not implemented by this file system");
        return;
      }
      const path = session.resolvePath(match[2]);
      if (!await session.checkPath(path, { access: "write", must: "exists" })) return;
      await fs.chmod(path, parseInt(match[1], 8));
      await session.reply(200, "SITE CHMOD command successful");
    },
  },
  HELP: {
    help: "(list SITE commands)",
    async handler(session) {
      const lines = [...session.server.siteCommands.keys()].sort().map((verb) => {
        const help = session.server.siteCommands.get(verb)?.help;
        return ` ${verb}${help ? ` ${help}` : ""}`;
      });
      await session.reply(214, ["SITE commands:", ...lines, "End"]);
    },
  },
};
