/**
 * Data connections and file transfers: TYPE, MODE, STRU, PASV, EPSV, PORT, EPRT, REST, RETR,
 * STOR, APPE, STOU, ABOR, ALLO.
 *
 * @module
 */

import { PathError, ProtocolError } from "../../errors.ts";
import type { FileStat } from "../../fs/file_system.ts";
import {
  formatEpsvAddress,
  formatPasvAddress,
  parseEprtArgument,
  parsePortArgument,
} from "../../protocol/address.ts";
import { crlfToLf, lfToCrlf } from "../ascii_mode.ts";
import type { CommandRequest, CommandSpec } from "../command_table.ts";
import { ActiveDataChannel } from "../data_channel.ts";
import { NoFreePortError, PassiveListenerLimitError } from "../passive_port_pool.ts";
import { pathErrorReply } from "../path_error_reply.ts";
import { sameHost } from "../same_host.ts";
import type { CommandContext } from "../command_context.ts";
import type { FileTransfer } from "../hooks.ts";

const LOGIN = ["login"] as const;
const TRANSFER = ["login", "data-channel"] as const;

/** The data-connection and transfer verbs. */
export const transferCommands: Record<string, CommandSpec> = {
  TYPE: {
    requires: LOGIN,
    help: "<SP> A | I | L 8",
    async handler(ctx, { argument }) {
      const type = argument.trim().toUpperCase().split(/\s+/).join(" ");
      if (type === "A" || type === "A N") ctx.setTransferType("A");
      else if (type === "I" || type === "L 8") ctx.setTransferType("I");
      else if (/^(A|E)( [NTC])?$|^L \d+$/.test(type)) {
        await ctx.reply(504, `type '${argument}' not implemented`);
        return;
      } else {
        await ctx.reply(501, `syntax error in type '${argument}'`);
        return;
      }
      await ctx.reply(200, `type set to ${ctx.transferType}`);
    },
  },
  MODE: {
    requires: LOGIN,
    help: "<SP> S",
    handler: (ctx, { argument }) =>
      fixedParameter(ctx, argument, "S", "BCZ", "mode set to S", "mode"),
  },
  STRU: {
    requires: LOGIN,
    help: "<SP> F",
    handler: (ctx, { argument }) =>
      fixedParameter(ctx, argument, "F", "RP", "structure set to F", "structure"),
  },
  PASV: {
    requires: LOGIN,
    help: "(enter passive mode)",
    async handler(ctx) {
      if (await refusedAfterEpsvAll(ctx, "PASV")) return;
      const passiveAddress = ctx.server.options.passiveAddress;
      const host = typeof passiveAddress === "function"
        ? passiveAddress(ctx.remoteAddr)
        : passiveAddress ?? ctx.localAddr.hostname;
      // PASV can only carry IPv4: an IPv6 connection (or a bad passiveAddress) needs EPSV.
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) {
        await ctx.reply(425, "cannot use PASV on an IPv6 connection, use EPSV");
        return;
      }
      const address = await openPassive(ctx);
      if (!address) return;
      await ctx.reply(227, `Entering Passive Mode (${formatPasvAddress(host, address.port)}).`);
    },
  },
  EPSV: {
    requires: LOGIN,
    feature: "EPSV",
    help: "[<SP> 1 | 2 | ALL]",
    async handler(ctx, { argument }) {
      const arg = argument.trim().toUpperCase();
      if (arg === "ALL") {
        ctx.setEpsvAll();
        await ctx.reply(200, "EPSV ALL accepted");
        return;
      }
      if (arg !== "" && arg !== "1" && arg !== "2") {
        await ctx.reply(501, `syntax error in EPSV argument '${argument}'`);
        return;
      }
      const own = ctx.localAddr.family === "IPv6" ? "2" : "1";
      if (arg !== "" && arg !== own) {
        await ctx.reply(522, `network protocol not supported, use (${own})`);
        return;
      }
      const address = await openPassive(ctx);
      if (!address) return;
      await ctx.reply(229, `Entering Extended Passive Mode (${formatEpsvAddress(address.port)})`);
    },
  },
  PORT: {
    requires: LOGIN,
    help: "<SP> h1,h2,h3,h4,p1,p2",
    async handler(ctx, { argument }) {
      if (await refusedAfterEpsvAll(ctx, "PORT")) return;
      let target;
      try {
        target = parsePortArgument(argument.trim());
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        await ctx.reply(501, "syntax error in PORT argument");
        return;
      }
      await prepareActive(ctx, target, "PORT");
    },
  },
  EPRT: {
    requires: LOGIN,
    feature: "EPRT",
    help: "<SP> |proto|address|port|",
    async handler(ctx, { argument }) {
      if (await refusedAfterEpsvAll(ctx, "EPRT")) return;
      let target;
      try {
        target = parseEprtArgument(argument.trim());
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        await ctx.reply(501, "syntax error in EPRT argument");
        return;
      }
      if (target.family !== ctx.remoteAddr.family) {
        const own = ctx.remoteAddr.family === "IPv6" ? "2" : "1";
        await ctx.reply(522, `network protocol not supported, use (${own})`);
        return;
      }
      await prepareActive(ctx, target, "EPRT");
    },
  },
  REST: {
    requires: LOGIN,
    feature: "REST STREAM",
    help: "<SP> <offset>",
    async handler(ctx, { argument }) {
      const offset = /^\d{1,15}$/.test(argument) ? Number(argument) : NaN;
      if (Number.isNaN(offset)) {
        await ctx.reply(501, `syntax error, can't restart at '${argument}'`);
        return;
      }
      ctx.setRestOffset(offset);
      await ctx.reply(350, `restarting at ${offset}`);
    },
  },
  RETR: {
    requires: TRANSFER,
    path: { access: "read", must: "file" },
    help: "<SP> <pathname>",
    handler: retrieve,
  },
  STOR: {
    requires: TRANSFER,
    path: { access: "write", existing: "overwrite", creating: true },
    help: "<SP> <pathname>",
    handler: (ctx, { path }) => store(ctx, path, "STOR"),
  },
  APPE: {
    requires: TRANSFER,
    path: { access: "write", existing: "append", creating: true },
    help: "<SP> <pathname>",
    handler: (ctx, { path }) => store(ctx, path, "APPE"),
  },
  STOU: { requires: TRANSFER, help: "[<SP> <pathname>]", handler: storeUnique },
  ABOR: {
    help: "(abort the running transfer)",
    whileTransferring: "at-once",
    async handler(ctx) {
      if (await ctx.abortTransfer()) {
        await ctx.reply(226, "abort successful");
      } else if (ctx.dataChannel) {
        await ctx.reply(225, "data connection open; no transfer in progress");
      } else {
        await ctx.reply(226, "nothing to abort");
      }
    },
  },
  ALLO: {
    requires: LOGIN,
    help: "<SP> <decimal-integer>",
    handler: (ctx) => ctx.reply(202, "no storage allocation necessary"),
  },
};

