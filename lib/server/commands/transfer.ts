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
import type { Session } from "../session.ts";

const LOGIN = ["login"] as const;
const TRANSFER = ["login", "data-channel"] as const;

/** The data-connection and transfer verbs. */
export const transferCommands: Record<string, CommandSpec> = {
  TYPE: {
    requires: LOGIN,
    help: "<SP> A | I | L 8",
    async handler(session, { argument }) {
      const type = argument.trim().toUpperCase().split(/\s+/).join(" ");
      if (type === "A" || type === "A N") session.transferType = "A";
      else if (type === "I" || type === "L 8") session.transferType = "I";
      else if (/^(A|E)( [NTC])?$|^L \d+$/.test(type)) {
        await session.reply(504, `type '${argument}' not implemented`);
        return;
      } else {
        await session.reply(501, `syntax error in type '${argument}'`);
        return;
      }
      await session.reply(200, `type set to ${session.transferType}`);
    },
  },
  MODE: {
    requires: LOGIN,
    help: "<SP> S",
    handler: (session, { argument }) =>
      fixedParameter(session, argument, "S", "BCZ", "mode set to S", "mode"),
  },
  STRU: {
    requires: LOGIN,
    help: "<SP> F",
    handler: (session, { argument }) =>
      fixedParameter(session, argument, "F", "RP", "structure set to F", "structure"),
  },
  PASV: {
    requires: LOGIN,
    help: "(enter passive mode)",
    async handler(session) {
      if (await refusedAfterEpsvAll(session, "PASV")) return;
      const passiveAddress = session.server.options.passiveAddress;
      const host = typeof passiveAddress === "function"
        ? passiveAddress(session.remoteAddr)
        : passiveAddress ?? session.localAddr.hostname;
      // PASV can only carry IPv4: an IPv6 connection (or a bad passiveAddress) needs EPSV.
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) {
        await session.reply(425, "cannot use PASV on an IPv6 connection, use EPSV");
        return;
      }
      const channel = await openPassive(session);
      if (!channel) return;
      await session.reply(
        227,
        `Entering Passive Mode (${formatPasvAddress(host, channel.addr.port)}).`,
      );
    },
  },
  EPSV: {
    requires: LOGIN,
    help: "[<SP> 1 | 2 | ALL]",
    async handler(session, { argument }) {
      const arg = argument.trim().toUpperCase();
      if (arg === "ALL") {
        session.epsvAll = true;
        await session.reply(200, "EPSV ALL accepted");
        return;
      }
      if (arg !== "" && arg !== "1" && arg !== "2") {
        await session.reply(501, `syntax error in EPSV argument '${argument}'`);
        return;
      }
      const own = session.localAddr.family === "IPv6" ? "2" : "1";
      if (arg !== "" && arg !== own) {
        await session.reply(522, `network protocol not supported, use (${own})`);
        return;
      }
      const channel = await openPassive(session);
      if (!channel) return;
      await session.reply(
        229,
        `Entering Extended Passive Mode (${formatEpsvAddress(channel.addr.port)})`,
      );
    },
  },
  PORT: {
    requires: LOGIN,
    help: "<SP> h1,h2,h3,h4,p1,p2",
    async handler(session, { argument }) {
      if (await refusedAfterEpsvAll(session, "PORT")) return;
      let target;
      try {
        target = parsePortArgument(argument.trim());
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        await session.reply(501, "syntax error in PORT argument");
        return;
      }
      await prepareActive(session, target, "PORT");
    },
  },
  EPRT: {
    requires: LOGIN,
    help: "<SP> |proto|address|port|",
    async handler(session, { argument }) {
      if (await refusedAfterEpsvAll(session, "EPRT")) return;
      let target;
      try {
        target = parseEprtArgument(argument.trim());
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        await session.reply(501, "syntax error in EPRT argument");
        return;
      }
      if (target.family !== session.remoteAddr.family) {
        const own = session.remoteAddr.family === "IPv6" ? "2" : "1";
        await session.reply(522, `network protocol not supported, use (${own})`);
        return;
      }
      await prepareActive(session, target, "EPRT");
    },
  },
  REST: {
    requires: LOGIN,
    help: "<SP> <offset>",
    async handler(session, { argument }) {
      const offset = /^\d{1,15}$/.test(argument) ? Number(argument) : NaN;
      if (Number.isNaN(offset)) {
        await session.reply(501, `syntax error, can't restart at '${argument}'`);
        return;
      }
      session.restOffset = offset;
      await session.reply(350, `restarting at ${offset}`);
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
    handler: (session, { path }) => store(session, path, "STOR"),
  },
  APPE: {
    requires: TRANSFER,
    path: { access: "write", creating: true },
    help: "<SP> <pathname>",
    handler: (session, { path }) => store(session, path, "APPE"),
  },
  STOU: { requires: TRANSFER, help: "[<SP> <pathname>]", handler: storeUnique },
  ABOR: {
    help: "(abort the running transfer)",
    async handler(session) {
      if (await session.abortTransfer()) {
        await session.reply(226, "abort successful");
      } else if (session.dataChannel) {
        await session.reply(225, "data connection open; no transfer in progress");
      } else {
        await session.reply(226, "nothing to abort");
      }
    },
  },
  ALLO: {
    requires: LOGIN,
    help: "<SP> <decimal-integer>",
    handler: (session) => session.reply(202, "no storage allocation necessary"),
  },
};

/** MODE and STRU: one supported value, some known but unsupported ones. */
async function fixedParameter(
  session: Session,
  argument: string,
  supported: string,
  known: string,
  done: string,
  what: string,
): Promise<void> {
  const value = argument.trim().toUpperCase();
  if (value === supported) await session.reply(200, done);
  else if (value.length === 1 && known.includes(value)) {
    await session.reply(504, `${what} '${argument.trim()}' not implemented`);
  } else await session.reply(501, `syntax error in ${what} '${argument}'`);
}

