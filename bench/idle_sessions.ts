/**
 * Many logged-in, idle control connections to one server, opened from the bench process over
 * plain sockets (greeting, USER, PASS, then silence), to measure what a session costs a server
 * while it waits.
 *
 * @module
 */

import { connect, type Socket } from "node:net";

/** Sessions held open; `close()` drops them all. */
export interface IdleSessions {
  /** How many are logged in. */
  count: number;
  /** Closes every connection (no QUIT: the servers must cope with a dropped client). */
  close(): void;
}

/** Reads replies off a socket: resolves with each final reply line (`NNN text`). */
function replyReader(socket: Socket): () => Promise<string> {
  let buffered = "";
  let waiting: { resolve: (line: string) => void; reject: (e: Error) => void } | undefined;
  const finals: string[] = [];
  let failure: Error | undefined;
  const pump = () => {
    if (!waiting) return;
    if (finals.length) {
      const next = waiting;
      waiting = undefined;
      next.resolve(finals.shift()!);
    } else if (failure) {
      const next = waiting;
      waiting = undefined;
      next.reject(failure);
    }
  };
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, end).replace(/\r$/, "");
      buffered = buffered.slice(end + 1);
      if (/^\d{3} /.test(line)) finals.push(line);
    }
    pump();
  });
  socket.on("error", (error) => {
    failure = error;
    pump();
  });
  socket.on("close", () => {
    failure ??= new Error("connection closed");
    pump();
  });
  return () =>
    new Promise((resolve, reject) => {
      waiting = { resolve, reject };
      pump();
    });
}

async function openOne(
  port: number,
  user: string,
  password: string,
  sockets: Socket[],
): Promise<void> {
  const socket = connect({ host: "127.0.0.1", port, noDelay: true });
  sockets.push(socket);
  const next = replyReader(socket);
  const expect = async (prefix: string, what: string) => {
    const line = await next();
    if (!line.startsWith(prefix)) throw new Error(`${what}: ${line}`);
    return line;
  };
  await expect("220", "greeting");
  socket.write(`USER ${user}\r\n`);
  const reply = await next();
  if (reply.startsWith("331")) {
    socket.write(`PASS ${password}\r\n`);
    await expect("230", "PASS");
  } else if (!reply.startsWith("230")) {
    throw new Error(`USER: ${reply}`);
  }
}

/**
 * Opens `count` sessions and logs each in, `parallel` at a time.
 *
 * @param server Port and credentials.
 * @param count How many.
 * @param limitMs Deadline for all of them.
 * @param parallel Logins in flight at once.
 * @returns The sessions.
 * @throws {Error} When one fails or the deadline passes (every connection is closed then).
 */
export async function openIdleSessions(
  server: { port: number; user: string; password: string },
  count: number,
  limitMs: number,
  parallel = 32,
): Promise<IdleSessions> {
  const sockets: Socket[] = [];
  const close = () => {
    for (const socket of sockets) socket.destroy();
  };
  let opened = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${opened}/${count} sessions after ${limitMs / 1000} s`)),
      limitMs,
    );
  });
  try {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        await openOne(server.port, server.user, server.password, sockets);
        opened++;
      }
    };
    await Promise.race([
      Promise.all(Array.from({ length: Math.min(parallel, count) }, worker)),
      deadline,
    ]);
  } catch (error) {
    close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return { count: opened, close };
}