/** MODE and STRU: one supported value, some known but unsupported ones. */
async function fixedParameter(
  ctx: CommandContext,
  argument: string,
  supported: string,
  known: string,
  done: string,
  what: string,
): Promise<void> {
  const value = argument.trim().toUpperCase();
  if (value === supported) await ctx.reply(200, done);
  else if (value.length === 1 && known.includes(value)) {
    await ctx.reply(504, `${what} '${argument.trim()}' not implemented`);
  } else await ctx.reply(501, `syntax error in ${what} '${argument}'`);
}

async function refusedAfterEpsvAll(ctx: CommandContext, verb: string): Promise<boolean> {
  if (!ctx.epsvAll) return false;
  await ctx.reply(503, `${verb} not allowed after EPSV ALL`);
  return true;
}

/**
 * Prepares a passive channel (the session's kept listener, or a new one on the control
 * connection's local address); `425` when no port is free or the client's address holds its
 * share of listeners.
 */
async function openPassive(ctx: CommandContext): Promise<{ port: number } | undefined> {
  try {
    return (await ctx.preparePassiveChannel()).addr;
  } catch (error) {
    if (error instanceof NoFreePortError) {
      await ctx.reply(425, "no free passive port, try again later");
      return undefined;
    }
    if (error instanceof PassiveListenerLimitError) {
      await ctx.reply(425, "too many passive listeners for your address");
      return undefined;
    }
    throw error;
  }
}

/** PORT/EPRT: checks the target (RFC 2577) and prepares an active channel. */
async function prepareActive(
  ctx: CommandContext,
  target: { hostname: string; port: number },
  verb: string,
): Promise<void> {
  const { allowForeignDataPeer, allowPrivilegedDataPort } = ctx.server.options;
  if (!allowForeignDataPeer && !sameHost(target.hostname, ctx.remoteAddr.hostname)) {
    await ctx.reply(504, `${verb} refused: address is not the client's`);
    return;
  }
  if (!allowPrivilegedDataPort && target.port < 1024) {
    await ctx.reply(504, `${verb} refused: privileged port ${target.port}`);
    return;
  }
  await ctx.setDataChannel(
    new ActiveDataChannel(ctx.server.network, {
      hostname: target.hostname,
      port: target.port,
    }),
  );
  await ctx.reply(200, `${verb} command successful`);
}

/**
 * RETR: the file is opened before the data connection, so that a failure is the first reply.
 * The dispatcher checked the data channel and the path; the stat it found opens the file. The
 * REST offset is consumed once the file is open: a refused RETR leaves it for the next command.
 */
