/**
 * An audit trail built on the server's hooks: who logged in, or failed to, from where, and
 * every upload, download and change to files, appended to a file one line each. The server
 * awaits each hook, so a line is on disk before the client gets the reply to its command.
 *
 * Run: `deno run -A examples/audit_log.ts audit.log` (also `bun examples/audit_log.ts ...`): a
 * server on 127.0.0.1 with the user `alice` (password `secret`) and an in-memory file system.
 * `examples/policy_server.ts` runs this log together with the quota of `examples/quota.ts`.
 *
 * @module
 */

import { appendFile } from "node:fs/promises";
import process from "node:process";
import { Server, type ServerHooks, type SessionEvent, User } from "../server.ts";

/** Appends one line per security-relevant event to a file. */
export class AuditLog {
  /** The file the lines go to. */
  readonly path: string;

  /**
   * Creates the log (the file is created with the first line).
   *
   * @param path The file to append to.
   */
  constructor(path: string) {
    this.path = path;
  }

  /** The hooks to give `ServerOptions.hooks` (or to call from hooks of your own). */
  readonly hooks = {
    login: (e) => this.#write(e, `login${e.anonymous ? " (anonymous)" : ""}`),
    loginFailed: (e) => this.#write(e, `login failed: ${e.reason}`),
    transfer: (e) =>
      this.#write(
        e,
        `${e.direction} ${e.path} ${e.bytes} bytes ${e.complete ? "complete" : "incomplete"}`,
      ),
    delete: (e) => this.#write(e, `delete ${e.path}`),
    mkdir: (e) => this.#write(e, `mkdir ${e.path}`),
    rmdir: (e) => this.#write(e, `rmdir ${e.path}`),
    rename: (e) => this.#write(e, `rename ${e.from} ${e.to}`),
  } satisfies ServerHooks;

  /** `2025-01-31T12:00:00.000Z alice@127.0.0.1 TLS delete /a.txt` */
  #write(event: SessionEvent, what: string): Promise<void> {
    const who = `${event.user ?? "-"}@${event.remoteAddr.hostname}`;
    const line = `${new Date().toISOString()} ${who} ${event.secure ? "TLS" : "plain"} ${what}\n`;
    return appendFile(this.path, line);
  }
}

if ((import.meta as { main?: boolean }).main) {
  const log = new AuditLog(process.argv[2] ?? "audit.log");
  const server = new Server({
    users: [new User({ login: "alice", password: "secret" })],
    hooks: log.hooks,
  });
  await server.start("127.0.0.1", 0);
  console.log(`ftp://alice:secret@127.0.0.1:${server.address.port}/ (audit log: ${log.path})`);
  const stop = () => void server.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await server.serveForever();
}
