/**
 * The client's protocol log (`ClientOptions.onCommand`, `onReply`): the dialogue of a login and
 * a download against our own server, in order, with the greeting and the `1xx` replies; the
 * password and the account never reach a hook; hooks that throw or reject leave the session
 * working.
 *
 * @module
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Client, type ClientOptions, type Reply } from "../client.ts";
import { accountLogin, sha256, tempDir, testNetwork, within } from "./_util.ts";
import { FakeFtpServer } from "./peers/fake_server.ts";
import { startOwnServer } from "./peers/own_server.ts";
import type { PeerServer } from "./peers/peer.ts";

const CONTENT = new TextEncoder().encode("logged download\n");

/** A protocol log: commands as `> line`, replies as `< code`, in the order they happened. */
function recorder(): { log: string[]; replies: Reply[]; options: ClientOptions } {
  const log: string[] = [];
  const replies: Reply[] = [];
  return {
    log,
    replies,
    options: {
      onCommand: (line) => log.push(`> ${line}`),
      onReply: (reply) => {
        replies.push(reply);
        log.push(`< ${reply.code}`);
      },
    },
  };
}

describe("client protocol log", () => {
  let peer: PeerServer;
  let local: { path: string; remove(): Promise<void> };
  const fakes: FakeFtpServer[] = [];

  before(async () => {
    peer = await startOwnServer();
    local = await tempDir("streamftp-log-");
    await writeFile(join(peer.root, "f.txt"), CONTENT);
  });

  after(async () => {
    for (const fake of fakes) await fake.close();
    await peer?.stop();
    await local?.remove();
  });

  const connect = (options: ClientOptions) =>
    within(
      Client.connect(peer.host, peer.port, {
        network: testNetwork(),
        socketTimeout: 10000,
        ...options,
      }),
      10000,
      "connect",
    );

  it("reports a login and a download in order, greeting and 150 included, PASS masked", {
    timeout: 20000,
  }, async () => {
    const { log, replies, options } = recorder();
    const client = await connect(options);
    await client.login(peer.user, peer.password);
    const target = join(local.path, "f.txt");
    await within(client.downloadFile("f.txt", target, { writeInto: true }), 10000);
    await client.quit();
    assert.equal(sha256(await readFile(target)), sha256(CONTENT));
    assert.deepEqual(log, [
      "< 220",
      `> USER ${peer.user}`,
      "< 331",
      "> PASS ****",
      "< 230",
      "> TYPE I",
      "< 200",
      "> EPSV",
      "< 229",
      "> RETR f.txt",
      "< 150",
      "< 226",
      "> QUIT",
      "< 221",
    ]);
    assert.equal(replies[0], client.greeting);
    const everything = JSON.stringify({ log, replies });
    assert.ok(!everything.includes(peer.password), "the password reached a hook");
  });

  it("masks the account (ACCT) and an empty password stays a bare PASS", {
    timeout: 20000,
  }, async () => {
    const fake = await FakeFtpServer.start(accountLogin);
    fakes.push(fake);
    const { log, options } = recorder();
    const client = await within(
      Client.connect("127.0.0.1", fake.port, { network: testNetwork(), ...options }),
      10000,
    );
    await within(client.login("u", "", { account: "secret-account" }), 10000);
    await client.quit();
    assert.deepEqual(fake.sessions[0].received.slice(0, 3), [
      "USER u",
      "PASS",
      "ACCT secret-account",
    ]);
    assert.deepEqual(log.filter((l) => l.startsWith(">")).slice(0, 3), [
      "> USER u",
      "> PASS",
      "> ACCT ****",
    ]);
  });

  it("masks PASS sent through command(), in any case", { timeout: 20000 }, async () => {
    const { log, options } = recorder();
    const client = await connect(options);
    await client.command(`USER ${peer.user}`, "331");
    await client.command(`pass ${peer.password}`, "230");
    await client.quit();
    assert.ok(log.includes("> pass ****"), JSON.stringify(log));
    assert.ok(!JSON.stringify(log).includes(peer.password));
  });

  it("hooks that throw or reject do not break the session", { timeout: 20000 }, async () => {
    let commands = 0;
    let replies = 0;
    const client = await connect({
      onCommand: () => {
        commands++;
        throw new Error("broken logger");
      },
      onReply: async () => {
        replies++;
        await Promise.resolve();
        throw new Error("broken async logger");
      },
    });
    await client.login(peer.user, peer.password);
    assert.equal(await client.pwd(), "/");
    const target = join(local.path, "again.txt");
    await client.downloadFile("f.txt", target, { writeInto: true });
    assert.equal(sha256(await readFile(target)), sha256(CONTENT));
    await client.quit();
    assert.ok(commands >= 6 && replies >= 7, `${commands} commands, ${replies} replies`);
  });
});
