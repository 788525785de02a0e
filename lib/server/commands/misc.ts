/**
 * Everything else: NOOP, SYST, FEAT, OPTS, HELP, STAT.
 *
 * @module
 */

import type { CommandSpec } from "../command_table.ts";
import { HASH_ALGORITHMS } from "../file_hash.ts";
import { listingEntries, listLine, MLSX_FACTS } from "../listing_format.ts";
import type { Session } from "../session.ts";
import { listPathArgument } from "./listing.ts";

/** The miscellaneous verbs. */
export const miscCommands: Record<string, CommandSpec> = {
  NOOP: {
    help: "(no operation)",
    handler: (session) => session.reply(200, "NOOP ok"),
  },
  SYST: {
    help: "(system type)",
    handler: (session) => session.reply(215, "UNIX Type: L8"),
  },
  FEAT: {
    help: "(list extensions)",
    handler: (session) => session.reply(211, ["Features:", ...features(session), "End"]),
  },
  OPTS: {
    help: "<SP> UTF8 ON | MLST <facts> | HASH [<algorithm>]",
    async handler(session, { argument }) {
      const space = argument.indexOf(" ");
      const option = (space < 0 ? argument : argument.slice(0, space)).toUpperCase();
      const value = space < 0 ? "" : argument.slice(space + 1).trim();
      if (option === "UTF8" || option === "UTF-8") {
        await session.reply(200, "always in UTF8 mode");
      } else if (option === "MLST" && session.server.commands.has("MLST")) {
        const wanted = value.toLowerCase().split(";").filter((f) => MLSX_FACTS.includes(f));
        session.mlstFacts = MLSX_FACTS.filter((f) => wanted.includes(f));
        await session.reply(200, `MLST OPTS ${session.mlstFacts.map((f) => `${f};`).join("")}`);
      } else if (option === "HASH" && session.server.commands.has("HASH")) {
        if (value === "") {
          await session.reply(200, session.hashAlgorithm);
          return;
        }
        const algorithm = HASH_ALGORITHMS.find((a) => a === value.toUpperCase());
        if (!algorithm) {
          await session.reply(504, `unknown algorithm '${value.slice(0, 32)}'`);
          return;
        }
        session.hashAlgorithm = algorithm;
        await session.reply(200, algorithm);
      } else {
        await session.reply(501, `option '${option.slice(0, 32)}' not understood`);
      }
    },
  },
  HELP: {
    help: "[<SP> <command>]",
    async handler(session, { argument }) {
      const commands = session.server.commands;
      const verb = argument.trim().toUpperCase();
      if (verb) {
        const spec = commands.get(verb);
        if (spec) await session.reply(214, `Syntax: ${verb} ${spec.help ?? ""}`.trimEnd());
        else await session.reply(502, `unknown command '${verb.slice(0, 32)}'`);
        return;
      }
      const verbs = [...commands.keys()].sort();
      const rows: string[] = [];
      for (let i = 0; i < verbs.length; i += 8) {
        rows.push(" " + verbs.slice(i, i + 8).map((v) => v.padEnd(5)).join(" ").trimEnd());
      }
      await session.reply(214, ["The following commands are recognized:", ...rows, "Help OK"]);
    },
  },
  STAT: {
    help: "[<SP> <pathname>]",
    async handler(session, { argument }) {
      if (argument.trim() === "") await serverStatus(session);
      else await pathStatus(session, argument);
    },
  },
};

/** FEAT lines, each for a verb still in the command table (so removing a verb hides it). */
function features(session: Session): string[] {
  const has = (verb: string) => session.server.commands.has(verb);
  const lines: string[] = [];
  if (has("EPRT")) lines.push(" EPRT");
  if (has("EPSV")) lines.push(" EPSV");
  if (has("HASH")) {
    const marked = HASH_ALGORITHMS.map((a) => a === session.hashAlgorithm ? `${a}*` : a);
    lines.push(` HASH ${marked.join(";")}`);
  }
  if (has("MDTM")) lines.push(" MDTM");
  if (has("MFMT")) lines.push(" MFMT");
  if (has("MLST")) {
    const facts = MLSX_FACTS.map((f) => session.mlstFacts.includes(f) ? `${f}*;` : `${f};`);
    lines.push(` MLST ${facts.join("")}`);
  }
  if (has("REST")) lines.push(" REST STREAM");
  if (has("SIZE")) lines.push(" SIZE");
  lines.push(" TVFS");
  if (has("OPTS")) lines.push(" UTF8");
  return lines;
}

/** STAT without argument: the transfer's progress, or the session's state. */
async function serverStatus(session: Session): Promise<void> {
  const transfer = session.transfer;
  if (transfer) {
    await session.reply(
      213,
      `status: ${transfer.description}, ${transfer.bytes} bytes transferred`,
    );
    return;
  }
  const user = session.loggedIn ? session.user?.login ?? "anonymous" : undefined;
  await session.reply(211, [
    "FTP server status:",
    ` Connected to ${session.remoteAddr.hostname}`,
    user === undefined ? " Not logged in" : ` Logged in as ${user}`,
    ` TYPE: ${session.transferType === "A" ? "ASCII" : "BINARY"}, STRUcture: File, MODE: Stream`,
    session.dataChannel
      ? ` Data channel prepared (${session.dataChannel.mode})`
      : " No data connection",
    "End of status",
  ]);
}

/** STAT with a path: the `ls -l` listing over the control connection (`212` dir, `213` file). */
async function pathStatus(session: Session, argument: string): Promise<void> {
  if (!session.loggedIn) {
    await session.reply(530, "Please login with USER and PASS");
    return;
  }
  const path = session.resolvePath(listPathArgument(argument));
  if (!await session.checkPath(path, { access: "read", must: "exists" })) return;
  const fs = session.fileSystem;
  const code = await fs.isDir(path) ? 212 : 213;
  const now = new Date();
  await session.replyLines(code, `Status of ${path}:`, lines(), "End of status");

  async function* lines(): AsyncIterable<string> {
    for await (const entry of listingEntries(fs, path)) yield listLine(entry, now);
  }
}
