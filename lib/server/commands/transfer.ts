/**
 * Data connections and file transfers: TYPE, MODE, STRU, PASV, EPSV, PORT, EPRT, REST, RETR,
 * STOR, APPE, STOU, ABOR, ALLO.
 *
 * @module
 */

import { PathError, ProtocolError } from "../../errors.ts";
import {
  formatEpsvAddress,
  formatPasvAddress,
  parseEprtArgument,
  parsePortArgument,
} from "../../protocol/address.ts";
import { crlfToLf, lfToCrlf } from "../ascii_mode.ts";
import type { CommandRequest, CommandSpec } from "../command_table.ts";
import { ActiveDataChannel, PassiveDataChannel } from "../data_channel.ts";
import { NoFreePortError } from "../passive_port_pool.ts";
import { pathErrorReply } from "../path_error_reply.ts";
import { sameHost } from "../same_host.ts";
import type { CommandContext } from "../command_context.ts";

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
      const channel = await openPassive(ctx);
      if (!channel) return;
      await ctx.reply(
        227,
        `Entering Passive Mode (${formatPasvAddress(host, channel.addr.port)}).`,
      );
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
      const channel = await openPassive(ctx);
      if (!channel) return;
      await ctx.reply(
        229,
        `Entering Extended Passive Mode (${formatEpsvAddress(channel.addr.port)})`,
      );
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
    path: { access: "write", creating: true },
    help: "<SP> <pathname>",
    handler: (ctx, { path }) => store(ctx, path, "STOR"),
  },
  APPE: {
    requires: TRANSFER,
    path: { access: "write", creating: true },
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

/** Binds a passive listener on the control connection's local address; `421` when no port is free. */
async function openPassive(ctx: CommandContext): Promise<PassiveDataChannel | undefined> {
  const server = ctx.server;
  await ctx.setDataChannel(undefined);
  let pooled;
  try {
    pooled = await server.portPool.bind((port) =>
      server.network.listen({ hostname: ctx.localAddr.hostname, port })
    );
  } catch (error) {
    if (!(error instanceof NoFreePortError)) throw error;
    await ctx.reply(421, "no free ports");
    return undefined;
  }
  const channel = new PassiveDataChannel(pooled, {
    acceptPeer: (peer) =>
      server.options.allowForeignDataPeer === true ||
      sameHost(peer.hostname, ctx.remoteAddr.hostname),
    onRefused: (peer) =>
      ctx.log("warn", `Refused a data connection from foreign peer ${peer.hostname}`),
  });
  await ctx.setDataChannel(channel);
  return channel;
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
 * The dispatcher checked the data channel and the path; the stat it found opens the file.
 */
async function retrieve(ctx: CommandContext, { path, stat }: CommandRequest): Promise<void> {
  const offset = ctx.takeRestOffset();
  const file = await ctx.fileSystem.openRead(path, { offset, stat });
  const source = ctx.transferType === "A" ? file.pipeThrough(lfToCrlf()) : file;
  await ctx.startTransfer({
    description: `RETR ${path}`,
    opening: "data transfer started",
    run: (data, signal) => data.send(source, signal),
    discard: () => source.cancel(),
  });
}

/** STOR and APPE (APPE appends whatever REST said; STOR writes at the REST offset). */
async function store(ctx: CommandContext, path: string, verb: "STOR" | "APPE"): Promise<void> {
  const offset = ctx.takeRestOffset();
  if (!await checkTarget(ctx, path)) return;
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
  let path = base;
  for (let n = 1; await fs.exists(path); n++) {
    if (n > 999) {
      await ctx.reply(553, "cannot find a unique file name");
      return;
    }
    path = `${base}.${n}`;
  }
  if (!await ctx.checkPath(path, { access: "write" })) return;
  if (!await checkTarget(ctx, path)) return;
  await upload(ctx, path, "STOU", {}, `FILE: ${path.slice(path.lastIndexOf("/") + 1)}`);
}

/**
 * An upload target must not be a directory, and its parent must be one: one stat when the
 * target exists (its parent is then a directory), a second one of the parent when not.
 */
async function checkTarget(ctx: CommandContext, path: string): Promise<boolean> {
  const fs = ctx.fileSystem;
  const stat = await fs.stat(path).catch((error) => {
    if (error instanceof PathError && error.kind !== "io") return undefined;
    throw error;
  });
  if (stat?.type === "dir") {
    await ctx.reply(550, "path is not a file");
    return false;
  }
  const parent = path.slice(0, path.lastIndexOf("/")) || "/";
  if (!stat && !await fs.isDir(parent)) {
    await ctx.reply(550, "path unreachable");
    return false;
  }
  return true;
}

/** Uploads into `path`, opened before the data connection so that a failure is the first reply. */
async function upload(
  ctx: CommandContext,
  path: string,
  verb: string,
  options: { offset?: number; append?: boolean },
  opening = "data transfer started",
): Promise<void> {
  const sink = await ctx.fileSystem.openWrite(path, options);
  const ascii = ctx.transferType === "A";
  await ctx.startTransfer({
    description: `${verb} ${path}`,
    opening,
    abortedText: "transfer aborted, partial file kept",
    discard: () => sink.close(),
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
        ctx.log("debug", `${verb} ${path}: data connection failed`, error);
        return { code: 426, text: "data connection closed, partial file kept" };
      }
    },
  });
}
