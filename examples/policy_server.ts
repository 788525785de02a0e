/**
 * One server with two policies built on hooks: the upload allowance of `examples/quota.ts`
 * and the audit trail of `examples/audit_log.ts`. Hooks are plain functions in one object;
 * where both policies want the same hook (`transfer`), the combined hook calls one, then the
 * other. The server awaits it, so both are done before the client gets its `226`.
 *
 * Run: `deno run -A examples/policy_server.ts <audit.log> [allowance] [port]` (also
 * `bun ...`): the user `alice` (password `secret`) on an in-memory file system may upload
 * `allowance` bytes (default 1 MiB); every login, transfer and change is appended to
 * `<audit.log>`. The port defaults to 2121 (`0`: any free one). It prints its URL, then serves
 * until Ctrl+C (SIGINT) or SIGTERM.
 *
 * @module
 */

import process from "node:process";
import { Server, User } from "../server.ts";
import { AuditLog } from "./audit_log.ts";
import { UploadQuota } from "./quota.ts";

const [logPath, allowance = String(1 << 20), port = "2121"] = process.argv.slice(2);
if (logPath === undefined) {
  console.error("Usage: policy_server.ts <audit.log> [allowance] [port]");
  process.exit(2);
}

const quota = new UploadQuota(Number(allowance));
const audit = new AuditLog(logPath);
const server = new Server({
  users: [new User({ login: "alice", password: "secret" })],
  hooks: {
    ...audit.hooks, // login, loginFailed, transfer, delete, mkdir, rmdir, rename
    beforeTransfer: quota.hooks.beforeTransfer, // may refuse with 552
    transfer: async (event) => {
      await quota.hooks.transfer(event); // count the bytes...
      await audit.hooks.transfer(event); // ...and log the transfer
    },
  },
});

const stop = () => void server.close();
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

await server.start("127.0.0.1", Number(port));
console.log(`ftp://127.0.0.1:${server.address.port}/`);
await server.serveForever();
