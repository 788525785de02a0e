/**
 * examples/tls_server.ts and examples/tls_client.ts run as child processes: the client
 * round-trips a file over explicit FTPS, alice cannot log in without TLS, anonymous can, and
 * a client that does not trust the certificate is refused. Also the self-signed certificate
 * of the server's doc comment, made with openssl.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Client } from "../client.ts";
import { TEST_CA_CERT, TEST_SERVER_CERT, TEST_SERVER_KEY } from "./fixtures/tls.ts";
import { run, tempDir } from "./_util.ts";
import { runExample, startExample } from "./_examples.ts";

const CLIENT_LINE = /^secure: true, \d+ bytes back, sha256 matches\n$/;

describe("example: tls_server + tls_client", () => {
  it("FTPS round trip for alice; clear text only for anonymous; untrusted is refused", {
    timeout: 30000,
  }, async () => {
    const dir = await tempDir("streamftp-tls-example-");
    const file = (name: string) => join(dir.path, name);
    await writeFile(file("cert.pem"), TEST_SERVER_CERT);
    await writeFile(file("key.pem"), TEST_SERVER_KEY);
    await writeFile(file("ca.pem"), TEST_CA_CERT);
    const served = await startExample("tls_server", [file("cert.pem"), file("key.pem"), "0"]);
    try {
      const alice = `ftp://alice:secret@127.0.0.1:${served.port}/`;
      const client = await runExample("tls_client", [alice, file("ca.pem")]);
      assert.equal(client.code, 0, client.stderr);
      assert.match(client.stdout, CLIENT_LINE);

      // Without AUTH TLS, alice's USER is refused before her password is sent.
      await assert.rejects(Client.connect(alice), { name: "ReplyError", code: 530 });
      // Without the authority, the certificate is not trusted.
      await assert.rejects(Client.connect(alice, { secure: true }), {
        name: "TlsHandshakeError",
      });
      // Anonymous visitors may stay in clear text, and read what alice uploaded.
      const guest = await Client.connect(served.url.href);
      const text = await new Response(await guest.downloadStream("tls_client.txt")).text();
      assert.match(text, /^sent over TLS at \S+Z\n$/);
      await assert.rejects(guest.uploadStream("x.txt"), { name: "ReplyError", code: 550 });
      await guest.quit();
      const { code, stderr } = await served.stop();
      assert.equal(code, 0, stderr);
    } finally {
      await served.stop();
      await dir.remove();
    }
  });

  const openssl = "/usr/bin/openssl";
  it("works with the self-signed certificate its doc comment makes with openssl", {
    timeout: 30000,
    skip: existsSync(openssl) ? false : `${openssl} is missing`,
  }, async () => {
    const dir = await tempDir("streamftp-tls-example-");
    const file = (name: string) => join(dir.path, name);
    // The command of examples/tls_server.ts, word for word.
    const made = await run(openssl, [
      ..."req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30".split(" "),
      ..."-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1".split(" "),
      ...["-keyout", file("key.pem"), "-out", file("cert.pem")],
    ]);
    assert.equal(made.code, 0, made.stderr);
    const served = await startExample("tls_server", [file("cert.pem"), file("key.pem"), "0"]);
    try {
      const alice = `ftp://alice:secret@127.0.0.1:${served.port}/`;
      const client = await runExample("tls_client", [alice, file("cert.pem")]);
      assert.equal(client.code, 0, client.stderr);
      assert.match(client.stdout, CLIENT_LINE);
    } finally {
      await served.stop();
      await dir.remove();
    }
  });
});
