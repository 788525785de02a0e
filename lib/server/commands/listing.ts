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
/** MLST, SIZE and MDTM tell what a listing would, or what a download needs to know first. */
const LIST_OR_READ = ["list", "read"] as const;

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
    path: { access: "list", must: "exists", optional: true },
    help: "[<SP> <pathname>]",
    async handler(ctx, { path, stat }) {
      const fs = ctx.fileSystem;
      if ((stat ?? await fs.stat(path)).type !== "dir") {
        await ctx.reply(501, "path is not a directory");
        return;
      }
      const facts = ctx.mlstFacts;
      const base = path === "/" ? "" : path;
      await ctx.startTransfer({
        description: `MLSD ${path}`,
        opening: "mlsd transfer started",
        async run(data, signal) {
          await writeLines(
            data,
            fs.list(path),
            (entry) =>
              mlsxLine(entry.name, entry.stat, ctx.permissionFor(`${base}/${entry.name}`), facts),
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
    path: { access: LIST_OR_READ, must: "exists", optional: true },
    help: "[<SP> <pathname>]",
    async handler(ctx, { path, stat }) {
      stat ??= await ctx.fileSystem.stat(path);
      const line = mlsxLine(path, stat, ctx.permissionFor(path), ctx.mlstFacts);
      await ctx.reply(250, [`Listing ${path}`, ` ${line}`, "End"]);
    },
  },
  SIZE: {
    requires: ["login"],
    feature: "SIZE",
    path: { access: LIST_OR_READ, must: "exists" },
    help: "<SP> <pathname>",
    async handler(ctx, { path, stat }) {
      stat ??= await ctx.fileSystem.stat(path);
      if (stat.type === "dir") await ctx.reply(550, "path is not a file");
      else await ctx.reply(213, String(stat.size));
    },
  },
  MDTM: {
    requires: ["login"],
    feature: "MDTM",
    path: { access: LIST_OR_READ, must: "exists" },
    help: "<SP> <pathname>",
    async handler(ctx, { path, stat }) {
      stat ??= await ctx.fileSystem.stat(path);
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
  const found = await ctx.inspectPath(path, { access: "list", must: "exists" });
  if (!found) return;
  const fs = ctx.fileSystem;
  await ctx.startTransfer({
    description: `${verb} ${path}`,
    opening: "list transfer started",
    async run(data, signal) {
      const now = new Date();
      const entries = await listingEntries(fs, path, found.stat);
      await writeLines(data, entries, (entry) => line(entry, now), signal);
      return { code: 226, text: "list transfer done" };
    },
  });
}

/**
 * Formats entries as CRLF-terminated lines and writes them in batches of about 64 KiB, then
 * closes the data connection: one step per entry, straight from the file system's listing.
 */
async function writeLines(
  data: DataConnection,
  entries: AsyncIterable<DirEntry> | Iterable<DirEntry>,
  line: (entry: DirEntry) => string,
  signal: AbortSignal,
): Promise<void> {
  const writer = data.writable.getWriter();
  try {
    let batch = "";
    for await (const entry of entries) {
      signal.throwIfAborted();
      const text = line(entry);
      batch += (text.includes("\r") || text.includes("\n") ? text.replace(/[\r\n]/g, " ") : text) +
        "\r\n";
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