async function refusedAfterEpsvAll(session: Session, verb: string): Promise<boolean> {
  if (!session.epsvAll) return false;
  await session.reply(503, `${verb} not allowed after EPSV ALL`);
  return true;
}

/** Binds a passive listener on the control connection's local address; `421` when no port is free. */
async function openPassive(session: Session): Promise<PassiveDataChannel | undefined> {
  const server = session.server;
  await session.setDataChannel(undefined);
  let pooled;
  try {
    pooled = await server.portPool.bind((port) =>
      server.network.listen({ hostname: session.localAddr.hostname, port })
    );
  } catch (error) {
    if (!(error instanceof NoFreePortError)) throw error;
    await session.reply(421, "no free ports");
    return undefined;
  }
  const channel = new PassiveDataChannel(pooled, {
    acceptPeer: (peer) =>
      server.options.allowForeignDataPeer === true ||
      sameHost(peer.hostname, session.remoteAddr.hostname),
    onRefused: (peer) =>
      session.log("warn", `Refused a data connection from foreign peer ${peer.hostname}`),
  });
  await session.setDataChannel(channel);
  return channel;
}

/** PORT/EPRT: checks the target (RFC 2577) and prepares an active channel. */
async function prepareActive(
  session: Session,
  target: { hostname: string; port: number },
  verb: string,
): Promise<void> {
  const { allowForeignDataPeer, allowPrivilegedDataPort } = session.server.options;
  if (!allowForeignDataPeer && !sameHost(target.hostname, session.remoteAddr.hostname)) {
    await session.reply(504, `${verb} refused: address is not the client's`);
    return;
  }
  if (!allowPrivilegedDataPort && target.port < 1024) {
    await session.reply(504, `${verb} refused: privileged port ${target.port}`);
    return;
  }
  await session.setDataChannel(
    new ActiveDataChannel(session.server.network, {
      hostname: target.hostname,
      port: target.port,
    }),
  );
  await session.reply(200, `${verb} command successful`);
}

/** Takes the REST offset: the transfer command that passed its checks consumes it. */
function takeRestOffset(session: Session): number {
  const offset = session.restOffset;
  session.restOffset = 0;
  return offset;
}

/** RETR: the file is opened before the data connection, so that a failure is the first reply. */
async function retrieve(session: Session, { path }: CommandRequest): Promise<void> {
  if (!await session.readyForTransfer()) return;
  const offset = takeRestOffset(session);
  const file = await session.fileSystem.openRead(path, { offset });
  const source = session.transferType === "A" ? file.pipeThrough(lfToCrlf()) : file;
  await session.startTransfer({
    description: `RETR ${path}`,
    opening: "data transfer started",
    run: (data, signal) => source.pipeTo(data.writable, { signal }),
    discard: () => source.cancel(),
  });
}

/** STOR and APPE (APPE appends whatever REST said; STOR writes at the REST offset). */
async function store(session: Session, path: string, verb: "STOR" | "APPE"): Promise<void> {
  if (!await session.readyForTransfer()) return;
  const offset = takeRestOffset(session);
  if (!await checkTarget(session, path)) return;
  await upload(session, path, verb, verb === "APPE" ? { append: true } : { offset });
}

async function storeUnique(session: Session, { argument }: CommandRequest): Promise<void> {
  if (!await session.readyForTransfer()) return;
  takeRestOffset(session);
  let base: string;
  try {
    base = session.resolvePath(argument || "stou");
  } catch (error) {
    if (!(error instanceof PathError)) throw error;
    await session.reply(553, "file name not allowed");
    return;
  }
  if (!await session.checkPath(base, { access: "write" })) return;
  const fs = session.fileSystem;
  let path = base;
  for (let n = 1; await fs.exists(path); n++) {
    if (n > 999) {
      await session.reply(553, "cannot find a unique file name");
      return;
    }
    path = `${base}.${n}`;
  }
  if (!await session.checkPath(path, { access: "write" })) return;
  if (!await checkTarget(session, path)) return;
  await upload(session, path, "STOU", {}, `FILE: ${path.slice(path.lastIndexOf("/") + 1)}`);
}

/** An upload target must not be a directory, and its parent must be one. */
async function checkTarget(session: Session, path: string): Promise<boolean> {
  const fs = session.fileSystem;
  if (await fs.isDir(path)) {
    await session.reply(550, "path is not a file");
    return false;
  }
  const parent = path.slice(0, path.lastIndexOf("/")) || "/";
  if (!await fs.isDir(parent)) {
    await session.reply(550, "path unreachable");
    return false;
  }
  return true;
}

/** Uploads into `path`, opened before the data connection so that a failure is the first reply. */
async function upload(
  session: Session,
  path: string,
  verb: string,
  options: { offset?: number; append?: boolean },
  opening = "data transfer started",
): Promise<void> {
  const sink = await session.fileSystem.openWrite(path, options);
  const ascii = session.transferType === "A";
  await session.startTransfer({
    description: `${verb} ${path}`,
    opening,
    abortedText: "transfer aborted, partial file kept",
    discard: () => sink.close(),
    async run(data, signal) {
      const source = ascii ? data.readable.pipeThrough(crlfToLf()) : data.readable;
      try {
        await source.pipeTo(sink, { signal });
      } catch (error) {
        if (signal.aborted) throw error;
        if (error instanceof PathError) {
          const { code, text } = pathErrorReply(error, true);
          return { code, text: `${text}, partial file kept` };
        }
        session.log("debug", `${verb} ${path}: data connection failed`, error);
        return { code: 426, text: "data connection closed, partial file kept" };
      }
    },
  });
}
