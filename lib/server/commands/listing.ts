/**
 * Listings and metadata: LIST, NLST, MLSD, MLST, SIZE, MDTM. Directory listings stream: entries
 * are formatted as `fs.list` yields them and written in batches of about 64 KiB.
 *
 * @module
 */

import type { DirEntry } from "../../fs/file_system.ts";
import { formatMlsxTime } from "../../protocol/listing/mlsx.ts";
import type { CommandSpec } from "../command_table.ts";
import type { DataConnection } from "../data_connection.ts";
import { listingEntries, listLine, MLSX_FACTS, mlsxLine } from "../listing_format.ts";
import type { CommandContext } from "../command_context.ts";

const TRANSFER = ["login", "data-channel"] as const;
const BATCH_BYTES = 64 * 1024;
const encoder = new TextEncoder();

/** The listing and metadata verbs. */
export const listingCommands: Record<string, CommandSpec> = {
  LIST: {
    requires: TRANSFER,
    help: "[<SP> <options>] [<SP> <pathname>]",
    handler: (ctx, { argument }) =>
      listing(ctx, argument, "LIST", (entry, now) => listLine(entry, now)),
  },
  NLST: {
    requires: TRANSFER,
    help: "[<SP> <pathname>]",
    handler: (ctx, { argument }) => listing(ctx, argument, "NLST", (entry) => entry.name),
  },
  MLSD: {
    requires: TRANSFER,
    path: { access: "read", must: "exists", optional: true },
    help: "[<SP> <pathname>]",
    async handler(ctx, { path }) {
      const fs = ctx.fileSystem;
      if (!await fs.isDir(path)) {
        await ctx.reply(501, "path is not a directory");
        return;
      }
      const facts = ctx.mlstFacts;
      await ctx.startTransfer({
        description: `MLSD ${path}`,
        opening: "mlsd transfer started",
        async run(data, signal) {
          const base = path === "/" ? "" : path;
          await writeLines(
            data,
            format(
              fs.list(path),
              (entry) =>
                mlsxLine(
                  entry.name,
                  entry.stat,
                  ctx.permissionFor(`${base}/${entry.name}`),
                  facts,
                ),
            ),
            signal,
          );
          return { code: 226, text: "mlsd transfer done" };
        },
      });
    },
  },
  MLST: {
    requires: ["login"],
    feature: (ctx) =>
      `MLST ${MLSX_FACTS.map((f) => ctx.mlstFacts.includes(f) ? `${f}*;` : `${f};`).join("")}`,
    path: { access: "read", must: "exists", optional: true },
    help: "[<SP> <pathname>]",
    async handler(ctx, { path }) {
      const stat = await ctx.fileSystem.stat(path);
      const line = mlsxLine(path, stat, ctx.permissionFor(path), ctx.mlstFacts);
      await ctx.reply(250, [`Listing ${path}`, ` ${line}`, "End"]);
    },
  },
  SIZE: {
    requires: ["login"],
    feature: "SIZE",
    path: { access: "read", must: "exists" },
    help: "<SP> <pathname>",
    async handler(ctx, { path }) {
      const stat = await ctx.fileSystem.stat(path);
      if (stat.type === "dir") await ctx.reply(550, "path is not a file");
      else await ctx.reply(213, String(stat.size));
    },
  },
  MDTM: {
    requires: ["login"],
    feature: "MDTM",
    path: { access: "read", must: "exists" },
    help: "<SP> <pathname>",
    async handler(ctx, { path }) {
      const stat = await ctx.fileSystem.stat(path);
      await ctx.reply(213, formatMlsxTime(stat.mtime));
    },
  },
};

/**
 * The path of a LIST/NLST argument: leading `ls` options (`-a`, `-la`, `-l -a`) are accepted
 * and ignored, as clients such as gvfs send them.
 *
 * @param argument The argument as sent.
 * @returns The path part (empty for the current directory).
 */
export function listPathArgument(argument: string): string {
  let rest = argument;
  while (/^-[A-Za-z0-9]+(\s|$)/.test(rest)) rest = rest.replace(/^-[A-Za-z0-9]+\s*/, "");
  return rest;
}

async function listing(
  ctx: CommandContext,
  argument: string,
  verb: "LIST" | "NLST",
  line: (entry: DirEntry, now: Date) => string,
): Promise<void> {
  const path = ctx.resolvePath(listPathArgument(argument));
  if (!await ctx.checkPath(path, { access: "read", must: "exists" })) return;
  const fs = ctx.fileSystem;
  await ctx.startTransfer({
    description: `${verb} ${path}`,
    opening: "list transfer started",
    async run(data, signal) {
      const now = new Date();
      await writeLines(data, format(listingEntries(fs, path), (entry) => line(entry, now)), signal);
      return { code: 226, text: "list transfer done" };
    },
  });
}

async function* format(
  entries: AsyncIterable<DirEntry>,
  line: (entry: DirEntry) => string,
): AsyncIterable<string> {
  for await (const entry of entries) yield line(entry);
}

/** Writes CRLF-terminated lines in batches of about 64 KiB, then closes the data connection. */
async function writeLines(
  data: DataConnection,
  lines: AsyncIterable<string>,
  signal: AbortSignal,
): Promise<void> {
  const writer = data.writable.getWriter();
  try {
    let batch = "";
    for await (const line of lines) {
      signal.throwIfAborted();
      batch += line.replace(/[\r\n]/g, " ") + "\r\n";
      if (batch.length >= BATCH_BYTES) {
        await writer.write(encoder.encode(batch));
        batch = "";
      }
    }
    if (batch) await writer.write(encoder.encode(batch));
    await writer.close();
  } finally {
    writer.releaseLock();
  }
}
