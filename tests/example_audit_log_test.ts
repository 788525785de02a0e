/**
 * examples/audit_log.ts: the audit trail built on the server's hooks, read back from its file.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { AuditLog } from "../examples/audit_log.ts";
import { User } from "../server.ts";
import { tempDir } from "./_util.ts";
import { RawControl, readAll, withServer, writeAll } from "./server_raw.ts";

describe("example: audit log", () => {
  it("a line per login, failed login, transfer and change, on disk before the reply", {
    timeout: 30000,
  }, async () => {
    const dir = await tempDir("streamftp-audit-");
    const log = new AuditLog(join(dir.path, "audit.log"));
    const lines = async () => (await readFile(log.path, "utf8")).trimEnd().split("\n");
    try {
      await withServer({
        users: [new User({ login: "alice", password: "pw" })],
        hooks: log.hooks,
        loginFailureDelay: 0,
      }, async (server) => {
        const c = await RawControl.connect(server.address);
        await c.command("USER alice");
        assert.equal(await c.ask("PASS nope"), "530 login incorrect");
        assert.equal(await c.ask("PASS pw"), "230 normal login");
        assert.equal(await c.ask("MKD in"), '257 "/in" created');
        let data = await c.pasv();
        assert.equal(await c.ask("STOR in/a.txt"), "150 data transfer started");
        await writeAll(data, new TextEncoder().encode("abc"));
        assert.equal(await c.next(), "226 transfer done");
        assert.match((await lines()).at(-1)!, / upload \/in\/a\.txt 3 bytes complete$/);
        data = await c.pasv();
        assert.equal(await c.ask("RETR in/a.txt"), "150 data transfer started");
        await readAll(data);
        assert.equal(await c.next(), "226 transfer done");
        await c.command("RNFR in/a.txt");
        assert.equal(await c.ask("RNTO in/b.txt"), "250 rename successful");
        assert.equal(await c.ask("DELE in/b.txt"), "250 file deleted");
        assert.match((await lines()).at(-1)!, / delete \/in\/b\.txt$/);
        assert.equal(await c.ask("RMD in"), "250 directory removed");
        c.close();
      });
      const written = await lines();
      const prefix = String.raw`^\S+Z alice@127\.0\.0\.1 plain `;
      const expected = [
        "login failed: wrong-password",
        "login",
        "mkdir /in",
        "upload /in/a.txt 3 bytes complete",
        "download /in/a.txt 3 bytes complete",
        "rename /in/a.txt /in/b.txt",
        "delete /in/b.txt",
        "rmdir /in",
      ];
      assert.equal(written.length, expected.length, written.join("\n"));
      written.forEach((line, i) =>
        assert.match(line, new RegExp(prefix + expected[i].replaceAll(".", "\\.") + "$"), line)
      );
    } finally {
      await dir.remove();
    }
  });
});
