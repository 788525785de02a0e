/**
 * An upload allowance per user, built on the server's hooks: `beforeTransfer` refuses an upload
 * with `552 quota exceeded` once the user has uploaded their allowance (nothing is opened
 * then), and `transfer` counts the bytes each upload actually moved, complete or not. An
 * upload that starts below the allowance runs to its end; the next one is refused.
 *
 * Run: `deno run -A examples/quota.ts [bytes]` (also `bun examples/quota.ts`): a server on
 * 127.0.0.1 with the user `alice` (password `secret`), an in-memory file system and an
 * allowance of `bytes` (default 1 MiB). `examples/policy_server.ts` runs this quota together
 * with the audit trail of `examples/audit_log.ts`.
 *
 * @module
 */

import process from "node:process";
import { Server, type ServerHooks, User } from "../server.ts";

/** Counts uploaded bytes per login name and refuses uploads past an allowance. */
export class UploadQuota {
  /** Bytes each user may upload. */
  readonly allowance: number;
  readonly #used = new Map<string, number>();

  /**
   * Creates the quota.
   *
   * @param allowance Bytes each user may upload.
   */
  constructor(allowance: number) {
    this.allowance = allowance;
  }

  /**
   * Bytes a user has uploaded so far.
   *
   * @param user The login name.
   * @returns The bytes counted.
   */
  used(user: string): number {
    return this.#used.get(user) ?? 0;
  }

  /** The hooks to give `ServerOptions.hooks` (or to call from hooks of your own). */
  readonly hooks = {
    beforeTransfer: (event) => {
      if (event.direction !== "upload" || event.user === undefined) return;
      if (this.used(event.user) >= this.allowance) return { code: 552, text: "quota exceeded" };
    },
    transfer: (event) => {
      if (event.direction !== "upload" || event.user === undefined) return;
      this.#used.set(event.user, this.used(event.user) + event.bytes);
    },
  } satisfies ServerHooks;
}

if ((import.meta as { main?: boolean }).main) {
  const quota = new UploadQuota(Number(process.argv[2] ?? 1 << 20));
  const server = new Server({
    users: [new User({ login: "alice", password: "secret" })],
    hooks: quota.hooks,
  });
  await server.start("127.0.0.1", 0);
  console.log(`ftp://alice:secret@127.0.0.1:${server.address.port}/`);
  const stop = () => void server.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await server.serveForever();
}
