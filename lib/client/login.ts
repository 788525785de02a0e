/**
 * Logging in on the client side: the two call forms of `Client.login` (an options object, or a
 * user and password with options after them) reduced to one set of credentials, and the
 * `USER`/`PASS`/`ACCT` chain the server leads.
 *
 * @module
 */

import { ReplyError } from "../errors.ts";
import type { Reply } from "../protocol/reply.ts";
import type { ControlChannel } from "./control_channel.ts";
import type { LoginOptions } from "./options.ts";
import { checkArgument } from "./remote_path.ts";

/**
 * What a login sends, defaults filled in.
 *
 * @example
 * ```ts
 * import { type Credentials, loginArguments } from "./login.ts";
 * import assert from "node:assert/strict";
 *
 * const anonymous: Credentials = loginArguments([]).credentials;
 * assert.deepEqual(anonymous, { user: "anonymous", password: "anon@", account: "" });
 * ```
 */
export interface Credentials {
  /** User name. */
  user: string;
  /** Password. */
  password: string;
  /** Account. */
  account: string;
}

/**
 * The options of `Client.login` after a user and password given positionally: the account
 * and a signal.
 *
 * @example
 * ```ts
 * import { Client, type LoginCallOptions } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 *
 * await using server = new Server({ users: [new User({ login: "alice", password: "secret" })] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * const options: LoginCallOptions = { account: "billing", signal: AbortSignal.timeout(5000) };
 * await client.login("alice", "secret", options);
 * ```
 */
export type LoginCallOptions = Omit<LoginOptions, "user" | "password">;

/**
 * Reduces the arguments of `Client.login` to credentials and a signal.
 *
 * @example
 * ```ts
 * import { loginArguments } from "./login.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(loginArguments(["alice", "secret", { account: "a1" }]), {
 *   credentials: { user: "alice", password: "secret", account: "a1" },
 *   signal: undefined,
 * });
 * assert.deepEqual(
 *   loginArguments([{ user: "bob" }]).credentials,
 *   { user: "bob", password: "anon@", account: "" },
 * );
 * assert.throws(() => loginArguments(["alice", "bad\r\nDELE x"]), { name: "InvalidCommandError" });
 * ```
 *
 * @param args `[options?]` or `[user, password?, options?]`.
 * @returns The credentials (defaults: `anonymous`, `anon@`, no account) and the signal.
 * @throws {TypeError} When the options are not an object (the account is an option now).
 * @throws {InvalidCommandError} When a part contains CR, LF or NUL.
 */
export function loginArguments(
  args: [LoginOptions?] | [string, string?, LoginCallOptions?],
): { credentials: Credentials; signal?: AbortSignal } {
  const [first, second, third] = args;
  const positional = typeof first === "string";
  const options = positional ? third : first;
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(
      `Invalid login options ${JSON.stringify(options)}: pass the account as { account }`,
    );
  }
  const named = options as LoginOptions | undefined;
  const credentials = {
    user: (positional ? first : named?.user) ?? "anonymous",
    password: (positional ? second : named?.password) ?? "anon@",
    account: options?.account ?? "",
  };
  checkArgument(credentials.user, "user name");
  checkArgument(credentials.password, "password");
  checkArgument(credentials.account, "account");
  return { credentials, signal: options?.signal };
}

/**
 * Runs the login chain: `USER`, then `PASS` on `331` and `ACCT` on `332`, until `230` (or
 * `202`), at most three steps after `USER`.
 *
 * @example
 * ```ts
 * import { Server, User } from "../../server.ts";
 * import { openControl } from "./connect.ts";
 * import { sendLogin } from "./login.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User({ login: "u", password: "p" })] });
 * await server.start("127.0.0.1", 0);
 * const endpoint = { hostname: "127.0.0.1", port: server.address.port, secure: undefined };
 * const { control } = await openControl(endpoint, {});
 * try {
 *   const reply = await sendLogin(control, { user: "u", password: "p", account: "" });
 *   assert.equal(reply.code, 230); // after USER u (331) and PASS p
 * } finally {
 *   control.close();
 * }
 * ```
 *
 * @param control The control channel (the caller holds the turn).
 * @param credentials What to send.
 * @param signal Cancels the exchange.
 * @returns The final `230` or `202`.
 * @throws {ReplyError} When the server refuses (`530`) or asks for something else.
 */
export async function sendLogin(
  control: ControlChannel,
  credentials: Credentials,
  signal?: AbortSignal,
): Promise<Reply> {
  const { user, password, account } = credentials;
  let reply = await control.exchange(`USER ${user}`, ["230", "33x"], signal);
  for (let step = 0; reply.code !== 230 && reply.code !== 202; step++) {
    if (reply.code === 331 && step < 3) {
      const line = password === "" ? "PASS" : `PASS ${password}`;
      reply = await control.exchange(line, ["230", "202", "33x"], signal);
    } else if (reply.code === 332 && step < 3) {
      const line = account === "" ? "ACCT" : `ACCT ${account}`;
      reply = await control.exchange(line, ["230", "202", "33x"], signal);
    } else {
      throw new ReplyError(["230", "331", "332"], reply);
    }
  }
  return reply;
}
