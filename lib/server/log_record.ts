/**
 * The records a server writes through its `log` option.
 *
 * @module
 */

/**
 * Where a log record comes from and what it says: what the server's `log` option receives.
 *
 * @example Warnings and errors only
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type LogRecord, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const records: LogRecord[] = [];
 * await using server = new Server({ log: (record) => void records.push(record) });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const serious = records.filter((r) => r.level === "warn" || r.level === "error");
 * assert.deepEqual(serious, []);
 * assert.ok(records.some((r) => r.level === "info" && r.message.startsWith("Serving on")));
 * ```
 */
export interface LogRecord {
  /** Severity. */
  level: "debug" | "info" | "warn" | "error";
  /** What happened. */
  message: string;
  /** The session's number, when the record concerns one. */
  session?: number;
  /** The error, for failures. */
  error?: unknown;
}
