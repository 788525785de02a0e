/**
 * The CLI's parts that need no process: URLs split into server and path, flag values (byte
 * rates with suffixes, ports, counts), the client options of the shared flags, the lines of
 * `ls --long` and `--verbose`, and the one line an error becomes on stderr.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseByteSize, parseCount, parsePort, parsePortRange } from "../lib/cli/args.ts";
import { formatReplyLines } from "../lib/cli/dialogue.ts";
import { describeError, UsageError } from "../lib/cli/exit.ts";
import { formatLongLine } from "../lib/cli/ls.ts";
import { clientOptions, parseTarget } from "../lib/cli/target.ts";
import { ConnectionClosedError, ReplyError } from "../client.ts";

describe("CLI: URLs", () => {
  it("splits a URL into the server to log in to and the path, percent-decoded", () => {
    assert.deepEqual(parseTarget("ftp://alice:p%40ss@127.0.0.1:2121/pub/a%20b.txt"), {
      scheme: "ftp",
      server: "ftp://alice:p%40ss@127.0.0.1:2121",
      authority: "127.0.0.1:2121",
      path: "pub/a b.txt",
      directory: false,
    });
    assert.deepEqual(parseTarget("ftps://[::1]:990/dir/"), {
      scheme: "ftps",
      server: "ftps://[::1]:990",
      authority: "[::1]:990",
      path: "dir",
      directory: true,
    });
  });

  it("paths are relative to the login directory; // or %2F makes them absolute", () => {
    assert.equal(parseTarget("ftp://host/").path, "");
    assert.equal(parseTarget("ftp://host").path, "");
    assert.equal(parseTarget("ftp://host").directory, true);
    assert.equal(parseTarget("ftp://host//etc/motd").path, "/etc/motd");
    assert.equal(parseTarget("ftp://host/%2Fetc/motd").path, "/etc/motd");
    assert.equal(parseTarget("ftp://host//").path, "/");
    assert.equal(parseTarget("FTPES://Host:21/x;type=i").path, "x");
    assert.equal(parseTarget("FTPES://Host:21/x;type=i").scheme, "ftpes");
    assert.equal(parseTarget("ftp://u@HOST:21/x").authority, "host:21");
  });

  it("anything else is a usage error", () => {
    for (const url of ["example.com/x", "http://host/x", "ftp://", "ftp://:21/x", "ftp://[::1/"]) {
      assert.throws(() => parseTarget(url), UsageError, url);
    }
  });

  it("the shared flags: FTPS from the flag or the scheme, certificates only with FTPS", async () => {
    assert.deepEqual(await clientOptions({}, "ftp"), {});
    assert.deepEqual(await clientOptions({ secure: true, active: true }, "ftp"), {
      secure: true,
      mode: "active",
    });
    assert.deepEqual(await clientOptions({ insecure: true }, "ftps"), {
      tls: { caCerts: undefined, rejectUnauthorized: false },
    });
    await assert.rejects(clientOptions({ insecure: true }, "ftp"), UsageError);
    await assert.rejects(clientOptions({ secure: true, ca: "/no/such.pem" }, "ftp"), {
      name: "UsageError",
      message: /^--ca \/no\/such\.pem: /,
    });
    const verbose = await clientOptions({ verbose: true }, "ftp");
    assert.equal(typeof verbose.onCommand, "function");
    assert.equal(typeof verbose.onReply, "function");
  });
});

describe("CLI: flag values", () => {
  it("byte rates take K, M and G (1024-based, any case, decimals)", () => {
    assert.equal(parseByteSize("--x", "65536"), 65536);
    assert.equal(parseByteSize("--x", "512K"), 512 * 1024);
    assert.equal(parseByteSize("--x", "512k"), 512 * 1024);
    assert.equal(parseByteSize("--x", "1.5M"), 1.5 * 1024 * 1024);
    assert.equal(parseByteSize("--x", "2G"), 2 * 1024 ** 3);
    for (const bad of ["", "0", "-1", "1T", "fast", "1.5.5M", "0.1"]) {
      assert.throws(() => parseByteSize("--upload-limit", bad), {
        name: "UsageError",
        message: "--upload-limit must be a number of bytes, like 65536, 512K or 1.5M",
      }, bad);
    }
  });

  it("ports, port ranges and counts", () => {
    assert.equal(parsePort("--port", "0"), 0);
    assert.equal(parsePort("--port", "65535"), 65535);
    assert.throws(() => parsePort("--port", "65536"), UsageError);
    assert.throws(() => parsePort("--port", "21a"), UsageError);
    assert.deepEqual(parsePortRange("--data-ports", "40000-40100"), { min: 40000, max: 40100 });
    for (const bad of ["40100-40000", "0-10", "1-70000", "10", "a-b"]) {
      assert.throws(() => parsePortRange("--data-ports", bad), UsageError, bad);
    }
    assert.equal(parseCount("--parallel", "4"), 4);
    for (const bad of ["0", "-2", "1.5", "many"]) {
      assert.throws(() => parseCount("--parallel", bad), UsageError, bad);
    }
  });
});

describe("CLI: output lines", () => {
  it("replies as sent: one line, or first-, middle and last lines", () => {
    assert.deepEqual(formatReplyLines({ code: 550, lines: ["no such file"] }), [
      "550 no such file",
    ]);
    assert.deepEqual(formatReplyLines({ code: 211, lines: ["Features:", " MLST", "End"] }), [
      "211-Features:",
      " MLST",
      "211 End",
    ]);
  });

  it("ls --long: type, size, UTC time, name, a link's target", () => {
    const modify = new Date("2024-05-01T12:30:00Z");
    assert.equal(
      formatLongLine("a.txt", { name: "a.txt", type: "file", size: 6, modify, facts: {} }),
      "-            6  2024-05-01 12:30:00  a.txt",
    );
    assert.equal(
      formatLongLine("l", { name: "l", type: "link", target: "a.txt", facts: {} }),
      "l            -  -                    l -> a.txt",
    );
  });

  it("an error becomes the server's reply, or its message", () => {
    const refused = new ReplyError(["2xx"], { code: 550, lines: ["permission denied"] });
    assert.equal(describeError(refused), "550 permission denied");
    assert.equal(describeError(new ConnectionClosedError()), "Connection closed by peer");
    const wrapped = new Error("Cannot connect", { cause: new Error("ECONNREFUSED") });
    assert.equal(describeError(wrapped), "Cannot connect: ECONNREFUSED");
    assert.equal(describeError("plain"), "plain");
  });
});
