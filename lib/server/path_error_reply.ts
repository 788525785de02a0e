/**
 * Maps file-system failures ({@linkcode PathError} kinds) to FTP replies.
 *
 * @module
 */

import type { PathError } from "../errors.ts";

/**
 * A reply code and its text: what a custom transfer's `run` returns as its final reply.
 *
 * @example A command that sends one line over the data connection
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type FinalReply, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * server.commands.set("MOTD", {
 *   requires: ["login", "data-channel"],
 *   handler: (ctx) =>
 *     ctx.startTransfer({
 *       description: "MOTD",
 *       opening: "here it comes",
 *       async run(data): Promise<FinalReply> {
 *         const writer = data.writable.getWriter();
 *         await writer.write(new TextEncoder().encode("Be nice.\r\n"));
 *         await writer.close();
 *         return { code: 226, text: "that was it" };
 *       },
 *     }),
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const stream = await client.getStream("MOTD");
 * assert.equal(await new Response(stream.readable).text(), "Be nice.\r\n");
 * assert.equal((await stream.finish()).code, 226);
 * ```
 */
export interface FinalReply {
  /** The code. */
  code: number;
  /** One line or several. */
  text: string | readonly string[];
}

/**
 * Chooses the reply for a failed file-system operation. Texts follow aioftp's where it has
 * one; it has no separate texts for "not empty", "no space" or bad names.
 *
 * @param error The failure.
 * @param creating Whether the command names a path to create (STOR, MKD, RNTO...), where a
 * bad name is `553` rather than `501`.
 * @returns The reply to send.
 */
export function pathErrorReply(error: PathError, creating = false): FinalReply {
  switch (error.kind) {
    case "not-found":
      return { code: 550, text: "path does not exist" };
    case "exists":
      return { code: 550, text: "path already exists" };
    case "not-a-directory":
      return { code: 550, text: "path is not a directory" };
    case "is-a-directory":
      return { code: 550, text: "path is not a file" };
    case "not-empty":
      return { code: 550, text: "directory not empty" };
    case "permission-denied":
      return { code: 550, text: "permission denied" };
    case "no-space":
      return { code: 452, text: "insufficient storage space" };
    case "invalid-path":
      return creating
        ? { code: 553, text: "file name not allowed" }
        : { code: 501, text: "invalid path" };
    case "io":
      return { code: 451, text: "file system error" };
  }
}