async function retrieve(ctx: CommandContext, { path, stat }: CommandRequest): Promise<void> {
  const offset = ctx.restOffset;
  const transfer: FileTransfer = { direction: "download", path, offset, append: false };
  if (!await ctx.allowTransfer(transfer)) return;
  const file = await ctx.fileSystem.openRead(path, { offset, stat });
  ctx.takeRestOffset();
  const source = ctx.transferType === "A" ? file.pipeThrough(lfToCrlf()) : file;
  await ctx.startTransfer({
    description: `RETR ${path}`,
    opening: "data transfer started",
    run: (data, signal) => data.send(source, signal),
    discard: () => source.cancel(),
    file: transfer,
  });
}

/**
 * STOR and APPE (APPE appends whatever REST said; STOR writes at the REST offset). A REST
 * offset beyond the end of the file is refused with `554` (RFC 1123, 4.1.3.4): writing there
 * would first fill the gap, as large as the client likes. As with RETR, a refused command
 * leaves the REST offset as it was; the upload that starts consumes it.
 */
async function store(ctx: CommandContext, path: string, verb: "STOR" | "APPE"): Promise<void> {
  const target = await checkTarget(ctx, path);
  if (!target) return;
  const offset = ctx.restOffset;
  const size = target.stat?.size ?? 0;
  if (offset > size) {
    await ctx.reply(554, `invalid REST parameter: ${offset} is beyond the end of the file`);
    return;
  }
  await upload(ctx, path, verb, verb === "APPE" ? { append: true } : { offset });
}

async function storeUnique(ctx: CommandContext, { argument }: CommandRequest): Promise<void> {
  ctx.takeRestOffset();
  let base: string;
  try {
    base = ctx.resolvePath(argument || "stou");
  } catch (error) {
    if (!(error instanceof PathError)) throw error;
    await ctx.reply(553, "file name not allowed");
    return;
  }
  if (!await ctx.checkPath(base, { access: "write" })) return;
  const fs = ctx.fileSystem;
  for (let n = 0; n < 1000; n++) {
    const path = n === 0 ? base : `${base}.${n}`;
    if (await fs.exists(path)) continue;
    if (!await ctx.checkPath(path, { access: "write" })) return;
    if (!await checkTarget(ctx, path)) return;
    try {
      // An exclusive create: a file that appeared since the check (a concurrent upload) is
      // never truncated; the next name is tried instead.
      const name = path.slice(path.lastIndexOf("/") + 1);
      await upload(ctx, path, "STOU", { createNew: true }, `FILE: ${name}`);
      return;
    } catch (error) {
      if (!(error instanceof PathError && error.kind === "exists")) throw error;
    }
  }
  await ctx.reply(553, "cannot find a unique file name");
}

/**
 * An upload target must not be a directory, and its parent must be one: one stat when the
 * target exists (its parent is then a directory), a second one of the parent when not.
 *
 * @returns `undefined` when refused (the `550` is sent), else the target's stat if it exists.
 */
async function checkTarget(
  ctx: CommandContext,
  path: string,
): Promise<{ stat?: FileStat } | undefined> {
  const fs = ctx.fileSystem;
  const stat = await fs.stat(path).catch((error) => {
    if (error instanceof PathError && error.kind !== "io") return undefined;
    throw error;
  });
  if (stat?.type === "dir") {
    await ctx.reply(550, "path is not a file");
    return undefined;
  }
  const parent = path.slice(0, path.lastIndexOf("/")) || "/";
  if (!stat && !await fs.isDir(parent)) {
    await ctx.reply(550, "path unreachable");
    return undefined;
  }
  return { stat };
}

/**
 * Uploads into `path`, opened before the data connection so that a failure is the first reply;
 * the REST offset is consumed once it is open.
 */
async function upload(
  ctx: CommandContext,
  path: string,
  verb: string,
  options: { offset?: number; append?: boolean; createNew?: boolean },
  opening = "data transfer started",
): Promise<void> {
  const transfer: FileTransfer = {
    direction: "upload",
    path,
    offset: options.offset ?? 0,
    append: options.append ?? false,
  };
  if (!await ctx.allowTransfer(transfer)) return;
  const sink = await ctx.fileSystem.openWrite(path, options);
  ctx.takeRestOffset();
  const ascii = ctx.transferType === "A";
  await ctx.startTransfer({
    description: `${verb} ${path}`,
    opening,
    abortedText: "transfer aborted, partial file kept",
    discard: () => sink.close(),
    file: transfer,
    async run(data, signal) {
      try {
        if (ascii) await data.readable.pipeThrough(crlfToLf()).pipeTo(sink, { signal });
        else await data.receive(sink, signal);
      } catch (error) {
        if (signal.aborted) throw error;
        if (error instanceof PathError) {
          const { code, text } = pathErrorReply(error, true);
          return { code, text: `${text}, partial file kept` };
        }
        ctx.log("debug", `${verb} ${path}: data connection failed`, { error });
        return { code: 426, text: "data connection closed, partial file kept" };
      }
    },
  });
}
